"""Every URL in the URL map refuses anonymous users: a new view without a check fails here."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Pages that must answer without signing in.
PUBLIC = {"login", "logout", "favicon"}


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name


def concrete(route: str) -> str:
    """Turn `vms/<int:pk>/` or a regex route into a path with made-up ids."""
    if re.search(r"\(\?P<format>", route):
        return "<format suffix variant>"
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = route.replace("^", "").replace("$", "").replace("\\.", ".")
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<(?:str|slug):\w+>", "x", route)
    return "/" + route


ROUTES = sorted(
    {
        (path, n)
        for r, n in walk(get_resolver().url_patterns)
        if n not in PUBLIC and "<" not in (path := concrete(r))
    }
)
# Open to any signed-in user (they show only what the user's roles allow), and Django's own admin.
ANY_SIGNED_IN = {"home", "api-schema", "api-docs", "api-root"}
# Live streams (core/live, launch/stream.py) sign in through their reader threads, which see only
# committed rows: those cases commit their user.
STREAMS = {"job_live", "hcxplan_setup_live", "wave_progress_stream"}
ROLE_ROUTES = [
    (p, n) for p, n in ROUTES if n not in ANY_SIGNED_IN and not p.startswith("/admin/") and n not in STREAMS
]
STREAM_ROUTES = [(p, n) for p, n in ROUTES if n in STREAMS]


@pytest.mark.django_db
@pytest.mark.parametrize("path,name", ROUTES, ids=[p for p, _ in ROUTES])
def test_anonymous_is_refused(client, path, name):
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code in (301, 302, 401, 403, 405), (
            name,
            method.__name__,
            response.status_code,
        )
        if response.status_code in (301, 302):
            assert "login" in response["Location"], response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("path,name", ROLE_ROUTES, ids=[p for p, _ in ROLE_ROUTES])
def test_a_user_without_a_role_is_refused(client_for, outsider, path, name):
    response = client_for(outsider).get(path)
    assert response.status_code in (403, 405), (name, response.status_code)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path,name", STREAM_ROUTES, ids=[p for p, _ in STREAM_ROUTES])
def test_a_user_without_a_role_is_refused_a_live_stream(client_for, outsider, path, name):
    assert len(STREAM_ROUTES) == len(STREAMS)  # a renamed stream is not left out
    assert client_for(outsider).get(path).status_code == 403, name
