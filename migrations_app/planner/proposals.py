"""Auto-plan proposals in the database: load the units, run the planner, store the result as a
PlanProposal; accept all or some of its waves as DRAFT waves, in one transaction, or nothing.

Loading reads three flat queries (groups; live VMs with their group and wave; dependency edges as VM
id pairs), never a model object per VM, so 10,000 VMs and 50,000 edges load in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from core.models import AuditEntry
from hcx.choices import MigrationType
from inventory.choices import PowerState
from inventory.models import VirtualMachine

from ..choices import WaveStatus
from ..models import Dependency, DependencyGroup, GroupMember, PlanProposal, Wave, WaveItem
from .autoplan import PlanInputs, PlanResult, Unit, describe, plan_waves, window_text
from .calendar import WindowCalendar
from .estimates import MIB_PER_TB, Assumptions, Load, assumptions_for, estimate_loads, human_duration, vm_mib


@dataclass
class Loaded:
    units: list[Unit]
    edges: list[tuple[int, int]]
    unplaced: list[tuple[Unit, str]]  # known before planning: partly planned groups, empty groups


def load_units(inputs: PlanInputs) -> Loaded:
    """The units to plan and the dependencies between them, from the database."""
    groups = {
        gid: (name, priority, risk)
        for gid, name, priority, risk in DependencyGroup.objects.values_list("id", "name", "priority", "risk")
    }
    vm_rows = (
        VirtualMachine.objects.filter(removed__isnull=True)
        # In AVS already, migrated outside any wave: HCX Bulk left its copy on-premises (migrated_copies.py).
        .exclude(migrated_copy_name__gt="", wave_item__isnull=True)
        .order_by("name", "id")
        .values_list("id", "name", "used_mib", "provisioned_mib", "power_state",
                     "group_membership__group_id", "wave_item__wave__name")
    )
    by_group: dict[int, list] = {}
    in_waves: dict[int, set[str]] = {}
    singles: list = []
    for row in vm_rows:
        group_id, wave_name = row[5], row[6]
        if group_id is not None:
            by_group.setdefault(group_id, []).append(row)
            if wave_name is not None:
                in_waves.setdefault(group_id, set()).add(wave_name)
        elif wave_name is None and inputs.include_ungrouped:
            singles.append(row)

    units: list[Unit] = []
    unplaced: list[tuple[Unit, str]] = []
    for gid, (name, priority, risk) in sorted(groups.items(), key=lambda kv: (kv[1][1], kv[1][0])):
        rows = by_group.get(gid, [])
        unit = _unit(f"g{gid}", name, rows, inputs, group_id=gid, priority=priority, risk=risk)
        if gid in in_waves:
            planned = sum(1 for r in rows if r[6] is not None)
            waves = sorted(in_waves[gid])
            unplaced.append((unit, f"{planned} of its {len(rows)} VMs are already in wave{'s' if len(waves) > 1 else ''} "
                                   f"{', '.join(waves)}: add the rest there by hand"))
        elif not rows:
            unplaced.append((unit, "it has no VMs to move"))
        else:
            units.append(unit)
    for row in singles:
        units.append(_unit(f"v{row[0]}", row[1], [row], inputs))

    unit_of = {vm_id: index for index, unit in enumerate(units) for vm_id in unit.vm_ids}
    planned_vms = None  # VM ids in waves, loaded only if an edge needs them
    edges: set[tuple[int, int]] = set()
    for source, destination in Dependency.objects.values_list("source__vm_id", "destination__vm_id").iterator(chunk_size=10000):
        us, ud = unit_of.get(source), unit_of.get(destination)
        if us is not None and ud is not None:
            if us != ud:
                edges.add((us, ud))
            continue
        # One side outside the units: an external endpoint, or a VM already planned (or vanished).
        for here, there in ((us, destination), (ud, source)):
            if here is None:
                continue
            if there is None:
                units[here].external += 1
            else:
                if planned_vms is None:
                    planned_vms = set(WaveItem.objects.values_list("vm_id", flat=True))
                if there in planned_vms:
                    units[here].connections += 1
    for us, ud in edges:
        units[us].connections += 1
        units[ud].connections += 1
    return Loaded(units, sorted(edges), unplaced)


def _unit(key, name, rows, inputs: PlanInputs, **fields) -> Unit:
    loads: dict[str, Load] = {}
    overrides: dict[int, str] = {}
    for vm_id, _name, used, provisioned, power, *_ in rows:
        mtype = inputs.migration_type
        if inputs.cold_for_powered_off and power == PowerState.OFF and mtype != MigrationType.COLD:
            mtype = MigrationType.COLD
            overrides[vm_id] = mtype
        mib = vm_mib(used, provisioned)
        loads.setdefault(mtype, Load(mtype)).add(1, mib, mib)
    return Unit(key=key, name=name, vm_ids=[r[0] for r in rows], loads=loads, overrides=overrides, **fields)


# --- propose -----------------------------------------------------------------------------------


@dataclass
class ProposalRequest:
    """What the auto-plan form (or the API) asks for."""

    inputs: PlanInputs
    calendar: WindowCalendar
    site: object  # hcx.HcxPlan
    target_cluster: object | None = None


class NothingToPlan(Exception):
    pass


def do_propose(request: ProposalRequest, *, acting_user) -> PlanProposal:
    """Run the auto-planner and store its proposal (nothing else is written)."""
    loaded = load_units(request.inputs)
    if not loaded.units:
        raise NothingToPlan(
            "Nothing to plan: every group and VM is already in a wave"
            + ("" if request.inputs.include_ungrouped else " (ungrouped VMs were left out)") + "."
        )
    assumptions = assumptions_for(request.site)
    result = plan_waves(loaded.units, loaded.edges, request.inputs, assumptions, request.calendar)
    result.unplaced[:0] = loaded.unplaced
    data = proposal_data(result, request, assumptions)
    with transaction.atomic():
        proposal = PlanProposal.objects.create(user=acting_user, data=data)
        AuditEntry.record(acting_user, "migrations.plan.propose", proposal, **data["summary"])
    return proposal


def proposal_data(result: PlanResult, request: ProposalRequest, a: Assumptions) -> dict:
    """The PlanProposal.data document (see the model's docstring), with what the page shows."""
    inputs, calendar = request.inputs, request.calendar
    zone = ZoneInfo(calendar.time_zone)
    taken = set(Wave.objects.filter(name__startswith=inputs.name_prefix).values_list("name", flat=True))
    first_sequence = (Wave.objects.aggregate(m=Max("sequence"))["m"] or 0) + 10
    numbers = iter(range(1, 100000))
    waves = []
    previous_end = None
    for index, wave in enumerate(result.waves):
        name = next(n for n in (f"{inputs.name_prefix} {k:02d}" for k in numbers) if n not in taken)
        estimate = estimate_loads(wave.loads, a, wave.window.seconds)
        why = describe(wave, inputs)
        if previous_end is not None and estimate.pre_seed is not None and estimate.pre_seed.high:
            gap = (wave.window.start - previous_end).total_seconds()
            if estimate.pre_seed.high > gap:
                why += (f" Its initial sync (up to {human_duration(estimate.pre_seed.high)}) has to start before the "
                        "previous window ends: the two share the link then, so transfers may run slower than estimated.")
        previous_end = wave.window.end
        overrides: dict[str, list[int]] = {}
        for unit in wave.units:
            for vm_id, mtype in unit.overrides.items():
                overrides.setdefault(mtype, []).append(vm_id)
        waves.append({
            "number": wave.number,
            "name": name,
            "sequence": first_sequence + 10 * index,
            "pilot": wave.pilot,
            "window_start": wave.window.start.isoformat(),
            "window_end": wave.window.end.isoformat(),
            "window_text": window_text(wave.window.start, wave.window.end, zone),
            "groups": [u.group_id for u in wave.units if u.group_id is not None],
            "vms": [v for u in wave.units for v in u.vm_ids],
            "vm_types": overrides,
            "units": [_unit_dict(u) for u in wave.units],
            "vm_count": wave.vms,
            "tb": round(wave.mib / MIB_PER_TB, 3),
            "estimate": estimate.as_dict(),
            "why": why,
        })
    unplaced = [
        {**({"group": u.group_id} if u.group_id is not None else {"vm": u.vm_ids[0] if u.vm_ids else None}),
         "name": u.name, "vms": u.vms, "tb": round(u.mib / MIB_PER_TB, 3), "why": why}
        for u, why in result.unplaced
    ]
    site, cluster = request.site, request.target_cluster
    return {
        "waves": waves,
        "unplaced": unplaced,
        "cycles": result.cycles,
        "pilot_note": result.pilot_note,
        "skipped_windows": [
            {"window_text": window_text(w.start, w.end, zone), "blackout": d.isoformat()} for w, d in result.skipped[:50]
        ],
        "summary": {
            "waves": len(waves),
            "vms": sum(w["vm_count"] for w in waves),
            "tb": round(sum(w["tb"] for w in waves), 3),
            "unplaced": len(unplaced),
            "cycles": len(result.cycles),
            "fit": all(w["estimate"]["fits"] for w in waves),
        },
        "settings": {
            "site": site.pk, "site_name": str(site),
            "target_cluster": cluster.pk if cluster else None, "target_cluster_name": str(cluster) if cluster else "",
            "migration_type": inputs.migration_type,
            "max_vms": inputs.max_vms, "max_tb": inputs.max_tb,
            "pilot_max_vms": inputs.pilot_max_vms, "pilot_max_tb": inputs.pilot_max_tb,
            "include_ungrouped": inputs.include_ungrouped, "cold_for_powered_off": inputs.cold_for_powered_off,
            "name_prefix": inputs.name_prefix,
            "first_window_start": calendar.first_start.isoformat(), "window_hours": calendar.hours,
            "weekdays": sorted(calendar.weekdays), "time_zone": calendar.time_zone,
            "blackout_dates": [d.isoformat() for d in sorted(calendar.blackouts)],
            "max_windows": calendar.max_windows,
            "assumptions": a.as_dict(),
        },
        "accepted_waves": [],
        "created_waves": [],
    }


def _unit_dict(u: Unit) -> dict:
    d = {"name": u.name, "vms": u.vms, "tb": round(u.mib / MIB_PER_TB, 3), "vm_ids": u.vm_ids}
    if u.group_id is not None:
        d.update(group=u.group_id, priority=u.priority, risk=u.risk)
    return d


# --- accept ------------------------------------------------------------------------------------


class AcceptRefused(Exception):
    """The proposal (or part of it) cannot be accepted; the message says why. Nothing was written."""


def do_accept(proposal: PlanProposal, numbers: list[int] | None, *, acting_user) -> list[Wave]:
    """Create DRAFT waves and their items for the proposal's waves `numbers` (None: all not yet
    accepted), all in one transaction. Refuses, writing nothing, when a VM went into another wave
    meanwhile, a group changed, a wave name is taken or the site is gone."""
    try:
        with transaction.atomic():
            # One accept at a time per proposal: the second waits, then sees the first's waves.
            proposal = PlanProposal.objects.select_for_update().get(pk=proposal.pk)
            waves = _accept(proposal, numbers, acting_user)
    except IntegrityError:
        raise AcceptRefused(
            "Some of these VMs or wave names were taken by another change just now. Nothing was created; "
            "make a new proposal."
        ) from None
    return waves


def _accept(proposal: PlanProposal, numbers, acting_user) -> list[Wave]:
    from hcx.models import HcxPlan

    from ..models import TargetCluster

    data = proposal.data
    done = set(data.get("accepted_waves", []))
    numbers = sorted(set(numbers)) if numbers is not None else None
    by_number = {w["number"]: w for w in data.get("waves", [])}
    if numbers is None:
        numbers = [n for n in by_number if n not in done]
        if not numbers:
            raise AcceptRefused("Every wave of this proposal is already accepted.")
    unknown = [n for n in numbers if n not in by_number]
    if unknown:
        raise AcceptRefused(f"This proposal has no wave {', '.join(map(str, unknown))}.")
    again = sorted(set(numbers) & done)
    if again:
        raise AcceptRefused(f"Wave {', '.join(by_number[n]['name'] for n in again)} of this proposal is already accepted.")
    if not numbers:
        raise AcceptRefused("Choose at least one wave to accept.")
    chosen = [by_number[n] for n in sorted(numbers)]

    conf = data["settings"]
    site = HcxPlan.objects.filter(pk=conf["site"]).first()
    if site is None:
        raise AcceptRefused(f"The site {conf['site_name']} no longer exists; make a new proposal.")
    cluster = None
    if conf.get("target_cluster"):
        cluster = TargetCluster.objects.filter(pk=conf["target_cluster"]).first()
        if cluster is None:
            raise AcceptRefused(f"The target cluster {conf['target_cluster_name']} no longer exists; make a new proposal.")

    names = [w["name"] for w in chosen]
    taken = sorted(Wave.objects.filter(name__in=names).values_list("name", flat=True))
    if taken:
        raise AcceptRefused(f"A wave named {', '.join(taken)} exists already; make a new proposal.")
    vm_ids = [v for w in chosen for v in w["vms"]]
    _check_vms(vm_ids)
    _check_groups(chosen)

    # Before this transaction saw them, other changes may still insert: the unique VM constraint of
    # WaveItem turns that into an IntegrityError, which do_accept reports (and nothing is kept).
    new_waves = Wave.objects.bulk_create([
        Wave(
            name=w["name"], status=WaveStatus.DRAFT, sequence=w["sequence"], pilot=w["pilot"],
            window_start=datetime.fromisoformat(w["window_start"]), window_end=datetime.fromisoformat(w["window_end"]),
            time_zone=conf["time_zone"], site=site, target_cluster=cluster, migration_type=conf["migration_type"],
            max_vms=conf["max_vms"], max_tb=Decimal(str(conf["max_tb"])).quantize(Decimal("0.01")),
            notes=w["why"][:5000],
        )
        for w in chosen
    ])
    items = []
    for wave, w in zip(new_waves, chosen, strict=True):
        types = {vm: t for t, vms in w.get("vm_types", {}).items() for vm in vms}
        for unit in w["units"]:
            for vm_id in unit["vm_ids"]:
                items.append(WaveItem(wave=wave, vm_id=vm_id, group_id=unit.get("group"), migration_type=types.get(vm_id, "")))
    WaveItem.objects.bulk_create(items, batch_size=2000)

    data["accepted_waves"] = sorted(done | set(numbers))
    data["created_waves"] = data.get("created_waves", []) + [
        {"number": w["number"], "wave": wave.pk, "name": wave.name} for wave, w in zip(new_waves, chosen, strict=True)
    ]
    proposal.data = data
    proposal.accepted = timezone.now()
    proposal.save(update_fields=["data", "accepted"])
    AuditEntry.record(
        acting_user, "migrations.plan.accept", proposal,
        waves=[{"id": wave.pk, "name": wave.name} for wave in new_waves], vms=len(items),
    )
    return new_waves


def _check_vms(vm_ids: list[int]) -> None:
    conflicts = []
    for chunk in _chunks(vm_ids):
        conflicts += WaveItem.objects.filter(vm_id__in=chunk).order_by("vm__name").values_list("vm__name", "wave__name")[:6]
    if conflicts:
        listed = "; ".join(f"{vm} is in wave {wave}" for vm, wave in conflicts[:5])
        more = " and more" if len(conflicts) > 5 else ""
        raise AcceptRefused(f"Some VMs were put into other waves since this proposal: {listed}{more}. "
                            "Nothing was created; make a new proposal.")
    live = sum(VirtualMachine.objects.filter(id__in=chunk, removed__isnull=True).count() for chunk in _chunks(vm_ids))
    if live != len(set(vm_ids)):
        raise AcceptRefused(f"{len(set(vm_ids)) - live} of these VMs vanished from the inventory since this proposal. "
                            "Nothing was created; make a new proposal.")


def _check_groups(chosen: list[dict]) -> None:
    """A group must still have exactly the VMs the proposal moves with it (groups stay whole)."""
    proposed = {u["group"]: set(u["vm_ids"]) for w in chosen for u in w["units"] if u.get("group") is not None}
    if not proposed:
        return
    current: dict[int, set[int]] = {g: set() for g in proposed}
    rows = GroupMember.objects.filter(group_id__in=list(proposed), vm__removed__isnull=True).values_list("group_id", "vm_id")
    for group_id, vm_id in rows:
        current[group_id].add(vm_id)
    changed = [g for g in proposed if current[g] != proposed[g]]
    if changed:
        names = sorted(DependencyGroup.objects.filter(pk__in=changed).values_list("name", flat=True)) or ["(deleted)"]
        raise AcceptRefused(f"Group {', '.join(names[:5])} changed since this proposal. Nothing was created; "
                            "make a new proposal.")
    # Ungrouped VMs that joined a group since: their group would now be split.
    singles = [v for w in chosen for u in w["units"] if u.get("group") is None for v in u["vm_ids"]]
    joined = [name for chunk in _chunks(singles) for name in GroupMember.objects.filter(vm_id__in=chunk).values_list("vm__name", flat=True)[:5]]
    if joined:
        raise AcceptRefused(f"VM {', '.join(joined)} joined a group since this proposal. Nothing was created; "
                            "make a new proposal.")


def _chunks(ids: list[int], size: int = 5000):
    """Keep `IN (...)` lists under the databases' parameter limits (SQLite: 32,766)."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
