"""The networks a wave's VMs sit on (from their NICs), and for each whether the wave says where it
lands (a NetworkMapping) and whether the site's HCX plan extends it.

Three queries whatever the size of the wave: NICs grouped by network, the wave's mappings, and the
site's networks to extend. What the readiness rules make of it (block an unmapped network, a standard
vSwitch, VLAN 0) is theirs; this page only shows the facts and says what looks wrong.
"""

from dataclasses import dataclass, field

from django.db.models import Count

from inventory.choices import SwitchType
from inventory.models import VirtualNic
from migrations_app.choices import MappingTarget
from migrations_app.models import NetworkMapping, Wave


@dataclass
class WaveNetwork:
    network_id: int | None  # None: the NICs name a network the inventory has no row for
    name: str
    switch_type: str = ""
    vlan_id: int | None = None
    vlan: str = ""
    vms: int = 0
    mapping: NetworkMapping | None = None
    in_plan: bool = False  # among the site plan's networks to extend
    notes: list[str] = field(default_factory=list)

    @property
    def mapped(self) -> bool:
        return self.mapping is not None

    @property
    def switch_label(self) -> str:
        return SwitchType(self.switch_type).label if self.switch_type in SwitchType.values else self.switch_type


def wave_networks(wave: Wave) -> list[WaveNetwork]:
    nics = VirtualNic.objects.filter(vm__wave_item__wave=wave)
    by_network = (
        nics.filter(network__isnull=False)
        .values("network_id", "network__name", "network__switch_type", "network__vlan_id", "network__vlan")
        .annotate(vms=Count("vm", distinct=True))
        .order_by("network__name", "network_id")
    )
    networks = [
        WaveNetwork(
            network_id=row["network_id"], name=row["network__name"], switch_type=row["network__switch_type"],
            vlan_id=row["network__vlan_id"], vlan=row["network__vlan"], vms=row["vms"],
        )
        for row in by_network
    ]
    # RVTools rows may name a network with no Network row; NICs on no network at all are not listed.
    by_name = (
        nics.filter(network__isnull=True).exclude(network_name="")
        .values("network_name").annotate(vms=Count("vm", distinct=True)).order_by("network_name")
    )
    networks += [WaveNetwork(network_id=None, name=row["network_name"], vms=row["vms"]) for row in by_name]

    mappings = {m.source_id: m for m in NetworkMapping.objects.filter(wave=wave)}
    planned = set(wave.site.networks.values_list("pk", flat=True)) if wave.site_id else set()
    for network in networks:
        network.mapping = mappings.get(network.network_id)
        network.in_plan = network.network_id in planned
        network.notes = _notes(network, wave)
    return networks


def _notes(network: WaveNetwork, wave: Wave) -> list[str]:
    notes = []
    if network.network_id is None:
        notes.append("Not in the inventory's networks (the NICs only name it): re-discover the vCenter or import "
                     "the RVTools vNetwork/dvPort sheets, then map it.")
        return notes
    if network.mapping is None:
        notes.append("Not mapped: say where its VMs land (an extended network or an AVS segment).")
    elif network.mapping.target_kind == MappingTarget.EXTENDED and not network.in_plan:
        notes.append(
            "Mapped to an extended network, but the site's HCX plan does not list it among the networks to extend"
            + (f" (plan {wave.site.name})." if wave.site_id else ": choose the wave's site first.")
        )
    if network.switch_type == SwitchType.STANDARD and (network.mapping is None or network.mapping.target_kind == MappingTarget.EXTENDED):
        notes.append("On a standard vSwitch: HCX extends only distributed port groups (or NSX segments); map it to an AVS segment.")
    if network.vlan_id == 0 or (network.vlan_id is None and network.switch_type != SwitchType.NSX and not network.vlan):
        notes.append("No VLAN (or VLAN 0): HCX network extension needs a tagged VLAN.")
    return notes
