"""Deploying the HCX Connector OVA into the on-premises vCenter (step 2 of the HCX set-up)."""
