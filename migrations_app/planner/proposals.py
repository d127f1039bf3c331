"""Auto-plan proposals in the database: load the units, run the planner, store the result as a
PlanProposal; accept all or some of its waves as DRAFT waves, in one transaction, or nothing.

Loading reads three flat queries (groups; live VMs with their group and wave; dependency edges as VM
id pairs), never a model object per VM, so 10,000 VMs and 50,000 edges load in well under a second.

Only VMs the site's HCX can reach are planned: its Connector is registered with one on-premises
vCenter (`HcxPlan.vcenter`), and HCX migrates the VMs of that vCenter only. A group with a VM in
another vCenter is left out whole (groups move whole), a VM in no group on its own, each with the
reason. With a target cluster, the proposal shares what the cluster has left (waves/capacity.py:
usable capacity, less every wave already planned into it) between its waves, and shows the cluster's
use wave by wave; accepting checks it again, as other waves may have gone into the cluster since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from core.choices import AuditAction
from core.models import AuditEntry
from hcx.choices import MigrationType
from inventory.choices import PowerState
from inventory.models import VCenter, VirtualMachine

from ..choices import WaveStatus
from ..models import Dependency, DependencyGroup, GroupMember, PlanProposal, Wave, WaveItem
from ..waves.capacity import LANDED, fits_in_order, other_waves_totals, usable_capacity
from .autoplan import PlanInputs, PlanResult, Room, Unit, describe, plan_waves, window_text
from .calendar import WindowCalendar
from .estimates import MIB_PER_TB, Assumptions, Load, assumptions_for, estimate_loads, human_duration, vm_mib


@dataclass
class Loaded:
    units: list[Unit]
    edges: list[tuple[int, int]]
    unplaced: list[tuple[Unit, str]]  # known before planning: partly planned groups, empty groups


# Columns of the VM rows load_units() reads; _unit() reads them by position.
VM_COLUMNS = (
    "id",
    "name",
    "used_mib",
    "provisioned_mib",
    "power_state",
    "group_membership__group_id",
    "wave_item__wave__name",
    "vcenter_id",
    "num_cpu",
    "memory_mib",
)
VCENTER = 7


def load_units(inputs: PlanInputs, site=None) -> Loaded:
    """The units to plan and the dependencies between them, from the database. With `site`, only
    what its HCX reaches: VMs of another vCenter are left out, with their groups (see the docstring)."""
    reach = site.vcenter_id if site is not None else None
    groups = {
        gid: (name, priority, risk)
        for gid, name, priority, risk in DependencyGroup.objects.values_list("id", "name", "priority", "risk")
    }
    vm_rows = (
        VirtualMachine.objects.filter(removed__isnull=True)
        # In AVS already, migrated outside any wave: HCX Bulk left its copy on-premises (migrated_copies.py).
        .exclude(migrated_copy_name__gt="", wave_item__isnull=True)
        .order_by("name", "id")
        .values_list(*VM_COLUMNS)
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
    unreached = _Unreached(site, reach)
    for gid, (name, priority, risk) in sorted(groups.items(), key=lambda kv: (kv[1][1], kv[1][0])):
        rows = by_group.get(gid, [])
        unit = _unit(f"g{gid}", name, rows, inputs, group_id=gid, priority=priority, risk=risk)
        away = [r for r in rows if reach is not None and r[VCENTER] != reach]
        if gid in in_waves:
            planned = sum(1 for r in rows if r[6] is not None)
            waves = sorted(in_waves[gid])
            unplaced.append(
                (
                    unit,
                    f"{planned} of its {len(rows)} VMs are already in wave{'s' if len(waves) > 1 else ''} "
                    f"{', '.join(waves)}: add the rest there by hand",
                )
            )
        elif not rows:
            unplaced.append((unit, "it has no VMs to move"))
        elif away:
            unplaced.append((unit, unreached.group(away, len(rows))))
        else:
            units.append(unit)
    for row in singles:
        unit = _unit(f"v{row[0]}", row[1], [row], inputs)
        if reach is not None and row[VCENTER] != reach:
            unplaced.append((unit, unreached.vm(row)))
        else:
            units.append(unit)

    unit_of = {vm_id: index for index, unit in enumerate(units) for vm_id in unit.vm_ids}
    planned_vms = None  # VM ids in waves, loaded only if an edge needs them
    edges: set[tuple[int, int]] = set()
    for source, destination in Dependency.objects.values_list("source__vm_id", "destination__vm_id").iterator(
        chunk_size=10000
    ):
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


class _Unreached:
    """Why VMs of other vCenters are left out, in a planner's words (vCenter names read once)."""

    def __init__(self, site, reach):
        self.site, self.reach = site, reach
        self._names: dict[int, str] | None = None

    def name(self, vcenter_id) -> str:
        if self._names is None:
            self._names = dict(VCenter.objects.values_list("id", "name"))
        return self._names.get(vcenter_id, "(unknown)")

    def managed(self) -> str:
        return f"it manages {self.name(self.reach)}"

    def vm(self, row) -> str:
        return f"vCenter {self.name(row[VCENTER])} is not managed by this site's HCX ({self.managed()})"

    def group(self, away: list, total: int) -> str:
        vcenters = sorted({self.name(r[VCENTER]) for r in away})
        listed = ", ".join(r[1] for r in away[:3]) + (f" and {len(away) - 3} more" if len(away) > 3 else "")
        return (
            f"{len(away)} of its {total} VMs ({listed}) are in vCenter {', '.join(vcenters)}, which this site's "
            f"HCX does not manage ({self.managed()}); the group moves whole or not at all"
        )


def _unit(key, name, rows, inputs: PlanInputs, **fields) -> Unit:
    loads: dict[str, Load] = {}
    overrides: dict[int, str] = {}
    vcpus = memory = storage = 0
    for vm_id, _name, used, provisioned, power, _group, _wave, _vcenter, num_cpu, memory_mib in rows:
        mtype = inputs.migration_type
        if inputs.cold_for_powered_off and power == PowerState.OFF and mtype != MigrationType.COLD:
            mtype = MigrationType.COLD
            overrides[vm_id] = mtype
        mib = vm_mib(used, provisioned)
        loads.setdefault(mtype, Load(mtype)).add(1, mib, mib)
        # In the cluster, as waves/capacity.py counts a wave: vCPUs, memory and used storage.
        vcpus, memory, storage = vcpus + (num_cpu or 0), memory + (memory_mib or 0), storage + (used or 0)
    return Unit(
        key=key,
        name=name,
        vm_ids=[r[0] for r in rows],
        loads=loads,
        overrides=overrides,
        vcpus=vcpus,
        memory_mib=memory,
        storage_mib=storage,
        **fields,
    )


# --- propose -----------------------------------------------------------------------------------


@dataclass
class ProposalRequest:
    """What the auto-plan form (or the API) asks for."""

    inputs: PlanInputs
    calendar: WindowCalendar
    site: object  # hcx.HcxPlan
    target_cluster: object | None = None


class CannotPlan(Exception):
    """No proposal can be made; the message says why. Nothing was stored."""


class NothingToPlan(CannotPlan):
    pass


def unreachable_site(site) -> str | None:
    """Why the planner cannot tell which VMs `site`'s HCX reaches, or None."""
    if site.vcenter_id is None:
        return (
            f"The HCX plan of {site} names no on-premises vCenter, so which VMs its HCX can migrate is not "
            "known: set its vCenter on the site's HCX plan."
        )
    return None


class WaveNames:
    """The names of a proposal's waves by number: the prefix and the next number no wave has yet."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.taken = set(Wave.objects.filter(name__startswith=prefix).values_list("name", flat=True))
        self.names: list[str] = []
        self._numbers = iter(range(1, 100000))

    def __call__(self, number: int) -> str:
        while len(self.names) < number:
            self.names.append(
                next(n for n in (f"{self.prefix} {k:02d}" for k in self._numbers) if n not in self.taken)
            )
        return self.names[number - 1]


def cluster_room(cluster, names: WaveNames) -> Room:
    """What `cluster` has left: its usable capacity less every wave already planned into it, whatever
    its order (the proposal's waves come after all of them). A host type without figures is a CannotPlan."""
    try:
        capacity = usable_capacity(cluster)
    except ValueError as exc:
        raise CannotPlan(f"The capacity of {cluster.name} is not known: {exc}.") from None
    planned, count = other_waves_totals(cluster)
    return Room(
        cluster=cluster.name,
        usable=(capacity.vcpus, capacity.memory_mib, capacity.storage_mib),
        planned=(planned.vcpus, planned.memory_mib, planned.used_mib),
        planned_waves=count,
        label=names,
    )


def do_propose(request: ProposalRequest, *, acting_user) -> PlanProposal:
    """Run the auto-planner and store its proposal (nothing else is written)."""
    refusal = unreachable_site(request.site)
    if refusal:
        raise CannotPlan(refusal)
    loaded = load_units(request.inputs, request.site)
    if not loaded.units:
        if loaded.unplaced:
            raise NothingToPlan(
                f"Nothing to plan: none of the groups and VMs not yet in a wave can move now; for example "
                f"{loaded.unplaced[0][0].name}: {loaded.unplaced[0][1]}."
            )
        raise NothingToPlan(
            "Nothing to plan: every group and VM is already in a wave"
            + ("" if request.inputs.include_ungrouped else " (ungrouped VMs were left out)")
            + "."
        )
    assumptions = assumptions_for(request.site)
    names = WaveNames(request.inputs.name_prefix)
    room = cluster_room(request.target_cluster, names) if request.target_cluster is not None else None
    result = plan_waves(loaded.units, loaded.edges, request.inputs, assumptions, request.calendar, room)
    result.unplaced[:0] = loaded.unplaced
    data = proposal_data(result, request, assumptions, names=names, room=room)
    with transaction.atomic():
        proposal = PlanProposal.objects.create(user=acting_user, data=data)
        AuditEntry.record(acting_user, AuditAction.PROPOSAL_CREATE, proposal, **data["summary"])
    return proposal


def proposal_data(
    result: PlanResult,
    request: ProposalRequest,
    a: Assumptions,
    *,
    names: WaveNames | None = None,
    room: Room | None = None,
) -> dict:
    """The PlanProposal.data document (see the model's docstring), with what the page shows."""
    inputs, calendar = request.inputs, request.calendar
    zone = ZoneInfo(calendar.time_zone)
    names = names or WaveNames(inputs.name_prefix)
    # After every existing wave: the cluster's use counts them all before the proposal's (waves/capacity.py).
    first_sequence = (Wave.objects.aggregate(m=Max("sequence"))["m"] or 0) + 10
    waves = []
    previous_end = None
    for index, wave in enumerate(result.waves):
        name = names(wave.number)
        estimate = estimate_loads(wave.loads, a, wave.window.seconds)
        why = describe(wave, inputs)
        if previous_end is not None and estimate.pre_seed is not None and estimate.pre_seed.high:
            gap = (wave.window.start - previous_end).total_seconds()
            if estimate.pre_seed.high > gap:
                why += (
                    f" Its initial sync (up to {human_duration(estimate.pre_seed.high)}) has to start before the "
                    "previous window ends: the two share the link then, so transfers may run slower than estimated."
                )
        previous_end = wave.window.end
        overrides: dict[str, list[int]] = {}
        for unit in wave.units:
            for vm_id, mtype in unit.overrides.items():
                overrides.setdefault(mtype, []).append(vm_id)
        waves.append(
            {
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
                "need": _need_dict(wave.need),
                "estimate": estimate.as_dict(),
                "why": why,
            }
        )
    unplaced = [
        {
            **(
                {"group": u.group_id} if u.group_id is not None else {"vm": u.vm_ids[0] if u.vm_ids else None}
            ),
            "name": u.name,
            "vms": u.vms,
            "tb": round(u.mib / MIB_PER_TB, 3),
            "why": why,
        }
        for u, why in result.unplaced
    ]
    site, cluster = request.site, request.target_cluster
    use = cluster_use(
        room,
        [(w["number"], w["name"], proposed.need) for w, proposed in zip(waves, result.waves, strict=True)],
    )
    return {
        "waves": waves,
        "unplaced": unplaced,
        "cluster_use": use,
        "cycles": result.cycles,
        "pilot_note": result.pilot_note,
        "skipped_windows": [
            {"window_text": window_text(w.start, w.end, zone), "blackout": d.isoformat()}
            for w, d in result.skipped[:50]
        ],
        "summary": {
            "waves": len(waves),
            "vms": sum(w["vm_count"] for w in waves),
            "tb": round(sum(w["tb"] for w in waves), 3),
            "unplaced": len(unplaced),
            "cycles": len(result.cycles),
            "fit": all(w["estimate"]["fits"] for w in waves) and (use is None or use["fits"]),
        },
        "settings": {
            "site": site.pk,
            "site_name": str(site),
            "target_cluster": cluster.pk if cluster else None,
            "target_cluster_name": str(cluster) if cluster else "",
            "migration_type": inputs.migration_type,
            "max_vms": inputs.max_vms,
            "max_tb": inputs.max_tb,
            "pilot_max_vms": inputs.pilot_max_vms,
            "pilot_max_tb": inputs.pilot_max_tb,
            "include_ungrouped": inputs.include_ungrouped,
            "cold_for_powered_off": inputs.cold_for_powered_off,
            "name_prefix": inputs.name_prefix,
            "first_window_start": calendar.first_start.isoformat(),
            "window_hours": calendar.hours,
            "weekdays": sorted(calendar.weekdays),
            "time_zone": calendar.time_zone,
            "blackout_dates": [d.isoformat() for d in sorted(calendar.blackouts)],
            "max_windows": calendar.max_windows,
            "assumptions": a.as_dict(),
        },
        "accepted_waves": [],
        "created_waves": [],
    }


def _need_dict(need) -> dict:
    vcpus, memory_mib, storage_mib = need
    return {
        "vcpus": vcpus,
        "memory_gb": round(memory_mib / 1024, 1),
        "storage_tb": round(storage_mib / MIB_PER_TB, 3),
    }


def cluster_use(room: Room | None, waves: list[tuple]) -> dict | None:
    """The target cluster's use wave by wave: what is already planned, then each proposed wave
    (number, name, need) added, against what is usable (None without a target cluster)."""
    if room is None:
        return None
    rows, total = [], room.planned
    for number, name, need in waves:
        total = tuple(t + n for t, n in zip(total, need, strict=True))
        rows.append(
            {
                "number": number,
                "name": name,
                "adds": _need_dict(need),
                "total": _need_dict(total),
                "percent": [
                    round(100 * t / u) if u else None for t, u in zip(total, room.usable, strict=True)
                ],
            }
        )
    return {
        "cluster": room.cluster,
        "usable": _need_dict(room.usable),
        "planned": {**_need_dict(room.planned), "waves": room.planned_waves},
        "planned_percent": [
            round(100 * p / u) if u else None for p, u in zip(room.planned, room.usable, strict=True)
        ],
        "waves": rows,
        "fits": all(t <= u for t, u in zip(total, room.usable, strict=True)),
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
        raise AcceptRefused(
            f"Wave {', '.join(by_number[n]['name'] for n in again)} of this proposal is already accepted."
        )
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
            raise AcceptRefused(
                f"The target cluster {conf['target_cluster_name']} no longer exists; make a new proposal."
            )

    names = [w["name"] for w in chosen]
    taken = sorted(Wave.objects.filter(name__in=names).values_list("name", flat=True))
    if taken:
        raise AcceptRefused(f"A wave named {', '.join(taken)} exists already; make a new proposal.")
    vm_ids = [v for w in chosen for v in w["vms"]]
    _check_vms(vm_ids)
    _check_groups(chosen)
    # Existing waves that move with or after the new ones count them in their fit: those that fit now
    # must still fit once these are in (so accepting never blocks a wave planned before).
    # A host type without figures has no capacity to check (the wave's readiness says so).
    checked = cluster is not None and cluster.sku in settings.AVS_HOST_TYPES
    later, fitted = [], {}
    if checked:
        later = list(
            Wave.objects.filter(
                target_cluster=cluster, sequence__gte=min(w["sequence"] for w in chosen)
            ).exclude(status__in=LANDED)
        )
        fitted = fits_in_order(cluster, later) if later else {}

    # Before this transaction saw them, other changes may still insert: the unique VM constraint of
    # WaveItem turns that into an IntegrityError, which do_accept reports (and nothing is kept).
    new_waves = Wave.objects.bulk_create(
        [
            Wave(
                name=w["name"],
                status=WaveStatus.DRAFT,
                sequence=w["sequence"],
                pilot=w["pilot"],
                window_start=datetime.fromisoformat(w["window_start"]),
                window_end=datetime.fromisoformat(w["window_end"]),
                time_zone=conf["time_zone"],
                site=site,
                target_cluster=cluster,
                migration_type=conf["migration_type"],
                max_vms=conf["max_vms"],
                max_tb=Decimal(str(conf["max_tb"])).quantize(Decimal("0.01")),
                notes=w["why"][:5000],
            )
            for w in chosen
        ]
    )
    items = []
    for wave, w in zip(new_waves, chosen, strict=True):
        types = {vm: t for t, vms in w.get("vm_types", {}).items() for vm in vms}
        for unit in w["units"]:
            for vm_id in unit["vm_ids"]:
                items.append(
                    WaveItem(
                        wave=wave,
                        vm_id=vm_id,
                        group_id=unit.get("group"),
                        migration_type=types.get(vm_id, ""),
                    )
                )
    WaveItem.objects.bulk_create(items, batch_size=2000)
    if checked:
        _check_capacity(cluster, new_waves, [w for w in later if fitted[w.pk].fits])

    data["accepted_waves"] = sorted(done | set(numbers))
    data["created_waves"] = data.get("created_waves", []) + [
        {"number": w["number"], "wave": wave.pk, "name": wave.name}
        for wave, w in zip(new_waves, chosen, strict=True)
    ]
    proposal.data = data
    proposal.accepted = timezone.now()
    proposal.save(update_fields=["data", "accepted"])
    AuditEntry.record(
        acting_user,
        AuditAction.PROPOSAL_ACCEPT,
        proposal,
        waves=[{"id": wave.pk, "name": wave.name} for wave in new_waves],
        vms=len(items),
    )
    return new_waves


def _check_capacity(cluster, new_waves: list[Wave], fitting: list[Wave]) -> None:
    """Each new wave fits the cluster with the waves before it, and the existing waves that fitted
    still do (waves/capacity.py's fit, as the readiness check reads it). Raised inside the accept's
    transaction, the refusal undoes the new waves."""
    fits = fits_in_order(cluster, new_waves + fitting)
    for wave in new_waves:
        if not fits[wave.pk].fits:
            raise AcceptRefused(
                f"{wave.name} no longer fits {cluster.name}: {'; '.join(fits[wave.pk].problems)}. Other waves went "
                "into the cluster since this proposal. Nothing was created; make a new proposal."
            )
    for wave in fitting:
        if not fits[wave.pk].fits:
            raise AcceptRefused(
                f"Accepting would leave no room in {cluster.name} for {wave.name}, which moves with or after these "
                f"waves: {'; '.join(fits[wave.pk].problems)}. Nothing was created; make a new proposal."
            )


def _check_vms(vm_ids: list[int]) -> None:
    conflicts = []
    for chunk in _chunks(vm_ids):
        conflicts += (
            WaveItem.objects.filter(vm_id__in=chunk)
            .order_by("vm__name")
            .values_list("vm__name", "wave__name")[:6]
        )
    if conflicts:
        listed = "; ".join(f"{vm} is in wave {wave}" for vm, wave in conflicts[:5])
        more = " and more" if len(conflicts) > 5 else ""
        raise AcceptRefused(
            f"Some VMs were put into other waves since this proposal: {listed}{more}. "
            "Nothing was created; make a new proposal."
        )
    live = sum(
        VirtualMachine.objects.filter(id__in=chunk, removed__isnull=True).count() for chunk in _chunks(vm_ids)
    )
    if live != len(set(vm_ids)):
        raise AcceptRefused(
            f"{len(set(vm_ids)) - live} of these VMs vanished from the inventory since this proposal. "
            "Nothing was created; make a new proposal."
        )


def _check_groups(chosen: list[dict]) -> None:
    """A group must still have exactly the VMs the proposal moves with it (groups stay whole)."""
    proposed = {
        u["group"]: set(u["vm_ids"]) for w in chosen for u in w["units"] if u.get("group") is not None
    }
    if not proposed:
        return
    current: dict[int, set[int]] = {g: set() for g in proposed}
    rows = GroupMember.objects.filter(group_id__in=list(proposed), vm__removed__isnull=True).values_list(
        "group_id", "vm_id"
    )
    for group_id, vm_id in rows:
        current[group_id].add(vm_id)
    changed = [g for g in proposed if current[g] != proposed[g]]
    if changed:
        names = sorted(DependencyGroup.objects.filter(pk__in=changed).values_list("name", flat=True)) or [
            "(deleted)"
        ]
        raise AcceptRefused(
            f"Group {', '.join(names[:5])} changed since this proposal. Nothing was created; "
            "make a new proposal."
        )
    # Ungrouped VMs that joined a group since: their group would now be split.
    singles = [v for w in chosen for u in w["units"] if u.get("group") is None for v in u["vm_ids"]]
    joined = [
        name
        for chunk in _chunks(singles)
        for name in GroupMember.objects.filter(vm_id__in=chunk).values_list("vm__name", flat=True)[:5]
    ]
    if joined:
        raise AcceptRefused(
            f"VM {', '.join(joined)} joined a group since this proposal. Nothing was created; "
            "make a new proposal."
        )


def _chunks(ids: list[int], size: int = 5000):
    """Keep `IN (...)` lists under the databases' parameter limits (SQLite: 32,766)."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
