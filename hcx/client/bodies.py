"""Request bodies of the HCX set-up calls (hcx-api.md section 4), built from the few values a person
chooses, so callers never hand-assemble HCX's nested JSON. Each returns a plain dict for HcxService.
"""

from collections.abc import Iterable

NETWORK_PROFILE_TAGS = ("management", "uplink", "vmotion", "replication")


def network_profile(*, name: str, backing: dict, vcenter_uuid: str, ranges: Iterable[tuple[str, str]],
                    gateway: str, prefix_length: int, dns: Iterable[str] = (), dns_suffix: str = "",
                    mtu: int = 1500, tags: Iterable[str] = ()) -> dict:
    """`backing` is an item of `HcxService.networks()` (entity_id, name, entityType)."""
    dns = list(dns)
    scope = {"networkIpRanges": [{"startAddress": start, "endAddress": end} for start, end in ranges],
             "gateway": gateway, "prefixLength": prefix_length}
    if dns:
        scope["primaryDns"] = dns[0]
    if len(dns) > 1:
        scope["secondaryDns"] = dns[1]
    if dns_suffix:
        scope["dnsSuffix"] = dns_suffix
    return {"name": name, "organization": "DEFAULT", "mtu": mtu,
            "backings": [{"backingId": backing["entity_id"], "backingName": backing["name"],
                          "type": backing["entityType"], "vCenterInstanceUuid": vcenter_uuid}],
            "ipScopes": [scope], "l3TenantManaged": False, "ownedBySystem": True,
            "recommendationTags": list(tags)}


def compute_profile(*, name: str, services: Iterable[str], vcenter: dict, datacenter: dict, clusters: Iterable[dict],
                    datastore: dict, network_profiles: Iterable[dict], switches: Iterable[dict] = ()) -> dict:
    """`vcenter` and its `datacenter`/`clusters` come from `HcxService.vcenters()` (the tree),
    `datastore` and `switches` from `datastores()`/`switches()`, `network_profiles` from
    `list_network_profiles()` (objectId, name, recommendationTags)."""
    vc_uuid, vc_name = vcenter["vcenter_instanceId"], vcenter["name"]
    return {
        "name": name, "services": [{"name": s} for s in services],
        "compute": [{"cmpId": vc_uuid, "cmpType": "VC", "cmpName": vc_name, "id": datacenter["entity_id"],
                     "name": datacenter["name"], "type": datacenter["entityType"]}],
        "deploymentContainer": {
            "compute": [{"cmpId": vc_uuid, "cmpType": "VC", "cmpName": vc_name, "id": c["entity_id"],
                         "name": c["name"], "type": c["entityType"]} for c in clusters],
            "storage": [{"cmpId": vc_uuid, "cmpType": "VC", "cmpName": vc_name, "id": datastore["id"],
                         "name": datastore["name"], "type": datastore.get("entity_type", "Datastore")}]},
        "networks": [{"id": p["objectId"], "name": p["name"], "tags": list(p.get("recommendationTags") or []),
                      "status": {"state": "REALIZED"}, "staticRoutes": []} for p in network_profiles],
        "switches": [{"cmpId": vc_uuid, "id": s["id"], "name": s["name"], "type": s.get("type"),
                      "maxMtu": s.get("maxMtu")} for s in switches],
    }


def service_mesh(*, name: str, local_profile: dict, remote_profile: dict, services: Iterable[str],
                 uplink_max_bandwidth: int = 10000, extension_appliances: int = 1,
                 switch_pair: tuple[dict, dict] | None = None) -> dict:
    """`local_profile`/`remote_profile` are compute profiles from `list_compute_profiles()` (with
    their endpointId). hcx-api.md leaves the bandwidth unit open; 10000 is TF's default."""
    services = list(services)
    body = {
        "name": name,
        "computeProfiles": [{"endpointId": p["endpointId"], "endpointName": p.get("endpointName", ""),
                             "computeProfileId": p["computeProfileId"], "computeProfileName": p["name"]}
                            for p in (local_profile, remote_profile)],
        "wanoptConfig": {"uplinkMaxBandwidth": uplink_max_bandwidth},
        "trafficEnggCfg": {"isAppPathResiliencyEnabled": False, "isTcpFlowConditioningEnabled": False},
        "services": [{"name": s} for s in services],
    }
    if "NETWORK_EXTENSION" in services:
        local_switch, remote_switch = switch_pair or (
            (local_profile.get("switches") or [{}])[0], (remote_profile.get("switches") or [{}])[0])
        body["switchPairCount"] = [{"switches": [local_switch, remote_switch],
                                    "l2cApplianceCount": extension_appliances}]
    return body


def l2_extension(*, network: dict, appliance_id: str, destination: dict, gateway_id: str, gateway: str,
                 netmask: str, vcenter_uuid: str, dns: Iterable[str] = (), mobility_optimized: bool = False) -> dict:
    """`network` is a local item of `HcxService.networks()`; `destination` a remote item of
    `resource_containers(remote=True)`; `gateway_id` the AVS Tier-1 name; `gateway`/`netmask` the
    extended network's own gateway address and mask."""
    endpoint = destination.get("endpoint") or {}
    return {
        "vcGuid": vcenter_uuid, "gateway": gateway, "netmask": netmask, "dns": list(dns),
        "destination": {"endpointId": endpoint.get("endpointId"), "endpointName": endpoint.get("name"),
                        "endpointType": endpoint.get("cloudType", "hcx"), "resourceId": destination["resourceId"],
                        "resourceName": destination["resourceName"], "resourceType": destination["resourceType"]},
        "destinationNetwork": {"gatewayId": gateway_id},
        "features": {"egressOptimization": False, "mobilityOptimizedNetworking": mobility_optimized},
        "sourceAppliance": {"applianceId": appliance_id},
        "sourceNetwork": {"networkId": network["entity_id"], "networkName": network["name"],
                          "networkType": network["entityType"]},
    }
