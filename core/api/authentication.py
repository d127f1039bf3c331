"""HTTP Basic for API clients (scripts), throttled like the sign-in page: without it a password
could be guessed through /api/ at full speed."""

from drf_spectacular.authentication import BasicScheme
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from core import throttling


class ThrottledBasicAuthentication(BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
        if throttling.blocked(address, userid):
            raise exceptions.Throttled(wait=throttling.window_seconds(), detail=throttling.TOO_MANY)
        try:
            found = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            throttling.failed(address, userid)
            raise
        throttling.succeeded(address, userid)
        return found


class ThrottledBasicScheme(BasicScheme):
    """The OpenAPI schema describes it as plain HTTP Basic (drf-spectacular finds extensions by class)."""

    target_class = "core.api.authentication.ThrottledBasicAuthentication"
