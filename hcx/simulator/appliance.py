"""The appliance management API (the ":9443" role): `/api/admin/...` and `/components/...`, with
HTTP Basic authentication as `admin` and the simulator's password (hcx-wire.md §2).
"""

import base64
import binascii
import uuid

from .inventory import CITIES, LOCAL_VC, LOCAL_VC_UUID
from .server import Response, Router, SimError

router = Router()
ROLES = {"System Administrator", "Enterprise Administrator"}
HCX_CONNECT_URL = "https://connect.hcx.vmware.com"


def config_items(body: dict, what: str) -> dict:
    """The `{"data":{"items":[{"config":{...}}]}}` wrapper every global-config POST uses."""
    try:
        config = body["data"]["items"][0]["config"]
    except (KeyError, IndexError, TypeError):
        raise SimError(400, f'{what}: body must be {{"data":{{"items":[{{"config":{{...}}}}]}}}}') from None
    if not isinstance(config, dict):
        raise SimError(400, f"{what}: config must be an object")
    return config


def wrap(*configs) -> dict:
    return {"data": {"items": [{"config": c} for c in configs]}}


def require(config: dict, what: str, *names):
    missing = [n for n in names if not config.get(n)]
    if missing:
        raise SimError(400, f"{what}: missing {', '.join(missing)}")


# --- activation ------------------------------------------------------------------------------


def check_key(sim, key: str):
    """HCX asks connect.hcx.vmware.com; for AVS the keys are the ARM hcxEnterpriseSites' keys."""
    if not key:
        raise SimError(400, "Activation: licenseKey/activationKey is required")
    site = next(
        (s for s in sim.state.enterprise_sites.values() if s["properties"]["activationKey"] == key), None
    )
    if site is None:
        raise SimError(400, "Activation key is not valid", error="Invalid activation key")
    status = site["properties"]["status"]
    if status != "Available":
        raise SimError(
            400, f"Activation key has already been used (status {status})", error="Activation key consumed"
        )
    if sim.state.activation:
        raise SimError(400, "This HCX Manager is already activated")
    return site


def activate(sim, key: str, url: str):
    site = check_key(sim, key)
    site["properties"]["status"] = "Consumed"
    sim.state.activation = {
        "UUID": str(uuid.uuid4()),
        "url": url or HCX_CONNECT_URL,
        "activationKey": key,
        "activatedAt": sim.clock.now_ms(),
    }


@router.add("GET", "/api/admin/global/config/hcx", auth="basic")
def get_activation_legacy(sim, req):
    a = sim.state.activation
    return wrap(*([{"url": a["url"], "activationKey": a["activationKey"], "UUID": a["UUID"]}] if a else []))


@router.add("POST", "/api/admin/global/config/hcx", auth="basic")
def activate_legacy(sim, req):
    # Older builds activate synchronously here; a bad or consumed key is answered at once.
    config = config_items(req.json(), "Activation")
    activate(sim, config.get("activationKey"), config.get("url"))
    return get_activation_legacy(sim, req)


@router.add("DELETE", "/api/admin/global/config/hcx/{uuid}", auth="basic")
def deactivate_legacy(sim, req):
    if not sim.state.activation or sim.state.activation["UUID"] != req.params["uuid"]:
        raise SimError(404, f"Activation {req.params['uuid']} not found")
    sim.state.activation = None
    return Response(204)


# [U] What the licence list holds before a key is entered (variant licenses_before_activation): its
# item shape is not documented; these carry the names field notes report (EVALUATION_MODE, VCF).
LICENSES_WITHOUT_KEY = {
    "none": [],
    "evaluation": [{"licenseType": "EVALUATION_MODE", "status": "EVALUATION_MODE", "edition": "Enterprise"}],
    "vcf": [{"licenseType": "VCF", "status": "ACTIVE", "source": "vCenter", "edition": "Enterprise"}],
}


@router.add("GET", "/api/admin/licenses", auth="basic")
def list_licenses(sim, req):
    a = sim.state.activation
    keyed = (
        [
            {
                "licenseKey": a["activationKey"],
                "status": "ACTIVE",
                "url": a["url"],
                "activatedAt": a["activatedAt"],
            }
        ]
        if a
        else []
    )
    return {"licenses": [*LICENSES_WITHOUT_KEY[sim.variant("licenses_before_activation")], *keyed]}


@router.add("POST", "/api/admin/licenses/activation", auth="basic")
def activate_current(sim, req):
    # Current builds answer with a job id; a bad key shows up as FAILED in the status poll.
    body = req.json()
    key, url = body.get("licenseKey"), body.get("url")
    try:
        check_key(sim, key)
        failure = None
    except SimError as exc:
        failure = exc.text
    work = sim.start_work(
        "license", "activation", "admin", failure=failure, on_success=lambda: activate(sim, key, url)
    )
    return {"jobId": work.id}


@router.add("GET", "/api/admin/licenses/status/{job_id}", auth="basic")
def activation_status(sim, req):
    work = sim.work("license", req.params["job_id"])
    if not work.finished:
        return {"status": "RUNNING", "message": "Activating"}
    if work.failure:
        return {"status": "FAILED", "message": work.failure}
    return {"status": "COMPLETED", "message": "Activated"}


# --- vCenter, certificates, SSO, NSX ---------------------------------------------------------


def decode_password(value: str, what: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SimError(400, f"{what}: password must be base64-encoded") from None


def register_vcenter(sim, config: dict) -> dict:
    require(config, "vCenter", "url", "userName", "password")
    decode_password(config["password"], "vCenter")
    if sim.state.vcenter:
        raise SimError(400, "A vCenter is already registered: delete it first")
    sim.state.vcenter = {
        "url": config["url"],
        "userName": config["userName"],
        "UUID": str(uuid.uuid4()),
        "vcuuid": LOCAL_VC_UUID,
        "name": LOCAL_VC["name"],
        "version": "8.0.2",
        "buildNumber": "22617221",
    }
    return sim.state.vcenter


def public_vcenter(vc: dict) -> dict:
    return {**vc, "uuid": vc["UUID"]}


@router.add("GET", "/api/admin/global/config/vcenter", auth="basic")
def list_vcenters(sim, req):
    return wrap(*([public_vcenter(sim.state.vcenter)] if sim.state.vcenter else []))


def untrusted(sim, url: str) -> Response | None:
    """HCX connects to the vCenter (or lookup service) it is given; a certificate it does not trust
    (vCenter's own VMCA one, by default) is refused until imported with POST /api/admin/certificates.
    The answer's shape is a variant (untrusted_certificate_answer)."""
    pem = sim.server_certificate(url)
    if pem in sim.state.trusted_certificates:
        return None
    text = "Untrusted SSL connection"
    shape = sim.variant("untrusted_certificate_answer")
    if shape == "errors":
        return Response(
            400,
            {
                "success": False,
                "completed": True,
                "time": sim.clock.now_ms(),
                "version": "1.0",
                "data": {},
                "errors": [
                    {"error": text, "text": f"{text} to {url}", "data": [{"certificate": pem, "url": url}]}
                ],
            },
        )
    body = {"isSuccess": False, "message": text, "httpStatusCode": 400}
    if shape == "data":
        body["data"] = [{"certificate": pem, "url": url}]
    return Response(400, body)


def trust_host(sim, url: str):
    """For presets: the certificate of the server at `url` is in HCX's trust store."""
    pem = sim.server_certificate(url)
    if pem not in sim.state.trusted_certificates:
        sim.state.trusted_certificates.append(pem)


@router.add("POST", "/api/admin/global/config/vcenter", auth="basic")
def add_vcenter(sim, req):
    config = config_items(req.json(), "vCenter")
    require(config, "vCenter", "url", "userName", "password")
    decode_password(config["password"], "vCenter")
    refused = untrusted(sim, config["url"])
    if refused:
        return refused
    return wrap(public_vcenter(register_vcenter(sim, config)))


@router.add("DELETE", "/api/admin/global/config/vcenter/{uuid}", auth="basic")
def delete_vcenter(sim, req):
    if not sim.state.vcenter or sim.state.vcenter["UUID"] != req.params["uuid"]:
        raise SimError(404, f"vCenter {req.params['uuid']} not found")
    sim.state.vcenter = None
    return Response(204)


@router.add("POST", "/api/admin/certificates", auth="basic")
def import_certificate_admin(sim, req):
    return import_certificate(sim, req.json())


def import_certificate(sim, body: dict) -> dict:
    pem = (body or {}).get("certificate", "")
    if "BEGIN CERTIFICATE" not in pem:
        raise SimError(400, "certificate must be a PEM-encoded certificate")
    if pem not in sim.state.trusted_certificates:
        sim.state.trusted_certificates.append(pem)
    return {"success": True}


def set_sso(sim, config: dict, sso_uuid: str | None = None) -> dict:
    require(config, "Lookup service", "lookupServiceUrl")
    sim.state.sso = {
        "lookupServiceUrl": config["lookupServiceUrl"],
        "providerType": config.get("providerType", "PSC"),
        "UUID": sso_uuid or str(uuid.uuid4()),
    }
    return sim.state.sso


@router.add("GET", "/api/admin/global/config/lookupservice", auth="basic")
def get_sso(sim, req):
    return wrap(*([sim.state.sso] if sim.state.sso else []))


@router.add("POST", "/api/admin/global/config/lookupservice", auth="basic")
def add_sso(sim, req):
    config = config_items(req.json(), "Lookup service")
    require(config, "Lookup service", "lookupServiceUrl")
    return untrusted(sim, config["lookupServiceUrl"]) or wrap(set_sso(sim, config))


@router.add("POST", "/api/admin/global/config/lookupservice/{uuid}", auth="basic")
def update_sso(sim, req):
    if not sim.state.sso or sim.state.sso["UUID"] != req.params["uuid"]:
        raise SimError(404, f"Lookup service {req.params['uuid']} not found")
    config = config_items(req.json(), "Lookup service")
    require(config, "Lookup service", "lookupServiceUrl")
    return untrusted(sim, config["lookupServiceUrl"]) or wrap(set_sso(sim, config, req.params["uuid"]))


@router.add("DELETE", "/api/admin/global/config/lookupservice/{uuid}", auth="basic")
def delete_sso(sim, req):
    if not sim.state.sso or sim.state.sso["UUID"] != req.params["uuid"]:
        raise SimError(404, f"Lookup service {req.params['uuid']} not found")
    sim.state.sso = None
    return Response(204)


@router.add("GET", "/api/admin/global/config/nsx", auth="basic")
def get_nsx(sim, req):
    nsx = sim.state.nsx
    return wrap(*([{k: v for k, v in nsx.items() if k != "password"}] if nsx else []))


@router.add("POST", "/api/admin/global/config/nsx", auth="basic")
def add_nsx(sim, req):
    config = config_items(req.json(), "NSX")
    require(config, "NSX", "url", "userName", "password")
    decode_password(config["password"], "NSX")
    sim.state.nsx = {
        "url": config["url"],
        "userName": config["userName"],
        "version": "4.1.2",
        "uuid": str(uuid.uuid4()),
    }
    return get_nsx(sim, req)


# --- location, role mappings, proxy -----------------------------------------------------------


@router.add("GET", "/api/admin/global/config/searchCities", auth="basic")
def search_cities(sim, req):
    needle = (req.arg("searchString") or "").lower()
    return {"items": [c for c in CITIES if needle in c["city"].lower()]}


@router.add("PUT", "/api/admin/global/config/location", auth="basic")
def set_location(sim, req):
    body = req.json()
    require(body, "Location", "city", "country", "latitude", "longitude")
    sim.state.location = {
        k: body.get(k) for k in ("city", "country", "cityAscii", "province", "latitude", "longitude")
    }
    return Response(204)


@router.add("GET", "/api/admin/global/config/location", auth="basic")
def get_location(sim, req):
    return sim.state.location or {}


@router.add("PUT", "/api/admin/global/config/roleMappings", auth="basic")
def set_role_mappings(sim, req):
    body = req.json()
    if not isinstance(body, list):
        raise SimError(400, "Role mappings: body must be a JSON array of {role, userGroups}")
    for i, item in enumerate(body):
        if (
            not isinstance(item, dict)
            or item.get("role") not in ROLES
            or not isinstance(item.get("userGroups"), list)
        ):
            raise SimError(
                400, f"Role mappings: item {i} needs role in {sorted(ROLES)} and a userGroups list"
            )
    sim.state.role_mappings = body
    return {"isSuccess": True, "message": "Role mappings updated", "httpStatusCode": 200}


@router.add("GET", "/api/admin/global/config/roleMappings", auth="basic")
def get_role_mappings(sim, req):
    # [U] A fresh HCX lists both roles with no groups: the shape is the one PUT takes.
    return sim.state.role_mappings or [
        {"role": role, "userGroups": []} for role in sorted(ROLES, reverse=True)
    ]


@router.add("POST", "/api/admin/global/config/proxy", auth="basic")
def add_proxy(sim, req):
    config = config_items(req.json(), "Proxy")
    require(config, "Proxy", "proxyHost", "proxyPort")
    sim.state.proxy = {
        **{k: config.get(k) for k in ("proxyHost", "proxyPort", "nonProxyHosts", "userName")},
        "UUID": str(uuid.uuid4()),
    }
    return wrap(sim.state.proxy)


@router.add("DELETE", "/api/admin/global/config/proxy/{uuid}", auth="basic")
def delete_proxy(sim, req):
    if not sim.state.proxy or sim.state.proxy["UUID"] != req.params["uuid"]:
        raise SimError(404, f"Proxy {req.params['uuid']} not found")
    sim.state.proxy = None
    return Response(204)


# --- components -------------------------------------------------------------------------------


def component(sim, name: str) -> str:
    if name not in sim.state.components:
        raise SimError(404, f"Component {name} not found (known: {', '.join(sim.state.components)})")
    return name


@router.add("POST", "/components/{name}", auth="basic")
def control_component(sim, req):
    name = component(sim, req.params["name"])
    action = req.arg("action")
    if action not in ("start", "stop"):
        raise SimError(400, "action must be start or stop")
    was_running = sim.state.components[name]
    sim.state.components[name] = action == "start"
    if name == "appengine" and action == "start" and not was_running:
        sim.state.appengine_started = sim.clock.now()
        sim.state.appengine_restarts += 1
    return {"result": "RUNNING" if sim.state.components[name] else "STOPPED"}


@router.add("GET", "/components/{name}/status", auth="basic")
def component_status(sim, req):
    name = component(sim, req.params["name"])
    return {"result": "RUNNING" if sim.state.components[name] else "STOPPED"}
