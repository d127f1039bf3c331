"""vCenter simulator fixture: arrives with discovery."""
