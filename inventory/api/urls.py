def register(router):
    """Inventory endpoints are registered here (placeholder until the API lands)."""
