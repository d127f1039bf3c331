"""The "configure" steps of the set-up (product.md §2): the network profiles, the
compute profile, the service mesh and the network extensions, run by the `hcx.setup` job (runner.py).

Each step reads HCX first and creates only what is missing, found by a name derived from the plan
("amsterdam-management", "amsterdam-compute", "amsterdam-mesh"), so a re-run of a finished step
finds everything and is done again without creating anything twice. What a step sees in HCX that
differs from the plan is said in a warning, never silently replaced.

Choices the plan leaves open, made here from HCX's own inventory:
- the compute profile's cluster is one named as a management cluster (VMware places the service
  mesh appliances with the management workloads), else the first cluster HCX lists; the datastore
  is the first HCX offers for that cluster; the switches are all HCX offers there;
- the mesh's uplink bandwidth is the plan's link bandwidth in Mbps (hcx-wire.md §5 leaves the unit
  open); it has ceil(networks / NETWORKS_PER_NE_APPLIANCE) network extension appliances, at least one;
- the AVS Tier-1 gateway of the extensions is settings.HCX_SETUP["EXTENSION_T1"] when set, else read
  from the AVS side (a /infra/tier-1s/ path, or the TNT<nn>- prefix of the AVS segments).

Each create is followed through the job or interconnect task HCX returns for it, as TF and ESA do
(docs/hcx-wire.md §5), never by waiting for the object to reach a state of our own. An object found by
name (a re-run, or a create whose answer was lost) is judged by what it shows: a compute profile VALID
and a mesh COMMITTED are done; one still being built is followed through the task its
lastTaskDetails names, else the step says to run it again later.
"""

import ipaddress
import math
import re
from collections import Counter
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.text import slugify

from core.jobs import JobError
from core.remote import quoted
from hcx.choices import ProfileKind, SetupStepKey, StepState
from hcx.client import HcxError, Started, bodies
from hcx.client.polling import poll
from hcx.client.service import MESH_WORKING, PROFILE_VALID, failed_state, same_url

from .steps import Context, Outcome, record, step

REALIZED = "REALIZED"  # a network profile's, as LAB saw them
MESH_UPDATE_FAILED = "UPDATE_FAILED"
# Words of a network extension's operationStatus.state that say it is still under way. No source shows
# HCX's states (docs/hcx-wire.md §5): an extension found without its job is judged by these.
UNDER_WAY = ("QUEUED", "RUNNING", "IN_PROGRESS", "PENDING")
BASE_SERVICES = ("INTERCONNECT", "VMOTION", "BULK_MIGRATION", "RAV", "NETWORK_EXTENSION")
MANAGEMENT_CLUSTER = re.compile(r"mgmt|management", re.IGNORECASE)
TIER1_PATH = re.compile(r"^/infra/tier-1s/([^/]+)$")
AVS_TENANT = re.compile(r"^(TNT\d*)-")
SHOW_AT_MOST = 25  # port groups listed in a message; a vCenter can have hundreds


def base_name(ctx: Context) -> str:
    return slugify(ctx.plan.name) or f"plan-{ctx.plan.pk}"


def profile_name(ctx: Context, kind: str) -> str:
    return f"{base_name(ctx)}-{kind}"


def compute_profile_name(ctx: Context) -> str:
    return f"{base_name(ctx)}-compute"


def mesh_name(ctx: Context) -> str:
    return f"{base_name(ctx)}-mesh"


def waiting(ctx: Context, text: str):
    """Say what the job waits for without moving its percentage (the runner sets that per step)."""
    ctx.progress(getattr(ctx.job, "progress", 0) or 0, text)


def wait_until(ctx: Context, check, what: str, kind: str = "default"):
    """Poll `check()` (a value when done, None while not) with the set-up's waiter, which checks
    for a cancel between looks; a timeout becomes the runner's "run the step again" message."""
    return poll(check, timeout=ctx.wait_seconds(kind), what=what, waiter=ctx.waiter)


def listing(names, at_most: int = SHOW_AT_MOST) -> str:
    names = list(names)
    shown = ", ".join(names[:at_most])
    return shown + (f" and {len(names) - at_most} more" if len(names) > at_most else "") if names else "none"


# --- what HCX knows -----------------------------------------------------------------------------


def local_endpoint_id(ctx: Context) -> str | None:
    hcx = ctx.hcx
    info = hcx.session_info or hcx.login()
    if info.endpoint_id:
        return info.endpoint_id
    local = hcx.clouds(local=True)
    return local[0].get("endpointId") if local else None


def registered_vcenter(ctx: Context) -> dict:
    """HCX's tree of the registered vCenter: the plan's own when HCX has several, else the one."""
    vcenters = ctx.hcx.vcenters()
    if not vcenters:
        raise JobError("HCX has no vCenter registered: run 'Register vCenter, SSO and location' first.")
    vcenter = ctx.plan.vcenter
    host = (urlsplit(vcenter.url).hostname or "").lower() if vcenter and vcenter.url else ""
    return next((v for v in vcenters if host and (v.get("name") or "").lower() == host), vcenters[0])


def local_networks(ctx: Context) -> dict[str, dict]:
    """The registered vCenter's networks as HCX sees them, by name (the first of a repeated name)."""
    found = {}
    for network in ctx.hcx.networks():
        found.setdefault(network.get("name"), network)
    return found


def paired_endpoint(ctx: Context) -> dict:
    """The site pairing with the AVS HCX Cloud Manager: the connection's Cloud Manager, the one the
    pairing step recorded, or the only one."""
    pairings = ctx.hcx.list_pairings()
    recorded = ctx.step_data(SetupStepKey.PAIR).get("endpoint_id")
    url = ctx.connection.cloud_url
    pairing = (
        next((p for p in pairings if url and same_url(p.get("url"), url)), None)
        or next((p for p in pairings if recorded and p.get("endpointId") == recorded), None)
        or (pairings[0] if len(pairings) == 1 else None)
    )
    if pairing is None:
        if not pairings:
            raise JobError(
                "HCX is not paired with the AVS HCX Cloud Manager: run 'Pair with the AVS HCX Cloud "
                "Manager' first."
            )
        raise JobError(
            f"HCX is paired with {listing(p.get('url') for p in pairings)}, and none is the plan's "
            f"Cloud Manager ({url or 'not set'}): set the Cloud Manager URL on the set-up page."
        )
    return pairing


def find_mesh(ctx: Context) -> dict | None:
    name = mesh_name(ctx)
    return next((m for m in ctx.hcx.list_service_meshes() if m.get("name") == name), None)


# --- 1. network profiles ----------------------------------------------------------------------


def profile_dns(ctx: Context, row) -> list[str]:
    """The profile's own DNS servers, else the plan's (the first two: HCX takes a primary and a secondary)."""
    own = [d for d in (row.primary_dns, row.secondary_dns) if d]
    return own or list(ctx.plan.dns_servers or [])[:2]


def profile_differences(ctx: Context, found: dict, row) -> list[str]:
    """What the network profile in HCX has otherwise than the plan says."""
    scope = (found.get("ipScopes") or [{}])[0]
    backing = (found.get("backings") or [{}])[0]
    have = {
        "port group": backing.get("backingName"),
        "IP ranges": [
            f"{r.get('startAddress')}-{r.get('endAddress')}" for r in scope.get("networkIpRanges") or []
        ],
        "gateway": scope.get("gateway") or None,
        "prefix length": scope.get("prefixLength"),
        "DNS": [d for d in (scope.get("primaryDns"), scope.get("secondaryDns")) if d],
        "MTU": found.get("mtu"),
        "purpose": sorted(found.get("recommendationTags") or []),
    }
    want = {
        "port group": row.port_group,
        "IP ranges": [f"{r['start']}-{r['end']}" for r in row.ip_ranges],
        "gateway": row.gateway or None,
        "prefix length": row.prefix_length,
        "DNS": profile_dns(ctx, row),
        "MTU": row.mtu,
        "purpose": [row.kind],
    }

    def show(value):
        return ", ".join(str(v) for v in value) or "none" if isinstance(value, list) else str(value or "none")

    return [
        f"{key} {show(have[key])} in HCX, {show(want[key])} in the plan"
        for key in want
        if have[key] != want[key]
    ]


def network_profile_done(ctx: Context, object_id: str, name: str, job_followed: bool) -> dict:
    """The profile once its job succeeded (`job_followed`: taken as it is), or, found without its job,
    once HCX shows it REALIZED (LAB) or shows no state at all."""

    def check():
        profile = ctx.hcx.get_network_profile(object_id)
        state = (profile.get("status") or {}).get("state")
        if failed_state(state) or state == "ERROR":
            raise JobError(
                f"HCX shows network profile {name} {state}: look at it under Network Profiles in HCX, "
                "delete it there, then run this step again."
            )
        return profile if job_followed or state in (REALIZED, None) else None

    return wait_until(ctx, check, f"network profile {name} to be {REALIZED}")


@step(SetupStepKey.NETWORK_PROFILES, needs=(SetupStepKey.REGISTER,))
def network_profiles(ctx: Context) -> Outcome:
    rows = sorted(ctx.plan.profiles.all(), key=lambda r: ProfileKind.values.index(r.kind))
    if not rows:
        raise JobError(
            f"The plan {ctx.plan} has no network profiles: add them on the plan (management and uplink "
            "at least), then run this step again."
        )
    hcx = ctx.hcx
    existing = {p.get("name"): p for p in hcx.list_network_profiles()}
    to_create = [row for row in rows if profile_name(ctx, row.kind) not in existing]
    networks = local_networks(ctx) if to_create else {}
    unknown = [row for row in to_create if row.port_group not in networks]
    if unknown:
        # Checked for every profile before creating any, so a typo leaves HCX as it was.
        vcenter = registered_vcenter(ctx).get("name")
        said = "; ".join(f"{row.port_group!r} ({ProfileKind(row.kind).label} profile)" for row in unknown)
        raise JobError(
            f"HCX does not know the port group(s) {said} in vCenter {vcenter}. It knows: "
            f"{listing(sorted(networks))}. Correct the port group on the plan, then run this step again."
        )
    vcenter_uuid = registered_vcenter(ctx)["vcenter_instanceId"] if to_create else None

    profiles, differences = {}, {}
    for row in rows:
        ctx.check_cancelled()
        name = profile_name(ctx, row.kind)
        found = existing.get(name)
        job_followed = False
        if found is not None:
            object_id = found["objectId"]
            ctx.log(
                f"Network profile {name} exists in HCX ({(found.get('status') or {}).get('state') or 'no state'})"
            )
            changed = profile_differences(ctx, found, row)
            if changed:
                differences[row.kind] = changed
                ctx.warn(
                    f"Network profile {name} in HCX differs from the plan: {'; '.join(changed)}. It is left as it "
                    "is: change it in HCX (or the plan), or delete it in HCX and run this step again."
                )
        else:
            body = bodies.network_profile(
                name=name,
                backing=networks[row.port_group],
                vcenter_uuid=vcenter_uuid,
                ranges=[(r["start"], r["end"]) for r in row.ip_ranges],
                gateway=row.gateway or "",
                prefix_length=row.prefix_length,
                dns=profile_dns(ctx, row),
                mtu=row.mtu,
                tags=[row.kind],
            )
            ctx.log(f"Creating network profile {name} on port group {row.port_group}")
            started = hcx.create_network_profile(body)
            object_id = started.object_id
            waiting(ctx, f"Waiting for network profile {name}")
            job_followed = (
                hcx.wait(started, timeout=ctx.wait_seconds("default"), what=f"network profile {name}")
                is not None
            )
        profile = network_profile_done(ctx, object_id, name, job_followed)
        state = (profile.get("status") or {}).get("state") or REALIZED
        ctx.log(f"Network profile {name}: {state}")
        profiles[row.kind] = {
            "objectId": object_id,
            "name": name,
            "port_group": row.port_group,
            "state": state,
        }

    shown = ", ".join(f"{p['name']} ({p['port_group']}) {p['state']}" for p in profiles.values())
    summary = f"{len(profiles)} network profiles: {shown}"
    if differences:
        summary += (
            f". {len(differences)} differ{'s' if len(differences) == 1 else ''} from the plan: "
            f"{', '.join(profiles[k]['name'] for k in differences)} (see the job log)"
        )
    return Outcome(summary, {"profiles": profiles, "differences": differences})


# --- following what HCX builds ----------------------------------------------------------------------


def follow(ctx: Context, started: Started, read, what: str, done_state: str, kind: str = "default"):
    """(object, job/task followed or None): HcxService.follow() with the step's wait, and a clear word
    when HCX is still building an object found by name and shows no task to wait for."""
    waiting(ctx, f"Waiting for {what}")
    found, followed = ctx.hcx.follow(
        started, read, done_state=done_state, timeout=ctx.wait_seconds(kind), what=what
    )
    if followed is None and found.get("state") != done_state:
        raise JobError(
            f"HCX is still building {what} ({found.get('state') or 'no state'}) and shows no task to "
            "follow: run this step again later."
        )
    return found, followed


# --- 2. compute profile -------------------------------------------------------------------------


def wanted_services(ctx: Context) -> list[str]:
    return ["INTERCONNECT", *(["WANOPT"] if ctx.plan.wan_opt else []), *BASE_SERVICES[1:]]


def choose_cluster(vcenter: dict) -> tuple[dict, dict]:
    """(datacenter, cluster) for the appliances: see the module's docstring."""
    clusters = [
        (dc, c)
        for dc in vcenter.get("children") or []
        for c in dc.get("children") or []
        if c.get("entityType") == "ClusterComputeResource"
    ]
    if not clusters:
        raise JobError(
            f"HCX sees no cluster in vCenter {vcenter.get('name')}: the appliances need one to run in."
        )
    return next(
        (pair for pair in clusters if MANAGEMENT_CLUSTER.search(pair[1].get("name") or "")), clusters[0]
    )


def network_profile_refs(ctx: Context) -> list[dict]:
    """The plan's network profiles in HCX, for the compute profile. A kind the plan leaves out
    (vMotion, replication) is carried by the management profile, as AVS allows."""
    by_name = {p.get("name"): p for p in ctx.hcx.list_network_profiles()}
    kinds = list(ctx.plan.profiles.values_list("kind", flat=True))
    missing = [profile_name(ctx, k) for k in kinds if profile_name(ctx, k) not in by_name]
    if missing:
        raise JobError(
            f"HCX has no network profile {listing(missing)}: run 'Create the network profiles' again."
        )
    refs = {k: {**by_name[profile_name(ctx, k)], "recommendationTags": [k]} for k in kinds}
    management = refs.get(ProfileKind.MANAGEMENT)
    for kind in ProfileKind.MAY_REUSE_MANAGEMENT:
        if kind not in refs and management is not None:
            management["recommendationTags"].append(kind)
    return list(refs.values())


def compute_placement(profile: dict) -> str:
    container = profile.get("deploymentContainer") or {}
    clusters = ", ".join(c.get("name", "?") for c in container.get("compute") or [])
    stores = ", ".join(s.get("name", "?") for s in container.get("storage") or [])
    return f"cluster {clusters or 'none'}, datastore {stores or 'none'}"


@step(SetupStepKey.COMPUTE_PROFILE, needs=(SetupStepKey.NETWORK_PROFILES,))
def compute_profile(ctx: Context) -> Outcome:
    hcx = ctx.hcx
    name = compute_profile_name(ctx)
    services = wanted_services(ctx)
    found = next(
        (p for p in hcx.list_compute_profiles(local_endpoint_id(ctx)) if p.get("name") == name), None
    )
    task_id = ctx.step_data(SetupStepKey.COMPUTE_PROFILE).get("taskId")
    if found is not None:
        started = Started(object_id=found["computeProfileId"], recovered=True)
        ctx.log(f"Compute profile {name} exists in HCX ({found.get('state')}, {compute_placement(found)})")
        has = [s.get("name") for s in found.get("services") or []]
        if set(has) != set(services):
            ctx.warn(
                f"Compute profile {name} in HCX has the services {', '.join(has)}; the plan wants "
                f"{', '.join(services)}. It is left as it is: edit it in HCX."
            )
    else:
        vcenter = registered_vcenter(ctx)
        datacenter, cluster = choose_cluster(vcenter)
        ids = (vcenter["vcenter_instanceId"], [cluster["entity_id"]])
        datastores = hcx.datastores(*ids)
        if not datastores:
            raise JobError(f"HCX sees no datastore in cluster {cluster['name']}: the appliances need one.")
        switches = hcx.switches(*ids)
        if "NETWORK_EXTENSION" in services and not switches:
            raise JobError(
                f"HCX sees no distributed switch in cluster {cluster['name']}: network extension needs "
                "one (only distributed port groups can be extended)."
            )
        body = bodies.compute_profile(
            name=name,
            services=services,
            vcenter=vcenter,
            datacenter=datacenter,
            clusters=[cluster],
            datastore=datastores[0],
            network_profiles=network_profile_refs(ctx),
            switches=switches,
        )
        ctx.log(
            f"Creating compute profile {name}: cluster {cluster['name']}, datastore {datastores[0]['name']}, "
            f"switches {listing(s['name'] for s in switches)}, services {', '.join(services)}"
        )
        started = hcx.create_compute_profile(body)
    profile_id = started.object_id
    profile, task = follow(
        ctx, started, lambda: hcx.get_compute_profile(profile_id), f"compute profile {name}", PROFILE_VALID
    )
    task_id = task.id if task else task_id
    if task is None and task_id:
        try:
            task = hcx.task(task_id)  # only to say how the last run's task ended
        except HcxError:
            task = None  # HCX forgets old tasks
    state = profile.get("state") or PROFILE_VALID
    summary = (
        f"Compute profile {name} {state}"
        + (f" (interconnect task {task.status})" if task else "")
        + f": {compute_placement(profile)}; services "
        + ", ".join(s.get("name", "?") for s in profile.get("services") or [])
    )
    return Outcome(
        summary,
        {
            "computeProfileId": profile_id,
            "name": name,
            "state": state,
            "taskId": task_id,
            "taskStatus": task.status if task else None,
        },
    )


# --- 3. service mesh -----------------------------------------------------------------------------


def extension_appliances_needed(ctx: Context, services: list[str]) -> int:
    if "NETWORK_EXTENSION" not in services:
        return 0
    return max(1, math.ceil(ctx.plan.networks.count() / settings.HCX_LIMITS["NETWORKS_PER_NE_APPLIANCE"]))


def appliance_state(appliance: dict) -> str:
    return ((appliance.get("status") or {}).get("summary") or {}).get("overallStatus") or "UNKNOWN"


def mesh_outcome(mesh: dict, appliances: list[dict]) -> Outcome:
    counted = Counter((a.get("applianceType"), appliance_state(a)) for a in appliances)
    shown = ", ".join(
        f"{n} {kind} {state}" if n > 1 else f"{kind} {state}" for (kind, state), n in counted.items()
    )
    return Outcome(
        f"mesh {mesh.get('name')} {mesh.get('state')}: {shown or 'no appliances'}",
        {
            "serviceMeshId": mesh["serviceMeshId"],
            "name": mesh.get("name"),
            "state": mesh.get("state"),
            "appliances": [
                {
                    "id": a.get("applianceId"),
                    "name": a.get("applianceName"),
                    "type": a.get("applianceType"),
                    "state": appliance_state(a),
                }
                for a in appliances
            ],
        },
    )


def remove_failed_mesh(ctx: Context, mesh: dict):
    """A mesh whose create failed never worked and carries nothing: remove it so that a re-run deploys
    it again, rather than reporting the same failure for ever."""
    hcx = ctx.hcx
    ctx.warn(
        f"Service mesh {mesh['name']} is {mesh.get('state')} in HCX ({mesh.get('errorMessage') or 'no reason given'}): "
        "removing it to deploy it again"
    )
    started = hcx.delete_service_mesh(mesh["serviceMeshId"])
    waiting(ctx, f"Removing the failed service mesh {mesh['name']}")
    hcx.wait(started, timeout=ctx.wait_seconds("default"), what=f"removing service mesh {mesh['name']}")

    def gone():
        return True if find_mesh(ctx) is None else None

    wait_until(ctx, gone, f"service mesh {mesh['name']} to be removed")


@step(SetupStepKey.SERVICE_MESH, needs=(SetupStepKey.COMPUTE_PROFILE, SetupStepKey.PAIR))
def service_mesh(ctx: Context) -> Outcome:
    hcx = ctx.hcx
    name = mesh_name(ctx)
    mesh = find_mesh(ctx)
    local_id = local_endpoint_id(ctx)
    if mesh is not None and mesh.get("state") == MESH_UPDATE_FAILED:
        # It worked once and may carry extensions and migrations: a person decides what to do with it.
        said = mesh.get("errorMessage") or "no reason given"
        raise JobError(
            f"HCX shows service mesh {name} {MESH_UPDATE_FAILED} ({said}): an update of it failed. Look at "
            "it in HCX (Interconnect, Service Mesh): resync it there, or delete it, then run this step again."
        )
    if mesh is not None and failed_state(mesh.get("state")):
        remove_failed_mesh(ctx, mesh)
        mesh = None
    if mesh is not None:
        started = Started(object_id=mesh["serviceMeshId"], recovered=True)
        ctx.log(f"Service mesh {name} exists in HCX ({mesh.get('state')})")
    else:
        cp_name = compute_profile_name(ctx)
        local = next((p for p in hcx.list_compute_profiles(local_id) if p.get("name") == cp_name), None)
        if local is None:
            raise JobError(f"HCX has no compute profile {cp_name}: run 'Create the compute profile' again.")
        pairing = paired_endpoint(ctx)
        remote_id = pairing["endpointId"]
        remotes = hcx.list_compute_profiles(remote_id)
        remote = next((p for p in remotes if p.get("state") in (PROFILE_VALID, None)), None)
        if remote is None:
            shown = ", ".join(f"{p.get('name')} {p.get('state')}" for p in remotes) or "none"
            raise JobError(
                f"The AVS side ({pairing.get('url')}) offers no {PROFILE_VALID} compute profile ({shown}): "
                "look at the HCX Cloud Manager in AVS, then run this step again."
            )
        offered = {s.get("name") for s in remote.get("services") or []}
        services = [s.get("name") for s in local.get("services") or [] if s.get("name") in offered]
        dropped = [s.get("name") for s in local.get("services") or [] if s.get("name") not in offered]
        if dropped:
            ctx.warn(
                f"The AVS compute profile {remote.get('name')} does not offer {', '.join(dropped)}: the mesh is "
                "deployed without them"
            )
        appliances = extension_appliances_needed(ctx, services)
        body = bodies.service_mesh(
            name=name,
            services=services,
            uplink_max_bandwidth=ctx.plan.bandwidth_mbps,
            extension_appliances=appliances,
            local_profile={**local, "endpointId": local.get("endpointId") or local_id},
            remote_profile={
                **remote,
                "endpointId": remote_id,
                "endpointName": remote.get("endpointName") or pairing.get("name", ""),
            },
        )
        ctx.log(
            f"Creating service mesh {name}: {local['name']} with {remote.get('name')} at {pairing.get('url')}, "
            f"services {', '.join(services)}, {appliances} network extension appliance(s), "
            f"uplink {ctx.plan.bandwidth_mbps} Mbps"
        )
        started = hcx.create_service_mesh(body)
        ctx.log(f"Waiting for the interconnect task of service mesh {name} (HCX takes 20-45 minutes)")
    mesh_id = started.object_id
    mesh, _ = follow(
        ctx,
        started,
        lambda: hcx.get_service_mesh(mesh_id),
        f"service mesh {name}",
        MESH_WORKING,
        "service_mesh",
    )
    appliances = hcx.query_appliances(endpoint_id=local_id, service_mesh_id=mesh_id)
    extenders = len(hcx.extension_appliances(mesh_id, local_id))
    needed = extension_appliances_needed(ctx, [s.get("name") for s in mesh.get("services") or []])
    if extenders < needed:
        ctx.warn(
            f"Service mesh {name} has {extenders} network extension appliance(s); the plan's "
            f"{ctx.plan.networks.count()} networks need {needed}: add appliances to the mesh in HCX "
            "(Service Mesh, Edit, Network Extension Appliance Scale Out)"
        )
    outcome = mesh_outcome(mesh, appliances)
    for appliance in outcome.data["appliances"]:
        ctx.log(f"Appliance {appliance['name']} ({appliance['type']}): {appliance['state']}")
    return outcome


# --- 4. network extension ------------------------------------------------------------------------


def tier1_gateway(ctx: Context, remote_id: str, remote_profiles: list[dict]) -> str:
    """The AVS Tier-1 gateway the extended networks attach to: see the module's docstring."""
    configured = settings.HCX_SETUP.get("EXTENSION_T1")
    if configured:
        return configured
    remote_networks = ctx.hcx.networks(remote_id)
    ids = [n.get("entity_id") or "" for n in remote_networks]
    ids += [s.get("id") or "" for p in remote_profiles for s in p.get("switches") or []]
    for entity_id in ids:
        if match := TIER1_PATH.match(entity_id):
            return match[1]
    for network in remote_networks:
        if match := AVS_TENANT.match(network.get("name") or ""):
            return f"{match[1]}-T1"
    raise JobError(
        "Could not tell the AVS Tier-1 gateway to attach the extended networks to: the AVS side shows "
        "no Tier-1 gateway nor TNT<nn>- segments. Set HCX_SETUP_EXTENSION_T1 (for example TNT52-T1, as "
        "NSX Manager in AVS shows it) and run this step again."
    )


def missing_gateways(ctx: Context, networks) -> list[str]:
    gateways = ctx.plan.extension_gateways or {}
    missing = []
    for network in networks:
        try:
            ipaddress.ip_interface(str(gateways[network.name]))
        except (KeyError, ValueError):
            missing.append(network.name)
    return missing


def current_extensions(ctx: Context) -> dict[str, dict]:
    """The extension of each source network id: a live one before a failed one HCX keeps listing."""
    found = {}
    for extension in ctx.hcx.list_l2_extensions():
        network_id = (extension.get("sourceNetwork") or {}).get("networkId")
        if network_id not in found or not failed_state(extension_state(extension)):
            found[network_id] = extension
    return found


def extension_state(extension: dict | None) -> str | None:
    return ((extension or {}).get("operationStatus") or {}).get("state")


def under_way(extension: dict) -> bool:
    """Whether an extension found without its job still looks in progress (see UNDER_WAY)."""
    state = (extension_state(extension) or "").upper()
    return state.endswith("ING") or state in UNDER_WAY


class Extender:
    """Hands out the mesh's network extension appliances, filling each to the limit before the next."""

    def __init__(self, appliances: list[dict], extensions: dict[str, dict]):
        self.limit = settings.HCX_LIMITS["NETWORKS_PER_NE_APPLIANCE"]
        self.appliances = sorted(appliances, key=lambda a: a.get("applianceName") or "")
        carried = Counter(
            (e.get("sourceAppliance") or {}).get("applianceId")
            for e in extensions.values()
            if not failed_state(extension_state(e))
        )
        self.load = {
            a["applianceId"]: a["networkExtensionCount"]
            if a.get("networkExtensionCount") is not None
            else carried[a["applianceId"]]
            for a in self.appliances
        }

    def take(self) -> dict | None:
        for appliance in self.appliances:
            if self.load[appliance["applianceId"]] < self.limit:
                self.load[appliance["applianceId"]] += 1
                return appliance
        return None


@step(SetupStepKey.EXTEND, needs=(SetupStepKey.SERVICE_MESH,))
def extend(ctx: Context) -> Outcome:
    networks = list(ctx.plan.networks.order_by("name"))
    if not networks:
        return Outcome("No networks to extend: the plan selects none", {"extended": {}, "failed": {}})
    missing = missing_gateways(ctx, networks)
    if missing:
        # Checked for every network before extending any: fill in the plan once, run once.
        example = f'{{"{missing[0]}": "10.10.41.1/24"}}'
        raise JobError(
            f"The plan gives no gateway for {listing(missing)}: fill in each network's gateway/prefix under "
            f"'gateways of the extended networks' on the plan (for example {example}), then run this step "
            "again. Nothing was extended."
        )
    hcx = ctx.hcx
    mesh = find_mesh(ctx)
    if mesh is None or mesh.get("state") != MESH_WORKING:
        raise JobError(
            f"Service mesh {mesh_name(ctx)} is {mesh.get('state') if mesh else 'not in HCX'}: run "
            f"'Deploy the service mesh' until it is {MESH_WORKING}."
        )
    mesh_id = mesh["serviceMeshId"]
    local_id = local_endpoint_id(ctx)
    remote_id = (
        next(
            (
                p.get("endpointId")
                for p in mesh.get("computeProfiles") or []
                if p.get("endpointId") and p.get("endpointId") != local_id
            ),
            None,
        )
        or paired_endpoint(ctx)["endpointId"]
    )
    extenders = hcx.extension_appliances(mesh_id, local_id)
    if not extenders:
        raise JobError(
            f"Service mesh {mesh['name']} has no network extension appliance: the compute profile needs "
            "the NETWORK_EXTENSION service and the mesh at least one appliance."
        )
    destinations = hcx.resource_containers(local=False, remote=True)
    destination = next(
        (d for d in destinations if (d.get("endpoint") or {}).get("endpointId") == remote_id), None
    )
    if destination is None:
        raise JobError(
            f"HCX lists no vCenter at the AVS side ({remote_id}) to extend the networks to: look at "
            "the site pairing in HCX."
        )
    gateway_id = tier1_gateway(ctx, remote_id, hcx.list_compute_profiles(remote_id))
    vcenter_uuid = registered_vcenter(ctx)["vcenter_instanceId"]
    known = local_networks(ctx)
    extensions = current_extensions(ctx)
    extender = Extender(extenders, extensions)
    gateways = ctx.plan.extension_gateways

    extended, failed, pending = {}, {}, []
    for network in networks:
        ctx.check_cancelled()
        source = known.get(network.name)
        if source is None:
            failed[network.name] = "HCX does not see this network in the registered vCenter"
            ctx.warn(f"{network.name}: {failed[network.name]}")
            continue
        current = extensions.get(source["entity_id"])
        if current is not None and not failed_state(extension_state(current)):
            # Found without its job: HCX lists it and does not say it failed (docs/hcx-wire.md §5).
            if under_way(current):
                failed[network.name] = (
                    f"HCX is still extending it ({extension_state(current)}) and this run has "
                    "no job to follow: run this step again later"
                )
                ctx.warn(f"{network.name}: {failed[network.name]}")
            else:
                ctx.log(
                    f"{network.name} is already extended ({extension_state(current) or 'no state shown'})"
                )
                extended[network.name] = extension_data(current)
            continue
        appliance = extender.take()
        if appliance is None:
            failed[network.name] = (
                f"every network extension appliance of {mesh['name']} already extends "
                f"{extender.limit} networks: add one to the mesh in HCX"
            )
            ctx.warn(f"{network.name}: {failed[network.name]}")
            continue
        interface = ipaddress.ip_interface(str(gateways[network.name]))
        body = bodies.l2_extension(
            network=source,
            appliance_id=appliance["applianceId"],
            destination=destination,
            gateway_id=gateway_id,
            gateway=str(interface.ip),
            netmask=str(interface.netmask),
            vcenter_uuid=vcenter_uuid,
        )
        ctx.log(
            f"Extending {network.name} (gateway {interface}) over {appliance.get('applianceName')} to {gateway_id}"
        )
        try:
            pending.append((network.name, source, hcx.create_l2_extension(body)))
        except HcxError as exc:
            extender.load[appliance["applianceId"]] -= 1
            failed[network.name] = _reason(exc)
            ctx.warn(f"HCX refused to extend {network.name}: {failed[network.name]}")

    # HCX extends the networks side by side: start them all, then follow each one's job (TF does so).
    for name, source, started in pending:
        ctx.check_cancelled()
        waiting(ctx, f"Waiting for the extension of {name}")
        try:
            job = hcx.wait(started, timeout=ctx.wait_seconds("extension"), what=f"the extension of {name}")
            extended[name] = extension_data(extension_after(ctx, source["entity_id"], name, started, job))
            ctx.log(f"{name} is extended")
        except HcxError as exc:
            failed[name] = _reason(exc)
            ctx.warn(f"The extension of {name} failed: {failed[name]}")

    order = [n.name for n in networks]
    done = [n for n in order if n in extended]
    summary = f"{len(done)} of {len(networks)} networks extended" + (f": {listing(done)}" if done else "")
    data = {
        "serviceMeshId": mesh_id,
        "gatewayId": gateway_id,
        "extended": {n: extended[n] for n in done},
        "failed": {n: failed[n] for n in order if n in failed},
    }
    if failed:
        # Keep what is extended on the step (the runner marks it failed with the message below), so
        # the page shows it and a re-run, which skips the extended networks, retries only these.
        record(ctx.plan, SetupStepKey.EXTEND, StepState.RUNNING, summary=summary, data=data)
        reasons = "; ".join(f"{n}: {why}" for n, why in data["failed"].items())
        raise JobError(
            f"{len(failed)} of {len(networks)} networks could not be extended: {reasons}. "
            + ("The others are extended; " if done else "")
            + "run this step again to retry these."
        )
    return Outcome(summary, data)


def _reason(exc: HcxError) -> str:
    """Why one network failed: HCX's words marked as such (core/remote.py shows them to engineers and
    admins only), or the client's own message."""
    return f"HCX refused{quoted('HCX', exc.hcx_message)}" if exc.hcx_message else str(exc)


def extension_after(ctx: Context, network_id: str, name: str, started: Started, job) -> dict:
    """The extension HCX lists once its job succeeded: present and not failed is extended, whatever
    state string it shows (docs/hcx-wire.md §5)."""
    stretch_id = (getattr(job, "data", None) or {}).get("stretchId") or started.object_id
    listed = ctx.hcx.list_l2_extensions()
    current = next(
        (e for e in listed if stretch_id and e.get("stretchId") == stretch_id), None
    ) or current_extensions(ctx).get(network_id)
    if current is None or failed_state(extension_state(current)):
        said = ((current or {}).get("operationStatus") or {}).get(
            "message"
        ) or "HCX lists no extension for it"
        raise HcxError(f"the extension of {name} failed: {said}", hcx_message=said)
    return current


def extension_data(extension: dict) -> dict:
    return {
        "stretchId": extension.get("stretchId"),
        "state": extension_state(extension),
        "applianceId": (extension.get("sourceAppliance") or {}).get("applianceId"),
    }
