"""Readiness of a 1,000-VM wave, beside a baseline measured in the same run.

    .venv/bin/python bench/readiness.py [--vms 1000] [--repeat 3]

1. baseline: reading the rows the rules read (the wave's VMs with their hosts, disks, NICs with their
   networks, CD-ROMs, snapshot counts, mappings) as bare tuples, with nothing built from them;
2. load: `readiness.facts.load()`: the same reads, built into the rules' facts;
3. run: `do_run_readiness()` end to end, as the button runs it: lock, load, evaluate every VM
   (and, for each blocked VM, the other three types), replace the findings, audit;
4. panel: the readiness panel's context (counts, rules with their first VMs, 20 blocked VMs with
   the types that clear them), as the wave page builds it.
The run is synchronous in the request; it would become a background Job if it took more than 2 s
at 1,000 VMs. No figure is asserted. Runs on a scratch SQLite database under var/bench/ (or
DATABASE_URL), rebuilt each time; the estate is tests/factories.make_estate's spread of power
states, tools, hardware versions, ISOs and snapshots.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import report  # noqa: E402


def setup_django():
    scratch = ROOT / "var" / "bench"
    scratch.mkdir(parents=True, exist_ok=True)
    database = scratch / "readiness.sqlite3"
    if "DATABASE_URL" not in os.environ:
        database.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avsportal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(func, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def baseline(wave):
    from inventory.models import CdRom, Snapshot, VirtualDisk, VirtualNic
    from migrations_app.models import NetworkMapping, WaveItem

    rows = list(
        WaveItem.objects.filter(wave=wave).values_list(
            "vm_id", "vm__name", "vm__hw_version", "vm__host__cpu_vendor"
        )
    )
    for model in (VirtualDisk, VirtualNic, CdRom):
        rows += list(model.objects.filter(vm__wave_item__wave=wave).values_list("vm_id", "label"))
    rows += list(Snapshot.objects.filter(vm__wave_item__wave=wave).values_list("vm_id"))
    rows += list(NetworkMapping.objects.filter(wave=wave).values_list("source_id"))
    return len(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    setup_django()

    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test.client import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from core.roles import PLANNER, sync_role_permissions
    from migrations_app.models import Wave, WaveItem
    from migrations_app.readiness.actions import do_run_readiness
    from migrations_app.readiness.facts import load
    from migrations_app.readiness.panels import readiness_context
    from tests.factories import make_estate

    sync_role_permissions()
    user = User.objects.create_user("bench-planner")
    user.groups.add(Group.objects.get(name=PLANNER))
    estate = make_estate(args.vms)
    wave = Wave.objects.create(name="bench", remove_isos=False)
    WaveItem.objects.bulk_create([WaveItem(wave=wave, vm=vm) for vm in estate.vms])
    request = RequestFactory().get(f"/plan/waves/{wave.pk}/")
    request.user = user

    figures = []
    figures.append(("baseline: bare rows", *timed(lambda: baseline(wave), args.repeat)))
    figures.append(("load: rule facts", *timed(lambda: len(load(wave)[1]), args.repeat)))
    with CaptureQueriesContext(connection) as queries:
        run_time, result = timed(lambda: do_run_readiness(wave, acting_user=user), args.repeat)
    figures.append(
        ("run: do_run_readiness", run_time, f"{result.blockers} blockers, {result.warnings} warnings")
    )
    wave.refresh_from_db()
    figures.append(
        (
            "panel: readiness context",
            *timed(lambda: len(readiness_context(wave, request)["blocked"]), args.repeat),
        )
    )

    print(f"{args.vms} VMs, {connection.vendor}, best of {args.repeat}")
    for name, seconds, what in figures:
        print(f"  {name:<28} {seconds * 1000:8.1f} ms   ({what})")
    print(f"  queries per run: {len(queries.captured_queries) // args.repeat}")
    base = figures[0][1]
    report(
        "readiness",
        f"readiness run of a {args.vms:,}-VM wave (best of {args.repeat})",
        f"{run_time * 1000:.0f} ms, {len(queries.captured_queries) // args.repeat} queries",
        baseline=f"bare rows: {base * 1000:.0f} ms",
        target="well under a second (< 1 s)",
        met=run_time < 1,
    )


if __name__ == "__main__":
    main()
