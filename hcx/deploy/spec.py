"""What an HCX Connector deployment needs to know, and how it maps onto the OVA (hcx-api.md 2.2)."""

import ipaddress
from dataclasses import asdict, dataclass, field, fields

from core.jobs import JobError

from .ova import OvfPackage

MANAGEMENT_NETWORK = "VSMgmt"  # the OVA's one network; the spec's port group is mapped onto it
SECRET_FIELDS = ("admin_password", "root_password")
# The OVF properties the HCX Connector OVA declares (hcx-api.md 2.2); ovf_properties() sets each.
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


def check_connector_package(package: OvfPackage):
    """Refuse an OVA that is not an HCX Connector before anything is created in vCenter."""
    missing = sorted(set(CONNECTOR_PROPERTIES) - set(package.properties))
    if missing:
        raise JobError(
            f"{package} does not declare the HCX Connector properties {', '.join(missing)}: "
            "is it the HCX Connector OVA?"
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

    def ovf_properties(self) -> dict[str, str]:
        """The OVF property values, keyed as the HCX Connector OVA declares them."""
        return {
            "mgr_cli_passwd": self.admin_password,
            "mgr_root_passwd": self.root_password,
            "hostname": self.hostname,
            "mgr_ip_0": self.ip,
            "mgr_prefix_ip_0": str(self.prefix),
            "mgr_gateway_0": self.gateway,
            "mgr_dns_list": ",".join(self.dns),
            "mgr_domain_search_list": ",".join(self.search_domains),
            "mgr_ntp_list": ",".join(self.ntp),
            "mgr_isSSHEnabled": "True" if self.ssh_enabled else "False",
        }

    def network_mapping(self) -> dict[str, str]:
        return {MANAGEMENT_NETWORK: self.network}

    def check_against(self, package: OvfPackage):
        check_connector_package(package)
