"""vCenter discovery with pyvmomi and the PropertyCollector."""
