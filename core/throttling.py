"""Login throttling: failed sign-ins are counted per account and per address, and past either limit
(settings.LOGIN_THROTTLE) sign-in is refused until the window has passed. Both ways in are guarded the
same way: the sign-in page and HTTP Basic on the API.

Per account, because an address is cheap to change (a botnet, or IPv6); per address, because one
address trying many user names is guessing too. The counts are `SignInFailure` rows, so that every web
worker and process shares them. The address is REMOTE_ADDR: the peer, or what a trusted proxy says
(avsportal/asgi.py), never a client's own X-Forwarded-For.
"""

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone

from core.models import SignInFailure

TOO_MANY = "Too many failed sign-in attempts. Wait a few minutes and try again."


def window_seconds() -> int:
    return settings.LOGIN_THROTTLE["WINDOW_SECONDS"]


def _account(username: str) -> str:
    return f"account:{(username or '').lower()[:150]}"


def _limits(address: str, username: str) -> dict[str, int]:
    limits = settings.LOGIN_THROTTLE
    return {_account(username): limits["PER_ACCOUNT"], f"address:{address}": limits["PER_ADDRESS"]}


def _cutoff():
    return timezone.now() - timedelta(seconds=window_seconds())


def blocked(address: str, username: str) -> bool:
    limits = _limits(address, username)
    counts = SignInFailure.objects.filter(key__in=limits, since__gt=_cutoff()).values_list("key", "count")
    return any(count >= limits[key] for key, count in counts)


def failed(address: str, username: str) -> None:
    SignInFailure.objects.filter(since__lte=_cutoff()).delete()  # a new window starts at the next failure
    for key in _limits(address, username):
        # One UPDATE: two workers counting at once both count.
        if not SignInFailure.objects.filter(key=key).update(count=F("count") + 1):
            SignInFailure.objects.get_or_create(key=key, defaults={"count": 1, "since": timezone.now()})


def succeeded(address: str, username: str) -> None:
    """The account's count starts again; the address's does not (signing in to one's own account
    between guesses at others must not buy more guesses)."""
    SignInFailure.objects.filter(key=_account(username)).delete()


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
