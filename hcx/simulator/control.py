"""Test controls on the service port under `/__sim__/` (no authentication: bind to loopback).

- `POST /__sim__/reset` `{"preset": "fresh"|"configured"|"paired"|"meshed"}`: wipe everything (state,
  sessions, ARM tokens, faults, migrations, VM facts, migration settings) and rebuild a starting point;
  see PRESETS.
- `GET|POST /__sim__/vms` `{"items": [{"id", "name", "diskBytes", "powerState", ...}]}`: the facts of
  the VMs to migrate (migrations.py VM_DEFAULTS; 40 GiB and powered on when not registered).
- `GET|POST /__sim__/migration-settings` `{"linkMbps": 400, ...}`: what shapes migrations
  (migration_engine.Settings: link, per-migration cap, replication limits, phase durations).
- `GET /__sim__/state`: the whole world as JSON.
- `POST /__sim__/service-meshes/{id}/fail-update` `{"message"}`: an update of that mesh fails (UPDATE_FAILED).
- `POST /__sim__/unlock`: unlock the SSO account that too many failed logins locked (`--lockout-after`).
- `GET|POST|DELETE /__sim__/faults`: list, add (see faults.py) or clear faults.
- `GET /__sim__/clock`, `POST /__sim__/clock` `{"advance": seconds}`: read or skip simulated time.
"""

import base64

from . import appliance, arm, migrations, service, variants
from . import inventory as inv
from .faults import FaultSpecError
from .inventory import CITIES, LOCAL_DVS, LOCAL_NETWORKS, LOCAL_VC, LOCAL_VC_UUID
from .server import Response, Router, SimError
from .state import DURATIONS

router = Router()
ALL_SERVICES = ["INTERCONNECT", "WANOPT", "VMOTION", "BULK_MIGRATION", "RAV", "NETWORK_EXTENSION"]


PAIRING_SKIP = max(DURATIONS["sitePairing"], DURATIONS["networkProfile"], DURATIONS["computeProfile"]) + 1
MESH_SKIP = DURATIONS["serviceMesh"] + 1
EXTENSION_SKIP = DURATIONS["l2Extension"] + 1


def preset_configured(sim):
    """An activated Connector with vCenter, SSO and location set, as after the appliance set-up."""
    sim.state.addons["hcx"] = {
        "id": f"{sim.private_cloud_id()}/addons/hcx",
        "name": "hcx",
        "type": "Microsoft.AVS/privateClouds/addons",
        "properties": {
            "addonType": "HCX",
            "offer": "VMware MaaS Cloud Provider (Enterprise)",
            "provisioningState": "Succeeded",
        },
    }
    site = arm.issue_key(sim, "connector-1")
    appliance.activate(sim, site["properties"]["activationKey"], appliance.HCX_CONNECT_URL)
    appliance.trust_host(sim, "https://vcsa-onprem.local")  # as the set-up imports it before registering
    appliance.register_vcenter(
        sim,
        {
            "url": "https://vcsa-onprem.local",
            "userName": "administrator@vsphere.local",
            "password": base64.b64encode(b"VMware1!").decode(),
        },
    )
    appliance.set_sso(
        sim, {"lookupServiceUrl": "https://vcsa-onprem.local/lookupservice/sdk", "providerType": "PSC"}
    )
    sim.state.location = {**CITIES[0], "cityAscii": CITIES[0]["city"]}


def network_profile_body(name: str, backing: dict, tag: str, third_octet: int) -> dict:
    return {
        "name": name,
        "organization": "DEFAULT",
        "mtu": 1500,
        "backings": [
            {
                "backingId": backing["entity_id"],
                "backingName": backing["name"],
                "type": backing["entityType"],
                "vCenterInstanceUuid": LOCAL_VC_UUID,
            }
        ],
        "ipScopes": [
            {
                "networkIpRanges": [
                    {"startAddress": f"192.168.{third_octet}.10", "endAddress": f"192.168.{third_octet}.20"}
                ],
                "gateway": f"192.168.{third_octet}.1",
                "prefixLength": 24,
                "primaryDns": "192.168.1.53",
            }
        ],
        "recommendationTags": [tag],
    }


def preset_paired(sim):
    """`configured` plus a completed site pairing to the AVS cloud, four network profiles (management,
    uplink, vMotion, replication) and a VALID compute profile `cp-onprem` with every service."""
    preset_configured(sim)
    user = sim.config.username
    sim.state.trusted_certificates.append(sim.cloud_cert_pem)
    service.pair(
        sim,
        {
            "url": sim.config.hcx_cloud_url,
            "username": sim.config.cloud_username,
            "password": sim.config.cloud_password,
        },
        user,
    )
    profile_ids = []
    for i, tag in enumerate(("management", "uplink", "vmotion", "replication")):
        backing = LOCAL_NETWORKS[min(i, 2)]
        result = service.create_network_profile(
            sim, network_profile_body(f"np-{tag}", backing, tag, 10 + i), user
        )
        profile_ids.append((result["data"]["objectId"], tag))
    cluster = LOCAL_VC["children"][0]["children"][0]
    service.create_compute_profile(
        sim,
        {
            "name": "cp-onprem",
            "services": [{"name": n} for n in ALL_SERVICES],
            "compute": [
                {
                    "cmpId": LOCAL_VC_UUID,
                    "cmpType": "VC",
                    "cmpName": LOCAL_VC["name"],
                    "id": "datacenter-2",
                    "name": "DC-OnPrem",
                    "type": "Datacenter",
                }
            ],
            "deploymentContainer": {
                "compute": [
                    {
                        "cmpId": LOCAL_VC_UUID,
                        "id": cluster["entity_id"],
                        "name": cluster["name"],
                        "type": cluster["entityType"],
                    }
                ],
                "storage": [
                    {
                        "cmpId": LOCAL_VC_UUID,
                        "id": "datastore-11",
                        "name": "vsanDatastore",
                        "type": "Datastore",
                    }
                ],
            },
            "networks": [{"id": oid, "name": f"np-{tag}", "tags": [tag]} for oid, tag in profile_ids],
            "switches": [{"cmpId": LOCAL_VC_UUID, **{k: v for k, v in LOCAL_DVS[0].items()}}],
        },
        user,
    )
    # Let the pairing and profile work finish, as if the set-up happened a while ago.
    sim.clock.advance(PAIRING_SKIP)
    sim.tick()


MESH_NAME, EXTENDED_NETWORK = "mesh-avs", "dvportgroup-41"  # App-VLAN101


def preset_meshed(sim):
    """`paired` plus a COMMITTED service mesh `mesh-avs` offering every migration service (Bulk,
    vMotion, RAV) and network extension, and App-VLAN101 (`dvportgroup-41`) extended: migrations can
    start at once."""
    preset_paired(sim)
    user = sim.config.username
    local = next(iter(sim.state.compute_profiles.values()))
    pairing = next(iter(sim.state.pairings.values()))
    mesh = service.create_service_mesh(
        sim,
        {
            "name": MESH_NAME,
            "services": [{"name": n} for n in ALL_SERVICES],
            "computeProfiles": [
                {"endpointId": sim.local_endpoint_id, "computeProfileId": local["computeProfileId"]},
                {"endpointId": pairing["endpointId"], "computeProfileId": inv.REMOTE_COMPUTE_PROFILE_ID},
            ],
            "switchPairCount": [{"switches": [], "l2cApplianceCount": 1}],
        },
        user,
    )["data"]
    sim.clock.advance(MESH_SKIP)
    sim.tick()
    extender = next(
        a
        for a in sim.state.appliances.values()
        if a["serviceMeshId"] == mesh["serviceMeshId"]
        and a["endpointId"] == sim.local_endpoint_id
        and a["applianceType"] == service.APPLIANCE_TYPES[sim.variant("hcx_version")]["NETWORK_EXTENSION"]
    )
    service.create_l2_extension(
        sim,
        {
            "sourceNetwork": {"networkId": EXTENDED_NETWORK},
            "sourceAppliance": {"applianceId": extender["applianceId"]},
            "destination": {"endpointId": pairing["endpointId"]},
            "destinationNetwork": {"gatewayId": inv.REMOTE_GATEWAYS[0]},
            "gateway": "10.10.101.1",
            "netmask": "255.255.255.0",
            "vcGuid": LOCAL_VC_UUID,
        },
        user,
    )
    sim.clock.advance(EXTENSION_SKIP)
    sim.tick()


PRESETS = {
    "fresh": lambda sim: None,
    "configured": preset_configured,
    "paired": preset_paired,
    "meshed": preset_meshed,
}
# Seconds each preset skips the clock through (its set-up "happened a while ago"): the clock starts
# that much before the real now, so the preset ends at the real now and what the simulator reports
# next is not in the future of the portal reading it.
PRESET_SKIPS = {
    "fresh": 0,
    "configured": 0,
    "paired": PAIRING_SKIP,
    "meshed": PAIRING_SKIP + MESH_SKIP + EXTENSION_SKIP,
}


@router.add("POST", "/__sim__/reset")
def reset(sim, req):
    body = req.json(required=False) or {}
    preset = body.get("preset", "fresh")
    if preset not in PRESETS:
        raise SimError(400, f"preset must be one of {sorted(PRESETS)}")
    try:
        chosen = variants.check(body.get("variants") or {})
    except variants.VariantError as exc:
        raise SimError(400, f"Variants: {exc}") from None
    sim.reset(chosen, behind=PRESET_SKIPS[preset])
    PRESETS[preset](sim)
    return {"preset": preset, "now": sim.clock.now(), "variants": dict(sim.variants)}


@router.add("POST", "/__sim__/service-meshes/{mesh_id}/fail-update")
def fail_mesh_update(sim, req):
    """An update of the mesh (a resync from HCX's UI) fails, as LAB saw it: the mesh UPDATE_FAILED."""
    message = (req.json(required=False) or {}).get("message") or "Update VM networks failed"
    return service.fail_mesh_update(sim, req.params["mesh_id"], message)


@router.add("POST", "/__sim__/unlock")
def unlock(sim, req):
    """What an SSO administrator does for a locked account: it may log in again."""
    sim.sessions.unlock()
    return sim.sessions.public()


@router.add("GET", "/__sim__/variants")
def get_variants(sim, req):
    return variants.describe(sim.variants)


@router.add("POST", "/__sim__/variants")
def set_variants(sim, req):
    """Change switches now, keeping the state (a reset also sets them, before its preset is built)."""
    try:
        sim.variants.update(variants.check(req.json() or {}))
    except variants.VariantError as exc:
        raise SimError(400, f"Variants: {exc}") from None
    return variants.describe(sim.variants)


@router.add("GET", "/__sim__/state")
def state(sim, req):
    return sim.dump()


@router.add("GET", "/__sim__/faults")
def list_faults(sim, req):
    return {"items": sim.faults.describe()}


@router.add("POST", "/__sim__/faults")
def add_fault(sim, req):
    try:
        fault = sim.faults.add(req.json())
    except FaultSpecError as exc:
        raise SimError(400, f"Fault: {exc}") from None
    if fault.kind == "expire_sessions":
        sim.sessions.expire_all()
    return Response(201, fault.public())


@router.add("DELETE", "/__sim__/faults")
def clear_faults(sim, req):
    sim.faults.clear()
    return Response(204)


@router.add("GET", "/__sim__/clock")
def get_clock(sim, req):
    return {"now": sim.clock.now(), "scale": sim.clock.scale}


@router.add("POST", "/__sim__/clock")
def advance_clock(sim, req):
    seconds = (req.json() or {}).get("advance")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise SimError(400, "advance must be a number of seconds >= 0")
    now = sim.clock.advance(seconds)
    sim.tick()
    return {"now": now, "scale": sim.clock.scale}


@router.add("GET", "/__sim__/vms")
def list_vms(sim, req):
    seen, items = set(), []
    for facts in sim.vm_facts.values():
        if id(facts) not in seen:
            seen.add(id(facts))
            items.append(facts)
    return {"items": items}


@router.add("POST", "/__sim__/vms")
def add_vms(sim, req):
    return Response(201, {"items": migrations.register_vms(sim, (req.json() or {}).get("items"))})


@router.add("GET", "/__sim__/migration-settings")
def get_migration_settings(sim, req):
    return sim.migration_engine.settings.public()


@router.add("POST", "/__sim__/migration-settings")
def set_migration_settings(sim, req):
    try:
        sim.migration_engine.settings.update(req.json())
    except ValueError as exc:
        raise SimError(400, f"Migration settings: {exc}") from None
    sim.migration_engine.settings_changed()  # raised limits let queued migrations start now
    return sim.migration_engine.settings.public()
