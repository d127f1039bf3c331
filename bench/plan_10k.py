"""The auto-planner on 10,000 VMs and 50,000 dependency edges, beside a baseline measured in the same run.

    .venv/bin/python bench/plan_10k.py [--vms 10000 --edges 50000 --groups 1000] [--fresh]

1. baseline: reading the planner's input as bare rows (groups; VMs with group and wave; edges as VM
   id pairs) with nothing built from them: the floor any planner pays;
2. load: `proposals.load_units()`: the same reads, plus units, their loads and the unit graph;
3. plan: `autoplan.plan_waves()` on the loaded units, in memory (cycles, order, pilot, packing with
   an estimate per candidate);
4. propose: `do_propose()` end to end, as the page runs it: load, plan, store the PlanProposal;
5. accept: `do_accept()` of every proposed wave (bulk inserts of the waves and their items), rolled
   back afterwards so that the next run plans the same estate.
Target (product.md §7): seconds. No figure is asserted; compare them with the baseline.

The estate: VMs in groups of 1-15 (about 80 % of them grouped, 20 % ungrouped), group priorities
and risks spread, and 50,000 distinct connections: 5 % from ungrouped VMs into groups, 55 % inside
a group, 30 % from a group to a "lower" one (applications calling shared services, with 1 % the
other way round, so cycles exist), 10 % to endpoints outside the inventory. Built once into a scratch SQLite database under
var/bench/ (or DATABASE_URL) and reused; `--fresh` rebuilds it.
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import report  # noqa: E402

MARKER = "bench-plan-vc"
TARGET_S = 10  # "in seconds"


def setup_django():
    scratch = ROOT / "var" / "bench"
    scratch.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'plan.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avsportal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def build(vms: int, edges: int, groups: int, seed: int = 7):
    from django.db import transaction

    from hcx.models import HcxPlan
    from inventory.choices import PowerState
    from inventory.models import VCenter, VirtualMachine
    from migrations_app.choices import Risk
    from migrations_app.models import Dependency, DependencyGroup, Endpoint, GroupMember

    rng = random.Random(seed)
    with transaction.atomic():
        DependencyGroup.objects.filter(name__startswith="bench-app-").delete()
        Endpoint.objects.filter(vm__isnull=True, name__startswith="bench-ext-").delete()
        VCenter.objects.filter(name=MARKER).delete()  # cascades to its VMs, members and endpoints
        vc = VCenter.objects.create(name=MARKER)
        vm_rows = VirtualMachine.objects.bulk_create(
            (
                VirtualMachine(
                    vcenter=vc,
                    moid=f"vm-{i}",
                    name=f"bench-vm-{i:05d}",
                    power_state=PowerState.OFF if i % 10 == 0 else PowerState.ON,
                    provisioned_mib=1024 * rng.randint(20, 400),
                    used_mib=1024 * rng.randint(10, 200),
                )
                for i in range(vms)
            ),
            batch_size=2000,
        )
        ids = [vm.pk for vm in vm_rows]
        # Groups of 1-20 VMs over the first ~80 % of the VMs; the rest stay ungrouped.
        group_rows, members, cursor = [], [], 0
        limit = int(vms * 0.8)
        for g in range(groups):
            if cursor >= limit:
                break
            size = min(rng.randint(1, 15), limit - cursor)
            group_rows.append((f"bench-app-{g:04d}", ids[cursor : cursor + size]))
            cursor += size
        created = DependencyGroup.objects.bulk_create(
            DependencyGroup(
                name=name,
                priority=rng.choice([10, 50, 100, 100, 200, 500]),
                risk=rng.choice([Risk.LOW, Risk.MEDIUM, Risk.MEDIUM, Risk.HIGH]),
            )
            for name, _ in group_rows
        )
        for group, (_, vm_ids) in zip(created, group_rows, strict=True):
            members.extend(GroupMember(group=group, vm_id=v) for v in vm_ids)
        GroupMember.objects.bulk_create(members, batch_size=5000)
        endpoints = Endpoint.objects.bulk_create((Endpoint(vm_id=v) for v in ids), batch_size=5000)
        ep_of = {e.vm_id: e.pk for e in endpoints}
        externals = [
            e.pk
            for e in Endpoint.objects.bulk_create(
                Endpoint(name=f"bench-ext-{i}", ip=f"192.0.2.{i % 250 + 1}") for i in range(200)
            )
        ]
        group_vms = [vm_ids for _, vm_ids in group_rows]
        ungrouped = ids[cursor:]
        pairs: set[tuple[int, int, int]] = set()
        while len(pairs) < edges:
            roll = rng.random()
            g = rng.randrange(len(group_vms))
            source = rng.choice(group_vms[g])
            if roll < 0.05 and ungrouped:
                # An ungrouped VM calling into some group.
                source, destination = rng.choice(ungrouped), ep_of[source]
            elif roll < 0.6:
                if len(group_vms[g]) < 2:
                    continue
                destination = ep_of[rng.choice(group_vms[g])]
            elif roll < 0.9:
                # Calls go to "lower" groups (shared services); 1 % of them the other way round.
                if rng.random() < 0.01 or g == 0:
                    other = rng.randrange(len(group_vms))
                else:
                    other = rng.randrange(max(1, g // 4))
                destination = ep_of[rng.choice(group_vms[other])]
            else:
                destination = rng.choice(externals)
            src = ep_of[source]
            if src != destination:
                pairs.add((src, destination, rng.choice([80, 443, 1433, 3306, 5432, 8080])))
        Dependency.objects.bulk_create(
            (Dependency(source_id=s, destination_id=d, port=p) for s, d, p in pairs), batch_size=5000
        )
        # The site's HCX manages the bench vCenter (made anew above): the planner plans only its VMs.
        HcxPlan.objects.update_or_create(
            name="bench-site",
            defaults={
                "connector_hostname": "hcx",
                "connector_ip": "192.168.10.9",
                "connector_gateway": "192.168.10.1",
                "avs_block": "10.100.0.0/22",
                "bandwidth_mbps": 10000,
                "latency_ms": 10,
                "vcenter": vc,
            },
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--edges", type=int, default=50000)
    parser.add_argument("--groups", type=int, default=1500)
    parser.add_argument("--fresh", action="store_true", help="rebuild the estate even if it is there")
    args = parser.parse_args(argv)
    setup_django()

    from datetime import UTC, datetime, timedelta

    from django.db import transaction

    from hcx.models import HcxPlan
    from inventory.models import VCenter, VirtualMachine
    from migrations_app.models import Dependency, DependencyGroup, PlanProposal
    from migrations_app.planner.autoplan import PlanInputs, plan_waves
    from migrations_app.planner.calendar import WindowCalendar
    from migrations_app.planner.estimates import assumptions_for
    from migrations_app.planner.proposals import (
        VM_COLUMNS,
        ProposalRequest,
        do_accept,
        do_propose,
        load_units,
    )

    have = VirtualMachine.objects.filter(vcenter__name=MARKER).count()
    edges = Dependency.objects.filter(source__vm__vcenter__name=MARKER).count()
    if args.fresh or have != args.vms or edges != args.edges:
        print(f"building {args.vms:,} VMs and {args.edges:,} edges ...", flush=True)
        seconds, _ = timed(lambda: build(args.vms, args.edges, args.groups))
        print(f"  built in {seconds:.1f} s")
    # A database built before sites named their vCenter: the bench site's HCX manages the bench vCenter.
    HcxPlan.objects.filter(name="bench-site").update(vcenter=VCenter.objects.get(name=MARKER))
    site = HcxPlan.objects.get(name="bench-site")
    groups = DependencyGroup.objects.count()
    print(
        f"estate: {VirtualMachine.objects.count():,} VMs, {groups:,} groups, {Dependency.objects.count():,} edges"
    )

    start = (datetime.now(UTC) + timedelta(days=7)).replace(hour=22, minute=0, second=0, microsecond=0)
    calendar = WindowCalendar(first_start=start, hours=8, weekdays=frozenset({4, 5}), max_windows=520)
    inputs = PlanInputs(max_vms=100, max_tb=50, pilot_max_vms=10, pilot_max_tb=2)
    request = ProposalRequest(inputs=inputs, calendar=calendar, site=site)

    def baseline():
        rows = list(DependencyGroup.objects.values_list("id", "name", "priority", "risk"))
        rows += list(VirtualMachine.objects.filter(removed__isnull=True).values_list(*VM_COLUMNS))
        rows += list(Dependency.objects.values_list("source__vm_id", "destination__vm_id"))
        return len(rows)

    figures = []
    baseline()  # warm the database's caches, so that the baseline is not charged for the first read
    t_base, _ = timed(baseline)
    figures.append(("baseline: read the rows", t_base))
    t_load, loaded = timed(lambda: load_units(inputs, site))
    figures.append(("load units and graph", t_load))
    assumptions = assumptions_for(site)
    t_plan, result = timed(lambda: plan_waves(loaded.units, loaded.edges, inputs, assumptions, calendar))
    figures.append(("plan in memory", t_plan))
    t_propose, proposal = timed(lambda: do_propose(request, acting_user=None))
    figures.append(("propose end to end", t_propose))

    def accept_and_roll_back():
        with transaction.atomic():
            waves = do_accept(proposal, None, acting_user=None)
            transaction.set_rollback(True)
        return waves

    t_accept, waves = timed(accept_and_roll_back)
    figures.append(("accept all waves (rolled back)", t_accept))

    summary = proposal.data["summary"]
    print(
        f"units: {len(loaded.units):,} ({sum(1 for u in loaded.units if u.group_id):,} groups), "
        f"unit edges: {len(loaded.edges):,}, cycles: {len(result.cycles)}"
    )
    print(
        f"proposal: {summary['waves']} waves, {summary['vms']:,} VMs, {summary['tb']:.1f} TB, "
        f"{summary['unplaced']} not placed, all fit: {summary['fit']}; accepted {len(waves)} waves"
    )
    print(f"{'step':34} {'seconds':>8} {'x baseline':>11}")
    for label, seconds in figures:
        print(f"{label:34} {seconds:8.2f} {seconds / t_base:11.1f}")
    estate = f"{args.vms:,} VMs, {args.edges:,} edges"
    report(
        "plan",
        f"auto-plan, propose end to end ({estate}, {groups:,} groups)",
        f"{t_propose:.2f} s ({summary['waves']} waves; load {t_load:.2f} s, plan in memory {t_plan:.2f} s)",
        baseline=f"reading the rows: {t_base:.2f} s",
        target=f"seconds (< {TARGET_S} s)",
        met=t_propose < TARGET_S,
    )
    report(
        "plan",
        f"accept all {len(waves)} proposed waves",
        f"{t_accept:.2f} s",
        baseline=f"reading the rows: {t_base:.2f} s",
        target=f"seconds (< {TARGET_S} s)",
        met=t_accept < TARGET_S,
    )
    PlanProposal.objects.filter(pk=proposal.pk).delete()  # only what this run made


if __name__ == "__main__":
    main()
