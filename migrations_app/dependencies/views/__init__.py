"""Pages of groups and dependency data, one module per area."""
