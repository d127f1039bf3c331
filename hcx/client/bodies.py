"""Request bodies of the HCX set-up and migration calls (hcx-wire.md §5 and §6), built from
the few values a person chooses, so callers never hand-assemble HCX's nested JSON. Each returns a
plain dict for HcxService.
"""

import datetime
from collections.abc import Iterable

NETWORK_PROFILE_TAGS = ("management", "uplink", "vmotion", "replication")


def network_profile(
    *,
    name: str,
    backing: dict,
    vcenter_uuid: str,
    ranges: Iterable[tuple[str, str]],
    gateway: str,
    prefix_length: int,
    dns: Iterable[str] = (),
    dns_suffix: str = "",
    mtu: int = 1500,
    tags: Iterable[str] = (),
) -> dict:
    """`backing` is an item of `HcxService.networks()` (entity_id, name, entityType)."""
    dns = list(dns)
    scope = {
        "networkIpRanges": [{"startAddress": start, "endAddress": end} for start, end in ranges],
        "gateway": gateway,
        "prefixLength": prefix_length,
    }
    if dns:
        scope["primaryDns"] = dns[0]
    if len(dns) > 1:
        scope["secondaryDns"] = dns[1]
    if dns_suffix:
        scope["dnsSuffix"] = dns_suffix
    return {
        "name": name,
        "organization": "DEFAULT",
        "mtu": mtu,
        "backings": [
            {
                "backingId": backing["entity_id"],
                "backingName": backing["name"],
                "type": backing["entityType"],
                "vCenterInstanceUuid": vcenter_uuid,
            }
        ],
        "ipScopes": [scope],
        "l3TenantManaged": False,
        "ownedBySystem": True,
        "recommendationTags": list(tags),
    }


def compute_profile(
    *,
    name: str,
    services: Iterable[str],
    vcenter: dict,
    datacenter: dict,
    clusters: Iterable[dict],
    datastore: dict,
    network_profiles: Iterable[dict],
    switches: Iterable[dict] = (),
) -> dict:
    """`vcenter` and its `datacenter`/`clusters` come from `HcxService.vcenters()` (the tree),
    `datastore` and `switches` from `datastores()`/`switches()`, `network_profiles` from
    `list_network_profiles()` (objectId, name, recommendationTags)."""
    vc_uuid, vc_name = vcenter["vcenter_instanceId"], vcenter["name"]
    return {
        "name": name,
        "services": [{"name": s} for s in services],
        "compute": [
            {
                "cmpId": vc_uuid,
                "cmpType": "VC",
                "cmpName": vc_name,
                "id": datacenter["entity_id"],
                "name": datacenter["name"],
                "type": datacenter["entityType"],
            }
        ],
        "deploymentContainer": {
            "compute": [
                {
                    "cmpId": vc_uuid,
                    "cmpType": "VC",
                    "cmpName": vc_name,
                    "id": c["entity_id"],
                    "name": c["name"],
                    "type": c["entityType"],
                }
                for c in clusters
            ],
            "storage": [
                {
                    "cmpId": vc_uuid,
                    "cmpType": "VC",
                    "cmpName": vc_name,
                    "id": datastore["id"],
                    "name": datastore["name"],
                    "type": datastore.get("entity_type", "Datastore"),
                }
            ],
        },
        "networks": [
            {
                "id": p["objectId"],
                "name": p["name"],
                "tags": list(p.get("recommendationTags") or []),
                "status": {"state": "REALIZED"},
                "staticRoutes": [],
            }
            for p in network_profiles
        ],
        "switches": [
            {
                "cmpId": vc_uuid,
                "id": s["id"],
                "name": s["name"],
                "type": s.get("type"),
                "maxMtu": s.get("maxMtu"),
            }
            for s in switches
        ],
    }


def service_mesh(
    *,
    name: str,
    local_profile: dict,
    remote_profile: dict,
    services: Iterable[str],
    uplink_max_bandwidth: int = 10000,
    extension_appliances: int = 1,
    switch_pair: tuple[dict, dict] | None = None,
) -> dict:
    """`local_profile`/`remote_profile` are compute profiles from `list_compute_profiles()` (with
    their endpointId). hcx-wire.md §5 leaves the bandwidth unit open; 10000 is TF's default."""
    services = list(services)
    body = {
        "name": name,
        "computeProfiles": [
            {
                "endpointId": p["endpointId"],
                "endpointName": p.get("endpointName", ""),
                "computeProfileId": p["computeProfileId"],
                "computeProfileName": p["name"],
            }
            for p in (local_profile, remote_profile)
        ],
        "wanoptConfig": {"uplinkMaxBandwidth": uplink_max_bandwidth},
        "trafficEnggCfg": {"isAppPathResiliencyEnabled": False, "isTcpFlowConditioningEnabled": False},
        "services": [{"name": s} for s in services],
    }
    if "NETWORK_EXTENSION" in services:
        local_switch, remote_switch = switch_pair or (
            (local_profile.get("switches") or [{}])[0],
            (remote_profile.get("switches") or [{}])[0],
        )
        body["switchPairCount"] = [
            {"switches": [local_switch, remote_switch], "l2cApplianceCount": extension_appliances}
        ]
    return body


def l2_extension(
    *,
    network: dict,
    appliance_id: str,
    destination: dict,
    gateway_id: str,
    gateway: str,
    netmask: str,
    vcenter_uuid: str,
    dns: Iterable[str] = (),
    mobility_optimized: bool = False,
) -> dict:
    """`network` is a local item of `HcxService.networks()`; `destination` a remote item of
    `resource_containers(remote=True)`; `gateway_id` the AVS Tier-1 name; `gateway`/`netmask` the
    extended network's own gateway address and mask."""
    endpoint = destination.get("endpoint") or {}
    return {
        "vcGuid": vcenter_uuid,
        "gateway": gateway,
        "netmask": netmask,
        "dns": list(dns),
        "destination": {
            "endpointId": endpoint.get("endpointId"),
            "endpointName": endpoint.get("name"),
            "endpointType": endpoint.get("cloudType", "hcx"),
            "resourceId": destination["resourceId"],
            "resourceName": destination["resourceName"],
            "resourceType": destination["resourceType"],
        },
        "destinationNetwork": {"gatewayId": gateway_id},
        "features": {"egressOptimization": False, "mobilityOptimizedNetworking": mobility_optimized},
        "sourceAppliance": {"applianceId": appliance_id},
        "sourceNetwork": {
            "networkId": network["entity_id"],
            "networkName": network["name"],
            "networkType": network["entityType"],
        },
    }


# --- migrations and mobility groups (hcx-wire.md §6, the mobility API) ---------------------------

# Our four migration types -> the mobility API's (migrationType/switchoverType, transferType) (hcx-wire.md §9.1).
MIGRATION_TYPES = {
    "Bulk": ("vSphereReplication", "vSphereReplication"),
    "RAV": ("RAV", "vSphereReplication"),
    "vMotion": ("vMotion", "NO_OP"),
    "Cold": ("ColdMigration", "NO_OP"),
}


def epoch_ms(moment: datetime.datetime | None) -> int:
    """Schedule times are epoch milliseconds (UTC); 0 means no schedule (hcx-wire.md §6, §9.2)."""
    if moment is None:
        return 0
    if moment.tzinfo is None:
        raise ValueError("give switchover times with a time zone, so that HCX gets the instant meant")
    return int(moment.timestamp() * 1000)


def site(
    endpoint_id: str, *, endpoint_name: str = "", vcenter_uuid: str = "", vcenter_name: str = ""
) -> dict:
    """A migration's `source` or `destination`: the HCX endpoint (from `clouds()`) and its vCenter.
    Every working start payload found sends the vCenter uuid as `computeResourceId` beside the
    endpoint (hcx-wire.md §6: ASAF, AYA, ADL)."""
    body = {"endpointType": "VC", "endpointId": endpoint_id, "endpointName": endpoint_name}
    if vcenter_uuid:
        body.update(
            computeResourceId=vcenter_uuid,
            resourceType="VC",
            resourceId=vcenter_uuid,
            resourceName=vcenter_name,
        )
    return body


def container(container_id: str, name: str, container_type: str) -> dict:
    """A `placement` entry: a resource pool, cluster, folder or datacenter at the destination."""
    return {"id": container_id, "name": name, "type": container_type}


def network_mapping(
    *,
    source_id: str,
    source_name: str,
    source_type: str,
    destination_id: str,
    destination_name: str,
    destination_type: str = "NsxtSegment",
    source_href: str = "",
    destination_href: str = "",
) -> dict:
    """One `networkMappings` entry. The sources name a network by `*Value`, `*Id`, `*Href` and
    `*DisplayName` (hcx-wire.md §6: AYA, ASAF, ADL; BRC lists `*Value` and `*Id`): all are sent. The
    href is the inventory's (an NSX segment's is `/infra/segments/<name>`); the id stands in without one."""
    return {
        "srcNetworkType": source_type,
        "srcNetworkValue": source_id,
        "srcNetworkId": source_id,
        "srcNetworkHref": source_href or source_id,
        "srcNetworkName": source_name,
        "srcNetworkDisplayName": source_name,
        "destNetworkType": destination_type,
        "destNetworkValue": destination_href or destination_id,
        "destNetworkId": destination_id,
        "destNetworkHref": destination_href or destination_id,
        "destNetworkName": destination_name,
        "destNetworkDisplayName": destination_name,
        "bindingType": "static",
    }


def migration(
    *,
    vm_id: str,
    vm_name: str,
    migration_type: str,
    source: dict,
    destination: dict,
    placement: Iterable[dict],
    datastore_id: str,
    datastore_name: str = "",
    disk_provisioning: str = "thin",
    network_mappings: Iterable[dict] = (),
    service_mesh_id: str | None = None,
    switchover_start: datetime.datetime | None = None,
    switchover_end: datetime.datetime | None = None,
    remove_isos: bool = False,
    remove_snapshots: bool = False,
    force_power_off: bool = False,
    retain_mac: bool = True,
    upgrade_tools: bool = False,
    upgrade_hardware: bool = False,
    seed_checkpoint: bool = False,
) -> dict:
    """One item of `/mobility/migrations/validate|start`, or of a mobility group's `migrations`, for a
    VM the portal knows (`vm_id` is whatever id the portal keeps for it, e.g. its vCenter moref).
    `migration_type` is Bulk, vMotion, RAV or Cold; the switchover window only means something for
    Bulk and RAV. It carries no `migrationGroupId`: a migration joins a group by being created in it
    (hcx-wire.md §6)."""
    if migration_type not in MIGRATION_TYPES:
        raise ValueError(f"migration_type must be one of {sorted(MIGRATION_TYPES)}, not {migration_type!r}")
    api_type, transfer_type = MIGRATION_TYPES[migration_type]
    options = {
        "retainMac": retain_mac,
        "forcePowerOffVm": force_power_off,
        "upgradeHardware": upgrade_hardware,
        "upgradeVMTools": upgrade_tools,
        "removeISOs": remove_isos,
        "removeSnapshots": remove_snapshots,
    }
    body = {
        "migrationType": api_type,
        "entity": {"entityId": vm_id, "entityName": vm_name, "entityType": "VirtualMachine"},
        "source": source,
        "destination": destination,
        "transferParams": {
            "transferType": transfer_type,
            "longRecovery": seed_checkpoint,
            "transferProfile": [
                {"option": "removeISOs", "value": remove_isos},
                {"option": "removeSnapshots", "value": remove_snapshots},
            ],
            "schedule": {"startTime": 0, "expiryTime": 0},
        },
        "switchoverParams": {
            "switchoverType": api_type,
            "options": options,
            "schedule": {"startTime": epoch_ms(switchover_start), "expiryTime": epoch_ms(switchover_end)},
        },
        "placement": list(placement),
        "storage": {
            "defaultStorage": {
                "id": datastore_id,
                "name": datastore_name,
                "type": "Datastore",
                "diskProvisionType": disk_provisioning,
            }
        },
        "networkParams": {"networkMappings": list(network_mappings)},
    }
    if service_mesh_id:
        body["servicemeshId"] = service_mesh_id
    return body


def mobility_group(
    *,
    name: str,
    source: dict,
    destination: dict,
    migration_type: str | None = None,
    service_mesh_id: str | None = None,
    tags: Iterable[str] = (),
) -> dict:
    """A mobility group whose defaults its migrations inherit; `create_mobility_group()` sends it with
    its migrations, the only way the sources show (hcx-wire.md §6)."""
    defaults = {"source": source, "destination": destination}
    if migration_type:
        defaults["migrationType"] = MIGRATION_TYPES[migration_type][0]
    if service_mesh_id:
        defaults["servicemeshId"] = service_mesh_id
    return {"name": name, "tags": list(tags), "groupDefaults": defaults}
