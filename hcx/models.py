"""Models arrive with the HCX set-up issue."""
