"""The networks a wave's VMs sit on (from their NICs), and for each where its VMs land.

`landing()` (landing.py) is the one answer to "where does this source network land in this wave", used by the
wave page, the API and the readiness rules alike: the wave's own NetworkMapping first, else the
extended network the site's HCX plan makes of it (HcxPlan.networks: an extended network keeps its
name at AVS), else nowhere. So a network the plan extends is never "not mapped" on one page and
fine for readiness.

A fixed number of queries whatever the size of the wave: NICs grouped by network, the wave's mappings,
and what the site offers (its networks to extend and its AVS inventory, network_targets.avs_targets).
What the readiness rules make of it (block an unmapped network, a standard vSwitch, VLAN 0, a target
AVS does not offer or another VLAN's extension) is theirs; this page only shows the facts and says
what looks wrong, with the same words (network_targets.target_issues).
"""

from dataclasses import dataclass, field

from django.db.models import Count

from inventory.choices import SwitchType
from inventory.models import VirtualNic
from migrations_app.choices import FindingSeverity, MappingTarget
from migrations_app.models import NetworkMapping, Wave

from .landing import BY_MAPPING, BY_SITE_PLAN, NOT_MAPPED, Landing, landing  # noqa: F401 - callers use them here
from .network_targets import Source, avs_targets, target_issues

BLOCKER, WARNING = FindingSeverity.BLOCKER, FindingSeverity.WARNING


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
    problem: str = ""  # the worst severity among the notes from target_issues ("blocker", "warning" or "")

    @property
    def mapped(self) -> bool:
        return self.lands.mapped

    @property
    def choice(self) -> str:
        """The mapping form's value for where it lands now ("kind:name", as AvsTargets.choices)."""
        return f"{self.lands.target_kind}:{self.lands.target_name}" if self.lands.mapped else ""

    @property
    def switch_label(self) -> str:
        return (
            SwitchType(self.switch_type).label if self.switch_type in SwitchType.values else self.switch_type
        )


def wave_networks(wave: Wave, targets=None) -> list[WaveNetwork]:
    """The wave's source networks with where each lands; `targets`: the site's AvsTargets when the
    caller has them already (network_targets.avs_targets)."""
    targets = avs_targets(wave) if targets is None else targets
    nics = VirtualNic.objects.filter(vm__wave_item__wave=wave)
    by_network = (
        nics.filter(network__isnull=False)
        .values("network_id", "network__name", "network__switch_type", "network__vlan_id", "network__vlan")
        .annotate(vms=Count("vm", distinct=True))
        .order_by("network__name", "network_id")
    )
    networks = [
        WaveNetwork(
            network_id=row["network_id"],
            name=row["network__name"],
            switch_type=row["network__switch_type"],
            vlan_id=row["network__vlan_id"],
            vlan=row["network__vlan"],
            vms=row["vms"],
        )
        for row in by_network
    ]
    # RVTools rows may name a network with no Network row; NICs on no network at all are not listed.
    by_name = (
        nics.filter(network__isnull=True)
        .exclude(network_name="")
        .values("network_name")
        .annotate(vms=Count("vm", distinct=True))
        .order_by("network_name")
    )
    networks += [WaveNetwork(network_id=None, name=row["network_name"], vms=row["vms"]) for row in by_name]

    mappings = {m.source_id: m for m in NetworkMapping.objects.filter(wave=wave)}
    mapped = {pk: (m.target_kind, m.target_name) for pk, m in mappings.items()}
    planned = targets.extended_ids
    for network in networks:
        network.mapping = mappings.get(network.network_id)
        network.in_plan = network.network_id in planned
        network.lands = landing(network.network_id, network.name, mapped, planned)
        network.notes = _notes(network)
        if network.network_id is not None:
            issues = target_issues(
                Source(network.network_id, network.name, network.vlan_id), network.lands, targets
            )
            network.notes += [f"{issue.message} {issue.fix}" for issue in issues]
            severities = {issue.severity for issue in issues}
            network.problem = next((s for s in (BLOCKER, WARNING) if s in severities), "")
    return networks


def _notes(network: WaveNetwork) -> list[str]:
    notes = []
    if network.network_id is None:
        notes.append(
            "Not in the inventory's networks (the NICs only name it): re-discover the vCenter or import "
            "the RVTools vNetwork/dvPort sheets, then map it."
        )
        return notes
    if not network.lands.mapped:
        notes.append(
            "Not mapped: say where its VMs land (an extended network or an AVS segment), or extend it in "
            "the site's HCX plan."
        )
    if network.switch_type == SwitchType.STANDARD and network.lands.target_kind != MappingTarget.SEGMENT:
        notes.append(
            "On a standard vSwitch: HCX extends only distributed port groups (or NSX segments); map it to an AVS segment."
        )
    if network.vlan_id == 0 or (
        network.vlan_id is None and network.switch_type != SwitchType.NSX and not network.vlan
    ):
        notes.append("No VLAN (or VLAN 0): HCX network extension needs a tagged VLAN.")
    return notes
