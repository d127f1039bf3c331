"""1,000 concurrent migrations on the HCX simulator: the reconciler's cycle and the live page's delay.

    .venv/bin/python bench/launch.py [--vms 1000] [--cycles 20] [--step 30] [--readers 20]

One wave of `--vms` VMs is launched (one batch, the submit job run here) against an HCX simulator
whose limits are raised to take them all at once, and whose clock stands still unless the bench moves
it (`--time-scale` 1e-6). Then, `--cycles` times: HCX's clock moves `--step` simulated seconds (every
migration's bytes change; the first step also ends their validation), one reconciler cycle runs
(`reconcile_site`), and `--readers` readers of the live stream (a room watching the wave) and a
polling reader see it. Measured:

1. cycle time (median, p95), beside the baseline of the same run: a bare paged HCX query of the
   same migrations (the same client, ids and page size; nothing decoded into rows or written);
2. HCX calls per cycle: the simulator's `migrationQueries` before and after;
3. database writes per cycle: UPDATE/INSERT/DELETE statements (CaptureQueriesContext) and rows;
4. the delay from the end of the cycle that read a change (its commit) to the server-sent event
   carrying it, for the slowest of the readers (and the first), served by uvicorn in its own process
   (one worker, as scripts/demo runs it), beside the
   stream's poll interval (LAUNCH["STREAM_POLL_SECONDS"]); and the polling API's answer time for the
   same change, beside the page's polling interval (static/js, POLL_MS = 2 s).
A few cycles with nothing new in HCX are timed too (what a cycle costs between changes).

From a change in HCX to the page: at most one beat interval (LAUNCH["RECONCILE_SECONDS"]) until a
cycle starts, the cycle, then the stream's delay; the bench adds these up against the 2-second target.

Runs on a scratch SQLite database under var/bench/ (rebuilt each time) unless DATABASE_URL is set
(then point it at a scratch database: it is flushed). No figure is asserted.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MiB = 1024**2
PAGE_POLL_SECONDS = 2.0  # static/js: the live page's polling fallback (POLL_MS)


def setup_django():
    scratch = ROOT / "var" / "bench"
    scratch.mkdir(parents=True, exist_ok=True)
    database = scratch / "launch.sqlite3"
    if "DATABASE_URL" not in os.environ:
        database.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avsportal.settings")
    os.environ.setdefault("OUTBOUND_ALLOW", "127.0.0.0/8,::1")  # the simulators listen on loopback
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")  # the bench's web server speaks plain HTTP
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def figure(values, unit="s", digits=3):
    return f"median {statistics.median(values):.{digits}f} {unit}, p95 {p95(values):.{digits}f} {unit}"


def is_write(sql: str) -> bool:
    """An INSERT, UPDATE or DELETE, including bulkwrite.py's `WITH v (...) AS (VALUES ...) UPDATE`."""
    head = sql.lstrip()[:6].upper()
    return head in ("INSERT", "UPDATE", "DELETE") or (head.startswith("WITH") and ") UPDATE " in sql)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebServer:
    """uvicorn serving the portal in its own process, as in production (not sharing the bench's GIL)."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "avsportal.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--lifespan",
                "off",
            ],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, timeout=30):
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise SystemExit(f"bench/launch.py: the web server did not start; see {self.log.name}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class StreamReader(threading.Thread):
    """Reads the wave's event stream and notes when each event (its id, the cursor) arrived."""

    def __init__(self, url: str, cookies: dict, count_rows: bool = True):
        super().__init__(daemon=True)
        self.url, self.cookies = url, cookies
        self.arrived: list[tuple[float, str, int]] = []  # (perf_counter, cursor, rows)
        self.count_rows = count_rows  # decoding each event's JSON costs the bench's own CPU: one reader does
        self.ready = threading.Event()
        self.error = None

    def run(self):
        import requests

        try:
            with requests.get(self.url, cookies=self.cookies, stream=True, timeout=(5, 120)) as response:
                response.raise_for_status()
                # Split on the blank line between events without rescanning what was read (a 1,000-row
                # event is some 400 KB, in many chunks, times the number of readers).
                buffer, scanned = bytearray(), 0
                for chunk in response.iter_content(chunk_size=None):
                    buffer += chunk
                    while (end := buffer.find(b"\n\n", max(0, scanned - 1))) >= 0:
                        self._take(bytes(buffer[:end]).decode())
                        del buffer[: end + 2]
                        scanned = 0
                    scanned = len(buffer)
        except Exception as exc:  # noqa: BLE001 - reported by the bench's main thread
            self.error = exc
            self.ready.set()

    def _take(self, block: str):
        at = time.perf_counter()
        if block.startswith("retry:"):
            self.ready.set()
        if "event: progress" not in block[:200]:
            return
        head, _, data = block.partition("\ndata: ")
        event_id = head.split("id: ", 1)[1].split("\n", 1)[0] if head.startswith("id: ") else ""
        rows = len(json.loads(data)["migrations"]) if self.count_rows else 0
        self.arrived.append((at, event_id, rows))

    def seen(self, cursor: str, timeout: float = 30) -> tuple[float, int]:
        """When an event with a cursor at or past `cursor` arrived (waiting for it), and its row count."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, event_id, rows in self.arrived:
                if event_id >= cursor:  # fixed-width ISO cursors compare as strings
                    return at, rows
            if self.error:
                raise SystemExit(f"bench/launch.py: the stream failed: {self.error}")
            time.sleep(0.002)
        raise SystemExit(f"bench/launch.py: no event reached cursor {cursor} within {timeout}s")


def session_cookie(user) -> dict:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return {settings.SESSION_COOKIE_NAME: store.session_key}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--quiet-cycles", type=int, default=5, help="cycles with nothing new in HCX")
    parser.add_argument("--step", type=float, default=30, help="simulated seconds between cycles")
    parser.add_argument(
        "--readers",
        type=int,
        default=20,
        help="browsers watching the wave's live page at once (the target is the slowest one's)",
    )
    args = parser.parse_args(argv)
    setup_django()

    import requests
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.jobs import run
    from core.models import Job
    from core.roles import ENGINEER
    from hcx.client.migrations import QUERY_PAGE_SIZE
    from migrations_app.launch import batches, progress
    from migrations_app.launch.reconcile import reconcile_site
    from migrations_app.launch.site import service_for
    from migrations_app.models import VmMigration
    from tests.launch_helpers import make_launch_setup
    from tests.peers.hcxsim import start_simulator

    scratch = ROOT / "var" / "bench"
    n = args.vms
    print(f"Starting the HCX simulator (clock moved by the bench only) and a wave of {n} VMs")
    sim = start_simulator(scratch / "launch-hcxsim.log", "--time-scale", "0.000001")
    web = None
    try:
        setup_s, setup = timed(lambda: make_launch_setup(sim, vms=n, disk_bytes=64 * MiB))
        print(f"  estate and wave built in {setup_s:.1f} s")
        setup.meshed.settings(maxReplicationsPerMesh=n, maxReplicationsPerManager=n)
        settings.HCX_LIMITS = {
            **settings.HCX_LIMITS,
            "MAX_REPLICATIONS_PER_MESH": n,
            "MAX_REPLICATIONS_PER_MANAGER": n,
        }
        engineer = User.objects.create_user("bench-engineer", password="bench-only-password-1234")
        engineer.groups.add(Group.objects.get(name=ENGINEER))
        Job.send = lambda job: None  # the bench runs the submit job itself, here
        batch = batches.do_create_batch(setup.wave, acting_user=engineer)
        submit_s, _ = timed(lambda: run(batches.do_launch_batch(batch, acting_user=engineer).pk))
        sent = VmMigration.objects.filter(batch=batch, hcx_id__isnull=False).count()
        print(f"  submit job: {sent} migrations validated and started in HCX in {submit_s:.1f} s")
        if sent != n:
            raise SystemExit(f"bench/launch.py: only {sent} of {n} were sent; see the job's log")

        web = WebServer(scratch / "launch-uvicorn.log")
        web.wait()
        cookies = session_cookie(engineer)
        wave = setup.wave
        stream_url = f"{web.url}/plan/waves/{wave.pk}/progress/stream/?since={progress.latest_cursor(wave)}"
        readers = [StreamReader(stream_url, cookies, count_rows=not i) for i in range(args.readers)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.ready.wait(30)

        site = setup.site
        page_size = settings.LAUNCH.get("RECONCILE_PAGE_SIZE", QUERY_PAGE_SIZE)
        hcx_ids = list(
            VmMigration.objects.filter(batch=batch).order_by("pk").values_list("hcx_id", flat=True)
        )
        bare_client = service_for(site)

        def bare_query():
            calls = 0
            for start in range(0, len(hcx_ids), page_size):
                bare_client.query_migrations(ids=hcx_ids[start : start + page_size], page_size=page_size)
                calls += 1
            return calls

        def queries_answered():
            return sim.control.state()["migrationQueries"]

        bare_query()  # log in, warm up
        reconcile_site(site)  # the cycle's client logs in; nothing moved yet
        cycles, bare, hcx_calls, writes, rows_written, events = [], [], [], [], [], []
        delays, delays_from_start, polled, polled_rows, state_changes = [], [], [], [], 0
        first_from_start = []  # one viewer alone would see it about then
        cursor = progress.latest_cursor(wave)
        for _ in range(args.cycles):
            sim.control.advance(args.step)
            before = queries_answered()
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                stats = reconcile_site(site)
            ended = time.perf_counter()
            cycles.append(ended - started)
            hcx_calls.append(queries_answered() - before)
            writes.append(sum(1 for q in queries if is_write(q["sql"])))
            rows_written.append(stats.rows_written)
            events.append(stats.events_written)
            state_changes += stats.events_written
            if stats.rows_written:
                newest = progress.latest_cursor(wave)
                arrivals = [reader.seen(newest)[0] for reader in readers]
                delays.append(max(arrivals) - ended)
                delays_from_start.append(max(arrivals) - started)
                first_from_start.append(arrivals[0] - started)
                answer_s, answer = timed(
                    lambda c=cursor: requests.get(
                        f"{web.url}/api/waves/{wave.pk}/progress/",
                        params={"since": c},
                        cookies=cookies,
                        timeout=30,
                    )
                )
                answer.raise_for_status()
                polled.append(answer_s)
                polled_rows.append(len(answer.json()["migrations"]))
                cursor = newest
            bare.append(timed(bare_query)[0])

        quiet = []
        for _ in range(args.quiet_cycles):
            with CaptureQueriesContext(connection) as queries:
                quiet_s, quiet_stats = timed(lambda: reconcile_site(site))
            quiet.append((quiet_s, quiet_stats.rows_written, sum(1 for q in queries if is_write(q["sql"]))))
        in_states = dict(Counter(VmMigration.objects.filter(batch=batch).values_list("state", flat=True)))

        reconcile_every = settings.LAUNCH["RECONCILE_SECONDS"]
        stream_poll = settings.LAUNCH["STREAM_POLL_SECONDS"]
        print()
        print(
            f"{n} migrations in flight, {args.cycles} cycles {args.step:g} simulated s apart "
            f"({state_changes} state changes in all; now {in_states}); database: {connection.vendor}"
        )
        print(f"reconciler cycle:          {figure(cycles)}")
        print(f"  baseline, bare paged HCX query of the same {len(hcx_ids)} ids: {figure(bare)}")
        print(f"  cycle / bare (medians):  {statistics.median(cycles) / statistics.median(bare):.1f}x")
        print(
            f"HCX calls per cycle:       {sorted(set(hcx_calls))} (page size {page_size}; "
            f"{-(-n // page_size)} pages of ids)"
        )
        print(
            f"DB writes per cycle:       {sorted(set(writes))} statements for {sorted(set(rows_written))} rows "
            f"and {sorted(set(events))} state-change events"
        )
        print(
            f"quiet cycle (nothing new): {figure([q[0] for q in quiet])}, rows written {sorted({q[1] for q in quiet})}, "
            f"write statements {sorted({q[2] for q in quiet})}"
        )
        watching = f"the slowest of {args.readers} readers" if args.readers > 1 else "one reader"
        print(f"cycle end -> SSE event:    {figure(delays)} (events of {n} rows; {watching})")
        print(
            f"  baseline, the stream's poll interval: {stream_poll:g} s; wake-ups: "
            f"{'Redis pub/sub (REDIS_URL)' if settings.REDIS_URL else 'none (no REDIS_URL): polling only'}"
        )
        print(
            f"cycle start -> SSE event:  {figure(delays_from_start)} ({watching}); "
            f"the first reader: {figure(first_from_start)}"
        )
        print(f"polling API answer:        {figure(polled)} for {sorted(set(polled_rows))} rows")
        print(f"  baseline, the page's polling interval: {PAGE_POLL_SECONDS:g} s")
        worst = reconcile_every + p95(delays_from_start)
        print(
            f"change in HCX -> browser, worst case ({watching}): beat {reconcile_every:g} s + cycle and stream p95 "
            f"{p95(delays_from_start):.2f} s = {worst:.2f} s (target 2 s): {'met' if worst <= 2 else 'MISSED'}"
        )
        bare_client.close()
    finally:
        if web is not None:
            web.stop()
        sim.stop()


if __name__ == "__main__":
    main()
