"""The HCX service API ("hybridity", port 443 role): sessions, jobs and interconnect tasks, site
pairing, inventory lookups, network and compute profiles, service meshes with their appliances, and
network extensions (hcx-wire.md §1, §3, §4, §5).
"""

import uuid

from . import inventory as inv
from .appliance import import_certificate
from .server import Response, Router, SimError, envelope

router = Router()
MAX_PAIRINGS = 25
MAX_SERVICE_MESHES = 10
NETWORKS_PER_NE = 8
# Object states real HCX shows (hcx-wire.md §5): a working mesh COMMITTED, a mesh whose update failed
# UPDATE_FAILED, a usable compute profile VALID. The states while they build are our pick [U].
PROFILE_VALID, MESH_COMMITTED, MESH_UPDATE_FAILED = "VALID", "COMMITTED", "UPDATE_FAILED"
MESH_BUILDING, MESH_FAILED = "DEPLOYING", "FAILED"  # [U]; MESH_FAILED per variant mesh_create_failure
# Appliance types by hcx_version: 4.x meshes are PHOTON, 9.x meshes EDGE (hcx-wire.md §5). Seen in sources:
# HCX-NET-EXT (TF) and HCX-WAN-IX-EDGE (LAB); HCX-WAN-IX, HCX-WAN-OPT and HCX-NET-EXT-EDGE are our pick [U].
APPLIANCE_TYPES = {
    "4.x": {"INTERCONNECT": "HCX-WAN-IX", "NETWORK_EXTENSION": "HCX-NET-EXT", "WANOPT": "HCX-WAN-OPT"},
    "9.x": {
        "INTERCONNECT": "HCX-WAN-IX-EDGE",
        "NETWORK_EXTENSION": "HCX-NET-EXT-EDGE",
        "WANOPT": "HCX-WAN-OPT",
    },
}
BACKING = {"4.x": "PHOTON", "9.x": "EDGE"}
MIGRATION_SERVICES = {"VMOTION", "BULK_MIGRATION", "RAV"}
DEFAULT_MESH_PREFIX = "default-service-mesh-"

# After the app engine starts again, logins answer "'Trusted root certificates' value should not be
# empty" for a while (hcx-wire.md section 1); [U] how long is not documented: 30 s chosen.
TRUSTED_ROOTS_SECONDS = 30
MESH_PHASES = [
    (0.05, "Deploying appliances"),
    (0.5, "Configuring appliances"),
    (0.8, "Establishing tunnels"),
    (1.0, "Service mesh deployed"),
]


def ok(sim, data) -> dict:
    return envelope(data, sim.clock.now_ms())


def require_ready(sim):
    if not sim.state.activation:
        raise SimError(400, "HCX Manager is not activated: activate it with a key first")
    if not sim.state.vcenter:
        raise SimError(400, "No vCenter is registered with this HCX Manager")


def require_fields(body: dict, what: str, *names):
    if not isinstance(body, dict):
        raise SimError(400, f"{what}: body must be a JSON object")
    missing = [n for n in names if body.get(n) in (None, "", [])]
    if missing:
        raise SimError(400, f"{what}: missing {', '.join(missing)}")


def normalize_url(url: str) -> str:
    return (url or "").strip().lower().rstrip("/")


def remote_pairing(sim, endpoint_id: str | None = None):
    for pairing in sim.state.pairings.values():
        if endpoint_id is None or pairing["endpointId"] == endpoint_id:
            return pairing
    return None


def get_or_404(collection: dict, key: str, label: str) -> dict:
    item = collection.get(key)
    if item is None:
        raise SimError(404, f"{label} {key} not found")
    return item


# --- sessions, jobs, tasks --------------------------------------------------------------------


@router.add("POST", "/hybridity/api/sessions")
def login(sim, req):
    body = req.json()
    if not isinstance(body, dict):
        raise SimError(400, 'Login: body must be {"username", "password"}')
    sim.sessions.login(body.get("username"), body.get("password"))
    if not sim.state.components["appengine"]:
        raise SimError(503, "The HCX application engine is stopped")
    started = sim.state.appengine_started
    if started is not None and sim.clock.now() - started < TRUSTED_ROOTS_SECONDS:
        return trusted_roots_answer(sim)
    token = sim.sessions.open(body["username"])
    data = {
        "endpointInfo": {"uuid": sim.local_endpoint_id, "name": "hcx-connector-sim"},
        "username": body["username"],
    }
    return Response(200, ok(sim, data), headers={"x-hm-authorization": token})


def trusted_roots_answer(sim) -> Response:
    """What a login gets while the app engine finishes starting: an XML map whose `message` entry
    Terraform's client looks for (hcx-wire.md section 1); the status is a variant."""
    xml = (
        "<map><entry><string>message</string><string>'Trusted root certificates' value should not be "
        "empty</string></entry><entry><string>status</string><string>failure</string></entry></map>"
    )
    return Response(int(sim.variant("trusted_roots_status")), xml, content_type="application/xml")


@router.add("GET", "/hybridity/api/jobs/{job_id}", auth="session")
def get_job(sim, req):
    return sim.work("job", req.params["job_id"]).as_job(sim.clock.now())


@router.add("GET", "/hybridity/api/interconnect/tasks/{task_id}", auth="session")
def get_task(sim, req):
    return sim.work("task", req.params["task_id"]).as_task(sim.clock.now())


# --- site pairing -----------------------------------------------------------------------------


def pairing_refusal(sim, text: str, error: str, data=None) -> dict:
    # [U] Refusals of a pairing come back as HTTP 200 with success=false: TF reads `errors` from a
    # response its doRequest accepted (200/202) to spot "Login failure" and the certificate prompt.
    return {
        "success": False,
        "completed": True,
        "time": sim.clock.now_ms(),
        "version": "1.0",
        "data": {},
        "errors": [{"error": error, "text": text, "data": data or []}],
    }


def pair(sim, remote: dict, username: str):
    require_ready(sim)
    require_fields(remote, "Site pairing remote", "url", "username", "password")
    if normalize_url(remote["url"]) != normalize_url(sim.config.hcx_cloud_url):
        return pairing_refusal(sim, f"Unable to connect to {remote['url']}", "Connection failure")
    if remote["username"] != sim.config.cloud_username or remote["password"] != sim.config.cloud_password:
        return pairing_refusal(sim, "Invalid credentials for the remote HCX", "Login failure")
    if sim.cloud_cert_pem not in sim.state.trusted_certificates:
        return pairing_refusal(
            sim,
            "The remote site's certificate is not trusted",
            "Untrusted certificate",
            data=[{"certificate": sim.cloud_cert_pem, "url": remote["url"]}],
        )
    if any(normalize_url(p["url"]) == normalize_url(remote["url"]) for p in sim.state.pairings.values()):
        raise SimError(400, f"A site pairing to {remote['url']} already exists")
    if len(sim.state.pairings) >= MAX_PAIRINGS:
        raise SimError(400, f"HCX supports at most {MAX_PAIRINGS} site pairings per manager")

    def done():
        pairing = {
            "url": remote["url"],
            "endpointId": inv.REMOTE_ENDPOINT_ID,
            "cloudType": "hcx",
            "username": remote["username"],
            "cloudName": "AVS HCX Cloud",
            "name": "avs-hcx-cloud",
            "version": "4.10.2",
            "buildNumber": "24404455",
        }
        sim.state.pairings[pairing["endpointId"]] = pairing
        return {
            "endpoint": {"endpointId": pairing["endpointId"], "name": pairing["name"], "url": pairing["url"]}
        }

    work = sim.start_work("job", "sitePairing", username, on_success=done, job_data={"endpoint": None})
    return ok(sim, {"jobId": work.id})


@router.add("POST", "/hybridity/api/cloudConfigs", auth="session")
def create_pairing(sim, req):
    body = req.json()
    require_fields(body, "Site pairing", "remote")
    return pair(sim, body["remote"], req.username)


@router.add("GET", "/hybridity/api/cloudConfigs", auth="session")
def list_pairings(sim, req):
    return ok(sim, {"items": list(sim.state.pairings.values())})


@router.add("DELETE", "/hybridity/api/endpointPairing/{endpoint_id}", auth="session")
def delete_pairing(sim, req):
    endpoint_id = req.params["endpoint_id"]
    get_or_404(sim.state.pairings, endpoint_id, "Site pairing")
    if user_meshes(sim):
        raise SimError(400, "Delete the service meshes that use this site pairing first")
    work = sim.start_work(
        "job",
        "sitePairingDelete",
        req.username,
        on_success=lambda: sim.state.pairings.pop(endpoint_id, None) and None,
    )
    return ok(sim, {"jobId": work.id})


@router.add("POST", "/hybridity/api/admin/certificates", auth="session")
def trust_certificate(sim, req):
    return ok(sim, import_certificate(sim, req.json()))


# --- inventory --------------------------------------------------------------------------------


def local_endpoint(sim) -> dict:
    return {
        "endpointId": sim.local_endpoint_id,
        "name": "hcx-connector-sim",
        "url": "https://hcx-connector.local",
        "endpointType": "hcx",
        "cloudType": "hcx",
    }


def remote_endpoint(pairing: dict) -> dict:
    return {
        "endpointId": pairing["endpointId"],
        "name": pairing["name"],
        "url": pairing["url"],
        "endpointType": "hcx",
        "cloudType": "hcx",
    }


@router.add("POST", "/hybridity/api/service/inventory/cloud/list", auth="session")
def cloud_list(sim, req):
    flt = (req.json(required=False) or {}).get("filter") or {}
    items = []
    if flt.get("local") or not flt.get("remote"):
        items.append(local_endpoint(sim))
    if flt.get("remote") or not flt.get("local"):
        items += [remote_endpoint(p) for p in sim.state.pairings.values()]
    return ok(sim, {"items": items})


@router.add("POST", "/hybridity/api/service/inventory/resourcecontainer/list", auth="session")
def resource_containers(sim, req):
    cloud = ((req.json(required=False) or {}).get("filter") or {}).get("cloud") or {}
    items = []
    if cloud.get("local", True) and sim.state.vcenter:
        vc = sim.state.vcenter
        items.append(
            {
                "url": vc["url"],
                "vcuuid": inv.LOCAL_VC_UUID,
                "version": vc["version"],
                "buildNumber": vc["buildNumber"],
                "osType": "Linux",
                "name": vc["name"],
                "resourceId": inv.LOCAL_VC_UUID,
                "resourceType": "VC",
                "resourceName": vc["name"],
                "vimId": inv.LOCAL_VC_UUID,
                "vimServerUuid": inv.LOCAL_VC_UUID,
                "endpoint": {
                    "endpointId": sim.local_endpoint_id,
                    "name": "hcx-connector-sim",
                    "cloudType": "hcx",
                },
            }
        )
    if cloud.get("remote", True):
        for p in sim.state.pairings.values():
            items.append(
                {
                    "url": "https://10.0.0.2/",
                    "vcuuid": inv.REMOTE_VC_UUID,
                    "version": "8.0.3",
                    "buildNumber": "24322831",
                    "osType": "Linux",
                    "name": "vcsa-avs",
                    "resourceId": inv.REMOTE_VC_UUID,
                    "resourceType": "VC",
                    "resourceName": "vcsa-avs",
                    "vimId": inv.REMOTE_VC_UUID,
                    "vimServerUuid": inv.REMOTE_VC_UUID,
                    "endpoint": {"endpointId": p["endpointId"], "name": p["name"], "cloudType": "hcx"},
                }
            )
    return ok(sim, {"items": items})


@router.add("POST", "/hybridity/api/service/inventory/vc/list", auth="session")
def vc_list(sim, req):
    return ok(sim, {"items": [inv.LOCAL_VC] if sim.state.vcenter else []})


@router.add("POST", "/hybridity/api/service/inventory/vc/datastores/query", auth="session")
def datastores(sim, req):
    return ok(sim, {"items": inv.LOCAL_DATASTORES if sim.state.vcenter else []})


@router.add("POST", "/hybridity/api/service/inventory/vc/dvs/query", auth="session")
def switches(sim, req):
    return ok(sim, {"items": inv.LOCAL_DVS if sim.state.vcenter else []})


@router.add("POST", "/hybridity/api/service/inventory/networks", auth="session")
def networks(sim, req):
    cloud = ((req.json(required=False) or {}).get("filter") or {}).get("cloud") or {}
    endpoint_id = cloud.get("endpointId", sim.local_endpoint_id)
    if endpoint_id == sim.local_endpoint_id:
        items = inv.LOCAL_NETWORKS if sim.state.vcenter else []
    elif remote_pairing(sim, endpoint_id):
        items = inv.REMOTE_NETWORKS
    else:
        raise SimError(404, f"Endpoint {endpoint_id} not found")
    return ok(sim, {"items": [{k: n[k] for k in ("entity_id", "name", "entityType")} for n in items]})


# The service inventory of both sites (hcx-wire.md §4): each item says which site it is from in
# `_origin.endpointId`, the paired AVS site's items carrying the pairing's endpoint id.


def inventory_sites(sim, body) -> list[tuple[str, str]]:
    """(endpoint id, name) of the sites `filter.cloud` asks for: local, remote, an endpointId (AYA puts
    it in `cloud` or beside it), or both sites when it says nothing."""
    flt = (body or {}).get("filter") or {}
    cloud = flt.get("cloud") if isinstance(flt.get("cloud"), dict) else {}
    sites = []
    if sim.state.vcenter:
        sites.append((sim.local_endpoint_id, "hcx-connector-sim"))
    sites += [(p["endpointId"], p["name"]) for p in sim.state.pairings.values()]
    if sim.variant("inventory_cloud_filter") == "ignored":
        return sites
    wanted = cloud.get("endpointId") or flt.get("endpointId")
    if wanted:
        return [s for s in sites if s[0] == wanted]
    local, remote = bool(cloud.get("local")), bool(cloud.get("remote"))
    if not local and not remote:
        return sites
    return [s for s in sites if (local if s[0] == sim.local_endpoint_id else remote)]


def inventory_item(
    sim, site: tuple[str, str], entity_id: str, name: str, vsphere_type: str, lower_type: str, **extra
) -> dict:
    item = {
        "name": name,
        "entityType": vsphere_type if sim.variant("inventory_type_names") == "vsphere" else lower_type,
        "_origin": {"endpointId": site[0], "endpointName": site[1]},
        **extra,
    }
    ids = sim.variant("inventory_ids")
    if ids in ("both", "entity_id"):
        item["entity_id"] = entity_id
    if ids in ("both", "id"):
        item["id"] = entity_id
    return item


def entity_types_asked(body) -> set[str]:
    """AYA's `filter.entityType` (["folder"], ["resourcePool"]...), lower-cased; empty = all."""
    asked = ((body or {}).get("filter") or {}).get("entityType")
    asked = asked if isinstance(asked, list) else [asked] if asked else []
    return {str(t).lower() for t in asked if t}


def paged(items: list, body) -> list:
    paging = (body or {}).get("paging") or {}
    skip = int(paging.get("skipCount") or paging.get("offset") or 0)
    size = int(paging.get("pageSize") or 0)
    return items[skip : skip + size] if size else items[skip:]


@router.add("POST", "/hybridity/api/service/inventory/containers", auth="session")
def inventory_containers(sim, req):
    body = req.json(required=False) or {}
    asked, items = entity_types_asked(body), []
    for site in inventory_sites(sim, body):
        table = inv.LOCAL_CONTAINERS if site[0] == sim.local_endpoint_id else inv.REMOTE_CONTAINERS
        items += [
            inventory_item(sim, site, *row)
            for row in table
            if (not asked or row[2].lower() in asked or row[3].lower() in asked)
            and not (row[3] == "cluster" and sim.variant("inventory_clusters") == "absent")
        ]
    return ok(sim, {"items": items})


@router.add("POST", "/hybridity/api/service/inventory/datastores", auth="session")
def inventory_datastores(sim, req):
    body = req.json(required=False) or {}
    items = []
    for site in inventory_sites(sim, body):
        rows = (
            [(d["id"], d["name"]) for d in inv.LOCAL_DATASTORES]
            if site[0] == sim.local_endpoint_id
            else inv.REMOTE_DATASTORES
        )
        items += [inventory_item(sim, site, i, n, "Datastore", "datastore") for i, n in rows]
    return ok(sim, {"items": items})


@router.add("POST", "/hybridity/api/service/inventory/storageProfiles", auth="session")
def inventory_storage_profiles(sim, req):
    body = req.json(required=False) or {}
    # AYA reads name, type and entityType ("storageProfile") of each.
    items = [
        {
            "name": n,
            "type": "default" if i == 0 else "custom",
            "entityType": "storageProfile",
            "_origin": {"endpointId": site[0], "endpointName": site[1]},
        }
        for site in inventory_sites(sim, body)
        for i, n in enumerate(inv.STORAGE_PROFILES)
    ]
    return ok(sim, {"items": items})


@router.add("POST", "/hybridity/api/service/inventory/virtualmachines", auth="session")
def inventory_virtual_machines(sim, req):
    """The VMs of each site: at the local site the VMs tests registered (`/__sim__/vms`) that are not
    in AVS; at the AVS site each VM a completed forward migration put there, under its new AVS id."""
    body = req.json(required=False) or {}
    engine = sim.migration_engine
    in_avs = {entity_id: sim.state.migrations[mid] for entity_id, mid in engine.at_remote.items()}
    items = []
    for site in inventory_sites(sim, body):
        if site[0] == sim.local_endpoint_id:
            seen = set()
            for facts in sim.vm_facts.values():
                vm_id = facts.get("id")
                if vm_id and vm_id not in seen and vm_id not in in_avs:
                    seen.add(vm_id)
                    items.append(
                        inventory_item(
                            sim, site, vm_id, facts.get("name") or vm_id, "VirtualMachine", "VirtualMachine"
                        )
                    )
        else:
            items += [
                inventory_item(sim, site, inv.avs_vm_id(m), m.entity_name, "VirtualMachine", "VirtualMachine")
                for m in in_avs.values()
                if m.pair and m.pair[1] == site[0]
            ]
    return ok(sim, {"items": paged(items, body)})


# --- network profiles -------------------------------------------------------------------------


def validate_network_profile(sim, body: dict, object_id: str | None = None) -> dict:
    require_fields(body, "Network profile", "name", "backings", "ipScopes")
    if any(
        p["name"] == body["name"] and p["objectId"] != object_id for p in sim.state.network_profiles.values()
    ):
        raise SimError(400, f"A network profile named {body['name']!r} already exists")
    mtu = body.get("mtu", 1500)
    if not isinstance(mtu, int) or not 1150 <= mtu <= 9000:
        raise SimError(400, f"Network profile: mtu must be an integer between 1150 and 9000, got {mtu!r}")
    for i, backing in enumerate(body["backings"]):
        if not isinstance(backing, dict) or not inv.local_network(backing.get("backingId", "")):
            raise SimError(
                400, f"Network profile: backings[{i}].backingId is not a network in the registered vCenter"
            )
    for i, scope in enumerate(body["ipScopes"]):
        if not isinstance(scope, dict) or not scope.get("networkIpRanges") or not scope.get("gateway"):
            raise SimError(400, f"Network profile: ipScopes[{i}] needs networkIpRanges and a gateway")
        prefix = scope.get("prefixLength")
        if not isinstance(prefix, int) or not 0 < prefix <= 32:
            raise SimError(400, f"Network profile: ipScopes[{i}].prefixLength must be 1-32")
    return {
        "name": body["name"],
        "organization": body.get("organization", "DEFAULT"),
        "mtu": mtu,
        "backings": body["backings"],
        "ipScopes": body["ipScopes"],
        "l3TenantManaged": body.get("l3TenantManaged", False),
        "ownedBySystem": body.get("ownedBySystem", True),
        "recommendationTags": body.get("recommendationTags", []),
    }


def create_network_profile(sim, body: dict, username: str) -> dict:
    require_ready(sim)
    profile = validate_network_profile(sim, body)
    profile.update(objectId=f"network-{uuid.uuid4()}", status={"state": "REALIZING"})
    sim.state.network_profiles[profile["objectId"]] = profile

    def done():
        profile["status"] = {"state": "REALIZED"}

    def failed(message):
        sim.state.network_profiles.pop(profile["objectId"], None)

    work = sim.start_work(
        "job",
        "networkProfile",
        username,
        on_success=done,
        on_failure=failed,
        job_data={"objectId": profile["objectId"]},
    )
    return ok(sim, {"jobId": work.id, "objectId": profile["objectId"]})


@router.add("POST", "/admin/hybridity/api/networks", auth="session")
def post_network_profile(sim, req):
    # hcx-wire.md §5: the create path really starts with /admin/ (TF and ESA agree).
    return create_network_profile(sim, req.json(), req.username)


@router.add("GET", "/hybridity/api/networks", auth="session")
def list_network_profiles(sim, req):
    return list(sim.state.network_profiles.values())


@router.add("POST", "/hybridity/api/networks", auth="session")
def query_network_profiles(sim, req):
    if req.arg("action") != "queryIpUsage":
        raise SimError(
            400, "Use POST /admin/hybridity/api/networks to create, or ?action=queryIpUsage to query"
        )
    return list(sim.state.network_profiles.values())


@router.add("PUT", "/hybridity/api/networks/{object_id}", auth="session")
def update_network_profile(sim, req):
    profile = get_or_404(sim.state.network_profiles, req.params["object_id"], "Network profile")
    profile.update(validate_network_profile(sim, req.json(), profile["objectId"]))
    work = sim.start_work("job", "networkProfile", req.username, job_data={"objectId": profile["objectId"]})
    return ok(sim, {"jobId": work.id, "objectId": profile["objectId"]})


@router.add("DELETE", "/hybridity/api/networks/{object_id}", auth="session")
def delete_network_profile(sim, req):
    object_id = req.params["object_id"]
    profile = get_or_404(sim.state.network_profiles, object_id, "Network profile")
    users = [
        cp["name"]
        for cp in sim.state.compute_profiles.values()
        if any(n.get("id") == object_id for n in cp["networks"])
    ]
    if users:
        raise SimError(
            400, f"Network profile {profile['name']!r} is used by compute profile(s) {', '.join(users)}"
        )
    work = sim.start_work(
        "job",
        "networkProfileDelete",
        req.username,
        on_success=lambda: sim.state.network_profiles.pop(object_id, None) and None,
    )
    return ok(sim, {"jobId": work.id, "objectId": object_id})


# --- compute profiles -------------------------------------------------------------------------


def service_names(services, what: str) -> list[str]:
    if not isinstance(services, list) or not services:
        raise SimError(400, f"{what}: services must be a non-empty list of {{name}}")
    names = []
    for i, s in enumerate(services):
        name = s.get("name") if isinstance(s, dict) else None
        if name not in inv.SERVICE_NAMES:
            raise SimError(
                400, f"{what}: services[{i}].name {name!r} is not one of {sorted(inv.SERVICE_NAMES)}"
            )
        names.append(name)
    if "INTERCONNECT" not in names:
        raise SimError(400, f"{what}: the INTERCONNECT service is required")
    return names


def create_compute_profile(sim, body: dict, username: str) -> dict:
    require_ready(sim)
    require_fields(body, "Compute profile", "name", "services", "compute", "deploymentContainer", "networks")
    if any(p["name"] == body["name"] for p in sim.state.compute_profiles.values()):
        raise SimError(400, f"A compute profile named {body['name']!r} already exists")
    names = service_names(body["services"], "Compute profile")
    if not (body["deploymentContainer"] or {}).get("compute"):
        raise SimError(400, "Compute profile: deploymentContainer.compute must name at least one cluster")
    for i, net in enumerate(body["networks"]):
        if not isinstance(net, dict) or net.get("id") not in sim.state.network_profiles:
            raise SimError(400, f"Compute profile: networks[{i}].id is not an existing network profile")
    if "NETWORK_EXTENSION" in names and not body.get("switches"):
        raise SimError(400, "Compute profile: NETWORK_EXTENSION needs at least one switch in switches")
    profile = {
        "computeProfileId": str(uuid.uuid4()),
        "endpointId": sim.local_endpoint_id,
        "name": body["name"],
        "services": [{"name": n} for n in names],
        "compute": body["compute"],
        "deploymentContainer": body["deploymentContainer"],
        "networks": body["networks"],
        "switches": body.get("switches", []),
        "state": "PENDING",
    }  # [U] the state while it builds
    sim.state.compute_profiles[profile["computeProfileId"]] = profile

    def done():
        profile["state"] = PROFILE_VALID

    def failed(message):
        sim.state.compute_profiles.pop(profile["computeProfileId"], None)

    work = sim.start_work("task", "computeProfile", username, on_success=done, on_failure=failed)
    return ok(sim, {"interconnectTaskId": work.id, "computeProfileId": profile["computeProfileId"]})


@router.add("POST", "/hybridity/api/interconnect/computeProfiles", auth="session")
def post_compute_profile(sim, req):
    return create_compute_profile(sim, req.json(), req.username)


def remote_compute_profiles(sim) -> list[dict]:
    return [
        {**inv.REMOTE_COMPUTE_PROFILE, "endpointId": p["endpointId"]} for p in sim.state.pairings.values()
    ]


@router.add("GET", "/hybridity/api/interconnect/computeProfiles", auth="session")
def list_compute_profiles(sim, req):
    endpoint_id = req.arg("endpointId")
    local = list(sim.state.compute_profiles.values())
    if endpoint_id is None:
        return {"items": local + remote_compute_profiles(sim)}
    if endpoint_id == sim.local_endpoint_id:
        return {"items": local}
    if remote_pairing(sim, endpoint_id):
        return {"items": remote_compute_profiles(sim)}
    raise SimError(404, f"Endpoint {endpoint_id} not found")


@router.add("DELETE", "/hybridity/api/interconnect/computeProfiles/{profile_id}", auth="session")
def delete_compute_profile(sim, req):
    profile_id = req.params["profile_id"]
    profile = get_or_404(sim.state.compute_profiles, profile_id, "Compute profile")
    users = [
        m["name"]
        for m in sim.state.service_meshes.values()
        if any(cp.get("computeProfileId") == profile_id for cp in m["computeProfiles"])
    ]
    if users:
        raise SimError(
            400, f"Compute profile {profile['name']!r} is used by service mesh(es) {', '.join(users)}"
        )
    work = sim.start_work(
        "task",
        "computeProfileDelete",
        req.username,
        on_success=lambda: sim.state.compute_profiles.pop(profile_id, None) and None,
    )
    return ok(sim, {"interconnectTaskId": work.id})


# --- service mesh and appliances --------------------------------------------------------------


def is_default_mesh(mesh: dict) -> bool:
    return mesh["name"].startswith(DEFAULT_MESH_PREFIX)


def user_meshes(sim) -> list[dict]:
    """The meshes a person made: not the automatic default mesh of HCX 9.x."""
    return [m for m in sim.state.service_meshes.values() if not is_default_mesh(m)]


def appear_default_mesh(sim):
    """HCX 9.x makes a self-site mesh for HCX Assisted vMotion on its own, named after the vCenter,
    with state NOT_APPLICABLE; nobody should use or delete it (hcx-wire.md §5, HCX 9.x)."""
    if sim.variant("hcx_version") != "9.x" or not sim.state.vcenter:
        return
    name = f"{DEFAULT_MESH_PREFIX}{inv.LOCAL_VC_UUID[:8]}"
    if any(m["name"] == name for m in sim.state.service_meshes.values()):
        return
    mesh_id = f"servicemesh-{uuid.uuid5(uuid.NAMESPACE_URL, sim.local_endpoint_id)}"
    itself = {
        "endpointId": sim.local_endpoint_id,
        "endpointName": "hcx-connector-sim",
        "computeProfileId": None,
        "computeProfileName": None,
    }
    sim.state.service_meshes[mesh_id] = {
        "serviceMeshId": mesh_id,
        "name": name,
        "state": "NOT_APPLICABLE",
        "backingApplianceType": "NOT_APPLICABLE",
        "computeProfiles": [{**itself, "isInitiator": True}, {**itself, "isInitiator": False}],
        "services": [{"name": "HCX_ASSISTED_VMOTION"}],
        "wanoptConfig": {},
        "trafficEnggCfg": {},
        "switchPairCount": [],
        # LAB: its create task ended long ago, yet lastTaskDetails still says RUNNING.
        "lastTaskDetails": {"type": "autoSelfSiteServiceMeshCreate", "status": "RUNNING"},
        "updateAvailable": False,
    }


def last_task(sim, work, kind: str) -> dict:
    """A mesh's lastTaskDetails. Real HCX leaves its status at RUNNING after the task ended (LAB), so
    the simulator never moves it on: only the task itself tells."""
    details = {"type": kind, "status": "RUNNING"}
    if sim.variant("mesh_last_task_id") == "interconnectTaskId":
        details["interconnectTaskId"] = work.id
    return details


def mesh_appliance(sim, mesh: dict, service: str, number: int, endpoint_id: str, side: str) -> dict:
    kind = APPLIANCE_TYPES[sim.variant("hcx_version")][service]
    short = {"INTERCONNECT": "IX", "NETWORK_EXTENSION": "NE", "WANOPT": "WO"}[service]
    appliance = {
        "applianceId": str(uuid.uuid4()),
        "applianceName": f"{mesh['name']}-{short}-{side}{number}",
        "applianceType": kind,
        "serviceMeshId": mesh["serviceMeshId"],
        "endpointId": endpoint_id,
        "status": {"summary": {"overallStatus": "DEPLOYING"}},
        "tunnelStatus": "DOWN",
        "version": "9.1.1.0" if sim.variant("hcx_version") == "9.x" else "4.10.2",
    }
    if service == "NETWORK_EXTENSION":
        appliance.update(networkExtensionCount=0, maxNetworkExtensions=NETWORKS_PER_NE)
    return appliance


def visible_appliances(sim) -> list[dict]:
    local_only = sim.variant("peer_appliances") == "hidden"
    return [
        a for a in sim.state.appliances.values() if not local_only or a["endpointId"] == sim.local_endpoint_id
    ]


def mesh_profiles(sim, refs) -> tuple[dict, dict]:
    if not isinstance(refs, list) or len(refs) != 2:
        raise SimError(
            400, "Service mesh: computeProfiles must hold two compute profiles, one local and one remote"
        )
    local = remote = None
    for i, ref in enumerate(refs):
        ref = ref if isinstance(ref, dict) else {}
        cp_id, endpoint_id = ref.get("computeProfileId"), ref.get("endpointId")
        if endpoint_id == sim.local_endpoint_id and cp_id in sim.state.compute_profiles:
            local = sim.state.compute_profiles[cp_id]
        elif remote_pairing(sim, endpoint_id) and cp_id == inv.REMOTE_COMPUTE_PROFILE_ID:
            remote = {**inv.REMOTE_COMPUTE_PROFILE, "endpointId": endpoint_id}
        else:
            raise SimError(
                404, f"Service mesh: computeProfiles[{i}] ({cp_id} at endpoint {endpoint_id}) not found"
            )
    if not local or not remote:
        raise SimError(400, "Service mesh: needs one local and one remote (paired site) compute profile")
    if local["state"] != PROFILE_VALID:
        raise SimError(400, f"Compute profile {local['name']!r} is {local['state']}, not {PROFILE_VALID} yet")
    return local, remote


def create_service_mesh(sim, body: dict, username: str) -> dict:
    require_ready(sim)
    if not isinstance(body, dict) or not body.get("computeProfiles"):
        raise SimError(
            400, "Service mesh: computeProfiles is required (a local and a remote compute profile)"
        )
    require_fields(body, "Service mesh", "name", "services")
    if any(m["name"] == body["name"] for m in sim.state.service_meshes.values()):
        raise SimError(400, f"A service mesh named {body['name']!r} already exists")
    if len(user_meshes(sim)) >= MAX_SERVICE_MESHES:
        raise SimError(400, f"HCX supports at most {MAX_SERVICE_MESHES} service meshes per manager")
    local, remote = mesh_profiles(sim, body["computeProfiles"])
    names = service_names(body["services"], "Service mesh")
    version = sim.variant("hcx_version")
    if version == "9.x" and not MIGRATION_SERVICES & set(names):
        # LAB: 9.1.1 makes every new mesh EDGE, whatever backingApplianceType the body asks for.
        raise SimError(
            400, "INTERCONNECT service with EDGE appliances requires at least one migration service"
        )
    for name in names:
        for cp in (local, remote):
            if name not in {s["name"] for s in cp["services"]}:
                raise SimError(
                    400, f"Service mesh: service {name} is not enabled in compute profile {cp['name']!r}"
                )
    # [U] wanoptConfig.uplinkMaxBandwidth: TF sends 10000, ESA 10000000; any positive number is accepted.
    bandwidth = (body.get("wanoptConfig") or {}).get("uplinkMaxBandwidth", 10000)
    if not isinstance(bandwidth, int | float) or bandwidth <= 0:
        raise SimError(400, "Service mesh: wanoptConfig.uplinkMaxBandwidth must be a positive number")
    ne_count = 0
    if "NETWORK_EXTENSION" in names:
        pairs = body.get("switchPairCount") or [{"l2cApplianceCount": 1}]
        ne_count = sum(int(p.get("l2cApplianceCount", 1)) for p in pairs)
        if ne_count < 1:
            raise SimError(400, "Service mesh: switchPairCount[].l2cApplianceCount must be at least 1")
    mesh_id = f"servicemesh-{uuid.uuid4()}"
    mesh = {
        "serviceMeshId": mesh_id,
        "name": body["name"],
        "state": MESH_BUILDING,
        "computeProfiles": [
            {
                "endpointId": local["endpointId"],
                "endpointName": "hcx-connector-sim",
                "computeProfileId": local["computeProfileId"],
                "computeProfileName": local["name"],
                "isInitiator": True,
            },
            {
                "endpointId": remote["endpointId"],
                "endpointName": "avs-hcx-cloud",
                "computeProfileId": remote["computeProfileId"],
                "computeProfileName": remote["name"],
                "isInitiator": False,
            },
        ],
        "services": [{"name": n} for n in names],
        "wanoptConfig": {"uplinkMaxBandwidth": bandwidth},
        "trafficEnggCfg": body.get("trafficEnggCfg") or {},
        "switchPairCount": body.get("switchPairCount") or [],
        "backingApplianceType": BACKING[version],
        "updateAvailable": False,
    }
    appliances = []
    for service, count in (("INTERCONNECT", 1), ("NETWORK_EXTENSION", ne_count), ("WANOPT", 1)):
        if service in names:
            for i in range(count):
                # Each appliance has its peer at the AVS end (I for initiator, R for remote, as HCX names them).
                appliances.append(mesh_appliance(sim, mesh, service, i + 1, local["endpointId"], "I"))
                appliances.append(mesh_appliance(sim, mesh, service, i + 1, remote["endpointId"], "R"))

    def progress(fraction):
        for a in appliances:
            a["status"]["summary"]["overallStatus"] = "CONFIGURING" if fraction >= 0.5 else "DEPLOYING"

    def done():
        mesh["state"] = MESH_COMMITTED
        for a in appliances:
            a["status"]["summary"]["overallStatus"], a["tunnelStatus"] = "UP", "UP"

    def failed(message):
        for a in appliances:
            sim.state.appliances.pop(a["applianceId"], None)
        if sim.variant("mesh_create_failure") == "removed":
            sim.state.service_meshes.pop(mesh_id, None)
        else:
            mesh["state"], mesh["errorMessage"] = MESH_FAILED, message

    work = sim.start_work(
        "task",
        "serviceMesh",
        username,
        on_progress=progress,
        on_success=done,
        on_failure=failed,
        phases=MESH_PHASES,
    )
    mesh["lastTaskDetails"] = last_task(sim, work, "serviceMeshCreate")
    sim.state.service_meshes[mesh_id] = mesh
    for a in appliances:
        sim.state.appliances[a["applianceId"]] = a
    return ok(sim, {"interconnectTaskId": work.id, "serviceMeshId": mesh_id})


def fail_mesh_update(sim, mesh_id: str, message: str) -> dict:
    """What LAB saw when a resync of a working mesh failed: its task FAILED, the mesh UPDATE_FAILED, and
    lastTaskDetails still RUNNING. Reached through `POST /__sim__/service-meshes/{id}/fail-update`."""
    mesh = get_or_404(sim.state.service_meshes, mesh_id, "Service mesh")
    work = sim.start_work("task", "serviceMeshUpdate", "admin", failure=message)
    work.duration = 0  # ended at once: the next tick marks it FAILED
    mesh["lastTaskDetails"] = last_task(sim, work, "resyncServiceMesh")
    sim.tick()
    mesh["state"], mesh["errorMessage"] = MESH_UPDATE_FAILED, message
    return mesh


@router.add("POST", "/hybridity/api/interconnect/serviceMesh", auth="session")
def post_service_mesh(sim, req):
    return create_service_mesh(sim, req.json(), req.username)


@router.add("GET", "/hybridity/api/interconnect/serviceMesh", auth="session")
def list_service_meshes(sim, req):
    return {"items": list(sim.state.service_meshes.values())}


@router.add("DELETE", "/hybridity/api/interconnect/serviceMesh/{mesh_id}", auth="session")
def delete_service_mesh(sim, req):
    mesh_id = req.params["mesh_id"]
    mesh = get_or_404(sim.state.service_meshes, mesh_id, "Service mesh")
    mesh_appliances = {
        a["applianceId"] for a in sim.state.appliances.values() if a["serviceMeshId"] == mesh_id
    }
    extensions = [
        e for e in sim.state.l2_extensions.values() if e["sourceAppliance"]["applianceId"] in mesh_appliances
    ]
    if extensions and req.arg("force", "false").lower() != "true":
        raise SimError(
            400,
            f"Service mesh {mesh['name']!r} carries {len(extensions)} network extension(s): "
            "remove them first or delete with force=true",
        )

    def done():
        sim.state.service_meshes.pop(mesh_id, None)
        for appliance_id in mesh_appliances:
            sim.state.appliances.pop(appliance_id, None)
        for e in extensions:
            sim.state.l2_extensions.pop(e["stretchId"], None)

    work = sim.start_work("task", "serviceMeshDelete", req.username, on_success=done)
    mesh["lastTaskDetails"] = last_task(sim, work, "serviceMeshDelete")
    return ok(sim, {"interconnectTaskId": work.id, "serviceMeshId": mesh_id})


@router.add("GET", "/hybridity/api/interconnect/appliances", auth="session")
def list_appliances(sim, req):
    return {"items": visible_appliances(sim)}


@router.add("POST", "/hybridity/api/interconnect/appliances/query", auth="session")
def query_appliances(sim, req):
    flt = (req.json(required=False) or {}).get("filter") or {}
    items = [
        a
        for a in visible_appliances(sim)
        if all(a.get(k) == flt[k] for k in ("applianceType", "endpointId", "serviceMeshId") if flt.get(k))
    ]
    return {"items": items}


# --- network extensions -----------------------------------------------------------------------


def extension_states(sim) -> tuple[str | None, str | None]:
    """(while its job runs, once it succeeded): variant l2_extension_states; None shows no state."""
    shape = sim.variant("l2_extension_states")
    return (None, None) if shape == "none" else tuple(shape.split("/"))


def operation_status(state: str | None, **extra) -> dict:
    return ({"state": state} if state else {}) | extra


def live_extension(extension: dict) -> bool:
    return not extension.get("_failed")


def create_l2_extension(sim, body: dict, username: str) -> dict:
    require_ready(sim)
    require_fields(
        body,
        "Network extension",
        "sourceNetwork",
        "sourceAppliance",
        "destination",
        "destinationNetwork",
        "gateway",
        "netmask",
    )
    network_id = (body["sourceNetwork"] or {}).get("networkId")
    network = inv.local_network(network_id or "")
    if network is None:
        raise SimError(
            404, f"Network extension: source network {network_id!r} not found in the registered vCenter"
        )
    if network["entityType"] not in ("DistributedVirtualPortgroup", "NsxtSegment"):
        raise SimError(
            400,
            f"Network extension: network {network['name']!r} is on a vSphere Standard Switch; "
            "only VLAN-tagged distributed port groups and NSX segments can be extended",
        )
    if any(
        e["sourceNetwork"]["networkId"] == network_id and live_extension(e)
        for e in sim.state.l2_extensions.values()
    ):
        raise SimError(400, f"Network extension: network {network['name']!r} is already extended")
    appliance_id = (body["sourceAppliance"] or {}).get("applianceId")
    appliance = get_or_404(sim.state.appliances, appliance_id, "Appliance")
    if appliance["applianceType"] not in {kinds["NETWORK_EXTENSION"] for kinds in APPLIANCE_TYPES.values()}:
        raise SimError(
            400,
            f"Network extension: appliance {appliance['applianceName']!r} is not a network extension appliance",
        )
    if appliance["endpointId"] != sim.local_endpoint_id:
        raise SimError(
            400,
            f"Network extension: appliance {appliance['applianceName']!r} belongs to endpoint "
            f"{appliance['endpointId']}, not to this site: extend from a local appliance",
        )
    if sim.state.service_meshes[appliance["serviceMeshId"]]["state"] != MESH_COMMITTED:
        raise SimError(400, "Network extension: the appliance's service mesh is not deployed yet")
    if appliance["networkExtensionCount"] >= NETWORKS_PER_NE:
        raise SimError(
            400,
            f"Network extension: appliance {appliance['applianceName']!r} already extends "
            f"{NETWORKS_PER_NE} networks (its limit)",
        )
    destination = body["destination"] or {}
    if not remote_pairing(sim, destination.get("endpointId")):
        raise SimError(
            404, f"Network extension: destination endpoint {destination.get('endpointId')!r} not found"
        )
    gateway = (body["destinationNetwork"] or {}).get("gatewayId")
    if gateway not in inv.REMOTE_GATEWAYS:
        raise SimError(
            404,
            f"Network extension: destination gateway {gateway!r} not found (known: {inv.REMOTE_GATEWAYS})",
        )
    appliance["networkExtensionCount"] += 1
    running, succeeded = extension_states(sim)
    extension = {
        "stretchId": str(uuid.uuid4()),
        "operationStatus": operation_status(running),
        "sourceNetwork": {
            "networkId": network_id,
            "networkName": network["name"],
            "networkType": network["entityType"],
        },
        "sourceAppliance": {"applianceId": appliance_id},
        "destination": destination,
        "destinationNetwork": body["destinationNetwork"],
        "gateway": body["gateway"],
        "netmask": body["netmask"],
        "dns": body.get("dns", []),
        "vcGuid": body.get("vcGuid"),
        "features": body.get("features")
        or {"egressOptimization": False, "mobilityOptimizedNetworking": False},
    }
    sim.state.l2_extensions[extension["stretchId"]] = extension

    def done():
        extension["operationStatus"] = operation_status(succeeded)
        return {"stretchId": extension["stretchId"]}

    def failed(message):
        appliance["networkExtensionCount"] -= 1
        if running is None:
            sim.state.l2_extensions.pop(extension["stretchId"], None)
        else:
            extension["operationStatus"] = operation_status("FAILED", message=message)
            extension["_failed"] = True

    work = sim.start_work(
        "job",
        "l2Extension",
        username,
        on_success=done,
        on_failure=failed,
        job_data={"stretchId": extension["stretchId"]},
    )
    return {"id": work.id}


def shown(extension: dict) -> dict:
    return {k: v for k, v in extension.items() if not k.startswith("_")}


@router.add("POST", "/hybridity/api/l2Extensions", auth="session")
def post_l2_extension(sim, req):
    return create_l2_extension(sim, req.json(), req.username)


@router.add("GET", "/hybridity/api/l2Extensions", auth="session")
def list_l2_extensions(sim, req):
    return {"items": [shown(e) for e in sim.state.l2_extensions.values()]}


@router.add("DELETE", "/hybridity/api/l2Extensions/{stretch_id}", auth="session")
def delete_l2_extension(sim, req):
    stretch_id = req.params["stretch_id"]
    extension = get_or_404(sim.state.l2_extensions, stretch_id, "Network extension")

    def done():
        sim.state.l2_extensions.pop(stretch_id, None)
        appliance = sim.state.appliances.get(extension["sourceAppliance"]["applianceId"])
        if appliance and live_extension(extension):
            appliance["networkExtensionCount"] -= 1

    work = sim.start_work("job", "l2ExtensionDelete", req.username, on_success=done)
    return {"id": work.id}
