"""What an HCX Connector deployment needs to know, and how it maps onto the OVA (docs/hcx-wire.md §8)."""

import ipaddress
from dataclasses import asdict, dataclass, field, fields

from core.jobs import JobError

from .ova import OvfPackage

MANAGEMENT_NETWORK = "VSMgmt"  # the OVA's one network; the spec's port group is mapped onto it
SECRET_FIELDS = ("admin_password", "root_password")
# The OVF properties the HCX Connector OVA declares (hcx-wire.md §8); ovf_properties() sets each.
CONNECTOR_PROPERTIES = (
    "mgr_cli_passwd",
    "mgr_root_passwd",
    "hostname",
    "mgr_ip_0",
    "mgr_prefix_ip_0",
    "mgr_gateway_0",
    "mgr_dns_list",
    "mgr_domain_search_list",
    "mgr_ntp_list",
    "mgr_isSSHEnabled",
)


# Properties some builds declare that the portal knows: the 9.1 unified appliance's GRUB password
# (set when declared) and the static routes (left at their empty defaults, as Microsoft's scripts do).
OPTIONAL_PROPERTIES = (
    "mgr_grub_passwd",
    *(
        f"{name}_{n}"
        for n in (1, 2)
        for name in ("mgr_static_network", "mgr_static_network_prefix", "mgr_static_gateway_ip")
    ),
)
KNOWN_PROPERTIES = frozenset(CONNECTOR_PROPERTIES) | frozenset(OPTIONAL_PROPERTIES)
# The OVA's own descriptions say these lists are space separated (hcx-wire.md §8).
LIST_SEPARATOR = " "


def unknown_properties(package: OvfPackage) -> list:
    """The properties the OVA declares that the portal does not set: they keep the OVA's defaults."""
    return [prop for key, prop in package.properties.items() if key not in KNOWN_PROPERTIES]


def needs_a_value(prop) -> bool:
    """An unknown property the appliance cannot start without: no default, and a password or a
    minimum length (vmw:qualifiers MinLen(n))."""
    return not prop.default and (prop.password or prop.min_length > 0)


def describe_unknown(package: OvfPackage) -> str:
    """One line for the deploy page and the job log ('' when the OVA declares nothing unknown)."""
    unknown = unknown_properties(package)
    if not unknown:
        return ""
    listed = "; ".join(
        f"{p.key}"
        + (f" ({p.label})" if p.label and p.label != p.key else "")
        + (" = (hidden)" if p.password and p.default else f" = {p.default!r}")
        for p in unknown
    )
    return (
        f"{package} declares {len(unknown)} propert{'y' if len(unknown) == 1 else 'ies'} the portal does not "
        f"set; {'it keeps its' if len(unknown) == 1 else 'they keep their'} default: {listed}"
    )


def check_connector_package(package: OvfPackage):
    """Refuse an OVA that is not an HCX Connector before anything is created in vCenter, or one that
    declares a property the appliance needs and the portal cannot fill."""
    missing = sorted(set(CONNECTOR_PROPERTIES) - set(package.properties))
    if missing:
        raise JobError(
            f"{package} does not declare the HCX Connector properties {', '.join(missing)}: "
            "is it the HCX Connector OVA?"
        )
    needed = [p.key for p in unknown_properties(package) if needs_a_value(p)]
    if needed:
        raise JobError(
            f"{package} declares {', '.join(needed)}, which {'has' if len(needed) == 1 else 'have'} no default and "
            "which the portal does not know how to fill: the appliance would not start without "
            f"{'it' if len(needed) == 1 else 'them'}. This OVA is newer than the portal knows; deploy it with the "
            "vSphere Client or ovftool, then go on with the set-up steps."
        )
    if MANAGEMENT_NETWORK not in package.networks:
        declared = ", ".join(package.networks) or "none"
        raise JobError(f"{package} has no network {MANAGEMENT_NETWORK!r} to map (it declares: {declared})")


@dataclass(frozen=True)
class ConnectorSpec:
    vm_name: str
    hostname: str
    ip: str
    prefix: int
    gateway: str
    network: str
    dns: tuple[str, ...] = ()
    search_domains: tuple[str, ...] = ()
    ntp: tuple[str, ...] = ()
    ssh_enabled: bool = False
    datacenter: str = ""  # narrows the cluster by name: cluster names are unique per datacenter only
    datastore: str = ""
    cluster: str = ""
    resource_pool: str = ""
    folder: str = ""
    admin_password: str = field(default="", repr=False)
    root_password: str = field(default="", repr=False)

    @classmethod
    def from_dict(cls, data: dict, **secrets) -> "ConnectorSpec":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise JobError(f"Connector spec: unknown field(s) {', '.join(unknown)}")
        values = {**data, **secrets}
        for name in ("dns", "search_domains", "ntp"):
            value = values.get(name) or ()
            values[name] = tuple(
                v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()
            )
        try:
            values["prefix"] = int(values.get("prefix"))
        except (TypeError, ValueError):
            raise JobError(f"Connector spec: prefix {values.get('prefix')!r} is not a number") from None
        missing = [
            name for name in ("vm_name", "hostname", "ip", "gateway", "network") if not values.get(name)
        ]
        if missing:
            raise JobError(f"Connector spec: {', '.join(missing)} missing")
        return cls(**values)

    def public_dict(self) -> dict:
        """Everything but the passwords: what may be stored in a Job's params."""
        data = asdict(self)
        for name in SECRET_FIELDS:
            data.pop(name)
        for name in ("dns", "search_domains", "ntp"):
            data[name] = list(data[name])
        return data

    def with_passwords(self, admin_password: str, root_password: str) -> "ConnectorSpec":
        return ConnectorSpec(
            **{**asdict(self), "admin_password": admin_password, "root_password": root_password}
        )

    def validate(self, *, need_passwords: bool = True):
        problems = []
        try:
            ip = ipaddress.IPv4Address(self.ip)
        except ValueError:
            problems.append(f"ip {self.ip!r} is not an IPv4 address")
            ip = None
        if not 1 <= self.prefix <= 32:
            problems.append(f"prefix {self.prefix} is not between 1 and 32")
        try:
            gateway = ipaddress.IPv4Address(self.gateway)
        except ValueError:
            problems.append(f"gateway {self.gateway!r} is not an IPv4 address")
            gateway = None
        if ip and gateway and 1 <= self.prefix <= 32:
            subnet = ipaddress.IPv4Network(f"{ip}/{self.prefix}", strict=False)
            if gateway not in subnet:
                problems.append(f"gateway {gateway} is outside the Connector's subnet {subnet}")
        for server in self.dns:
            try:
                ipaddress.ip_address(server)
            except ValueError:
                problems.append(f"DNS server {server!r} is not an IP address")
        if need_passwords:
            problems += [
                f"{name.replace('_', ' ')} is empty" for name in SECRET_FIELDS if not getattr(self, name)
            ]
        if problems:
            raise JobError("Connector spec: " + "; ".join(problems))

    def ovf_properties(self, declared=None) -> dict[str, str]:
        """The OVF property values, keyed as the HCX Connector OVA declares them. `declared` (the
        package's properties) adds those only some builds take: the GRUB password of 9.1 unified
        appliances gets the root password."""
        values = {
            "mgr_cli_passwd": self.admin_password,
            "mgr_root_passwd": self.root_password,
            "hostname": self.hostname,
            "mgr_ip_0": self.ip,
            "mgr_prefix_ip_0": str(self.prefix),
            "mgr_gateway_0": self.gateway,
            "mgr_dns_list": LIST_SEPARATOR.join(self.dns),
            "mgr_domain_search_list": LIST_SEPARATOR.join(self.search_domains),
            "mgr_ntp_list": LIST_SEPARATOR.join(self.ntp),
            "mgr_isSSHEnabled": "True" if self.ssh_enabled else "False",
        }
        if declared and "mgr_grub_passwd" in declared:
            values["mgr_grub_passwd"] = self.root_password
        return values

    def network_mapping(self) -> dict[str, str]:
        return {MANAGEMENT_NETWORK: self.network}

    def check_against(self, package: OvfPackage):
        check_connector_package(package)
