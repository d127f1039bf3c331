"""Switches for what no public source settles about real HCX (docs/hcx-wire.md, "unconfirmed").

Where the sources disagree or are silent, the portal's client must cope with every plausible shape,
and the simulator answers in whichever one a switch picks, so that a test proves the client copes
with each. A switch is named here once, with its values (the first is the default) and what each
value means; the code that answers reads `sim.variant("name")`.

Set them at start (`--variant name=value`, repeatable), per test (`POST /__sim__/variants
{"name": "value"}`, or `"variants"` in `POST /__sim__/reset`), read them with `GET /__sim__/variants`.
A reset goes back to the values given at start, so that one test's switch never leaks into the next.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    values: tuple[str, ...]
    meaning: str

    @property
    def default(self) -> str:
        return self.values[0]


VARIANTS: dict[str, Variant] = {
    "hcx_version": Variant(
        ("4.x", "9.x"),
        "4.x: service meshes of PHOTON appliances, no automatic mesh. 9.x: new meshes are EDGE meshes of "
        "HCX-WAN-IX-EDGE appliances, a legacy PHOTON request is refused, and an automatic "
        "default-service-mesh-* shows with state NOT_APPLICABLE (hcx-wire.md, HCX 9.x).",
    ),
    # --- the service inventory of each site (remote inventory, hcx-wire.md §4) ---
    "inventory_ids": Variant(
        ("both", "entity_id", "id"),
        "Which id field items of service/inventory/virtualmachines|containers|datastores carry: both, only "
        "entity_id (AYA reads it), or only id (ADL reads a VM's id).",
    ),
    "inventory_type_names": Variant(
        ("vsphere", "lower"),
        "How entityType is spelled in those items: vSphere type names (Folder, ResourcePool, Datacenter, "
        "ClusterComputeResource, Datastore) or the lower-case names AYA filters with (folder, resourcePool, "
        "datacenter, cluster, datastore).",
    ),
    "inventory_cloud_filter": Variant(
        ("honoured", "ignored"),
        "honoured: filter.cloud {local, remote, endpointId} picks the sites listed. ignored: every site's "
        "items come back whatever the filter says, and only _origin.endpointId tells them apart (AYA still "
        "checks _origin after asking for remote:true).",
    ),
    "inventory_clusters": Variant(
        ("listed", "absent"),
        "Whether service/inventory/containers lists clusters (ClusterComputeResource) beside datacenters, "
        "resource pools and folders; AYA places by folder, resource pool and datacenter only.",
    ),
    # --- migrations and mobility groups (hcx-wire.md §6): the shapes of the mobility API's answers
    # that no source settles. hcx/simulator/migrations.py reads them.
    "running_state": Variant(
        ("MIGRATING", "named"),
        "The `state` of a migration that is neither draft nor over. MIGRATING: that word whatever the phase "
        "(PowerCLI's MigrationState; no source lists HCX's running names), so the phase is only in the "
        "progress.state flags. named: the simulator's own names (VALIDATING, QUEUED, INITIAL_SYNC, "
        "DELTA_SYNC, WAITING_FOR_SWITCHOVER, SWITCHOVER, CLEANUP), which are invented.",
    ),
    "progress_total": Variant(
        ("object", "string"),
        "progress.total. object: {value, bytesTransferred} (ASAF reads these for version 2). string: the "
        "total bytes as a string (BRC's example types it string); the bytes copied are then only in the "
        "latest progress.log entry's bytesTransferred.",
    ),
    "percent_complete": Variant(
        ("absent", "present"),
        "progress.percentComplete. absent: BRC's progress object has none. present: the simulator's own "
        "percent (0-90 copying, 90-98 switchover, 98-100 clean-up), as older builds may send.",
    ),
    "progress_extras": Variant(
        ("absent", "present"),
        "The simulator's own progress.throughputMbps, etaSeconds, deltaSyncs and seedBytesReused, which no "
        "source shows. absent: not sent. present: sent.",
    ),
    "warnings_shape": Variant(
        ("list", "dict", "warning"),
        "Per-item warnings of validate/start/cancel answers. list: warnings[{code, message}] (BRC). dict: "
        "warnings as one {code, message} object. warning: the singular name warning, one object "
        "(PowerCLI's property).",
    ),
    "query_paging": Variant(
        ("totalSize", "none"),
        "The migration query's answer. totalSize: data.paging{totalSize, offset, pageSize} (BRC nls-1.0 "
        "paging). none: no paging block at all; a client pages until a short or empty page.",
    ),
    "group_fields": Variant(
        ("id", "migrationGroupId"),
        "How queryMobilityGroups names a group. id: id and entityName (what "
        "SMIT reads). migrationGroupId: migrationGroupId and name (BRC's mobilityGroup).",
    ),
    # --- interconnect: compute profiles, service mesh, appliances, network extension (hcx-wire.md §5) ---
    "mesh_last_task_id": Variant(
        ("interconnectTaskId", "absent"),
        "interconnectTaskId: a mesh's lastTaskDetails names its task by interconnectTaskId. absent: it says "
        "only type and status, so a mesh found by name shows no task to follow.",
    ),
    "mesh_create_failure": Variant(
        ("kept", "removed"),
        "What HCX does with a mesh whose create task FAILED. kept: it stays listed with state FAILED. "
        "removed: it is gone from the list.",
    ),
    "peer_appliances": Variant(
        ("listed", "hidden"),
        "listed: the Connector's appliance list and query also hold the mesh's appliances at the remote "
        "(AVS) endpoint, with that endpointId. hidden: only its own appliances.",
    ),
    "l2_extension_states": Variant(
        ("EXTENDING/EXTENDED", "IN_PROGRESS/SUCCESS", "none"),
        "operationStatus.state of a network extension while its job runs / once it succeeded; a failed one "
        "shows FAILED. none: operationStatus carries no state, and a failed extension is dropped from the list.",
    ),
    # --- appliance API set-up and login (hcx-wire.md sections 1 and 2) ---
    "untrusted_certificate_answer": Variant(
        ("data", "errors", "message_only"),
        "How POST :9443 .../vcenter or .../lookupservice refuses a server whose certificate HCX does not "
        "trust (HTTP 400). data: {isSuccess:false, message:'Untrusted SSL connection', data:[{certificate}]} "
        "(field notes of 9.1.1). errors: the 443 envelope {success:false, errors:[{error, text, "
        "data:[{certificate}]}]}, as the site pairing answers. message_only: the documented ErrorResponse "
        "{isSuccess, message, httpStatusCode} with no certificate (the client fetches it from the server).",
    ),
    "licenses_before_activation": Variant(
        ("none", "evaluation", "vcf"),
        "What GET :9443/api/admin/licenses lists before an activation key is entered. none: an empty list. "
        "evaluation: one EVALUATION_MODE licence (seen on 9.1.1). vcf: a VCF licence HCX took from "
        "vCenter (HCX 4.9+). Both stay listed beside the key's licence after an activation.",
    ),
    "trusted_roots_status": Variant(
        ("500", "401"),
        "The HTTP status of the XML answer \"'Trusted root certificates' value should not be empty\" "
        "that POST /hybridity/api/sessions gives for a while after the app engine restarts (Terraform "
        "retries any non-200/202 answer carrying it).",
    ),
}


class VariantError(ValueError):
    pass


def parse(pairs) -> dict[str, str]:
    """`["name=value", ...]` (the command line) as a checked dict."""
    chosen = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep:
            raise VariantError(f"--variant takes name=value, not {pair!r}")
        chosen[name.strip()] = value.strip()
    return check(chosen)


def check(chosen) -> dict[str, str]:
    if not isinstance(chosen, dict):
        raise VariantError("variants must be an object of name: value")
    for name, value in chosen.items():
        if name not in VARIANTS:
            raise VariantError(f"unknown variant {name!r}; known: {', '.join(sorted(VARIANTS))}")
        if value not in VARIANTS[name].values:
            raise VariantError(
                f"variant {name} must be one of {', '.join(VARIANTS[name].values)}, not {value!r}"
            )
    return dict(chosen)


def resolved(chosen: dict[str, str]) -> dict[str, str]:
    """Every variant with its value: the chosen ones, the defaults for the rest."""
    return {name: chosen.get(name, v.default) for name, v in VARIANTS.items()}


def describe(current: dict[str, str]) -> dict:
    return {
        name: {"value": current[name], "values": list(v.values), "meaning": v.meaning}
        for name, v in VARIANTS.items()
    }
