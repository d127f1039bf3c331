"""What HCX must be told about a site before its migrations can be sent, looked up once per dispatch.

`service_for(site)` builds the HCX client from the site's stored connection exactly as the set-up
jobs do (hcx/clients.py: TLS verification, extra CA certificates, timeouts, retries).
`SiteContext.load()` then reads, through that client: the local endpoint, the paired AVS endpoint and
the working service meshes between them (hcx/setup/configure's own lookups), and on demand per wave the
ids of its target cluster, datastore and folder and of the networks its mappings name. Anything
missing (no pairing, no mesh, a target name the AVS side does not have) is a LaunchError that says
what to do.

A working mesh is what real HCX shows (docs/hcx-wire.md §5): state COMMITTED, its compute profiles at
this site's endpoint and the AVS endpoint, and the migration's service among its services (Bulk:
BULK_MIGRATION, RAV: RAV, vMotion and Cold: VMOTION). The set-up's own mesh is preferred; HCX 9.x's
automatic default-service-mesh-* (NOT_APPLICABLE, a self-site mesh) never qualifies.

Where the lookups come from (hcx-wire.md §4): HCX's remote inventory, `service/inventory/containers`,
`datastores` and `virtualmachines` asked for the paired AVS site (`remote: true`, items matched on
`_origin.endpointId`), the way AYA and ADL place and name VMs:
- target cluster, resource pool, folder and datacenter: the AVS side's containers (the AVS compute
  profiles' clusters when the containers list none);
- target datastore: the AVS side's datastores;
- networks: `networks()` of each endpoint, by name; a mapped network HCX does not list (an extended
  network's segment) keeps its name as id, and HCX's validation judges it.
A rollback names the VM by its id in AVS (`remote_vm`, from the remote inventory) and goes back to
where the VM was: its cluster, folder and datastore as discovered in vCenter (the same morefs the
Connector sees, as it is registered with that vCenter).
"""

from dataclasses import dataclass, field

from core.jobs import JobError
from hcx.choices import MigrationType
from hcx.client import HcxService, bodies
from hcx.client.service import MESH_WORKING, InventoryItem
from hcx.clients import hcx_service
from hcx.models import HcxPlan
from hcx.setup.configure import local_endpoint_id, mesh_name, paired_endpoint
from hcx.setup.steps import Context
from inventory.choices import SwitchType
from inventory.models import Network, VirtualDisk, VirtualMachine, VirtualNic
from migrations_app.choices import MigrationDirection
from migrations_app.models import NetworkMapping, Wave
from migrations_app.waves.networks import landing

from .errors import LaunchError

CLUSTER, FOLDER, DATASTORE = "ClusterComputeResource", "Folder", "Datastore"
RESOURCE_POOL, DATACENTER = "ResourcePool", "Datacenter"
# The AVS datastore every cluster has; used when the wave names none and HCX lists several.
AVS_DEFAULT_DATASTORE = "vsanDatastore"
SEGMENT_HREF = "/infra/segments/"
# The mesh service each migration type needs (hcx-wire.md §5, §9.1: cold migration rides the vMotion service).
SERVICE_OF = {
    MigrationType.BULK: "BULK_MIGRATION",
    MigrationType.RAV: "RAV",
    MigrationType.VMOTION: "VMOTION",
    MigrationType.COLD: "VMOTION",
}


def service_for(site: HcxPlan) -> HcxService:
    """A client for the site's HCX Connector (the caller closes it). LaunchError when the site has no
    usable connection."""
    try:
        return hcx_service(site)
    except JobError as exc:
        raise LaunchError(str(exc)) from None


@dataclass(frozen=True)
class Endpoint:
    id: str
    name: str = ""
    vcenter_uuid: str = ""
    vcenter_name: str = ""

    def body(self) -> dict:
        return bodies.site(
            self.id, endpoint_name=self.name, vcenter_uuid=self.vcenter_uuid, vcenter_name=self.vcenter_name
        )


@dataclass(frozen=True)
class Placement:
    """Where a migration lands: `placement` entries (cluster, folder) and the datastore."""

    containers: tuple[dict, ...]
    datastore_id: str
    datastore_name: str


@dataclass
class VmFacts:
    """What the specs read of a VM besides its row: the networks its NICs use, its first datastore."""

    network_ids: set = field(default_factory=set)
    datastore: tuple[str, str] | None = None  # (moref, name)


class SiteContext:
    """The HCX facts of one site, read once and kept for one dispatch (a few inventory calls)."""

    def __init__(
        self, site: HcxPlan, service: HcxService, *, local: Endpoint, remote: Endpoint, meshes: list[dict]
    ):
        self.site = site
        self.service = service
        self.local = local
        self.remote = remote
        self.meshes = meshes  # the working meshes, the preferred first
        self.mesh_id = meshes[0]["serviceMeshId"]
        self._targets: dict = {}
        self._mappings: dict[int, list[NetworkMapping]] = {}
        self._networks: dict[str, dict[str, dict]] = {}
        self._facts: dict[int, VmFacts] = {}
        self._remote_clusters_found: list[InventoryItem] | None = None
        self._remote_inventory: dict[str, list[InventoryItem]] = {}
        self._vcenter_trees: list[dict] | None = None

    @classmethod
    def load(cls, site: HcxPlan, service: HcxService | None = None) -> "SiteContext":
        """Look up the endpoints and the service mesh. LaunchError when the site cannot migrate yet."""
        service = service_for(site) if service is None else service
        ctx = Context(site, None)
        ctx.__dict__["hcx"] = service  # a cached_property: the set-up's own lookups below use this client
        try:
            local_id = local_endpoint_id(ctx)
            pairing = paired_endpoint(ctx)
            meshes = _working_meshes(ctx, local_id, pairing["endpointId"])
            vcenters = {
                (c.get("endpoint") or {}).get("endpointId"): c
                for c in service.resource_containers(local=True, remote=True)
            }
        except JobError as exc:
            raise LaunchError(f"{site}: {exc}") from None
        if not local_id:
            raise LaunchError(
                f"The HCX Connector of {site} reports no local endpoint: is it activated and "
                "registered with its vCenter?"
            )

        def endpoint(endpoint_id, name):
            vc = vcenters.get(endpoint_id) or {}
            return Endpoint(
                endpoint_id,
                name or "",
                vc.get("resourceId") or vc.get("vcuuid") or "",
                vc.get("resourceName") or vc.get("name") or "",
            )

        local_name = (service.session_info.endpoint_name if service.session_info else "") or ""
        return cls(
            site,
            service,
            local=endpoint(local_id, local_name),
            remote=endpoint(pairing["endpointId"], pairing.get("name")),
            meshes=meshes,
        )

    def mesh_for(self, migration_type: str) -> str:
        """The id of the working mesh that carries `migration_type`'s service (the preferred one first)."""
        service = SERVICE_OF[migration_type]
        mesh = next((m for m in self.meshes if service in _services(m)), None)
        if mesh is None:
            offered = ", ".join(f"{m.get('name')} ({', '.join(sorted(_services(m)))})" for m in self.meshes)
            raise LaunchError(
                f"No working service mesh of {self.site} offers {service}, which a "
                f"{MigrationType(migration_type).label} migration needs (meshes: {offered}): add the "
                "service to the mesh in HCX, or choose another migration type."
            )
        return mesh["serviceMeshId"]

    # --- forward: the wave's target in AVS -----------------------------------------------------------

    def target(self, wave: Wave) -> Placement:
        """The wave's target cluster, folder and datastore as HCX ids (cached per target)."""
        key = (wave.target_cluster_id, wave.target_datastore, wave.target_folder, wave.target_resource_pool)
        if key not in self._targets:
            self._targets[key] = self._resolve_target(wave)
        return self._targets[key]

    def _resolve_target(self, wave: Wave) -> Placement:
        if wave.target_cluster is None:
            raise LaunchError(f"{wave.name} has no target cluster: choose one before launching.")
        name = wave.target_cluster.name
        clusters = {c.name: c for c in self._remote_clusters()}
        cluster = clusters.get(name)
        if cluster is None:
            raise LaunchError(
                f"The AVS side of {self.site} has no cluster {name!r} (HCX knows "
                f"{', '.join(sorted(clusters)) or 'none'}): fix the wave's target cluster."
            )
        compute = cluster
        if wave.target_resource_pool:
            compute = self._remote_container(RESOURCE_POOL, wave.target_resource_pool, "resource pool")
        stores = {d.name: d for d in self.remote_items("datastores")}
        wanted = wave.target_datastore or next(iter(wave.target_cluster.datastores or []), "")
        if not wanted:
            wanted = next(iter(stores)) if len(stores) == 1 else AVS_DEFAULT_DATASTORE
        store = stores.get(wanted)
        if store is None:
            raise LaunchError(
                f"The AVS side of {self.site} has no datastore {wanted!r} (HCX knows "
                f"{', '.join(sorted(s for s in stores if s)) or 'none'}): fix the wave's target "
                "datastore."
            )
        containers = [bodies.container(compute.id, compute.name, compute.entity_type)]
        if wave.target_folder:
            folder = self._remote_container(FOLDER, wave.target_folder, "folder")
            containers.append(bodies.container(folder.id, folder.name, folder.entity_type))
        datacenters = [c for c in self.remote_items("containers") if c.kind == DATACENTER]
        if len(datacenters) == 1:  # AYA places into folder, resource pool and datacenter
            containers.append(
                bodies.container(datacenters[0].id, datacenters[0].name, datacenters[0].entity_type)
            )
        return Placement(tuple(containers), store.id, store.name)

    def remote_items(self, kind: str) -> list[InventoryItem]:
        """The AVS side's items of one kind of HCX's remote inventory (hcx-wire.md §4), read once."""
        if kind not in self._remote_inventory:
            self._remote_inventory[kind] = self.service.remote_inventory(kind, self.remote.id)
        return self._remote_inventory[kind]

    def _remote_container(self, kind: str, name: str, what: str) -> InventoryItem:
        leaf = name.rstrip("/").rsplit("/", 1)[-1]
        known = [c for c in self.remote_items("containers") if c.kind == kind]
        found = next((c for c in known if c.name == name), None) or next(
            (c for c in known if c.name == leaf), None
        )
        if found is None:
            raise LaunchError(
                f"The AVS side of {self.site} has no {what} {name!r} (HCX knows "
                f"{', '.join(sorted({c.name for c in known})) or 'none'}): fix the wave's target "
                f"{what}."
            )
        return found

    def _remote_clusters(self) -> list[InventoryItem]:
        """The AVS clusters of the remote inventory; when it lists none, those of the AVS compute
        profiles (`compute`, `deploymentContainer`)."""
        if self._remote_clusters_found is None:
            found = [c for c in self.remote_items("containers") if c.kind == CLUSTER]
            if not found:
                seen = {}
                for profile in self.service.list_compute_profiles(self.remote.id):
                    for c in [
                        *(profile.get("compute") or []),
                        *((profile.get("deploymentContainer") or {}).get("compute") or []),
                    ]:
                        if c.get("type") == CLUSTER and c.get("id"):
                            seen[c["id"]] = InventoryItem(
                                c["id"], c.get("name") or c["id"], CLUSTER, CLUSTER, self.remote.id
                            )
                found = list(seen.values())
            self._remote_clusters_found = found
        return self._remote_clusters_found

    def remote_vm(self, vm: VirtualMachine) -> InventoryItem:
        """The VM in AVS that `vm` became: HCX's remote inventory knows it by a new id, not by its
        on-premises moref (hcx-wire.md §6, "Reverse migrations"). Matched by instance UUID where the
        inventory gives one, else by name (the name HCX keeps in AVS). LaunchError when AVS has none."""
        vms = self.remote_items("virtualmachines")
        if vm.instance_uuid:
            by_uuid = [v for v in vms if _instance_uuid(v.raw) == vm.instance_uuid.lower()]
            if len(by_uuid) == 1:
                return by_uuid[0]
        named = [v for v in vms if v.name == vm.name]
        if len(named) == 1:
            return named[0]
        if named:
            raise LaunchError(
                f"{vm.name}: the AVS side of {self.site} has {len(named)} VMs of that name "
                f"({', '.join(v.id for v in named)}), so HCX cannot be told which to bring back: "
                "rename the others in AVS first."
            )
        raise LaunchError(
            f"{vm.name}: the AVS side of {self.site} has no VM of that name in HCX's inventory, so it "
            "cannot be rolled back: was it renamed, moved or deleted in AVS?"
        )

    def _tree(self, vcenter_uuid: str) -> list[dict]:
        """Every node of HCX's vCenter tree for `vcenter_uuid` (empty when HCX does not list it)."""
        nodes, stack = [], [v for v in self._vcenters() if v.get("vcenter_instanceId") == vcenter_uuid]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(node.get("children") or [])
        return nodes

    def _vcenters(self) -> list[dict]:
        if self._vcenter_trees is None:
            self._vcenter_trees = self.service.vcenters()
        return self._vcenter_trees

    # --- rollback: where the VM came from ------------------------------------------------------------

    def origin(self, vm: VirtualMachine) -> Placement:
        """The VM's own cluster, folder and datastore on-premises, from the discovered inventory."""
        facts = self.facts(vm)
        if vm.cluster is None or facts.datastore is None:
            raise LaunchError(
                f"{vm.name}: the inventory does not say which cluster and datastore it came from, so "
                "it cannot be rolled back; discover its vCenter again."
            )
        containers = [bodies.container(vm.cluster.moid, vm.cluster.name, CLUSTER)]
        if vm.folder:
            leaf = vm.folder.rstrip("/").rsplit("/", 1)[-1]
            node = next(
                (
                    n
                    for n in self._tree(self.local.vcenter_uuid)
                    if n.get("entityType") == FOLDER and n.get("name") in (vm.folder, leaf)
                ),
                None,
            )
            containers.append(
                bodies.container(node["entity_id"], node["name"], FOLDER)
                if node
                else bodies.container(vm.folder, leaf, FOLDER)
            )
        moref, name = facts.datastore
        return Placement(tuple(containers), moref, name)

    # --- networks ------------------------------------------------------------------------------------

    def prepare(self, migrations) -> None:
        """Read what the specs of `migrations` need in a fixed number of queries, whatever their count:
        the mappings of their waves, the networks and datastore of each VM."""
        self._load({m.vm_id for m in migrations}, {m.wave_id for m in migrations})

    def _load(self, vm_ids: set, wave_ids: set):
        vm_ids, wave_ids = vm_ids - set(self._facts), wave_ids - set(self._mappings)
        if vm_ids:
            for vm_id in vm_ids:
                self._facts[vm_id] = VmFacts()
            nics = VirtualNic.objects.filter(vm_id__in=vm_ids, network__isnull=False).values_list(
                "vm_id", "network_id"
            )
            for vm_id, network_id in nics:
                self._facts[vm_id].network_ids.add(network_id)
            disks = (
                VirtualDisk.objects.filter(vm_id__in=vm_ids, datastore__isnull=False)
                .order_by("vm_id", "key", "pk")
                .values_list("vm_id", "datastore__moid", "datastore__name")
            )
            for vm_id, moref, name in disks:
                if self._facts[vm_id].datastore is None:
                    self._facts[vm_id].datastore = (moref, name)
        if wave_ids:
            for wave_id in wave_ids:
                self._mappings[wave_id] = []
            for mapping in NetworkMapping.objects.filter(wave_id__in=wave_ids).select_related("source"):
                self._mappings[mapping.wave_id].append(mapping)
            self._add_site_plan_extensions(wave_ids)

    def _add_site_plan_extensions(self, wave_ids: set):
        """A network the wave's site plan extends lands on its extension unless the wave maps it
        elsewhere (waves/networks.py `landing`, the rule the wave page and readiness show)."""
        sites = dict(Wave.objects.filter(pk__in=wave_ids).values_list("pk", "site_id"))
        extended: dict[int, set] = {}
        links = HcxPlan.networks.through.objects.filter(hcxplan_id__in={s for s in sites.values() if s})
        for plan_id, network_id in links.values_list("hcxplan_id", "network_id"):
            extended.setdefault(plan_id, set()).add(network_id)
        networks = Network.objects.in_bulk(set().union(*extended.values())) if extended else {}
        for wave_id in wave_ids:
            on_plan = extended.get(sites.get(wave_id), set())
            explicit = {m.source_id: (m.target_kind, m.target_name) for m in self._mappings[wave_id]}
            for network_id in sorted(on_plan - set(explicit)):
                network = networks[network_id]
                lands = landing(network_id, network.name, explicit, on_plan)
                if lands.mapped:
                    self._mappings[wave_id].append(
                        NetworkMapping(
                            wave_id=wave_id,
                            source=network,
                            target_kind=lands.target_kind,
                            target_name=lands.target_name,
                        )
                    )

    def facts(self, vm: VirtualMachine) -> VmFacts:
        self._load({vm.pk}, set())
        return self._facts[vm.pk]

    def mappings(self, wave_id: int) -> list[NetworkMapping]:
        self._load(set(), {wave_id})
        return self._mappings[wave_id]

    def network(self, endpoint: Endpoint, name: str) -> dict | None:
        """HCX's entry (entity_id, name, entityType) for a network of `endpoint`, by name."""
        if endpoint.id not in self._networks:
            self._networks[endpoint.id] = {n.get("name"): n for n in self.service.networks(endpoint.id)}
        return self._networks[endpoint.id].get(name)

    def network_mappings(self, m) -> list[dict]:
        """The `networkMappings` of migration `m`: the wave's mappings of the networks the VM uses (all
        of the wave's when the inventory knows none of its NICs' networks); swapped for a rollback."""
        used = self.facts(m.vm).network_ids
        rows = [r for r in self.mappings(m.wave_id) if not used or r.source_id in used]
        result = []
        for row in rows:
            source = self.network(self.local, row.source.name) or {
                "entity_id": row.source.moid or row.source.name,
                "name": row.source.name,
                "entityType": "DistributedVirtualPortgroup"
                if row.source.switch_type == SwitchType.DISTRIBUTED
                else "Network",
            }
            # An extended network and an AVS segment are both NSX segments on the AVS side, whose
            # inventory href is /infra/segments/<name> (hcx-wire.md §6).
            target = self.network(self.remote, row.target_name) or {
                "entity_id": f"{SEGMENT_HREF}{row.target_name}",
                "name": row.target_name,
                "entityType": "NsxtSegment",
            }
            if m.direction == MigrationDirection.REVERSE:
                source, target = target, source
            result.append(
                bodies.network_mapping(
                    source_id=source["entity_id"],
                    source_name=source["name"],
                    source_type=source["entityType"],
                    source_href=_href(source),
                    destination_id=target["entity_id"],
                    destination_name=target["name"],
                    destination_type=target["entityType"],
                    destination_href=_href(target),
                )
            )
        return result


def _instance_uuid(item: dict) -> str:
    """A VM's instance UUID where an inventory item carries one (no source shows the field: any of
    the plausible places)."""
    summary = item.get("summary") if isinstance(item.get("summary"), dict) else {}
    config = summary.get("config") if isinstance(summary.get("config"), dict) else {}
    return str(
        item.get("instanceUuid") or item.get("instance_uuid") or config.get("instanceUuid") or ""
    ).lower()


def _href(network: dict) -> str:
    """A network's inventory href: HCX's own when it lists one, an NSX segment's path otherwise."""
    if network.get("href"):
        return network["href"]
    if network.get("entityType") == "NsxtSegment" and not str(network["entity_id"]).startswith("/"):
        return f"{SEGMENT_HREF}{network['name']}"
    return network["entity_id"]


def _services(mesh: dict) -> set[str]:
    return {s.get("name") for s in mesh.get("services") or []}


def _working_meshes(ctx: Context, local_id: str | None, remote_id: str) -> list[dict]:
    """The COMMITTED meshes joining this site to the AVS endpoint that carry a migration service, the
    set-up's own first. LaunchError when there is none."""
    meshes = ctx.hcx.list_service_meshes()
    migrating = set(SERVICE_OF.values())
    found = [
        m
        for m in meshes
        if m.get("state") == MESH_WORKING
        and _services(m) & migrating
        and {local_id, remote_id} <= {p.get("endpointId") for p in m.get("computeProfiles") or []}
    ]
    if not found:
        states = ", ".join(f"{m.get('name')} {m.get('state')}" for m in meshes) or "none"
        raise LaunchError(
            f"{ctx.plan}: HCX has no working ({MESH_WORKING}) service mesh with a migration service "
            f"to the AVS side (meshes: {states}): finish the service mesh step of the HCX set-up first."
        )
    own = mesh_name(ctx)
    return sorted(found, key=lambda m: m.get("name") != own)


__all__ = ["Endpoint", "Placement", "SiteContext", "service_for"]
