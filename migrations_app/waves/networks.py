"""The networks a wave's VMs sit on (from their NICs), and for each where its VMs land.

`landing()` is the one answer to "where does this source network land in this wave", used by the
wave page, the API and the readiness rules alike: the wave's own NetworkMapping first, else the
extended network the site's HCX plan makes of it (HcxPlan.networks: an extended network keeps its
name at AVS), else nowhere. So a network the plan extends is never "not mapped" on one page and
fine for readiness.

Three queries whatever the size of the wave: NICs grouped by network, the wave's mappings, and the
site's networks to extend. What the readiness rules make of it (block an unmapped network, a standard
vSwitch, VLAN 0) is theirs; this page only shows the facts and says what looks wrong.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from django.db.models import Count

from hcx.models import HcxPlan
from inventory.choices import SwitchType
from inventory.models import VirtualNic
from migrations_app.choices import MappingTarget
from migrations_app.models import NetworkMapping, Wave

BY_MAPPING, BY_SITE_PLAN = "mapping", "site_plan"


@dataclass(frozen=True)
class Landing:
    """Where a source network's VMs land: `by` says who decided it ("" when nobody has)."""

    by: str = ""
    target_kind: str = ""
    target_name: str = ""

    @property
    def mapped(self) -> bool:
        return bool(self.by)

    @property
    def label(self) -> str:
        if self.by == BY_SITE_PLAN:
            return "extended by the site plan"
        if self.by == BY_MAPPING:
            return "mapped in this wave"
        return "not mapped"


NOT_MAPPED = Landing()


def landing(network_id: int | None, name: str, mappings: Mapping[int, tuple[str, str]],
            extended: Collection[int]) -> Landing:
    """Where the VMs on this source network land in a wave.

    `mappings`: the wave's NetworkMappings as {source network id: (target kind, target name)};
    `extended`: the ids of the networks the wave's site plan extends. A network the inventory has
    no row for (`network_id` None) cannot be mapped, so it lands nowhere.
    """
    if network_id is None:
        return NOT_MAPPED
    mapped = mappings.get(network_id)
    if mapped is not None:
        return Landing(BY_MAPPING, *mapped)
    if network_id in extended:
        return Landing(BY_SITE_PLAN, MappingTarget.EXTENDED, name)
    return NOT_MAPPED


def site_extended(wave: Wave) -> dict[int, str]:
    """{id: name} of the networks the wave's site plan extends (none without a site)."""
    if not wave.site_id:
        return {}
    through = HcxPlan.networks.through  # the links alone: the plan's row is not needed
    return dict(through.objects.filter(hcxplan_id=wave.site_id).values_list("network_id", "network__name"))


@dataclass
class WaveNetwork:
    network_id: int | None  # None: the NICs name a network the inventory has no row for
    name: str
    switch_type: str = ""
    vlan_id: int | None = None
    vlan: str = ""
    vms: int = 0
    mapping: NetworkMapping | None = None  # the wave's own mapping, if any (the page edits it)
    in_plan: bool = False  # among the site plan's networks to extend
    lands: Landing = NOT_MAPPED
    notes: list[str] = field(default_factory=list)

    @property
    def mapped(self) -> bool:
        return self.lands.mapped

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
    targets = {pk: (m.target_kind, m.target_name) for pk, m in mappings.items()}
    planned = site_extended(wave)
    for network in networks:
        network.mapping = mappings.get(network.network_id)
        network.in_plan = network.network_id in planned
        network.lands = landing(network.network_id, network.name, targets, planned)
        network.notes = _notes(network, wave, set(planned.values()))
    return networks


def _notes(network: WaveNetwork, wave: Wave, extended_names: set[str]) -> list[str]:
    notes = []
    if network.network_id is None:
        notes.append("Not in the inventory's networks (the NICs only name it): re-discover the vCenter or import "
                     "the RVTools vNetwork/dvPort sheets, then map it.")
        return notes
    if not network.lands.mapped:
        notes.append("Not mapped: say where its VMs land (an extended network or an AVS segment), or extend it in "
                      "the site's HCX plan.")
    elif (network.mapping is not None and network.mapping.target_kind == MappingTarget.EXTENDED
          and network.mapping.target_name not in extended_names):
        notes.append(
            f"Mapped to the extended network {network.mapping.target_name}, but the site's HCX plan does not list it "
            "among the networks to extend"
            + (f" (plan {wave.site.name})." if wave.site_id else ": choose the wave's site first.")
        )
    if network.switch_type == SwitchType.STANDARD and network.lands.target_kind != MappingTarget.SEGMENT:
        notes.append("On a standard vSwitch: HCX extends only distributed port groups (or NSX segments); map it to an AVS segment.")
    if network.vlan_id == 0 or (network.vlan_id is None and network.switch_type != SwitchType.NSX and not network.vlan):
        notes.append("No VLAN (or VLAN 0): HCX network extension needs a tagged VLAN.")
    return notes
