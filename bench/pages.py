"""Pages at 50,000 VMs: server time and query count in process, requests per second under load.

    .venv/bin/python bench/pages.py [--vms 50000] [--repeat 20] [--users 50] [--seconds 20] [--no-load] [--fresh]

The estate: `--vms` VMs (tests/factories.make_estate: disks, NICs, CD-ROMs, snapshots, tags) over
20 clusters, 40 waves of 1,000 VMs in groups of 10, a few submitted, approved or completed, one
running with a batch of 1,000 migrations in every state. Built once into var/bench/pages.sqlite3
(or DATABASE_URL) and reused while it has the same size; `--fresh` rebuilds it.

1. in process (Django's test Client, signed in as a planner and engineer): each page `--repeat`
   times after two warm-ups, median and p95 of the server time, and its queries (CaptureQueriesContext);
2. under load: uvicorn with 2 workers on this machine, `--users` locust users (bench/pages_locust.py)
   each signed in through the login form, `--seconds` on each page in turn: requests per second,
   median and p95 answer time. Locust runs on the same 2 cores as the server.
Baseline for both: the job list with no jobs, a trivial signed-in page measured the same way.
Target (product.md §7): a few hundred milliseconds at 50,000 VMs (the wave page at 1,000 VMs),
with a query count that does not grow with the rows. No figure is asserted.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SCRATCH, median, percentile, report, setup_django, timed  # noqa: E402

MARKER = "bench-pages-vc"
WAVES, WAVE_SIZE, GROUP_SIZE = 40, 1000, 10
USERNAME, PASSWORD = "bench-pages", "bench-pages-password-7"
# "A few hundred milliseconds", read strictly: a median of at most 300 ms and a p95 of at most 500 ms.
TARGET_MEDIAN_MS, TARGET_P95_MS = 300, 500


def build(vms: int):
    """The estate, its groups, waves, and a running wave's batch, in bulk."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from inventory.models import VCenter, VirtualMachine
    from migrations_app.choices import MigrationState, WaveStatus
    from migrations_app.models import Batch, DependencyGroup, GroupMember, VmMigration, Wave, WaveItem
    from tests.factories import make_estate

    with transaction.atomic():
        Wave.objects.filter(name__startswith="bench-wave-").delete()
        DependencyGroup.objects.filter(name__startswith="bench-group-").delete()
        VCenter.objects.filter(name=MARKER).delete()
        make_estate(
            vms,
            clusters=20,
            hosts_per_cluster=8,
            datastores=40,
            networks=60,
            vcenter=VCenter.objects.create(name=MARKER),
        )
        ids = list(
            VirtualMachine.objects.filter(vcenter__name=MARKER).order_by("pk").values_list("pk", flat=True)
        )
        statuses = (
            [WaveStatus.COMPLETED] * 3
            + [WaveStatus.RUNNING]
            + [WaveStatus.APPROVED] * 4
            + [WaveStatus.SUBMITTED] * 4
            + [WaveStatus.DRAFT] * (WAVES - 12)
        )
        now = timezone.now()
        size = min(WAVE_SIZE, len(ids) // WAVES)  # smaller waves only for a trial with --vms below 40,000
        waves = Wave.objects.bulk_create(
            Wave(
                name=f"bench-wave-{w + 1:02d}",
                status=statuses[w],
                sequence=w + 1,
                window_start=now + timedelta(days=7 * (w - 3)),
                window_end=now + timedelta(days=7 * (w - 3), hours=8),
            )
            for w in range(WAVES)
        )
        groups = DependencyGroup.objects.bulk_create(
            DependencyGroup(name=f"bench-group-{g:05d}") for g in range(WAVES * size // GROUP_SIZE)
        )
        members, items = [], []
        for w, wave in enumerate(waves):
            for n in range(size):
                i = w * size + n
                group = groups[i // GROUP_SIZE]
                members.append(GroupMember(group=group, vm_id=ids[i], reason="bench"))
                items.append(WaveItem(wave=wave, vm_id=ids[i], group=group))
        GroupMember.objects.bulk_create(members, batch_size=5000)
        WaveItem.objects.bulk_create(items, batch_size=5000)
        running = next(w for w in waves if w.status == WaveStatus.RUNNING)
        batch = Batch.objects.create(
            wave=running,
            number=1,
            name="Batch 1",
            launched=now,
            hcx_group_name=f"avsportal-wave{running.pk}-batch1",
        )
        states = list(MigrationState)
        start = waves.index(running) * size
        VmMigration.objects.bulk_create(
            (
                VmMigration(
                    batch=batch,
                    wave=running,
                    vm_id=ids[start + n],
                    migration_type="bulk",
                    state=states[n % len(states)],
                    hcx_id=f"bench-mig-{n}",
                    percent=n % 100,
                    bytes_total=40 * 2**30,
                    bytes_transferred=(n % 100) * 2**30 * 40 // 100,
                    submitted=now,
                )
                for n in range(size)
            ),
            batch_size=2000,
        )


def ensure_user():
    from django.contrib.auth.models import Group, User

    from core.roles import ENGINEER, PLANNER, sync_role_permissions

    sync_role_permissions()
    user = User.objects.filter(username=USERNAME).first() or User(username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    user.groups.set(Group.objects.filter(name__in=[PLANNER, ENGINEER]))
    return user


def pages() -> list[tuple[str, str, str]]:
    """(key, label, path) of each page measured; the baseline first."""
    from django.urls import reverse

    from inventory.models import Cluster, VirtualMachine
    from migrations_app.choices import WaveStatus
    from migrations_app.models import Wave

    vms = VirtualMachine.objects.filter(vcenter__name=MARKER).count()
    last = max(1, (vms + 49) // 50)
    cluster = Cluster.objects.filter(vcenter__name=MARKER).order_by("name").first()
    draft = (
        Wave.objects.filter(name__startswith="bench-wave-", status=WaveStatus.DRAFT)
        .order_by("sequence")
        .first()
    )
    running = Wave.objects.get(name__startswith="bench-wave-", status=WaveStatus.RUNNING)
    vm_list = reverse("inventory:virtualmachine_list")
    return [
        ("baseline", "baseline: job list, no jobs", reverse("core:job_list")),
        ("vm_first", "VM list, first page", vm_list),
        (
            "vm_filtered",
            "VM list, filtered",
            f"{vm_list}?power_state=poweredOn&cluster_id={cluster.pk}&q=vm-1",
        ),
        ("vm_late", f"VM list, late page ({last * 9 // 10} of {last})", f"{vm_list}?page={last * 9 // 10}"),
        ("wave", "wave page, 1,000 VMs", reverse("migrations_app:wave", args=[draft.pk])),
        ("dashboard", "dashboard", reverse("migrations_app:dashboard")),
        (
            "progress",
            "progress of a running wave, 1,000 migrations",
            reverse("migrations_app:wave_progress", args=[running.pk]),
        ),
    ]


def in_process(user, path: str, repeat: int):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    for _ in range(2):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"bench/pages.py: {path} answered {response.status_code}")
    times = []
    for _ in range(repeat):
        seconds, _ = timed(lambda: client.get(path))
        times.append(seconds * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return median(times), percentile(times, 0.95), len(queries.captured_queries)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def under_load(measured, users: int, seconds: float) -> dict:
    """Start uvicorn (2 workers) and locust on this machine; {key: figures} from bench/pages_locust.py."""
    port = free_port()
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    log = open(SCRATCH / "pages-uvicorn.log", "w")  # noqa: SIM115 - open while the server runs
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "avsportal.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"bench/pages.py: uvicorn did not start; see {log.name}") from None
                time.sleep(0.3)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "locust.json"
            locust_env = {
                **os.environ,
                "BENCH_PAGES": json.dumps([[key, path] for key, _, path in measured]),
                "BENCH_SLOT_SECONDS": str(seconds),
                "BENCH_OUT": str(out),
                "BENCH_USERNAME": USERNAME,
                "BENCH_PASSWORD": PASSWORD,
            }
            limit = int(seconds * len(measured) + 120)
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "locust"),
                    "-f",
                    str(ROOT / "bench" / "pages_locust.py"),
                    "--headless",
                    "-u",
                    str(users),
                    "-r",
                    str(users),
                    "-t",
                    f"{limit}s",
                    "--stop-timeout",
                    "5",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env=locust_env,
                check=False,
                stdout=subprocess.DEVNULL,
            )
            if not out.exists():
                raise SystemExit("bench/pages.py: locust wrote no figures")
            return json.loads(out.read_text())
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20, help="locust's time on each page")
    parser.add_argument("--no-load", action="store_true", help="in-process figures only, no locust")
    parser.add_argument("--fresh", action="store_true", help="rebuild the estate even if it is there")
    args = parser.parse_args(argv)
    os.environ.setdefault("STATIC_ROOT", str(SCRATCH / "static"))  # the pages need the static manifest
    setup_django("pages")

    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)

    from inventory.models import VirtualMachine

    have = VirtualMachine.objects.filter(vcenter__name=MARKER).count()
    if args.fresh or have != args.vms:
        print(f"building {args.vms:,} VMs, {WAVES} waves of {WAVE_SIZE:,}, a running wave ...", flush=True)
        seconds, _ = timed(lambda: build(args.vms))
        print(f"  built in {seconds:.0f} s")
    else:
        print(f"estate of {have:,} VMs reused ({connection.vendor}); --fresh rebuilds it")
    if connection.vendor == "postgresql":
        # Planner statistics for the bulk-written estate, as autovacuum would gather them within a
        # minute; a server running without autovacuum plans the VM list as a 50,000-row nested loop.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    user = ensure_user()
    measured = pages()

    print(f"\nin process, {args.repeat} requests each after 2 warm-ups ({connection.vendor}):")
    print(f"  {'page':48} {'median ms':>9} {'p95 ms':>8} {'queries':>8}")
    figures = {}
    for key, label, path in measured:
        figures[key] = in_process(user, path, args.repeat)
        med, p95, queries = figures[key]
        print(f"  {label:48} {med:9.1f} {p95:8.1f} {queries:8d}", flush=True)
    base = figures["baseline"]
    for key, label, _ in measured[1:]:
        med, p95, queries = figures[key]
        report(
            "pages",
            f"{label}: server time (in process)",
            f"median {med:.0f} ms, p95 {p95:.0f} ms, {queries} queries",
            baseline=f"median {base[0]:.0f} ms, p95 {base[1]:.0f} ms, {base[2]} queries",
            target=f"median <= {TARGET_MEDIAN_MS} ms, p95 <= {TARGET_P95_MS} ms",
            met=med <= TARGET_MEDIAN_MS and p95 <= TARGET_P95_MS,
        )

    if args.no_load:
        return
    print(
        f"\nunder load: uvicorn, 2 workers; locust, {args.users} users signed in through the login form, "
        f"{args.seconds:g} s per page:",
        flush=True,
    )
    loaded = under_load(measured, args.users, args.seconds)
    print(f"  {'page':48} {'req/s':>7} {'median ms':>9} {'p95 ms':>8} {'failures':>8}")
    for key, label, _ in measured:
        got = loaded[key]
        print(
            f"  {label:48} {got['rps']:7.1f} {got['median_ms']:9.0f} {got['p95_ms']:8.0f} {got['failures']:8d}"
        )
    base = loaded["baseline"]
    for key, label, _ in measured[1:]:
        got = loaded[key]
        report(
            "pages",
            f"{label}: {args.users} users (locust)",
            f"{got['rps']:.1f} req/s, median {got['median_ms']:.0f} ms, p95 {got['p95_ms']:.0f} ms"
            + (f", {got['failures']} failures" if got["failures"] else ""),
            baseline=f"{base['rps']:.1f} req/s, median {base['median_ms']:.0f} ms",
            note="server and load generator share the 2 cores",
        )


if __name__ == "__main__":
    main()
