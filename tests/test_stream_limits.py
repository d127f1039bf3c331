"""Open live pages don't take the server down (issue 15): a waiting stream holds no database
connection, so PostgreSQL's connections don't grow with the pages open; a user, and a server process,
may hold only so many streams, and the one past the cap is refused (the page then polls)."""

import contextlib
import threading
import weakref

import pytest
import requests
from django.db import connection
from django.db.backends.signals import connection_created

from core.live import slots
from tests.peers.asgi import asgi_server  # noqa: F401 (fixture)
from tests.test_launch_pages import make_scene
from tests.test_launch_stream import READ_TIMEOUT, read_events

STREAMS = 8


def stream_url(server, wave) -> str:
    return f"{server.url}/plan/waves/{wave.pk}/progress/stream/"


@contextlib.contextmanager
def open_streams(server, wave, cookies, count):
    """`count` streams of `wave`, each read up to its first progress event (it has looked at the
    database at least once), held open inside the block."""
    readers = []  # kept: a reader dropped half-way closes its connection (urllib3), and the stream with it
    with contextlib.ExitStack() as stack:
        for _ in range(count):
            response = stack.enter_context(
                requests.get(
                    stream_url(server, wave), cookies=cookies, stream=True, timeout=(5, READ_TIMEOUT)
                )
            )
            assert response.status_code == 200, response.text
            readers.append(read_events(response))
            assert any(name == "progress" for name, _ in readers[-1])
        yield


@pytest.fixture
def connections_made():
    """The database connections opened by other threads (the server's) while the test runs, weakly:
    `open_ones()` are those still open."""
    made: list[weakref.ref] = []

    def record(sender, connection, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            made.append(weakref.ref(connection))

    connection_created.connect(record, weak=False)

    class Made:
        @staticmethod
        def count() -> int:
            return len(made)

        @staticmethod
        def open_ones() -> int:
            return sum(1 for ref in made if (wrapper := ref()) is not None and wrapper.connection is not None)

    yield Made
    connection_created.disconnect(record)


@pytest.mark.django_db(transaction=True)
def test_open_streams_hold_no_database_connection_each(asgi_server, stakeholder, settings, connections_made):  # noqa: F811
    settings.LAUNCH = {**settings.LAUNCH, "STREAMS_PER_USER": STREAMS}
    wave = make_scene(vms=3)
    with open_streams(asgi_server, wave, asgi_server.cookies(stakeholder), STREAMS):
        # Each stream has signed in, read its wave and looked at its migrations, all through the reader
        # threads: no connection of its own was made, and what stays open are at most theirs.
        assert connections_made.count() <= settings.LAUNCH["STREAM_READERS"] < STREAMS
        assert connections_made.open_ones() <= settings.LAUNCH["STREAM_READERS"]


@pytest.mark.django_db(transaction=True)
def test_postgresql_connections_do_not_grow_with_the_pages_open(asgi_server, stakeholder, settings):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip(
            "counts PostgreSQL's connections (pg_stat_activity): set DATABASE_URL to a PostgreSQL server"
        )
    settings.LAUNCH = {**settings.LAUNCH, "STREAMS_PER_USER": STREAMS}
    wave = make_scene(vms=3)

    def connections_to_this_database() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return cursor.fetchone()[0]

    cookies = asgi_server.cookies(stakeholder)
    before = connections_to_this_database()
    with open_streams(asgi_server, wave, cookies, STREAMS):
        assert connections_to_this_database() - before <= settings.LAUNCH["STREAM_READERS"]
        page = requests.get(
            f"{asgi_server.url}/plan/waves/{wave.pk}/progress/", cookies=cookies, timeout=(5, READ_TIMEOUT)
        )
        assert page.status_code == 200 and wave.name in page.text  # other pages still answer


def wait_until_refused_no_more(server, wave, cookies) -> requests.Response:
    """A closed stream frees its slot once the server sees the client gone: ask until it is taken."""
    for _ in range(100):
        response = requests.get(
            stream_url(server, wave), cookies=cookies, stream=True, timeout=(5, READ_TIMEOUT)
        )
        if response.status_code != 429:
            return response
        response.close()
        threading.Event().wait(0.1)
    return response


@pytest.mark.django_db(transaction=True)
def test_a_user_past_the_cap_is_refused_and_a_closed_page_frees_its_slot(
    asgi_server, stakeholder, engineer, settings
):  # noqa: F811
    settings.LAUNCH = {**settings.LAUNCH, "STREAMS_PER_USER": 2}
    wave = make_scene(vms=1)
    cookies = asgi_server.cookies(stakeholder)
    with open_streams(asgi_server, wave, cookies, 1):
        with open_streams(asgi_server, wave, cookies, 1):
            refused = requests.get(stream_url(asgi_server, wave), cookies=cookies, timeout=(5, READ_TIMEOUT))
            assert refused.status_code == 429
            assert "live pages open" in refused.text and refused.headers["Retry-After"]
            # Another user is not held back by this one's pages.
            with open_streams(asgi_server, wave, asgi_server.cookies(engineer), 1):
                pass
        again = wait_until_refused_no_more(asgi_server, wave, cookies)
        with again:
            assert again.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_process_past_its_cap_refuses_every_user(asgi_server, stakeholder, engineer, settings):  # noqa: F811
    # Streams of earlier tests' servers may still count in this process: the cap is two more than those.
    settings.LAUNCH = {
        **settings.LAUNCH,
        "STREAMS_PER_USER": 5,
        "STREAMS_PER_PROCESS": slots.open_streams() + 2,
    }
    wave = make_scene(vms=1)
    with open_streams(asgi_server, wave, asgi_server.cookies(stakeholder), 2):
        refused = requests.get(
            stream_url(asgi_server, wave), cookies=asgi_server.cookies(engineer), timeout=(5, READ_TIMEOUT)
        )
        assert refused.status_code == 429 and "refreshes every few seconds" in refused.text
