"""Login throttling: a few failed attempts per user name and address, then a pause. Both ways in
are guarded the same way: the sign-in page and HTTP Basic on the API.

Counts live in Django's cache (the database-free local-memory cache by default, Redis
in production through CACHES), so the web process needs nothing else.
"""

from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

LIMIT = getattr(settings, "LOGIN_ATTEMPTS_LIMIT", 10)
WINDOW_SECONDS = 300
TOO_MANY = "Too many failed sign-in attempts. Wait five minutes and try again."


def _key(address: str, username: str) -> str:
    return f"login-fail:{address}:{(username or '').lower()[:150]}"


def blocked(address: str, username: str) -> bool:
    return cache.get(_key(address, username), 0) >= LIMIT


def failed(address: str, username: str) -> None:
    key = _key(address, username)
    cache.add(key, 0, WINDOW_SECONDS)
    cache.incr(key)


def succeeded(address: str, username: str) -> None:
    cache.delete(_key(address, username))


def throttle_login(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        address, username = request.META.get("REMOTE_ADDR", ""), request.POST.get("username") or ""
        if blocked(address, username):
            return HttpResponse(TOO_MANY, status=429)
        response = view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            failed(address, username)
        else:
            succeeded(address, username)
        return response

    return wrapper
