"""From an HCX plan to a ConnectorSpec: the plan gives the appliance's settings, the engineer
chooses where in the plan's vCenter it goes (datacenter/cluster, datastore, port group, folder).

The choices offered and accepted come from the plan's vCenter inventory in the database; when
that inventory is empty (a vCenter not discovered yet) names are taken as given and vCenter
itself says at deployment time whether they exist.
"""

from dataclasses import asdict, dataclass

from core.jobs import JobError
from hcx.choices import ProfileKind
from inventory.models import Cluster, Datastore, Network

from .spec import ConnectorSpec

SHOWN_NAMES = 15  # names listed in a message about a choice that does not exist


@dataclass(frozen=True)
class Placement:
    datacenter: str = ""
    cluster: str = ""
    datastore: str = ""
    network: str = ""  # empty: the port group of the plan's management network profile
    folder: str = ""
    resource_pool: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> "Placement":
        return cls(**{name: str(data.get(name) or "").strip() for name in cls.__dataclass_fields__})

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Inventory:
    """What the database knows of the plan's vCenter: the names the deploy form offers."""

    clusters: list[Cluster]
    datastores: list[Datastore]
    networks: list[str]

    @classmethod
    def of(cls, plan) -> "Inventory":
        if plan.vcenter_id is None:
            return cls([], [], [])
        return cls(
            clusters=list(Cluster.objects.filter(vcenter_id=plan.vcenter_id).order_by("datacenter", "name")),
            datastores=list(Datastore.objects.filter(vcenter_id=plan.vcenter_id).order_by("name")),
            networks=list(
                Network.objects.filter(vcenter_id=plan.vcenter_id)
                .order_by("name")
                .values_list("name", flat=True)
            ),
        )


def management_port_group(plan) -> str:
    profile = plan.profiles.filter(kind=ProfileKind.MANAGEMENT).only("port_group").first()
    return profile.port_group if profile else ""


def _listing(names) -> str:
    names = list(dict.fromkeys(names))
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown + (f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else "") or "none"


def check_placement(plan, placement: Placement, inventory: Inventory | None = None) -> dict[str, str]:
    """Problems with the chosen placement, per field; empty when it can be tried."""
    inventory = inventory or Inventory.of(plan)
    problems = {}
    vc = plan.vcenter
    clusters = inventory.clusters
    if placement.datacenter and clusters:
        known = {c.datacenter for c in clusters}
        if placement.datacenter not in known:
            problems["datacenter"] = (
                f"{vc} has no datacenter {placement.datacenter!r}; it has: {_listing(sorted(known))}."
            )
    if placement.cluster and clusters:
        matching = [c for c in clusters if c.name == placement.cluster]
        if placement.datacenter:
            matching = [c for c in matching if c.datacenter == placement.datacenter]
        if not matching:
            where = f"datacenter {placement.datacenter}" if placement.datacenter else str(vc)
            problems["cluster"] = (
                f"{where} has no cluster {placement.cluster!r}; it has: {_listing(c.name for c in clusters)}."
            )
        elif len({c.datacenter for c in matching}) > 1:
            problems["datacenter"] = (
                f"Clusters named {placement.cluster} exist in several datacenters; choose the datacenter too."
            )
    elif not placement.cluster and len(clusters) > 1:
        problems["cluster"] = f"{vc} has {len(clusters)} clusters: choose the one the Connector runs in."
    if placement.datastore and inventory.datastores:
        if placement.datastore not in {d.name for d in inventory.datastores}:
            problems["datastore"] = (
                f"{vc} has no datastore {placement.datastore!r}; it has: "
                f"{_listing(d.name for d in inventory.datastores)}."
            )
    if placement.network and inventory.networks and placement.network not in inventory.networks:
        problems["network"] = (
            f"{vc} has no port group {placement.network!r}; it has: {_listing(inventory.networks)}."
        )
    return problems


def connector_spec(plan, placement: Placement, *, ssh_enabled: bool = False) -> ConnectorSpec:
    """The Connector's settings from the plan, placed as chosen; no passwords (the job reads them
    from the plan's connection when it needs them)."""
    hostname = plan.connector_hostname.strip()
    network = placement.network or management_port_group(plan)
    if not network:
        raise JobError(
            f"Plan {plan} has no management network profile to take the Connector's port group from: "
            "add one to the plan, or choose the port group."
        )
    spec = ConnectorSpec.from_dict(
        {
            "vm_name": hostname.split(".")[0],
            "hostname": hostname,
            "ip": plan.connector_ip,
            "prefix": plan.connector_prefix_length,
            "gateway": plan.connector_gateway,
            "dns": list(plan.dns_servers or []),
            "search_domains": [hostname.split(".", 1)[1]] if "." in hostname else [],
            "ntp": list(plan.ntp_servers or []),
            "ssh_enabled": ssh_enabled,
            "network": network,
            "datacenter": placement.datacenter,
            "cluster": placement.cluster,
            "datastore": placement.datastore,
            "folder": placement.folder,
            "resource_pool": placement.resource_pool,
        }
    )
    spec.validate(need_passwords=False)
    return spec
