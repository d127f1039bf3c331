"""The plan checks: small named rules, each reading the plan's facts and returning findings.

A finding says what is wrong, about which object, and how to fix it. A plan with any error is
not ready to deploy. Limits come from settings.HCX_LIMITS, never from literals here.
"""

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import cached_property
from itertools import combinations

from django.conf import settings

from ..choices import LinkType, ManagerSize, MigrationType, ProfileKind, Severity
from .addresses import overlaps, parse_range, range_size
from .ports import required_ports
from .sizing import Appliances, addresses_needed, appliances, manager_size


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    subject: str
    message: str
    fix: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def color(self) -> str:
        return Severity.COLORS[self.severity]


@dataclass(frozen=True)
class Pool:
    """One parsed address range of one profile."""

    kind: str
    start: ipaddress.IPv4Address | ipaddress.IPv6Address
    end: ipaddress.IPv4Address | ipaddress.IPv6Address

    @property
    def size(self) -> int:
        return range_size(self.start, self.end)

    def __contains__(self, address) -> bool:
        return address.version == self.start.version and self.start <= address <= self.end

    def __str__(self):
        return f"{self.start}-{self.end}"


class PlanFacts:
    """What the rules read, loaded once (a fixed number of queries whatever the plan's size)."""

    def __init__(self, plan, profiles=None, networks=None):
        self.plan = plan
        if profiles is None:
            profiles = list(plan.profiles.all())
        if networks is None:
            networks = list(plan.networks.all())
        self.profiles = {p.kind: p for p in profiles}
        self.networks = networks
        self.limits = settings.HCX_LIMITS

    @cached_property
    def mesh(self) -> Appliances:
        return appliances(len(self.networks), self.plan.wan_opt)

    @cached_property
    def vm_count(self) -> int:
        return self.plan.vm_count()

    @cached_property
    def avs_block(self) -> ipaddress.IPv4Network | None:
        try:
            return ipaddress.IPv4Network(self.plan.avs_block, strict=False)
        except ValueError:
            return None

    @cached_property
    def pools(self) -> dict[str, list[Pool]]:
        pools = {}
        for kind, profile in self.profiles.items():
            pools[kind] = []
            for item in profile.ip_ranges or []:
                try:
                    start, end = parse_range(item)
                except (ValueError, KeyError, TypeError):
                    continue  # refused by model validation; nothing to check here
                pools[kind].append(Pool(kind, start, end))
        return pools

    def all_pools(self) -> list[Pool]:
        return [pool for kind in ProfileKind.values for pool in self.pools.get(kind, [])]

    @cached_property
    def connector_ip(self):
        try:
            return ipaddress.ip_address(self.plan.connector_ip)
        except ValueError:
            return None

    @cached_property
    def allowed_migration_types(self) -> list[str]:
        return [t for t in MigrationType.values if not _link_shortfalls(self, t)]


def label(kind: str) -> str:
    return f"{ProfileKind(kind).label} profile"


Rule = Callable[[PlanFacts], Iterable[Finding]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


@rule
def avs_block_is_private_22(facts: PlanFacts):
    block, prefix = facts.avs_block, facts.limits["AVS_MANAGEMENT_PREFIX"]
    if block is None:
        yield Finding(
            "avs-block",
            Severity.ERROR,
            "AVS management block",
            f"{facts.plan.avs_block!r} is not an IPv4 network.",
            f"Enter the private cloud's /{prefix}, for example 10.20.0.0/{prefix}.",
        )
        return
    if block.prefixlen != prefix:
        yield Finding(
            "avs-block",
            Severity.ERROR,
            "AVS management block",
            f"{block} is a /{block.prefixlen}; AVS needs a /{prefix}.",
            f"Enter the /{prefix} given when the private cloud was created.",
        )
    if not block.is_private:
        yield Finding(
            "avs-block",
            Severity.ERROR,
            "AVS management block",
            f"{block} is not a private (RFC 1918) range.",
            "Choose a private block that overlaps nothing on premises or in Azure.",
        )


@rule
def profiles_present(facts: PlanFacts):
    for kind in ProfileKind.REQUIRED:
        if kind not in facts.profiles:
            yield Finding(
                "profiles",
                Severity.ERROR,
                label(kind),
                f"The plan has no {ProfileKind(kind).label} profile.",
                f"Add the {ProfileKind(kind).label} network profile: HCX cannot build a service mesh without it.",
            )
    for kind in ProfileKind.MAY_REUSE_MANAGEMENT:
        if kind not in facts.profiles:
            yield Finding(
                "profiles",
                Severity.WARNING,
                label(kind),
                f"No {ProfileKind(kind).label} profile: its traffic will use the Management profile.",
                f"AVS allows this; add a dedicated {ProfileKind(kind).label} profile to keep the traffic apart.",
            )


@rule
def ranges_inside_subnet(facts: PlanFacts):
    for kind, pools in facts.pools.items():
        subnet = facts.profiles[kind].subnet
        if subnet is None:
            continue
        for pool in pools:
            if pool.start not in subnet or pool.end not in subnet:
                yield Finding(
                    "range-subnet",
                    Severity.ERROR,
                    f"{label(kind)}, range {pool}",
                    f"The range {pool} is not inside the profile's subnet {subnet}.",
                    f"Keep the range between {_first_host(subnet)} and {_last_host(subnet)}, or correct the gateway or prefix length.",
                )
            elif (
                subnet.version == 4
                and subnet.prefixlen < 31
                and (subnet.network_address in pool or subnet.broadcast_address in pool)
            ):
                yield Finding(
                    "range-subnet",
                    Severity.ERROR,
                    f"{label(kind)}, range {pool}",
                    f"The range {pool} includes the network or broadcast address of {subnet}.",
                    f"Keep the range between {_first_host(subnet)} and {_last_host(subnet)}.",
                )


@rule
def gateway_inside_subnet_outside_pools(facts: PlanFacts):
    every_pool = facts.all_pools()
    for kind, profile in facts.profiles.items():
        if not profile.gateway:
            continue
        # The subnet is the gateway's own, so a pool elsewhere is reported by ranges_inside_subnet;
        # what is left here is a gateway that cannot be a host of its subnet.
        gateway, subnet = ipaddress.ip_address(profile.gateway), profile.subnet
        if (
            subnet is not None
            and subnet.version == 4
            and subnet.prefixlen < 31
            and gateway in (subnet.network_address, subnet.broadcast_address)
        ):
            yield Finding(
                "gateway",
                Severity.ERROR,
                f"{label(kind)}, gateway {gateway}",
                f"The gateway {gateway} is the network or broadcast address of {subnet}.",
                f"Use the router's host address, between {_first_host(subnet)} and {_last_host(subnet)}.",
            )
        for pool in every_pool:
            if gateway in pool:
                yield Finding(
                    "gateway",
                    Severity.ERROR,
                    f"{label(kind)}, gateway {gateway}",
                    f"The gateway {gateway} is inside the {label(pool.kind)} range {pool}: HCX would hand it to an appliance.",
                    "Take the gateway out of the range (shorten or split the range).",
                )


@rule
def ranges_do_not_overlap(facts: PlanFacts):
    for a, b in combinations(facts.all_pools(), 2):
        if overlaps(a.start, a.end, b.start, b.end):
            where = label(a.kind) if a.kind == b.kind else f"{label(a.kind)} and {label(b.kind)}"
            yield Finding(
                "range-overlap",
                Severity.ERROR,
                f"{where}, ranges {a} and {b}",
                f"The ranges {a} ({ProfileKind(a.kind).label}) and {b} ({ProfileKind(b.kind).label}) overlap: two appliances could get the same address.",
                "Give each profile its own, separate range.",
            )


@rule
def nothing_overlaps_avs_block(facts: PlanFacts):
    block = facts.avs_block
    if block is None:
        return
    for kind, profile in facts.profiles.items():
        bad = [
            pool
            for pool in facts.pools.get(kind, [])
            if pool.start.version == 4 and _range_meets(pool, block)
        ]
        for pool in bad:
            yield Finding(
                "avs-overlap",
                Severity.ERROR,
                f"{label(kind)}, range {pool}",
                f"The range {pool} overlaps the AVS management block {block}.",
                f"Choose on-premises addresses outside {block}: AVS routes that block to the private cloud.",
            )
        subnet = profile.subnet
        if not bad and subnet is not None and subnet.version == 4 and subnet.overlaps(block):
            yield Finding(
                "avs-overlap",
                Severity.ERROR,
                label(kind),
                f"The subnet {subnet} overlaps the AVS management block {block}.",
                f"Use an on-premises subnet outside {block}.",
            )
    if facts.connector_ip is not None and facts.connector_ip in block:
        yield Finding(
            "avs-overlap",
            Severity.ERROR,
            f"Connector {facts.connector_ip}",
            f"The Connector address {facts.connector_ip} is inside the AVS management block {block}.",
            f"Give the Connector an on-premises address outside {block}.",
        )


@rule
def connector_on_management_network(facts: PlanFacts):
    management, ip = facts.profiles.get(ProfileKind.MANAGEMENT), facts.connector_ip
    if management is None or ip is None or management.subnet is None:
        return
    subject = f"Connector {ip}"
    if ip not in management.subnet:
        yield Finding(
            "connector",
            Severity.ERROR,
            subject,
            f"The Connector address {ip} is not inside the management subnet {management.subnet}.",
            "Deploy the Connector on the HCX management network: give it an address of that subnet.",
        )
    for pool in facts.all_pools():
        if ip in pool:
            yield Finding(
                "connector",
                Severity.ERROR,
                subject,
                f"The Connector address {ip} is inside the {label(pool.kind)} range {pool}: an appliance would be given it.",
                "Take the Connector's address out of the range.",
            )
    if (
        management.gateway
        and facts.plan.connector_gateway
        and management.gateway != facts.plan.connector_gateway
    ):
        yield Finding(
            "connector",
            Severity.WARNING,
            subject,
            f"The Connector's gateway {facts.plan.connector_gateway} differs from the management profile's {management.gateway}.",
            "Use the management network's gateway for both, unless the Connector sits on another network on purpose.",
        )


@rule
def enough_addresses(facts: PlanFacts):
    for kind in facts.profiles:
        needed, why = addresses_needed(kind, facts.mesh)
        have = sum(pool.size for pool in facts.pools.get(kind, []))
        if have < needed:
            yield Finding(
                "addresses",
                Severity.ERROR,
                label(kind),
                f"The {ProfileKind(kind).label} pool holds {have} address{'es' if have != 1 else ''}; the mesh needs {needed} ({why}).",
                f"Add {needed - have} more address{'es' if needed - have != 1 else ''} to the range(s).",
            )


@rule
def mtu_limits(facts: PlanFacts):
    low, high, vpn = facts.limits["MTU_MIN"], facts.limits["MTU_MAX"], facts.limits["VPN_UPLINK_MTU_MAX"]
    for kind, profile in facts.profiles.items():
        if profile.mtu < low or profile.mtu > high:
            yield Finding(
                "mtu",
                Severity.ERROR,
                label(kind),
                f"MTU {profile.mtu} is outside {low}-{high}.",
                f"Set an MTU between {low} and {high} that the port group's switch carries end to end.",
            )
    uplink = facts.profiles.get(ProfileKind.UPLINK)
    if uplink is not None and facts.plan.link_type == LinkType.VPN and uplink.mtu > vpn:
        yield Finding(
            "mtu",
            Severity.ERROR,
            label(ProfileKind.UPLINK),
            f"The link is a VPN but the uplink MTU is {uplink.mtu}; tunnels over a VPN need {vpn} or less.",
            f"Set the uplink profile's MTU to {vpn} on both sides (the AVS uplink too).",
        )


def _link_shortfalls(facts: PlanFacts, migration_type: str) -> list[str]:
    minimum = {
        MigrationType.VMOTION: facts.limits["MIN_MBPS_VMOTION"],
        MigrationType.COLD: facts.limits["MIN_MBPS_COLD"],
        MigrationType.RAV: facts.limits["MIN_MBPS_RAV"],
    }.get(migration_type)
    shortfalls = []
    if minimum and facts.plan.bandwidth_mbps < minimum:
        shortfalls.append(f"needs at least {minimum} Mbps, the link has {facts.plan.bandwidth_mbps} Mbps")
    max_latency = facts.limits["MAX_LATENCY_MS_VMOTION"]
    if migration_type in (MigrationType.VMOTION, MigrationType.RAV) and facts.plan.latency_ms > max_latency:
        shortfalls.append(
            f"needs a round trip of at most {max_latency} ms, the link has {facts.plan.latency_ms} ms"
        )
    return shortfalls


@rule
def link_bandwidth_and_latency(facts: PlanFacts):
    allowed = facts.allowed_migration_types
    for migration_type in MigrationType.values:
        for shortfall in _link_shortfalls(facts, migration_type):
            yield Finding(
                "link",
                Severity.WARNING,
                f"{MigrationType(migration_type).label} over the link",
                f"{MigrationType(migration_type).label} {shortfall}: it cannot be used on this link.",
                "Plan these VMs as "
                + ", ".join(str(MigrationType(t).label) for t in allowed)
                + ", or improve the link.",
            )
    yield Finding(
        "link",
        Severity.INFO,
        "Link",
        f"The link ({LinkType(facts.plan.link_type).label}, {facts.plan.bandwidth_mbps} Mbps, {facts.plan.latency_ms} ms) allows: "
        + ", ".join(str(MigrationType(t).label) for t in allowed)
        + ".",
    )


@rule
def networks_can_be_extended(facts: PlanFacts):
    from inventory.choices import SwitchType

    for network in facts.networks:
        subject = f"Network {network.name}"
        if network.switch_type == SwitchType.STANDARD:
            yield Finding(
                "extend",
                Severity.ERROR,
                subject,
                f"{network.name} is on a standard vSwitch, which HCX cannot extend.",
                "Move the port group to a distributed switch first, or migrate its VMs with re-addressing instead.",
            )
        elif network.switch_type == SwitchType.UNKNOWN:
            yield Finding(
                "extend",
                Severity.WARNING,
                subject,
                f"The switch type of {network.name} is unknown.",
                "Rediscover the vCenter, or check that it is a distributed port group or an NSX segment.",
            )
        if network.switch_type != SwitchType.NSX and not network.vlan_id:
            shown = network.vlan or "none"
            yield Finding(
                "extend",
                Severity.ERROR,
                subject,
                f"{network.name} has no single VLAN (VLAN: {shown}); HCX extends VLAN-tagged port groups only.",
                "Tag the port group with one VLAN id (not 0, not a trunk), or leave it out of the extension.",
            )
        if facts.plan.vcenter_id and network.vcenter_id != facts.plan.vcenter_id:
            yield Finding(
                "extend",
                Severity.WARNING,
                subject,
                f"{network.name} belongs to another vCenter than the plan's.",
                "Extend it from that site's own plan.",
            )


@rule
def extension_gateways_given(facts: PlanFacts):
    """HCX asks for each extended network's own gateway and prefix; the set-up takes them from here."""
    gateways = facts.plan.extension_gateways or {}
    where = facts.plan._meta.get_field("extension_gateways").verbose_name
    for network in facts.networks:
        if not gateways.get(network.name):
            yield Finding(
                "extension-gateway",
                Severity.ERROR,
                f"Network {network.name}",
                f"{network.name} is to be extended but the plan gives no gateway for it: HCX needs its gateway and prefix.",
                f'Add it under "{where}", for example {{"{network.name}": "10.10.41.1/24"}} with the router address '
                f"and prefix of {network.name}.",
            )
    selected = {network.name for network in facts.networks}
    for name in sorted(set(gateways) - selected):
        yield Finding(
            "extension-gateway",
            Severity.WARNING,
            f"Gateway of {name}",
            f"The plan gives a gateway for {name}, which is not among the networks to extend.",
            f'Select {name} among the networks to extend, or remove its gateway from "{where}".',
        )


@rule
def concurrency_within_limits(facts: PlanFacts):
    wanted = facts.plan.concurrent_migrations
    per_mesh, per_manager = (
        facts.limits["MAX_REPLICATIONS_PER_MESH"],
        facts.limits["MAX_REPLICATIONS_PER_MANAGER"],
    )
    if wanted > per_manager:
        yield Finding(
            "concurrency",
            Severity.WARNING,
            "Concurrent migrations",
            f"{wanted} concurrent Bulk/RAV migrations exceed the {per_manager} one HCX Manager runs at once.",
            "Plan the waves below that figure, or scale the Cloud Manager.",
        )
    elif wanted > per_mesh:
        yield Finding(
            "concurrency",
            Severity.WARNING,
            "Concurrent migrations",
            f"{wanted} concurrent Bulk/RAV migrations exceed the {per_mesh} one service mesh (IX) runs at once.",
            "Add a service mesh or keep the waves below that figure.",
        )


@rule
def service_mesh_appliances(facts: PlanFacts):
    mesh = facts.mesh
    yield Finding(
        "appliances",
        Severity.INFO,
        "Service mesh",
        f"The mesh will deploy {mesh.total} appliance(s): {mesh.explain_total()} "
        f"({mesh.extended_networks} network(s) to extend, {mesh.networks_per_ne} per NE).",
    )


@rule
def cloud_manager_size(facts: PlanFacts):
    size = manager_size(facts.vm_count)
    fix = (
        ""
        if size == ManagerSize.SMALL
        else (f"Scale it with the AVS run command Set-HcxScaledCpuAndMemorySetting (ScaleFormFactor {size}).")
    )
    yield Finding(
        "manager-size",
        Severity.INFO,
        "AVS HCX Cloud Manager",
        f"{facts.vm_count} VMs in the estate: size {ManagerSize(size).label}.",
        fix,
    )


@rule
def ports_to_open(facts: PlanFacts):
    uplink = ", ".join(str(p) for p in facts.pools.get(ProfileKind.UPLINK, [])) or "the uplink pool"
    for port in required_ports(facts.plan, uplink):
        yield Finding(
            "ports",
            Severity.INFO,
            f"{port.protocol} {port.port}",
            f"{port}: {port.purpose}.",
            "Open it in the firewalls on the path.",
        )


def _range_meets(pool: Pool, block) -> bool:
    return pool.start <= block.broadcast_address and block.network_address <= pool.end


def _first_host(subnet):
    return subnet.network_address + 1 if subnet.num_addresses > 2 else subnet.network_address


def _last_host(subnet):
    return subnet.broadcast_address - 1 if subnet.num_addresses > 2 else subnet.broadcast_address


@dataclass
class Report:
    findings: list[Finding]
    facts: PlanFacts

    @property
    def ready(self) -> bool:
        return not any(f.severity == Severity.ERROR for f in self.findings)

    def by_severity(self, leave_out=()) -> list[tuple[str, str, list[Finding]]]:
        """[(severity, heading, findings)] in error, warning, info order, empty groups left out."""
        return [
            (s, Severity.HEADINGS[s], group)
            for s in Severity.ORDER
            if (group := [f for f in self.findings if f.severity == s and f.rule not in leave_out])
        ]

    @property
    def grouped_without_ports(self):
        """For pages that print the ports as their own table."""
        return self.by_severity(leave_out=("ports",))

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def error_count(self) -> int:
        return self.count(Severity.ERROR)


def check_plan(plan, profiles=None, networks=None) -> Report:
    facts = PlanFacts(plan, profiles, networks)
    return Report([finding for rule_fn in RULES for finding in rule_fn(facts)], facts)
