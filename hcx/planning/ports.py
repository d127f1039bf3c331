"""The firewall openings an HCX Connector deployment needs, only as hcx-wire.md §12.2 states them."""

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class PortRule:
    protocol: str
    port: int
    source: str
    destination: str
    purpose: str
    reference: str

    def __str__(self):
        return f"{self.protocol} {self.port} from {self.source} to {self.destination}"


def cloud_manager_address(avs_block: str) -> str:
    """AVS serves the HCX Cloud Manager at x.x.x.9 of the management block (hcx-wire.md §12.1)."""
    try:
        return str(ipaddress.IPv4Network(avs_block, strict=False).network_address + 9)
    except ValueError:
        return "x.x.x.9"


def required_ports(plan, uplink_pool: str = "the uplink pool") -> list[PortRule]:
    connector = f"Connector {plan.connector_ip}"
    manager = f"AVS HCX Cloud Manager {cloud_manager_address(plan.avs_block)}"
    vcenter = plan.vcenter.name if plan.vcenter_id else "the on-premises vCenter"
    return [
        PortRule(
            "TCP",
            443,
            connector,
            manager,
            "Site pairing and all HCX service calls",
            "Azure VMware Solution docs: Configure VMware HCX",
        ),
        PortRule(
            "TCP",
            443,
            connector,
            "connect.hcx.vmware.com (or a proxy)",
            "Activation of the Connector",
            "Azure VMware Solution docs: Install VMware HCX",
        ),
        PortRule(
            "TCP",
            9443,
            "Administrators",
            connector,
            "Appliance management (admin portal, set-up API)",
            "VMware HCX appliance management (port 9443)",
        ),
        PortRule(
            "TCP",
            443,
            connector,
            f"{vcenter}, its SSO and the ESXi hosts",
            "vCenter, SSO and host calls",
            "Broadcom KB 440117",
        ),
        PortRule(
            "UDP",
            4500,
            f"On-premises uplinks ({uplink_pool})",
            "AVS uplinks",
            "Service-mesh tunnels",
            "Azure VMware Solution docs: network planning for HCX",
        ),
        PortRule(
            "TCP",
            902,
            "ESXi management VMkernel",
            "IX management interface",
            "NFC for initial and delta sync (Bulk, RAV)",
            "Broadcom KB 440117",
        ),
        PortRule(
            "TCP",
            8000,
            "ESXi vMotion VMkernel",
            "IX vMotion interface",
            "vMotion and RAV switchover",
            "Broadcom KB 440117",
        ),
    ]
