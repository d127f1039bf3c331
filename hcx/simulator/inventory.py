"""The fixed vSphere inventory the simulated Connector reports for its registered vCenter, and the
AVS (cloud) side it pairs with: the vCenter tree, networks, and the service inventory of both sites
(containers, datastores, storage profiles; the VMs come from the registered facts and the migrations).
Ids follow vSphere moref forms so client code sees realistic values."""

LOCAL_VC_UUID = "5a1c0b8e-0c0f-4e7a-9d1e-000000000001"
REMOTE_VC_UUID = "7f3e2d1c-8b9a-4c5d-9e0f-000000000002"
# Endpoint ids are a creation timestamp and a uuid, as real HCX shows them (hcx-wire.md §5).
REMOTE_ENDPOINT_ID = "20250606141804337-9d4c2a71-3b5e-4f08-a6c1-7e2d90b4f5a3"
REMOTE_COMPUTE_PROFILE_ID = "3f6b1c2e-8a4d-4e97-b0c5-1d2e3f4a5b6c"

LOCAL_VC = {
    "vcenter_instanceId": LOCAL_VC_UUID,
    "entity_id": LOCAL_VC_UUID,
    "name": "vcsa-onprem.local",
    "entityType": "VC",
    "children": [
        {
            "entity_id": "datacenter-2",
            "name": "DC-OnPrem",
            "entityType": "Datacenter",
            "children": [
                {"entity_id": "domain-c7", "name": "Cluster-Prod", "entityType": "ClusterComputeResource"},
                {"entity_id": "domain-c8", "name": "Cluster-Mgmt", "entityType": "ClusterComputeResource"},
            ],
        }
    ],
}

LOCAL_DATASTORES = [
    {"id": "datastore-11", "name": "vsanDatastore", "entity_type": "Datastore"},
    {"id": "datastore-12", "name": "nfs-01", "entity_type": "Datastore"},
]

LOCAL_DVS = [
    {"id": "dvs-21", "name": "DSwitch-Prod", "type": "VmwareDistributedVirtualSwitch", "maxMtu": 9000}
]

# entityType "Network" is a portgroup on a vSphere Standard Switch: HCX cannot extend it.
LOCAL_NETWORKS = [
    {
        "entity_id": "dvportgroup-31",
        "name": "Mgmt-VLAN10",
        "entityType": "DistributedVirtualPortgroup",
        "vlanId": 10,
    },
    {
        "entity_id": "dvportgroup-32",
        "name": "vMotion-VLAN20",
        "entityType": "DistributedVirtualPortgroup",
        "vlanId": 20,
    },
    {
        "entity_id": "dvportgroup-33",
        "name": "Uplink-VLAN30",
        "entityType": "DistributedVirtualPortgroup",
        "vlanId": 30,
    },
    *[
        {
            "entity_id": f"dvportgroup-{40 + i}",
            "name": f"App-VLAN{100 + i}",
            "entityType": "DistributedVirtualPortgroup",
            "vlanId": 100 + i,
        }
        for i in range(1, 13)
    ],
    {"entity_id": "network-61", "name": "VM Network", "entityType": "Network", "vlanId": 0},
]

REMOTE_NETWORKS = [
    {"entity_id": "/infra/segments/TNT-HCX-UPLINK", "name": "TNT-HCX-UPLINK", "entityType": "NsxtSegment"},
    {"entity_id": "/infra/segments/TNT-HCX-MGMT", "name": "TNT-HCX-MGMT", "entityType": "NsxtSegment"},
]
REMOTE_GATEWAYS = ["TNT-T1"]

REMOTE_COMPUTE_PROFILE = {
    "computeProfileId": REMOTE_COMPUTE_PROFILE_ID,
    "name": "TNT-AVS-CP",
    "services": [
        {"name": n}
        for n in (
            "INTERCONNECT",
            "WANOPT",
            "VMOTION",
            "BULK_MIGRATION",
            "RAV",
            "NETWORK_EXTENSION",
            "DISASTER_RECOVERY",
        )
    ],
    "compute": [
        {
            "cmpId": REMOTE_VC_UUID,
            "cmpType": "VC",
            "cmpName": "vcsa-avs",
            "id": "datacenter-3",
            "name": "SDDC-Datacenter",
            "type": "Datacenter",
        }
    ],
    "deploymentContainer": {
        "compute": [
            {
                "cmpId": REMOTE_VC_UUID,
                "id": "domain-c8",
                "name": "Cluster-1",
                "type": "ClusterComputeResource",
            }
        ],
        "storage": [],
    },
    "networks": [],
    "switches": [
        {
            "cmpId": REMOTE_VC_UUID,
            "id": "/infra/tier-1s/TNT-T1",
            "name": "TNT-T1",
            "type": "NsxtTransportZone",
            "maxMtu": 8900,
        }
    ],
    "state": "VALID",
}

# The service inventory's containers, datastores and storage profiles of each site (hcx-wire.md §4):
# what `POST .../service/inventory/containers|datastores|storageProfiles` list. AYA and ADL read
# `entity_id`/`id`, `name`, `entityType` and `_origin.endpointId`; the shapes that no source settles
# (which id field, the spelling of entityType) follow the variants `inventory_ids` and
# `inventory_type_names` (variants.py). Each entry is (id, name, vSphere type, lower-case type).
REMOTE_CONTAINERS = [
    ("datacenter-3", "SDDC-Datacenter", "Datacenter", "datacenter"),
    ("domain-c8", "Cluster-1", "ClusterComputeResource", "cluster"),
    ("resgroup-9", "Resources", "ResourcePool", "resourcePool"),
    ("resgroup-31", "Workloads-RP", "ResourcePool", "resourcePool"),
    ("group-v4", "Discovered virtual machine", "Folder", "folder"),
    ("group-v31", "Workloads", "Folder", "folder"),
    ("group-v32", "Migrated", "Folder", "folder"),
]
LOCAL_CONTAINERS = [
    ("datacenter-2", "DC-OnPrem", "Datacenter", "datacenter"),
    ("domain-c7", "Cluster-Prod", "ClusterComputeResource", "cluster"),
    ("domain-c8", "Cluster-Mgmt", "ClusterComputeResource", "cluster"),
    ("resgroup-8", "Resources", "ResourcePool", "resourcePool"),
    ("group-v3", "vm", "Folder", "folder"),
    ("group-v41", "Apps", "Folder", "folder"),
    ("group-v42", "Migrated VMs", "Folder", "folder"),
]
# AVS clusters have a vSAN datastore each; an Azure NetApp Files datastore can be attached.
REMOTE_DATASTORES = [("datastore-1011", "vsanDatastore"), ("datastore-1012", "anf-datastore-01")]
STORAGE_PROFILES = ["vSAN Default Storage Policy", "RAID-1 FTT-1", "RAID-5 FTT-1"]
# A VM that a forward migration put in AVS gets a new moref there: this number plus the migration's
# sequence number, so it never equals an on-premises moref the tests use.
AVS_VM_ID_BASE = 9000


def avs_vm_id(forward_migration) -> str:
    """The id in AVS of the VM `forward_migration` (a completed migration to AVS) put there."""
    return f"vm-{AVS_VM_ID_BASE + forward_migration.seq}"


CITIES = [
    {
        "city": "Amsterdam",
        "country": "Netherlands",
        "province": "North Holland",
        "latitude": 52.37,
        "longitude": 4.89,
    },
    {"city": "Dublin", "country": "Ireland", "province": "Leinster", "latitude": 53.35, "longitude": -6.26},
    {"city": "Frankfurt", "country": "Germany", "province": "Hesse", "latitude": 50.11, "longitude": 8.68},
    {
        "city": "London",
        "country": "United Kingdom",
        "province": "England",
        "latitude": 51.51,
        "longitude": -0.13,
    },
    {"city": "Paris", "country": "France", "province": "Ile-de-France", "latitude": 48.86, "longitude": 2.35},
    {
        "city": "New York",
        "country": "United States",
        "province": "New York",
        "latitude": 40.71,
        "longitude": -74.01,
    },
    {
        "city": "Seattle",
        "country": "United States",
        "province": "Washington",
        "latitude": 47.61,
        "longitude": -122.33,
    },
    {"city": "Singapore", "country": "Singapore", "province": "", "latitude": 1.35, "longitude": 103.82},
    {
        "city": "Sydney",
        "country": "Australia",
        "province": "New South Wales",
        "latitude": -33.87,
        "longitude": 151.21,
    },
]

SERVICE_NAMES = {
    "INTERCONNECT",
    "WANOPT",
    "VMOTION",
    "BULK_MIGRATION",
    "RAV",
    "NETWORK_EXTENSION",
    "DISASTER_RECOVERY",
    "SRM",
}


def local_network(network_id: str) -> dict | None:
    return next((n for n in LOCAL_NETWORKS if n["entity_id"] == network_id), None)
