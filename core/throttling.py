"""Login throttling: a few failed attempts per user name and address, then a pause.

Counts live in Django's cache (the database-free local-memory cache by default, Redis
in production through CACHES), so the web process needs nothing else.
"""

from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

LIMIT = getattr(settings, "LOGIN_ATTEMPTS_LIMIT", 10)
WINDOW_SECONDS = 300


def _key(request) -> str:
    username = (request.POST.get("username") or "").lower()[:150]
    return f"login-fail:{request.META.get('REMOTE_ADDR', '')}:{username}"


def throttle_login(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        key = _key(request)
        if cache.get(key, 0) >= LIMIT:
            return HttpResponse(
                "Too many failed sign-in attempts. Wait five minutes and try again.", status=429
            )
        response = view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            cache.add(key, 0, WINDOW_SECONDS)
            cache.incr(key)
        else:
            cache.delete(key)
        return response

    return wrapper
