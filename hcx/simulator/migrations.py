"""HCX migrations and mobility groups on the service API (docs/hcx-wire.md §6).

Which API generation: the "mobility" API with the compat-2.1 query. It is what HCX 4.x's own UI and
the 2020+ scripts use, and the only generation that has what we need: mobility groups, RAV
(`switchoverType "RAV"`), per-VM `errors`/`warnings` on validate and start, and switchover windows in
epoch milliseconds that can be cleared. Where no source settles a shape, the switches of variants.py
pick the one answered (running_state, progress_total, percent_complete, progress_extras,
warnings_shape, query_paging, group_fields).

Routes (all under /hybridity/api, with the session token):
- `POST /mobility/migrations/validate` and `/mobility/migrations/start`, `{"items": [...]}`: each item is
  a full migration (source/destination with `computeResourceId`, the vCenter's uuid) or
  `{"migrationId"}` of a draft. 202 with `items[]{migrationId, migrationGroupId, entityId, entityName,
  errors[{code,message}], warnings}`; 400 with the same items when any VM has an error, and then
  nothing is started (a batch is all or nothing).
- A reverse migration (a rollback) is an item whose `source.endpointId` is a paired site and whose
  `destination.endpointId` is this Manager; it is accepted only for a VM at the remote site (its latest
  forward migration completed and it was not brought back since), named by its id in the remote
  inventory (`service/inventory/virtualmachines`, a new id in AVS) or by entityName alone; its
  on-premises moref is refused.
- `POST /migrations?action=query` `{filter{migrationId[]|id[], migrationGroupId[], state[], entityId[],
  migrationType[], skipDrafts, draftsOnly}, options{compat: 2.1}, paging{pageSize, offset|skipCount}}` ->
  `data{items[] [, paging{totalSize, offset, pageSize}]}`, in creation order; pageSize at most 500.
- `POST /mobility/migrations/forceCancel` `{"items": [{migrationId, migrationGroupId}],
  "removeLongRecoveryData"}` (BRC forceCancelRequest) -> 202.
- `POST /mobility/groups/{id}/schedule` `{migrations[{migrationId, schedule{switchover{startTime,
  expiryTime, clearSchedule}}}]}` (BRC) -> 200 `{affectedSwitchoverScheduleCount, errors{migrations[{id,
  errors}]}}`; a cleared schedule switches over as soon as the initial sync is done ("switchover now").
- Mobility groups: `POST /mobility/groups` (create, with its draft `migrations`), `POST
  /mobility/groups/start` `{"items": [{migrationGroupId}]}` (start its drafts), `POST
  /mobility/groups/archive` (403 while any migration is not over), `POST /migration/queryMobilityGroups`
  (list; `/mobility/groups/query` too), `POST /mobility/groups/delete` `{"items": [{migrationGroupId}]}`.
  No route reads one group by id: no source shows one (hcx-wire.md §6).
"""

import uuid

from . import inventory as inv
from . import migration_engine as eng
from .server import Response, Router, SimError, envelope
from .service import MESH_COMMITTED, remote_pairing, require_ready

router = Router()
API = "/hybridity/api"
MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 500, 100
# migrationType / switchoverType values (hcx-wire.md §9.1) -> the engine's four kinds.
TYPES = {
    "vSphereReplication": "Bulk",
    "Bulk": "Bulk",
    "VR": "Bulk",
    "RAV": "RAV",
    "vMotion": "vMotion",
    "ColdMigration": "Cold",
    "Cold": "Cold",
}
SERVICE_FOR = {"Bulk": "BULK_MIGRATION", "RAV": "RAV", "vMotion": "VMOTION", "Cold": "VMOTION"}
TRANSFER_TYPE = {
    "Bulk": "vSphereReplication",
    "RAV": "vSphereReplication",
    "vMotion": "NO_OP",
    "Cold": "NO_OP",
}
GROUP_DEFAULT_KEYS = (
    "migrationType",
    "servicemeshId",
    "source",
    "destination",
    "transferParams",
    "switchoverParams",
    "placement",
    "storage",
    "networkParams",
)
VM_DEFAULTS = {
    "powerState": "poweredOn",
    "hardwareVersion": 19,
    "toolsRunning": True,
    "isoAttached": False,
    "snapshots": 0,
    "physicalRdm": False,
    "memoryMB": 4096,
    "numCpu": 2,
    "guestFullName": "Other Linux (64-bit)",
}


def engine(sim) -> eng.MigrationEngine:
    return sim.migration_engine


# --- the VMs: facts registered by tests, defaults for the rest -----------------------------------


def vm_facts(sim, entity_id: str, entity_name: str) -> dict:
    known = sim.vm_facts.get(entity_id) or sim.vm_facts.get(f"name:{entity_name}") or {}
    return {**VM_DEFAULTS, "diskBytes": engine(sim).settings.default_vm_bytes, **known}


def register_vms(sim, items) -> list[dict]:
    """`POST /__sim__/vms`: facts per VM (by `id` and/or `name`), so tests shape the work."""
    if not isinstance(items, list) or not items:
        raise SimError(400, "items must be a non-empty list of VMs")
    allowed = {"id", "name", "diskBytes", *VM_DEFAULTS}
    for i, vm in enumerate(items):
        if not isinstance(vm, dict) or not (vm.get("id") or vm.get("name")):
            raise SimError(400, f"items[{i}] needs an id or a name")
        unknown = set(vm) - allowed
        if unknown:
            raise SimError(400, f"items[{i}]: unknown field(s) {sorted(unknown)}; known: {sorted(allowed)}")
        size = vm.get("diskBytes", 1)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise SimError(400, f"items[{i}].diskBytes must be a whole number of bytes > 0")
        if vm.get("powerState", "poweredOn") not in ("poweredOn", "poweredOff", "suspended"):
            raise SimError(400, f"items[{i}].powerState must be poweredOn, poweredOff or suspended")
    for vm in items:
        keys = [k for k in (vm.get("id"), vm.get("name") and f"name:{vm['name']}") if k]
        facts = {**next((sim.vm_facts[k] for k in keys if k in sim.vm_facts), {}), **vm}
        for key in keys:  # one dict under both keys, so GET /__sim__/vms lists it once
            sim.vm_facts[key] = facts
    return items


# --- reading a migration item ----------------------------------------------------------------------


def ms_to_seconds(value) -> float | None:
    """Schedule times are epoch milliseconds; 0, "0" or nothing means no schedule (hcx-wire.md §6, §9.2)."""
    try:
        value = float(value or 0)
    except (TypeError, ValueError):
        raise SimError(400, f"schedule times are epoch milliseconds, got {value!r}") from None
    return value / 1000 if value > 0 else None


def option(spec: dict, *names) -> bool:
    """A switchover option, from `switchoverParams.options` or a `{option, value}` profile entry."""
    switchover, transfer = spec.get("switchoverParams") or {}, spec.get("transferParams") or {}
    options = switchover.get("options") or {}
    if any(options.get(n) in (True, "true", "True", 1) for n in names):
        return True
    if any(transfer.get(n) in (True, "true", "True", 1) for n in names):
        return True
    profile = (transfer.get("transferProfile") or []) + (switchover.get("switchoverProfile") or [])
    return any(
        isinstance(p, dict) and p.get("option") in names and p.get("value") in (True, "true", "True", 1)
        for p in profile
    )


def with_group_defaults(sim, item: dict) -> dict:
    group = sim.state.mobility_groups.get(item.get("migrationGroupId") or "")
    if not group:
        return dict(item)
    defaults = group.get("groupDefaults") or {}
    return {
        **{k: defaults[k] for k in GROUP_DEFAULT_KEYS if k in defaults},
        **{k: v for k, v in item.items() if v not in (None, "", [], {})},
    }


def kind_of(spec: dict) -> tuple[str | None, str | None]:
    api_type = spec.get("migrationType") or (spec.get("switchoverParams") or {}).get("switchoverType")
    return TYPES.get(api_type), api_type


def pick_mesh(sim, kind: str, wanted: str | None) -> tuple[dict | None, str | None]:
    service = SERVICE_FOR[kind]
    meshes = sim.state.service_meshes
    if wanted:
        mesh = meshes.get(wanted)
        if mesh is None:
            return None, f"Service mesh {wanted} not found"
        if mesh["state"] != MESH_COMMITTED:
            return None, f"Service mesh {mesh['name']!r} is {mesh['state']}, not {MESH_COMMITTED}"
        if service not in {s["name"] for s in mesh["services"]}:
            return None, f"Service mesh {mesh['name']!r} does not offer {service}"
        return mesh, None
    for mesh in meshes.values():
        if mesh["state"] == MESH_COMMITTED and service in {s["name"] for s in mesh["services"]}:
            return mesh, None
    return None, f"No working service mesh offers {service} to the destination site"


def check(sim, spec: dict, seen: set, *, itself: str | None = None) -> tuple[list, list, dict]:
    """Validate one migration as HCX does at validate and at start (hcx-wire.md §11): per-VM errors
    and warnings as `{code, message}`, and what the engine needs to run it."""
    errors, warnings = [], []

    def error(code, message):
        errors.append({"code": code, "message": message})

    def warn(code, message):
        warnings.append({"code": code, "message": message})

    entity = spec.get("entity") if isinstance(spec.get("entity"), dict) else {}
    entity_id, entity_name = entity.get("entityId"), entity.get("entityName") or entity.get("entityId")
    source, destination = spec.get("source") or {}, spec.get("destination") or {}
    reverse = is_reverse(sim, source, destination)
    plan = {"entity_id": entity_id, "entity_name": entity_name, "reverse": reverse}
    if reverse:
        # A VM at the cloud site may be named by its id or by its name alone [U].
        back_from, problem = remote_vm(sim, entity_id, entity.get("entityName"))
        if problem:
            error("NOT_AT_REMOTE_SITE", problem)
            return errors, warnings, plan
        # Kept by its on-premises id inside (the engine's bookkeeping), reported by its id in AVS.
        plan["named_id"] = entity_id or inv.avs_vm_id(back_from)
        entity_id, entity_name = back_from.entity_id, back_from.entity_name
        plan.update(entity_id=entity_id, entity_name=entity_name, reverse_of=back_from.id)
    if not entity_id:
        error("ENTITY_REQUIRED", "entity.entityId is required: the id of the VM to migrate")
        return errors, warnings, plan
    if entity_id in seen:
        error("DUPLICATE_VM", f"VM {entity_name} appears more than once in this request")
    seen.add(entity_id)
    kind, api_type = kind_of(spec)
    plan.update(kind=kind, api_type=api_type)
    if api_type in ("OsAssistedMigration",):
        error("UNSUPPORTED_TYPE", "OS Assisted Migration is not simulated")
    elif kind is None:
        error("INVALID_MIGRATION_TYPE", f"migrationType {api_type!r} is not one of {sorted(TYPES)}")
    group_id = spec.get("migrationGroupId")
    if group_id and group_id not in sim.state.mobility_groups:
        error("GROUP_NOT_FOUND", f"Mobility group {group_id} not found")
    if not reverse:  # is_reverse() checked both ends of a reverse migration
        if source.get("endpointId") != sim.local_endpoint_id:
            error(
                "SOURCE_INVALID",
                f"source.endpointId must be this HCX Manager ({sim.local_endpoint_id}), or a "
                f"paired site for a reverse migration; got {source.get('endpointId')!r}",
            )
        if not remote_pairing(sim, destination.get("endpointId") or "-"):
            error(
                "DESTINATION_INVALID",
                f"destination.endpointId {destination.get('endpointId')!r} is not a paired site",
            )
    for end, label in ((source, "source"), (destination, "destination")):
        check_compute_resource(sim, end, label, error)
    check_network_mappings(spec, error)
    if not spec.get("placement"):
        error("PLACEMENT_REQUIRED", "placement: a target resource pool or cluster (and folder) is required")
    if not ((spec.get("storage") or {}).get("defaultStorage") or {}).get("id"):
        error("STORAGE_REQUIRED", "storage.defaultStorage.id: a target datastore is required")
    active = engine(sim).active_by_entity.get(entity_id)
    if active and active != itself:
        error("MIGRATION_IN_PROGRESS", f"VM {entity_name} already has a migration in progress ({active})")
    if kind:
        mesh, problem = pick_mesh(sim, kind, spec.get("servicemeshId"))
        if problem:
            error("NO_SERVICE_MESH", problem)
        plan.update(
            mesh_id=mesh and mesh["serviceMeshId"],
            pair=(source.get("endpointId"), destination.get("endpointId")),
        )
        facts = vm_facts(sim, entity_id, entity_name)
        plan["facts"] = facts
        check_vm(kind, facts, spec, entity_name, error, warn)
        schedule = (spec.get("switchoverParams") or {}).get("schedule") or {}
        start, end = ms_to_seconds(schedule.get("startTime")), ms_to_seconds(schedule.get("expiryTime"))
        if kind in eng.WHOLE_IN_LANE and (start or end):
            warn(
                "SCHEDULE_IGNORED",
                f"{kind} migrations cannot be scheduled: the switchover runs right after the "
                "copy, and the schedule is ignored",
            )
            start = end = None
        elif start and end and end <= start:
            error("SCHEDULE_INVALID", "switchoverParams.schedule.expiryTime must be after its startTime")
        plan.update(window_start=start, window_end=end)
    for fault in sim.faults.take_migration_faults("validation_error", entity_id, entity_name):
        (error if fault.severity == "error" else warn)("SIMULATED", fault.message)
    return errors, warnings, plan


def check_compute_resource(sim, end: dict, label: str, error):
    """Every working start payload names the vCenter as `computeResourceId` (hcx-wire.md §6)."""
    wanted = inv.LOCAL_VC_UUID if end.get("endpointId") == sim.local_endpoint_id else inv.REMOTE_VC_UUID
    given = end.get("computeResourceId")
    if not given:
        error(
            "COMPUTE_RESOURCE_REQUIRED",
            f"{label}.computeResourceId is required: the uuid of the endpoint's vCenter",
        )
    elif given != wanted:
        error(
            "COMPUTE_RESOURCE_INVALID",
            f"{label}.computeResourceId {given!r} is not the vCenter of endpoint "
            f"{end.get('endpointId')!r} ({wanted})",
        )


def check_network_mappings(spec: dict, error):
    """A mapping names each network by any of its `*Value`, `*Id` or `*Href` (hcx-wire.md §6)."""
    params = spec.get("networkParams") or {}
    for i, mapping in enumerate(params.get("networkMappings") or params.get("defaultMappings") or []):
        for side in ("src", "dest"):
            if not isinstance(mapping, dict) or not any(
                mapping.get(f"{side}Network{k}") for k in ("Value", "Id", "Href")
            ):
                error(
                    "NETWORK_MAPPING_INVALID",
                    f"networkParams.networkMappings[{i}] names no {side} network: give "
                    f"{side}NetworkValue, {side}NetworkId or {side}NetworkHref",
                )


def is_reverse(sim, source: dict, destination: dict) -> bool:
    """A reverse migration: from a paired (cloud) site back to this Manager's site. Pairing is one-way,
    so it is still started here, on the Connector (hcx-wire.md §9.5)."""
    return destination.get("endpointId") == sim.local_endpoint_id and bool(
        remote_pairing(sim, source.get("endpointId") or "-")
    )


def remote_vm(sim, entity_id: str | None, entity_name: str | None) -> tuple[eng.Migration | None, str | None]:
    """The completed forward migration that put the VM at the remote site, or why it cannot come back.
    The VM is named by its id at the remote site, as the remote inventory lists it (hcx-wire.md §6,
    "Reverse migrations"), or by its name alone [U]; its on-premises moref means nothing there."""
    e = engine(sim)
    migrations = sim.state.migrations
    if not entity_id and not entity_name:
        return None, "entity.entityId or entity.entityName is required: the VM to migrate back"
    by_avs_id = {inv.avs_vm_id(migrations[mid]): mid for mid in e.at_remote.values()}
    if entity_id:
        forward_id = by_avs_id.get(entity_id)
    else:
        forward_id = next(
            (mid for mid in e.at_remote.values() if migrations[mid].entity_name == entity_name), None
        )
    if forward_id is not None:
        return migrations[forward_id], None
    label = entity_name or entity_id
    if entity_id in e.at_remote:
        known_as = inv.avs_vm_id(migrations[e.at_remote[entity_id]])
        return None, (
            f"VM {label}: {entity_id} is not a VM of the remote site (it is known there as {known_as}): "
            "name the VM by its id in the remote inventory"
        )
    # Which on-premises VM the caller means: by the AVS id it had, else by name.
    forwards = [m for m in migrations.values() if not m.reverse and m.state == eng.COMPLETE]
    onprem = next(
        (m.entity_id for m in forwards if entity_id and inv.avs_vm_id(m) == entity_id), None
    ) or next(
        (m.entity_id for m in forwards if not entity_id and entity_name and m.entity_name == entity_name),
        None,
    )
    rolled_back = e.rolled_back.get(onprem or "")
    if rolled_back:
        return None, (
            f"VM {label} is not at the remote site: it was already migrated back "
            f"(reverse migration {rolled_back})"
        )
    return None, (
        f"VM {label} is not at the remote site: it has no completed migration to it, so there is "
        "nothing to migrate back"
    )


def check_vm(kind: str, facts: dict, spec: dict, name: str, error, warn):
    """The per-type VM checks of hcx-wire.md §11 and product.md §5, on the facts tests registered."""
    hw = facts["hardwareVersion"]
    if kind == "Bulk" and hw < 7:
        error("HW_VERSION", f"VM {name} has hardware version {hw}: Bulk migration needs version 7 or later")
    if kind != "Bulk" and hw < 9:
        error("HW_VERSION", f"VM {name} has hardware version {hw}: {kind} migration needs version 9 or later")
    powered_on = facts["powerState"] == "poweredOn"
    if kind == "vMotion" and not powered_on:
        error(
            "POWERED_OFF",
            f"VM {name} is {facts['powerState']}: HCX vMotion needs a powered-on VM; use Cold migration",
        )
    if kind == "Cold" and powered_on:
        error("POWERED_ON", f"VM {name} is powered on: Cold migration needs a powered-off VM")
    if facts["isoAttached"] and not option(spec, "removeISOs", "removeIso", "removeISO"):
        error("ISO_ATTACHED", f"VM {name} has an ISO image mounted: unmount it or set removeISOs")
    if facts["snapshots"] and kind != "Bulk" and not option(spec, "removeSnapshots", "removeSnapshot"):
        warn(
            "SNAPSHOTS",
            f"VM {name} has {facts['snapshots']} snapshot(s): set removeSnapshots, or the "
            f"{kind} migration may fail",
        )
    if facts["physicalRdm"] and kind == "Bulk":
        error("PHYSICAL_RDM", f"VM {name} has a physical-mode RDM: Bulk migration cannot move it")
    if kind == "Bulk" and not facts["toolsRunning"] and not option(spec, "forcePowerOffVm"):
        warn(
            "TOOLS_NOT_RUNNING",
            f"VM {name} has no running VMware Tools: the graceful guest shutdown at "
            "switchover will fail unless forcePowerOffVm is set",
        )


def result(plan: dict, errors: list, warnings: list, *, migration=None, group_id=None) -> dict:
    return {
        "migrationId": migration.id if migration else None,
        "migrationGroupId": migration.group_id if migration else group_id,
        "entityId": plan.get("named_id") or plan.get("entity_id"),
        "entityName": plan.get("entity_name"),
        "errors": errors,
        "warnings": warnings,
    }


def named_id(m: eng.Migration) -> str:
    """The VM's id as HCX reports it: a reverse migration's is the id in AVS it was named by."""
    return ((m.spec.get("entity") or {}).get("entityId") or m.entity_id) if m.reverse else m.entity_id


def shaped(sim, results: list) -> list:
    """Answer items with their warnings in the shape the `warnings_shape` variant picks."""
    shape = sim.variant("warnings_shape")
    if shape == "list":
        return results
    out = []
    for r in results:
        r = dict(r)
        warnings = r.pop("warnings", None) or []
        if warnings:
            r["warnings" if shape == "dict" else "warning"] = warnings[0]
        out.append(r)
    return out


def refused(results: list, what: str, sim=None) -> Response:
    """HTTP 400 with per-item errors (hcx-wire.md §6), and a top-level summary for plain clients."""
    bad = [r for r in results if r["errors"]]
    first = bad[0]
    text = (
        f"{len(bad)} of {len(results)} {what} failed: "
        f"{first.get('entityName') or first.get('migrationId') or first.get('name')}: {first['errors'][0]['message']}"
    )
    return Response(
        400,
        {
            "success": False,
            "items": shaped(sim, results) if sim else results,
            "errors": [{"error": "Bad Request", "text": text, "data": []}],
        },
    )


def items_of(req) -> list:
    body = req.json()
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise SimError(400, "items must be a non-empty list")
    if not all(isinstance(i, dict) for i in items):
        raise SimError(400, "every item must be a JSON object")
    return items


def resolve(sim, item: dict) -> tuple[dict, eng.Migration | None, list]:
    """A full migration, or a reference to a draft: (its spec, the draft, errors)."""
    migration_id = item.get("migrationId")
    if migration_id and not item.get("entity"):
        m = sim.state.migrations.get(migration_id)
        if m is None:
            return {}, None, [{"code": "NOT_FOUND", "message": f"Migration {migration_id} not found"}]
        if m.state != eng.DRAFT:
            return (
                m.spec,
                m,
                [
                    {
                        "code": "ALREADY_STARTED",
                        "message": f"Migration {migration_id} has already been started ({m.state})",
                    }
                ],
            )
        return m.spec, m, []
    if item.get("migrationGroupId"):
        # No source shows a migration joining a group this way (hcx-wire.md §6): it is created in it.
        return (
            {},
            None,
            [
                {
                    "code": "GROUP_NOT_ALLOWED",
                    "message": "migrationGroupId: a migration joins a mobility "
                    "group by being created in it (POST /mobility/groups)",
                }
            ],
        )
    return dict(item), None, []


def validate_items(sim, items: list) -> tuple[list, list]:
    seen, results, plans = set(), [], []
    for item in items:
        spec, draft, problems = resolve(sim, item)
        if problems:
            entity = item.get("entity") if isinstance(item.get("entity"), dict) else {}
            plan = {
                "entity_id": draft.entity_id if draft else entity.get("entityId"),
                "entity_name": draft.entity_name
                if draft
                else entity.get("entityName") or item.get("migrationId"),
            }
            results.append(result(plan, problems, [], migration=draft))
            plans.append(None)
            continue
        errors, warnings, plan = check(sim, spec, seen, itself=draft and draft.id)
        plan.update(spec=spec, draft=draft)
        results.append(result(plan, errors, warnings, migration=draft, group_id=spec.get("migrationGroupId")))
        plans.append(plan)
    return results, plans


@router.add("POST", f"{API}/mobility/migrations/validate", auth="session")
def validate(sim, req):
    require_ready(sim)
    results, _ = validate_items(sim, items_of(req))
    if any(r["errors"] for r in results):
        return refused(results, "migrations", sim)
    return Response(202, {"items": shaped(sim, results)})


def new_migration(sim, plan: dict, username: str) -> eng.Migration:
    spec = plan["spec"]
    e = engine(sim)
    return eng.Migration(
        id=str(uuid.uuid4()),
        seq=next(e.seq),
        kind=plan["kind"],
        api_type=plan["api_type"],
        entity_id=plan["entity_id"],
        entity_name=plan["entity_name"],
        group_id=spec.get("migrationGroupId"),
        spec=spec,
        username=username,
        created=e.now,
        size=int(plan["facts"]["diskBytes"]),
    )


@router.add("POST", f"{API}/mobility/migrations/start", auth="session")
def start(sim, req):
    require_ready(sim)
    results, plans = validate_items(sim, items_of(req))
    if any(r["errors"] for r in results):
        return refused(results, "migrations", sim)
    run(sim, results, plans, req.username)
    return Response(202, {"items": shaped(sim, results)})


def run(sim, results: list, plans: list, username: str):
    """Start the checked migrations (new ones, or a group's drafts)."""
    e = engine(sim)
    for res, plan in zip(results, plans, strict=True):
        m = plan["draft"]
        if m is None:
            m = new_migration(sim, plan, username)
            e.add(m)
        m.kind, m.api_type = plan["kind"], plan["api_type"]
        m.mesh_id, m.pair, m.size = plan["mesh_id"], plan["pair"], int(plan["facts"]["diskBytes"])
        m.window_start, m.window_end = plan["window_start"], plan["window_end"]
        m.keep_seed = option(plan["spec"], "longRecovery", "enableSeedCheckpoint")
        # A reverse migration is of the VM its forward one moved, however the caller named it.
        m.reverse, m.entity_id, m.entity_name = plan["reverse"], plan["entity_id"], plan["entity_name"]
        if m.reverse:
            m.spec = {**m.spec, "entity": {**(m.spec.get("entity") or {}), "entityId": plan["named_id"]}}
        for fault in sim.faults.take_migration_faults("migration_fail", m.entity_id, m.entity_name, limit=1):
            m.fail_phase, m.fail_message = fault.phase, fault.message
        e.start(m)
        res.update(migrationId=m.id, migrationGroupId=m.group_id)


# --- query -----------------------------------------------------------------------------------------


def as_list(value) -> list | None:
    if value in (None, "", []):
        return None
    return value if isinstance(value, list) else [value]


@router.add("POST", f"{API}/migrations", auth="session")
def query(sim, req):
    if req.arg("action") != "query":
        raise SimError(
            400,
            "Use ?action=query; migrations are created with POST /hybridity/api/mobility/migrations/start",
        )
    body = req.json(required=False) or {}
    flt, paging = body.get("filter") or {}, body.get("paging") or {}
    e = engine(sim)
    e.queries += 1
    try:
        offset = int(paging.get("offset") or paging.get("skipCount") or 0)
        size = int(paging.get("pageSize") or DEFAULT_PAGE_SIZE)
    except (TypeError, ValueError):
        raise SimError(400, "paging.offset and paging.pageSize must be whole numbers") from None
    if offset < 0 or size < 1:
        raise SimError(400, "paging.offset must be >= 0 and paging.pageSize >= 1")
    size = min(size, MAX_PAGE_SIZE)
    found = candidates(sim, flt)
    states = set(as_list(flt.get("state")) or [])
    entities = set(as_list(flt.get("entityId")) or as_list(flt.get("entity_id")) or [])
    types = set(as_list(flt.get("migrationType")) or [])
    if states:
        found = [m for m in found if shown_state(sim, m) in states]
    if entities:
        found = [m for m in found if named_id(m) in entities]
    if types:
        found = [m for m in found if m.api_type in types or m.kind in types]
    if flt.get("skipDrafts"):
        found = [m for m in found if m.state != eng.DRAFT]
    if flt.get("draftsOnly"):
        found = [m for m in found if m.state == eng.DRAFT]
    page = found[offset : offset + size]
    omitted = {
        m.id
        for m in page
        if sim.faults.take_migration_faults("query_omit", m.entity_id, m.entity_name, limit=1)
    }
    data = {"items": [render(sim, m) for m in page if m.id not in omitted]}
    if sim.variant("query_paging") == "totalSize":
        data["paging"] = {"totalSize": len(found), "offset": offset, "pageSize": size}
    return envelope(data, sim.clock.now_ms())


def candidates(sim, flt: dict) -> list:
    """The migrations a filter can name directly, through indexes, before the other filters."""
    migrations = sim.state.migrations
    ids = as_list(flt.get("migrationId")) or as_list(flt.get("id"))
    groups = as_list(flt.get("migrationGroupId"))
    if ids:
        found = [migrations[i] for i in dict.fromkeys(ids) if i in migrations]
        if groups:
            found = [m for m in found if m.group_id in groups]
    elif groups:
        by_group = engine(sim).by_group
        found = [migrations[i] for g in dict.fromkeys(groups) for i in by_group.get(g, ()) if i in migrations]
    else:
        return list(migrations.values())
    return sorted(found, key=lambda m: m.seq)


def ms(t: float | None) -> int | None:
    return int(t * 1000) if t is not None else None


def flag(value) -> int:
    return 1 if value else 0


def shown_state(sim, m: eng.Migration) -> str:
    """The `state` string: HCX's terminal names; for a running migration the `running_state` variant's
    word (no source lists HCX's running names, hcx-wire.md §6)."""
    state = engine(sim).visible_state(m)
    if state in eng.TERMINAL or state == eng.DRAFT or sim.variant("running_state") == "named":
        return state
    return "MIGRATING"


def copy_started(m: eng.Migration) -> float | None:
    """When its (last) copy began: the latest INITIAL_SYNC entry of its log."""
    return next((e["time"] for e in reversed(m.log) if e["status"] == eng.INITIAL_SYNC), None)


def render(sim, m: eng.Migration) -> dict:
    """One migration in the compat-2.1 query shape (hcx-wire.md §6), in the shapes the variants pick.
    `lastUpdated` moves while bytes are copied (the record changes); the transfer's `startTime` is
    when the copy began, so a client can work out the throughput from HCX's own fields."""
    e = engine(sim)
    state = e.visible_state(m)
    spec = m.spec
    done_bytes = int(e.bytes(m))
    switchover = spec.get("switchoverParams") or {}
    transfer = spec.get("transferParams") or {}
    waiting_window = m.state == eng.WAITING and m.wait_reason in ("window", "missed")
    in_transfer = state in (eng.INITIAL_SYNC, eng.DELTA_SYNC)
    copying = m.id in getattr(e.pools.get(m.mesh_id), "members", {})
    switched = m.state in (eng.CLEANUP, eng.COMPLETE) or m.failed_in == eng.CLEANUP
    reschedule_ok = m.kind in eng.REPLICATED and m.state not in (eng.SWITCHOVER, eng.CLEANUP, *eng.TERMINAL)
    failed, cancelled = m.state == eng.FAILED, m.state == eng.CANCELLED
    fac = vm_facts(sim, m.entity_id, m.entity_name)
    log = [
        {
            "statusType": "MIGRATION",
            "rowType": "STATE",
            "status": entry["status"],
            "errorsOccurred": flag(entry["errorMessage"]),
            "message": entry["message"],
            "errorMessage": entry["errorMessage"],
            "lastUpdated": ms(entry["time"]),
            "bytesTransferred": entry["bytesTransferred"],
            "totalBytes": entry["totalBytes"],
        }
        for entry in m.log
    ]
    if log and m.state not in eng.TERMINAL:
        log[-1]["bytesTransferred"] = done_bytes  # the current row shows the bytes so far
    message = m.message
    syncs = e.delta_syncs(m)
    if m.state == eng.WAITING and syncs:
        message += f" ({syncs} delta sync{'s' if syncs > 1 else ''} done)"
    updated = e.now if copying else m.updated
    shown = shown_state(sim, m)
    progress = {
        "startTime": ms(m.started),
        "endTime": ms(m.ended),
        "message": message,
        "draftState": m.state == eng.DRAFT,
        "isRescheduleAllowed": reschedule_ok,
        "isCancelled": cancelled,
        "isDone": m.state in eng.TERMINAL,
        "didFail": failed,
        "total": (
            {"value": m.size, "bytesTransferred": done_bytes}
            if sim.variant("progress_total") == "object"
            else str(m.size)
        ),
        "error": {"count": flag(failed), "value": flag(failed), "message": m.error if failed else None},
        "transfer": {
            "count": 1,
            "value": done_bytes,
            "startTime": ms(copy_started(m)),
            "progress": flag(in_transfer),
            "completed": flag(done_bytes >= m.size),
            "canceled": flag(cancelled and not switched),
            "error": flag(failed and not switched),
        },
        "switchover": {
            "count": 1,
            "progress": flag(m.state == eng.SWITCHOVER),
            "completed": flag(switched),
            "waiting": flag(m.state == eng.WAITING),
            "canceled": 0,
            "error": flag(m.failed_in == eng.SWITCHOVER),
        },
        "state": {
            "status": shown,
            "message": message,
            "errorMessage": m.error,
            "lastUpdated": ms(updated),
            "isRescheduleAllowed": flag(reschedule_ok),
            "isError": flag(failed),
            "isTransfer": flag(in_transfer),
            "isTransferProgress": flag(in_transfer),
            "isTransferCompleted": flag(done_bytes >= m.size and m.state != eng.DRAFT),
            "isParked": flag(m.state == eng.QUEUED),
            "isVMotionBaseSyncInProgress": flag(m.kind == "vMotion" and state == eng.INITIAL_SYNC),
            "isWaitingForMaintWindow": flag(waiting_window),
            "isSwitchover": flag(m.state == eng.SWITCHOVER),
            "isSwitchoverProgress": flag(m.state == eng.SWITCHOVER),
            "isSwitchoverStarted": flag(m.state in (eng.SWITCHOVER, eng.CLEANUP, eng.COMPLETE)),
            "isSwitchoverCompleted": flag(switched),
            "isCanceled": flag(cancelled),
            "isAborted": 0,
            "isDone": m.state in eng.TERMINAL,
        },
        "log": log,
    }
    if sim.variant("percent_complete") == "present":
        progress["percentComplete"] = e.percent(m)
    if sim.variant("progress_extras") == "present":
        progress.update(
            throughputMbps=round(e.rate(m) / eng.BYTES_PER_MBIT, 3),
            etaSeconds=e.eta(m),
            deltaSyncs=syncs,
            seedBytesReused=int(m.seed_bytes),
        )
    return {
        "id": m.id,
        "migrationId": m.id,
        "migrationGroupId": m.group_id,
        "version": 2,
        "username": m.username,
        "creationDate": ms(m.created),
        "lastUpdated": ms(updated),
        "initiator": {"location": "SOURCE"},
        "pairingId": (m.pair[0] if m.reverse else m.pair[1]) if m.pair else None,
        "servicemeshId": m.mesh_id,
        "isReverse": m.reverse,
        "entityId": named_id(m),
        "entityType": "VirtualMachine",
        "migrationType": m.api_type,
        "state": shown,
        "source": spec.get("source"),
        "destination": spec.get("destination"),
        "entity": {"entityId": named_id(m), "entityType": "VirtualMachine", "entityName": m.entity_name},
        "summary": {
            "guestFullName": fac["guestFullName"],
            "memorySizeMB": fac["memoryMB"],
            "numCpu": fac["numCpu"],
            "diskSize": m.size,
        },
        "placement": spec.get("placement"),
        "storage": spec.get("storage"),
        "networkParams": spec.get("networkParams"),
        "transferParams": {**transfer, "transferType": TRANSFER_TYPE.get(m.kind)},
        "switchoverParams": {
            **switchover,
            "switchoverType": switchover.get("switchoverType") or m.api_type,
            "schedule": {"startTime": ms(m.window_start) or 0, "expiryTime": ms(m.window_end) or 0},
        },
        "progress": progress,
    }


# --- cancel and schedule -----------------------------------------------------------------------------


def targets(sim, items: list) -> list:
    found = []
    for i, item in enumerate(items):
        m = sim.state.migrations.get(item.get("migrationId") or "")
        if m is None:
            raise SimError(404, f"items[{i}]: migration {item.get('migrationId')!r} not found")
        found.append(m)
    return found


@router.add("POST", f"{API}/mobility/migrations/forceCancel", auth="session")
def force_cancel(sim, req):
    """BRC's forceCancelRequest `{"items": [{migrationId, migrationGroupId}], "removeLongRecoveryData"}`
    -> 202 migrationIntentsPostResponse; 400 with the items when any cannot be cancelled (then none is)."""
    body = req.json()
    items = items_of(req)
    migrations = targets(sim, items)
    results = []
    for item, m in zip(items, migrations, strict=True):
        problems = []
        group = item.get("migrationGroupId")
        if group and group != m.group_id:
            problems.append(
                {"code": "GROUP_MISMATCH", "message": f"Migration {m.id} is not in mobility group {group}"}
            )
        elif m.group_id and not group:
            problems.append(
                {
                    "code": "GROUP_REQUIRED",
                    "message": f"items: migration {m.id} belongs to mobility "
                    f"group {m.group_id}: give its migrationGroupId",
                }
            )
        elif m.state == eng.DRAFT:
            problems.append(
                {
                    "code": "NOT_STARTED",
                    "message": f"Migration of {m.entity_name} was never started: "
                    "delete its mobility group instead",
                }
            )
        elif m.state in (eng.SWITCHOVER, eng.CLEANUP):
            problems.append(
                {
                    "code": "CANNOT_CANCEL",
                    "message": f"Migration of {m.entity_name} cannot be cancelled: "
                    "its switchover has started",
                }
            )
        elif m.state in (eng.COMPLETE, eng.FAILED):
            problems.append(
                {
                    "code": "CANNOT_CANCEL",
                    "message": f"Migration of {m.entity_name} is already over ({m.state})",
                }
            )
        results.append(
            {
                "migrationId": m.id,
                "migrationGroupId": m.group_id,
                "entityId": m.entity_id,
                "entityName": m.entity_name,
                "errors": problems,
                "warnings": [],
            }
        )
    if any(r["errors"] for r in results):
        return refused(results, "cancellations", sim)
    remove_seed = bool(body.get("removeLongRecoveryData"))
    for m in migrations:
        if m.state != eng.CANCELLED:  # cancelling twice is a no-op, so a client may safely repeat it
            engine(sim).cancel(m, remove_seed)
    return Response(202, {"items": shaped(sim, results)})


def wanted_window(schedule: dict) -> tuple[float | None, float | None] | None:
    """A switchover schedule as (start, end) seconds, or None when the body is not one. `clearSchedule`,
    or 0 for both times, means no window: switch over as soon as the copy is done (hcx-wire.md §6)."""
    if not isinstance(schedule, dict):
        return None
    if schedule.get("clearSchedule") in (True, "true", 1):
        return None, None
    try:
        return ms_to_seconds(schedule.get("startTime")), ms_to_seconds(schedule.get("expiryTime"))
    except SimError:
        return None


@router.add("POST", f"{API}/mobility/groups/{{group_id}}/schedule", auth="session")
def schedule(sim, req):
    """BRC: `{mobilityGroupDefaults{transfer, switchover}, migrations[{migrationId, schedule{transfer,
    switchover{startTime, expiryTime, clearSchedule, isInheritedFromGroupDefaults}}}]}` -> 200
    `{affectedTransferScheduleCount, affectedSwitchoverScheduleCount, errors{migrations[{id, errors}],
    mobilityGroupDefaults}}`: the migrations it can change change, the others are named with why. A
    body it cannot read, or an unknown group, is 400 with no body. Transfer schedules and group
    defaults are taken but not simulated: replication always starts at once."""
    group = sim.state.mobility_groups.get(req.params["group_id"])
    body = req.json(required=False)
    items = body.get("migrations") if isinstance(body, dict) else None
    if group is None or not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return Response(400, None)
    errors, changes = [], []
    for item in items:
        m = sim.state.migrations.get(item.get("migrationId") or "")
        switchover = (
            (item.get("schedule") or {}).get("switchover") if isinstance(item.get("schedule"), dict) else None
        )
        if m is None or m.group_id != group["migrationGroupId"]:
            errors.append(
                {
                    "id": item.get("migrationId"),
                    "errors": [
                        {
                            "code": "NOT_FOUND",
                            "message": (
                                f"Migration {item.get('migrationId')} is not in mobility group {group['name']}"
                            ),
                        }
                    ],
                }
            )
            continue
        if switchover is None:
            continue  # only its transfer schedule: nothing the simulator plays
        window = wanted_window(switchover)
        problems = []
        if window is None:
            problems.append(
                {
                    "code": "SCHEDULE_INVALID",
                    "message": "schedule.switchover needs startTime and "
                    "expiryTime in epoch milliseconds, or clearSchedule",
                }
            )
        elif m.kind not in eng.REPLICATED:
            problems.append(
                {
                    "code": "NOT_SCHEDULABLE",
                    "message": f"{m.kind} migration of {m.entity_name} cannot be "
                    "scheduled: it switches over right after its copy",
                }
            )
        elif m.state in (eng.SWITCHOVER, eng.CLEANUP, *eng.TERMINAL):
            problems.append(
                {
                    "code": "RESCHEDULE_NOT_ALLOWED",
                    "message": f"Migration of {m.entity_name} is "
                    f"{m.state}: its schedule can no longer change",
                }
            )
        elif window[0] and window[1] and window[1] <= window[0]:
            problems.append({"code": "SCHEDULE_INVALID", "message": "expiryTime must be after startTime"})
        else:
            for fault in sim.faults.take_migration_faults("switchover_refuse", m.entity_id, m.entity_name):
                problems.append({"code": "SWITCHOVER_REFUSED", "message": fault.message})
        if problems:
            errors.append({"id": m.id, "errors": problems})
        else:
            changes.append((m, window))
    for m, (start, end) in changes:
        # A new dict, not an edit: the nested parts may be shared with the group's defaults. A draft
        # reads its window from here when it starts.
        m.spec = {
            **m.spec,
            "switchoverParams": {
                **(m.spec.get("switchoverParams") or {}),
                "schedule": {"startTime": ms(start) or 0, "expiryTime": ms(end) or 0},
            },
        }
        engine(sim).reschedule(m, start, end)
    return Response(
        200,
        {
            "affectedTransferScheduleCount": 0,
            "affectedSwitchoverScheduleCount": len(changes),
            "errors": {"migrations": errors, "mobilityGroupDefaults": []},
        },
    )


# --- mobility groups -----------------------------------------------------------------------------------


def members(sim, group_id: str) -> list:
    return [
        sim.state.migrations[i] for i in engine(sim).by_group.get(group_id, ()) if i in sim.state.migrations
    ]


def render_group(sim, group: dict) -> dict:
    """A group with its state and counts (the control API's view; `wire_group` is HCX's answer)."""
    group = dict(group)
    count = {key: 0 for key in ("draft", "running", "completed", "failed", "cancelled")}
    found = members(sim, group["migrationGroupId"])
    for m in found:
        key = {
            eng.DRAFT: "draft",
            eng.COMPLETE: "completed",
            eng.FAILED: "failed",
            eng.CANCELLED: "cancelled",
        }.get(m.state, "running")
        count[key] += 1
    # [U] HCX's group state strings were not enumerated (hcx-wire.md §6): ours are DRAFT, MIGRATING, COMPLETED.
    state = "MIGRATING" if count["running"] else "DRAFT" if count["draft"] == len(found) else "COMPLETED"
    archived = group.pop("isArchived", False)
    return {
        **group,
        "state": state,
        "isArchived": archived,
        "summary": {"state": state, "isArchived": archived, "total": len(found), **count},
    }


def wire_group(sim, group: dict) -> dict:
    """A group as queryMobilityGroups answers it, named as the `group_fields` variant picks."""
    group = render_group(sim, group)
    if sim.variant("group_fields") == "id":
        group["id"], group["entityName"] = group.pop("migrationGroupId"), group.pop("name")
    return group


def group_items(sim, req) -> list[dict]:
    """The groups an `{"items": [{migrationGroupId}]}` body names (404 for one HCX does not have)."""
    found = []
    for i, item in enumerate(items_of(req)):
        group = sim.state.mobility_groups.get(item.get("migrationGroupId") or "")
        if group is None:
            raise SimError(404, f"items[{i}]: mobility group {item.get('migrationGroupId')!r} not found")
        found.append(group)
    return found


@router.add("POST", f"{API}/mobility/groups/start", auth="session")
def start_groups(sim, req):
    """BRC: `{"items": [{migrationGroupId}]}` -> 202. Starts every draft of the groups, all or nothing:
    400 with the items (per migration) when any cannot start. A group none of whose migrations is a
    draft any more was started already (ALREADY_STARTED)."""
    require_ready(sim)
    groups = group_items(sim, req)
    refs, already = [], []
    for group in groups:
        drafts = [m for m in members(sim, group["migrationGroupId"]) if m.state == eng.DRAFT]
        if not drafts:
            already.append(
                {
                    "migrationGroupId": group["migrationGroupId"],
                    "name": group["name"],
                    "migrationId": None,
                    "errors": [
                        {
                            "code": "ALREADY_STARTED"
                            if members(sim, group["migrationGroupId"])
                            else "GROUP_EMPTY",
                            "message": f"Mobility group {group['name']!r} has no migration to start",
                        }
                    ],
                    "warnings": [],
                }
            )
        refs += [{"migrationId": m.id} for m in drafts]
    results, plans = validate_items(sim, refs)
    if already or any(r["errors"] for r in results):
        return refused(already + results, "migrations", sim)
    run(sim, results, plans, req.username)
    return Response(202, {"items": shaped(sim, results)})


@router.add("POST", f"{API}/mobility/groups/archive", auth="session")
def archive_groups(sim, req):
    """BRC: archive finished groups; 403 while any migration of them runs (or was never started)."""
    groups = group_items(sim, req)
    for group in groups:
        busy = [m for m in members(sim, group["migrationGroupId"]) if m.state not in eng.TERMINAL]
        if busy:
            raise SimError(
                403,
                f"Mobility group {group['name']!r} has {len(busy)} migration(s) not finished: it "
                "can be archived once all are over",
                error="Forbidden",
            )
    for group in groups:
        group["isArchived"] = True
    return Response(
        202,
        {
            "items": [
                {"migrationGroupId": g["migrationGroupId"], "errors": [], "warnings": []} for g in groups
            ]
        },
    )


@router.add("POST", f"{API}/mobility/groups", auth="session")
def create_groups(sim, req):
    require_ready(sim)
    items = items_of(req)
    names = {g["name"] for g in sim.state.mobility_groups.values()}
    results = []
    for item in items:
        problems = []
        if not item.get("name") or not isinstance(item.get("name"), str):
            problems.append({"code": "NAME_REQUIRED", "message": "A mobility group needs a name"})
        elif item["name"] in names:
            problems.append({"code": "DUPLICATE_NAME", "message": "Mobility group with same name exist."})
        else:
            names.add(item["name"])
        for i, mig in enumerate(item.get("migrations") or []):
            if not isinstance(mig, dict) or not (mig.get("entity") or {}).get("entityId"):
                problems.append(
                    {"code": "ENTITY_REQUIRED", "message": f"migrations[{i}].entity.entityId is required"}
                )
        results.append(
            {"name": item.get("name"), "migrationGroupId": None, "errors": problems, "warnings": []}
        )
    if any(r["errors"] for r in results):
        return refused(results, "mobility groups")
    e = engine(sim)
    for item, res in zip(items, results, strict=True):
        group = {
            "migrationGroupId": str(uuid.uuid4()),
            "name": item["name"],
            "tags": item.get("tags") or [],
            "groupDefaults": item.get("groupDefaults") or {},
            "username": req.username,
            "creationDate": sim.clock.now_ms(),
            "lastUpdated": sim.clock.now_ms(),
        }
        sim.state.mobility_groups[group["migrationGroupId"]] = group
        e.by_group.setdefault(group["migrationGroupId"], [])
        res["migrationGroupId"] = group["migrationGroupId"]
        res["migrations"] = []
        for mig in item.get("migrations") or []:
            spec = with_group_defaults(sim, {**mig, "migrationGroupId": group["migrationGroupId"]})
            spec.pop("operationType", None)
            entity = spec["entity"]
            kind, api_type = kind_of(spec)
            m = eng.Migration(
                id=str(uuid.uuid4()),
                seq=next(e.seq),
                kind=kind or "Bulk",
                api_type=api_type,
                entity_id=entity["entityId"],
                entity_name=entity.get("entityName") or entity["entityId"],
                group_id=group["migrationGroupId"],
                spec=spec,
                username=req.username,
                created=e.now,
                size=int(vm_facts(sim, entity["entityId"], entity.get("entityName"))["diskBytes"]),
            )
            e.add(m, draft=True)
            res["migrations"].append({"migrationId": m.id, "entityId": m.entity_id})
    return Response(202, {"items": results})


@router.add("POST", f"{API}/migration/queryMobilityGroups", auth="session")
def query_groups(sim, req):
    flt = ((req.json(required=False) or {}).get("filter")) or {}
    ids = set(as_list(flt.get("migrationGroupId")) or [])
    groups = [
        wire_group(sim, g)
        for g in sim.state.mobility_groups.values()
        if (not ids or g["migrationGroupId"] in ids)
        and (not flt.get("name") or g["name"] == flt["name"])
        and (flt.get("includeArchived") or not g.get("isArchived"))
    ]
    if flt.get("skipDrafts"):
        groups = [g for g in groups if g["state"] != "DRAFT"]
    return envelope({"items": groups}, sim.clock.now_ms())


router.add("POST", f"{API}/mobility/groups/query", auth="session")(query_groups)  # the older variant


@router.add("POST", f"{API}/mobility/groups/delete", auth="session")
def delete_groups(sim, req):
    items = items_of(req)
    e = engine(sim)
    results = []
    for i, item in enumerate(items):
        group = sim.state.mobility_groups.get(item.get("migrationGroupId") or "")
        if group is None:
            raise SimError(404, f"items[{i}]: mobility group {item.get('migrationGroupId')!r} not found")
        running = [
            mid
            for mid in e.by_group.get(group["migrationGroupId"], ())
            if sim.state.migrations[mid].state not in (eng.DRAFT, *eng.TERMINAL)
        ]
        problems = (
            [
                {
                    "code": "GROUP_IN_USE",
                    "message": f"Mobility group {group['name']!r} has {len(running)} "
                    "migration(s) in progress: cancel them first",
                }
            ]
            if running
            else []
        )
        results.append(
            {
                "migrationGroupId": group["migrationGroupId"],
                "name": group["name"],
                "errors": problems,
                "warnings": [],
            }
        )
    if any(r["errors"] for r in results):
        return refused(results, "deletions")
    for res in results:
        group_id = res["migrationGroupId"]
        for m in [sim.state.migrations[i] for i in e.by_group.get(group_id, ())]:
            if m.state == eng.DRAFT:
                e.forget(m)
        # Finished migrations stay queryable with their migrationGroupId, as HCX keeps its history.
        sim.state.mobility_groups.pop(group_id, None)
    return Response(200, {"items": results})
