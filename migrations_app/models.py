"""Models arrive with the waves issue."""
