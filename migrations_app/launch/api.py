"""/api/ endpoints of launching and watching; same permissions as the pages."""


def register(router):
    pass
