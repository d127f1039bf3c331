"""200 open live pages: database connections held, other pages' answers, a change reaching every page.

`.venv/bin/python bench/streams.py [--streams 200 --users 40 --pages 20]`: a uvicorn in its own process
(one worker, as docker-compose.yml runs it) serves `--streams` progress streams of one wave, opened by
`--users` signed-in users (a user may hold LAUNCH["STREAMS_PER_USER"], 6 by default). With them open it
counts the server's database connections (pg_stat_activity, on PostgreSQL) and times other pages (the
wave's progress page and the home page) against the same pages with no stream open, sends one more
stream past the process's cap (LAUNCH["STREAMS_PER_PROCESS"], 200: refused with 429), and moves one
migration to time its arrival on every stream. Issue 15: before, each stream held a connection, and
about 90 took PostgreSQL's default 100.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, median, percentile, report, setup_django  # noqa: E402
from launch import StreamReader, WebServer, session_cookie  # noqa: E402

BENCH = "streams"


def server_connections(database: str) -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
        )
        return cursor.fetchone()[0]


def page_times(web, cookies, paths, rounds) -> list[float]:
    import requests

    times = []
    for _ in range(rounds):
        for path in paths:
            start = time.perf_counter()
            response = requests.get(f"{web.url}{path}", cookies=cookies, timeout=60)
            times.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise SystemExit(
                    f"bench/streams.py: {path} answered {response.status_code} with the streams open"
                )
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument(
        "--pages", type=int, default=20, help="rounds of page loads, with and without the streams"
    )
    args = parser.parse_args(argv)
    setup_django(BENCH, fresh=True)

    import requests
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    from core.roles import STAKEHOLDER
    from migrations_app.choices import MigrationState
    from migrations_app.launch.transitions import move
    from tests.test_launch_pages import make_scene

    call_command("collectstatic", interactive=False, verbosity=0)  # served as in production (DEBUG off)
    per_user = -(-args.streams // args.users)
    if per_user > settings.LAUNCH["STREAMS_PER_USER"]:
        raise SystemExit(
            f"bench/streams.py: {per_user} streams a user is past the per-user cap; raise --users"
        )
    call_command("flush", interactive=False, verbosity=0)  # a PostgreSQL database is kept between runs
    wave = make_scene(vms=20, name="Bench wave")
    users = []
    for i in range(args.users):
        user = User.objects.create_user(f"bench-reader-{i}", password="bench-only-password-1234")
        user.groups.add(Group.objects.get(name=STAKEHOLDER))
        users.append(user)
    cookies = [session_cookie(user) for user in users]
    database = connection.settings_dict["NAME"]
    connection.close()  # the bench's own connection is not the server's

    web = WebServer(ROOT / "var" / "bench" / "streams-uvicorn.log")
    readers = []
    try:
        web.wait()
        paths = [f"/plan/waves/{wave.pk}/progress/", "/"]
        page_times(web, cookies[0], paths, 2)  # warm up
        idle = server_connections(database)
        quiet = page_times(web, cookies[0], paths, args.pages)

        url = f"{web.url}/plan/waves/{wave.pk}/progress/stream/"
        for i in range(args.streams):
            reader = StreamReader(url, cookies[i % args.users], count_rows=False)
            reader.start()
            readers.append(reader)
        for reader in readers:
            reader.ready.wait(60)
        failed = [reader.error for reader in readers if reader.error]
        if failed:
            raise SystemExit(f"bench/streams.py: {len(failed)} streams failed to open, e.g. {failed[0]}")
        time.sleep(2)  # every stream has looked at least once
        held = server_connections(database)
        busy = page_times(web, cookies[0], paths, args.pages)
        extra = requests.get(url, cookies=cookies[-1], timeout=30)
        over_cap = extra.status_code

        m = wave.migrations.order_by("pk").first()
        before = {id(reader): len(reader.arrived) for reader in readers}
        moved_at = time.perf_counter()
        move(m, MigrationState.SUBMITTING)
        connection.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(len(r.arrived) <= before[id(r)] for r in readers):
            time.sleep(0.01)
        delays = [r.arrived[before[id(r)]][0] - moved_at for r in readers if len(r.arrived) > before[id(r)]]
    finally:
        web.stop()

    ms = lambda seconds: f"{seconds * 1000:,.0f} ms"  # noqa: E731
    print(f"{args.streams} streams open by {args.users} users, one uvicorn worker, {connection.vendor}")
    print(
        f"  server's database connections: {held} with the streams open, {idle} before (None: not PostgreSQL)"
    )
    print(
        f"  pages with the streams open: median {ms(median(busy))}, max {ms(max(busy))};"
        f" without: median {ms(median(quiet))}, max {ms(max(quiet))}"
    )
    print(f"  one more stream past the process's cap: HTTP {over_cap}")
    print(
        f"  a change reached {len(delays)} of {args.streams} streams; p95 {ms(percentile(delays, 0.95))}, max {ms(max(delays))}"
        if delays
        else "  a change reached no stream"
    )
    cap = settings.LAUNCH["STREAM_READERS"]
    if held is not None:
        report(
            BENCH,
            f"server's database connections, {args.streams} streams open",
            f"{held}",
            baseline=f"{idle} before they opened",
            target=f"at most {cap} more (LAUNCH_STREAM_READERS)",
            met=held - idle <= cap,
        )
    report(
        BENCH,
        f"other pages with {args.streams} streams open (median / max)",
        f"{ms(median(busy))} / {ms(max(busy))}",
        baseline=f"{ms(median(quiet))} / {ms(max(quiet))} with none open",
        target="still answer",
        met=True,
    )
    report(BENCH, "one stream past the process's cap", f"HTTP {over_cap}", target="429", met=over_cap == 429)
    report(
        BENCH,
        f"a change reaching all {args.streams} streams (p95)",
        ms(percentile(delays, 0.95)) if delays else "never",
        target="all reached",
        met=len(delays) == args.streams,
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LAUNCH_STREAMS_PER_PROCESS", "200")
    sys.exit(main())
