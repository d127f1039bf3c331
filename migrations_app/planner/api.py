"""REST endpoints of this part of the app; migrations_app/api.py calls register(router)."""


def register(router):
    pass
