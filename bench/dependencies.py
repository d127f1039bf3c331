"""Dependency import, suggested move groups and the estate graph at scale, against baselines
measured in the same run.

    .venv/bin/python bench/dependencies.py [--vms 10000 --edges 50000 --rows 1000000]

1. import: a generated Azure Migrate export of `--rows` rows (the `--edges` connections between
   the VMs and some outside addresses, each seen in several hourly slots) imported whole, next to
   the baseline of only reading the same file with the csv module; the process's peak memory
   (ru_maxrss) before and after shows that the rows are streamed, not held;
2. again: the same file imported a second time (target: 0 new connections);
3. suggestions: suggest() over the estate, next to the bare values_list query it builds from;
4. graph: the estate graph cut to the node limit, built and drawn as SVG.

Runs on a scratch SQLite database under var/bench/ unless DATABASE_URL is set.
"""

import argparse
import csv
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCRATCH = ROOT / "var" / "bench"


def setup_django():
    SCRATCH.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{SCRATCH / 'dependencies.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avsportal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def write_export(path: Path, vms, edges: int, rows: int):
    """`edges` distinct connections (5% to outside addresses), written round-robin as `rows` rows."""
    rng = random.Random(7)
    pairs = []
    for i in range(edges):
        source = vms[rng.randrange(len(vms))]
        if i % 20 == 0:
            destination = (f"partner-{i % 500}.example", f"198.51.{(i // 250) % 250}.{i % 250 + 1}")
        else:
            target = vms[rng.randrange(len(vms))]
            destination = (target[0], target[1] or "")
        pairs.append((source, destination, rng.choice((443, 1433, 8080, 5432, 53, 389))))
    header = ["Time slot", "Source server name", "Source IP", "Source application", "Source process",
              "Destination server name", "Destination IP", "Destination application", "Destination process",
              "Destination port"]  # fmt: skip
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            (src_name, src_ip), (dst_name, dst_ip), port = pairs[n % len(pairs)]
            slot = f"01-10-2025 {(n // len(pairs)) % 24:02d}:00-{(n // len(pairs)) % 24 + 1:02d}:00"
            writer.writerow(
                [slot, src_name, src_ip or "", "app", "app.exe", dst_name, dst_ip, "svc", "svc.exe", port]
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    setup_django()

    from inventory.models import VCenter, VirtualMachine
    from migrations_app.dependencies.graph import GraphFilter, build
    from migrations_app.dependencies.importer import import_file
    from migrations_app.dependencies.suggestions import suggest
    from migrations_app.dependencies.svg import render
    from migrations_app.models import Dependency, DependencyGroup, Endpoint
    from tests.factories import make_estate

    Dependency.objects.all().delete()
    Endpoint.objects.all().delete()
    DependencyGroup.objects.all().delete()
    VCenter.objects.filter(name="bench-dependencies").delete()
    print(f"Writing an estate of {args.vms} VMs")
    make_estate(
        args.vms, devices=False, vcenter=VCenter.objects.create(name="bench-dependencies"), prefix="b"
    )
    vms = list(
        VirtualMachine.objects.filter(vcenter__name="bench-dependencies").values_list("name", "primary_ip")
    )
    export = SCRATCH / f"dependencies-{args.rows}.csv"
    if not export.exists():
        print(f"Writing {export.name}: {args.rows} rows over {args.edges} connections")
        write_export(export, vms, args.edges, args.rows)
    print(f"  {export.stat().st_size / 2**20:.0f} MB")

    def read_only():
        with open(export, newline="", encoding="utf-8-sig") as handle:
            return sum(1 for _ in csv.reader(handle)) - 1

    read_s, rows = timed(read_only)
    print(f"baseline, csv module reading the file: {read_s:.1f} s for {rows} rows")
    before_mb = peak_mb()
    import_s, record = timed(lambda: import_file(export))
    after_mb = peak_mb()
    print(
        f"import: {import_s:.1f} s, {record.rows} rows, {record.edges} connections, {record.matched} VMs matched, "
        f"{record.external} external; {import_s / read_s:.1f}x the bare read"
    )
    print(
        f"peak memory: {before_mb:.0f} MB before, {after_mb:.0f} MB after (the file is {export.stat().st_size / 2**20:.0f} MB)"
    )
    again_s, again = timed(lambda: import_file(export))
    print(
        f"again: {again_s:.1f} s, {again.summary['new_edges']} new connections (target 0): "
        f"{'met' if again.summary['new_edges'] == 0 else 'MISSED'}"
    )

    def bare_query():
        return sum(
            1
            for _ in Dependency.objects.filter(source__vm__isnull=False, destination__vm__isnull=False)
            .values_list("source__vm_id", "destination__vm_id", "port", "seen")
            .iterator(chunk_size=5000)
        )

    query_s, edge_rows = timed(bare_query)
    print(f"baseline, the VM-to-VM edge query alone: {query_s:.2f} s for {edge_rows} edges")
    suggest_s, result = timed(lambda: suggest(min_seen=1))
    largest = max((len(s.vms) for s in result.items), default=0)
    print(
        f"suggestions: {suggest_s:.2f} s, {len(result.items)} suggestions (largest {largest} VMs); "
        f"{suggest_s / query_s:.1f}x the bare query"
    )
    graph_s, drawing = timed(lambda: render(build(GraphFilter())))
    print(
        f"estate graph (cut to the node limit) built and drawn: {graph_s:.2f} s, {len(drawing) / 1024:.0f} KB of SVG"
    )


if __name__ == "__main__":
    main()
