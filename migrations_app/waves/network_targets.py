"""What AVS offers a wave's networks to land on, and what is wrong with where a network lands.

A wave's site offers two kinds of target (hcx-wire.md §4, §5):

- the extended networks: the networks the site's HCX plan extends (HcxPlan.networks). An extended
  network keeps its source port group's name, VLAN and subnet at AVS (its gateway is the plan's
  `extension_gateways` entry), so it is one VLAN's network and no other;
- the AVS segments: the NSX segments HCX lists for the paired AVS site, as last read into the site's
  AvsInventory ("Read AVS inventory from HCX", hcx/avs_inventory.py).

`target_issues()` is the one judgement of a landing, used by the readiness rules (per VM, with the VM's
addresses), the wave page's notes and the mapping form (which refuses a target that is not offered):

- blocker: a network mapped to the extension of another VLAN (its VMs would sit in another broadcast
  domain with addresses that do not belong there); a target that is neither an extended network of the
  site nor a segment of the AVS inventory read (HCX cannot map to it);
- warning: a free-text segment that nothing can check yet (the inventory was never read); a wave
  without a site (nothing tells what AVS offers); a landing on a segment that is not an extension of
  the network (HCX keeps the VMs' addresses: the segment must carry their subnet, or they need new ones);
  VM addresses or the source's own gateway outside the subnet of the extension they land on.

A second port group of the same VLAN id (say, on another distributed switch) may land on the first's
extension: it is the same VLAN on the wire, so only the subnets are compared.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from hcx.models import HcxPlan
from migrations_app.choices import FindingSeverity, MappingTarget

from .landing import BY_MAPPING, Landing

BLOCKER, WARNING = FindingSeverity.BLOCKER, FindingSeverity.WARNING
RULE_TARGET, RULE_SUBNET = "network-target", "network-subnet"


@dataclass(frozen=True)
class Extension:
    """An extended network of the site: its source port group and the gateway the plan gives it."""

    network_id: int
    name: str
    vlan_id: int | None
    gateway: ipaddress.IPv4Interface | ipaddress.IPv6Interface | None = None

    @property
    def label(self) -> str:
        parts = [f"VLAN {self.vlan_id}" if self.vlan_id is not None else "no VLAN id"]
        if self.gateway is not None:
            parts.append(str(self.gateway))
        return f"{self.name} ({', '.join(parts)})"


@dataclass(frozen=True)
class AvsTargets:
    """What the wave's site offers to land on. `site` is "" without a site; `read_at` None when the
    site's AVS inventory was never read from HCX."""

    site: str = ""
    extensions: dict[str, Extension] = field(default_factory=dict)
    segments: tuple[str, ...] = ()  # the AVS inventory's networks that are not extensions
    read_at: datetime | None = None

    @property
    def offered(self) -> bool:
        """Whether there is anything to choose from (else the form takes free text)."""
        return bool(self.site and (self.extensions or self.read_at))

    @property
    def extended_ids(self) -> dict[int, str]:
        return {e.network_id: e.name for e in self.extensions.values()}

    def choices(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The select's groups: the extended networks first, then the segments; values "kind:name"."""
        groups = []
        if self.extensions:
            groups.append(
                (
                    f"Extended networks of {self.site}",
                    [
                        (f"{MappingTarget.EXTENDED}:{e.name}", e.label)
                        for e in sorted(self.extensions.values(), key=lambda e: e.name.lower())
                    ],
                )
            )
        if self.segments:
            groups.append(
                (
                    f"AVS segments (inventory read {self.read_at:%Y-%m-%d %H:%M})",
                    [(f"{MappingTarget.SEGMENT}:{name}", name) for name in self.segments],
                )
            )
        return groups

    def refusal(self, source_name: str, kind: str, name: str) -> str | None:
        """Why the mapping form refuses this target (None: it is offered, or nothing is known to check
        it against, in which case readiness warns). Not the VLAN check: a VLAN's mismatch is saved
        and shown as a readiness blocker, with what to do."""
        if not self.site or name in self.extensions:
            return None
        if kind == MappingTarget.EXTENDED:
            extended = ", ".join(sorted(self.extensions)) or "none"
            return (
                f"{name} is not a network the site {self.site} extends (it extends: {extended}). Choose "
                f"where {source_name} lands from the list, or add it to the networks to extend in the site's "
                "HCX plan first."
            )
        if self.read_at is not None and name not in self.segments:
            return (
                f"AVS offers no segment {name}: the AVS inventory of {self.site} read "
                f"{self.read_at:%Y-%m-%d %H:%M} does not list it. Choose a segment from the list, or read the "
                "AVS inventory from HCX again if it is new."
            )
        return None


def avs_targets(wave) -> AvsTargets:
    """The wave's site's targets, in two queries (none without a site)."""
    if not wave.site_id:
        return AvsTargets()
    site = (
        HcxPlan.objects.filter(pk=wave.site_id)
        .values("name", "extension_gateways", "avs_inventory__items", "avs_inventory__read_at")
        .first()
    )
    if site is None:
        return AvsTargets()
    gateways = site["extension_gateways"] if isinstance(site["extension_gateways"], dict) else {}
    through = HcxPlan.networks.through
    extensions = {
        name: Extension(network_id, name, vlan_id, _interface(gateways.get(name)))
        for network_id, name, vlan_id in through.objects.filter(hcxplan_id=wave.site_id)
        .order_by("network__name")
        .values_list("network_id", "network__name", "network__vlan_id")
    }
    items = site["avs_inventory__items"] if isinstance(site["avs_inventory__items"], dict) else {}
    names = [i.get("name") for i in items.get("networks") or [] if isinstance(i, dict) and i.get("name")]
    segments = tuple(n for n in names if n not in extensions)
    return AvsTargets(site["name"], extensions, segments, site["avs_inventory__read_at"])


def _interface(text) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface | None:
    try:
        return ipaddress.ip_interface(str(text).strip()) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Issue:
    rule: str
    severity: str
    message: str
    fix: str


@dataclass(frozen=True)
class Source:
    """The source network as the checks need it."""

    network_id: int
    name: str
    vlan_id: int | None


def _vlan(vlan_id) -> str:
    return f"VLAN {vlan_id}" if vlan_id is not None else "no VLAN id"


def _addresses(ips: Iterable[str]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The VM's own addresses worth comparing: not link-local (IPv6 fe80::, APIPA), not loopback."""
    found = []
    for text in ips or ():
        try:
            address = ipaddress.ip_address(str(text).split("%")[0].strip())
        except ValueError:
            continue
        if not (address.is_link_local or address.is_loopback or address.is_unspecified):
            found.append(address)
    return found


def target_issues(
    source: Source, lands: Landing, targets: AvsTargets, ips: Iterable[str] = (), vm_name: str = ""
) -> list[Issue]:
    """What is wrong with where `source` lands (see the module's docstring). `ips`: the addresses of the
    VM's NICs on it (readiness), none for the wave page's per-network notes."""
    if not lands.mapped:
        return []  # the network-unmapped rule's business
    name = lands.target_name
    extension = targets.extensions.get(name)
    issues = []
    if lands.by == BY_MAPPING and not targets.site:
        return [
            Issue(
                RULE_TARGET,
                WARNING,
                f"{source.name} is mapped to {name}, which cannot be checked: the wave has no site, so nothing "
                "tells which networks AVS offers.",
                "Choose the wave's site, then map the network to one of the targets the wave page offers.",
            )
        ]
    if extension is not None:
        if extension.network_id != source.network_id and (
            source.vlan_id is None or extension.vlan_id is None or source.vlan_id != extension.vlan_id
        ):
            own = targets.extensions.get(source.name)
            fix = (
                f"Map {source.name} to its own extension {source.name}"
                if own and own.network_id == source.network_id
                else f"Extend {source.name} in the HCX plan of {targets.site} and map it to that extension"
            )
            issues.append(
                Issue(
                    RULE_TARGET,
                    BLOCKER,
                    f"{source.name} ({_vlan(source.vlan_id)}) is mapped to {name}, the extension of {_vlan(extension.vlan_id)}: "
                    "its VMs would land on another VLAN's network, where their addresses and gateway do not belong.",
                    f"{fix}, or map it to an AVS segment that carries its subnet.",
                )
            )
            return issues  # the subnets of two VLANs say nothing more
        issues += _subnet_issues(source, extension, targets, ips, vm_name)
        return issues
    if lands.by != BY_MAPPING:
        return issues
    if name in targets.segments:
        issues.append(_segment_warning(source, name, ips))
        return issues
    if lands.target_kind == MappingTarget.EXTENDED:
        extended = ", ".join(sorted(targets.extensions)) or "none"
        issues.append(
            Issue(
                RULE_TARGET,
                BLOCKER,
                f"{source.name} is mapped to {name}, which is not a network the site {targets.site} extends "
                f"(it extends: {extended}){' nor a segment of its AVS inventory' if targets.read_at else ''}.",
                "Choose where it lands from the list on the wave page (an extended network or an AVS segment), or extend "
                "the network in the site's HCX plan.",
            )
        )
    elif targets.read_at is not None:
        issues.append(
            Issue(
                RULE_TARGET,
                BLOCKER,
                f"{source.name} is mapped to {name}, which AVS does not offer: neither an extended network of "
                f"{targets.site} nor a segment of the AVS inventory read {targets.read_at:%Y-%m-%d %H:%M}.",
                "Choose a target from the list on the wave page; if the segment is new in AVS, read the AVS inventory "
                "from HCX again first.",
            )
        )
    else:
        issues.append(
            Issue(
                RULE_TARGET,
                WARNING,
                f"{source.name} is mapped to the segment {name}, which cannot be checked: the AVS inventory of "
                f"{targets.site} was never read from HCX.",
                "Read the AVS inventory from HCX (on the wave page), then choose the segment from the list.",
            )
        )
        issues.append(_segment_warning(source, name, ips))
    return issues


def _segment_warning(source: Source, name: str, ips: Iterable[str]) -> Issue:
    addresses = _addresses(ips)
    kept = f" ({', '.join(map(str, addresses[:3]))})" if addresses else ""
    return Issue(
        RULE_SUBNET,
        WARNING,
        f"{source.name} lands on the AVS segment {name}, not on an extension of its own network: HCX keeps the VMs' "
        f"IP addresses{kept}, so they are reachable only if {name} carries the same subnet.",
        f"Make sure {name} has the subnet and gateway of {source.name} (and move the gateway from on-premises), or "
        "extend the network and map it to its extension, or plan new addresses for the VMs.",
    )


def _subnet_issues(
    source: Source, extension: Extension, targets: AvsTargets, ips: Iterable[str], vm_name: str
) -> list[Issue]:
    if extension.gateway is None:
        return []
    subnet = extension.gateway.network
    issues = []
    own = targets.extensions.get(source.name)
    if own is not None and own is not extension and own.gateway is not None and own.gateway.network != subnet:
        issues.append(
            Issue(
                RULE_SUBNET,
                WARNING,
                f"{source.name}'s subnet {own.gateway.network} differs from {subnet}, the subnet of {extension.name} it "
                "lands on.",
                f"Map {source.name} to its own extension, or correct the gateways in the HCX plan of {targets.site}.",
            )
        )
    outside = [a for a in _addresses(ips) if a.version == subnet.version and a not in subnet]
    if outside:
        who = f"{vm_name}'s" if vm_name else "The VMs'"
        issues.append(
            Issue(
                RULE_SUBNET,
                WARNING,
                f"{who} address {', '.join(map(str, outside[:3]))} on {source.name} is outside {subnet}, the subnet of "
                f"{extension.name} ({extension.gateway}): after the move it cannot reach its gateway.",
                f"Map {source.name} to the network that carries its subnet, or correct the gateway of {extension.name} "
                f"in the HCX plan of {targets.site}.",
            )
        )
    return issues
