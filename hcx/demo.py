"""The demo's HCX side: a sound deployment plan for St Mary's main datacenter, and its connection to
the HCX simulator that `scripts/demo` starts (`python -m hcx.simulator`).

The simulated Connector reports a fixed vSphere inventory (hcx/simulator/inventory.py); the set-up
steps look port groups and networks up there by name. So the demo plan uses those names: its
profiles sit on Mgmt-VLAN10, Uplink-VLAN30 and vMotion-VLAN20, and it extends App-VLAN101 and
App-VLAN102. `with_simulator_networks` adds those port groups to the demo estate, so that they are
written (and kept) with the rest of it by the same idempotent estate writer.

Everything here is idempotent: `load_plan` creates the plan once and leaves it alone afterwards
(edits made in the demo survive a restart); `connect_simulator` points the connection at the
simulator of this run, whose ports change at every start.
"""

from dataclasses import dataclass

from django.db import transaction

from core.choices import AuditAction
from core.models import AuditEntry
from inventory.choices import SwitchType
from inventory.estate import Estate
from inventory.models import Network, VCenter

from .choices import LinkType, ProfileKind, SetupStepKey, StepState
from .models import HcxConnection, HcxNetworkProfilePlan, HcxPlan, HcxSetupStep
from .simulator.state import Config as SimulatorConfig

PLAN_NAME = "Main datacenter"
SWITCH = "dvs-SMH-Prod"
# Port groups of the simulated Connector's vCenter: name, VLAN, the simulator's moid for it.
SIMULATOR_PORT_GROUPS = [
    ("Mgmt-VLAN10", 10, "dvportgroup-31"),
    ("vMotion-VLAN20", 20, "dvportgroup-32"),
    ("Uplink-VLAN30", 30, "dvportgroup-33"),
    ("App-VLAN101", 101, "dvportgroup-41"),
    ("App-VLAN102", 102, "dvportgroup-42"),
]
EXTENDED = {"App-VLAN101": "10.10.101.1/24", "App-VLAN102": "10.10.102.1/24"}
DNS = "192.168.1.53"
# kind: port group, gateway, pool, MTU
PROFILES = {
    ProfileKind.MANAGEMENT: ("Mgmt-VLAN10", "192.168.10.1", ("192.168.10.20", "192.168.10.29"), 1500),
    ProfileKind.UPLINK: ("Uplink-VLAN30", "192.168.30.1", ("192.168.30.20", "192.168.30.29"), 1500),
    ProfileKind.VMOTION: ("vMotion-VLAN20", "192.168.20.1", ("192.168.20.20", "192.168.20.29"), 9000),
    ProfileKind.REPLICATION: ("Mgmt-VLAN10", "192.168.10.1", ("192.168.10.30", "192.168.10.39"), 1500),
}
PLAN = {
    "connector_hostname": "hcx-connector.stmarys-health.local",
    "connector_ip": "192.168.10.9",
    "connector_prefix_length": 24,
    "connector_gateway": "192.168.10.1",
    "dns_servers": [DNS],
    "ntp_servers": ["pool.ntp.org"],
    "avs_block": "10.100.0.0/22",
    "link_type": LinkType.EXPRESSROUTE,
    "bandwidth_mbps": 1000,
    "latency_ms": 12,
    "concurrent_migrations": 50,
    "notes": "Demo plan: its HCX connection points at the HCX simulator started by scripts/demo.",
}
TENANT = "stmarys-health-demo"
LOCATION = "Amsterdam"


def with_simulator_networks(estate: Estate) -> Estate:
    """The demo estate plus the simulator's port groups it lacks (on the estate's distributed switch)."""
    have = {row["name"] for row in estate.networks or []}
    for name, vlan, moid in SIMULATOR_PORT_GROUPS:
        if name not in have:
            estate.networks.append(
                {
                    "name": name,
                    "moid": moid,
                    "switch_name": SWITCH,
                    "switch_type": SwitchType.DISTRIBUTED,
                    "vlan": str(vlan),
                    "vlan_id": vlan,
                }
            )
    return estate


# What the simulated Connector is told when the set-up registers the demo vCenter (HCX needs a URL,
# user and password for it). Nothing connects to this address: the demo estate is not discoverable.
DEMO_VCENTER_LOGIN = {
    "url": "https://vcenter.stmarys-health.local/sdk",
    "username": "administrator@vsphere.local",
    "password": "VMware1!",
}


@transaction.atomic
def load_plan(vcenter_name: str) -> tuple[HcxPlan, bool]:
    """The demo plan on the demo vCenter, created once; returns (plan, created)."""
    vcenter = VCenter.objects.get(name=vcenter_name)
    if not vcenter.url:  # once: a login set in the demo's vCenter connection page is kept
        for name, value in DEMO_VCENTER_LOGIN.items():
            setattr(vcenter, name, value)
        vcenter.save()
    existing = HcxPlan.objects.filter(name=PLAN_NAME).first()
    if existing is not None:
        return existing, False
    networks = {
        n.name: n
        for n in Network.objects.filter(vcenter=vcenter, name__in=[p[0] for p in SIMULATOR_PORT_GROUPS])
    }
    plan = HcxPlan(name=PLAN_NAME, vcenter=vcenter, extension_gateways=dict(EXTENDED), **PLAN)
    plan.full_clean()
    plan.save()
    for kind, (port_group, gateway, (start, end), mtu) in PROFILES.items():
        profile = HcxNetworkProfilePlan(
            plan=plan,
            kind=kind,
            port_group=port_group,
            network=networks.get(port_group),
            gateway=gateway,
            prefix_length=24,
            ip_ranges=[{"start": start, "end": end}],
            primary_dns=DNS,
            mtu=mtu,
        )
        profile.full_clean()
        profile.save()
    plan.networks.set([networks[name] for name in EXTENDED if name in networks])
    AuditEntry.record(None, AuditAction.HCX_PLAN_CREATE, plan, revision=plan.revision, via="load_demo")
    return plan, True


@dataclass
class Connected:
    plan: HcxPlan
    created: bool
    changed: list[str]
    moved: bool  # a different simulator than the one the connection pointed at


def simulator_connection(service_url: str, admin_url: str, config: SimulatorConfig | None = None) -> dict:
    """The connection fields that reach the simulator, with its (default) credentials."""
    config = config or SimulatorConfig()
    service_url, admin_url = service_url.rstrip("/"), admin_url.rstrip("/")
    return {
        "connector_url": service_url,
        "appliance_url": admin_url,
        "username": config.username,
        "password": config.password,
        # The simulated appliance knows one admin password; root is never asked for by it.
        "admin_password": config.password,
        "root_password": config.password,
        "verify_tls": True,
        "location_city": LOCATION,
        "avs_subscription_id": config.subscription,
        "avs_resource_group": config.resource_group,
        "avs_private_cloud": config.private_cloud,
        "avs_tenant_id": TENANT,
        "avs_client_id": config.client_id,
        "avs_client_secret": config.client_secret,
        "arm_url": f"{service_url}/arm",
        "login_url": f"{service_url}/arm",
    }


@transaction.atomic
def connect_simulator(service_url: str, admin_url: str) -> Connected:
    """Point the demo plan's connection at this run's simulator; save only what differs.

    A new simulator starts with a fresh, unconfigured Connector, so the steps recorded against the
    previous one start again; the "deploy" step says that the simulator plays the appliance."""
    plan = HcxPlan.objects.select_for_update().filter(name=PLAN_NAME).first()
    if plan is None:
        raise LookupError(f"There is no HCX plan {PLAN_NAME!r}: run load_demo first.")
    wanted = simulator_connection(service_url, admin_url)
    connection = HcxConnection.objects.filter(plan=plan).first()
    created = connection is None
    connection = connection or HcxConnection(plan=plan)
    moved = connection.connector_url != wanted["connector_url"]
    changed = [name for name, value in wanted.items() if getattr(connection, name) != value]
    if changed:
        for name in changed:
            setattr(connection, name, wanted[name])
        connection.full_clean()
        connection.save()
        AuditEntry.record(
            None,
            AuditAction.HCX_CONNECTION_ADD if created else AuditAction.HCX_CONNECTION_CHANGE,
            plan,
            via="load_demo_hcx",
            fields=sorted(changed),
        )
    if moved:
        HcxSetupStep.objects.filter(plan=plan).exclude(step=SetupStepKey.DEPLOY).delete()
        from .setup.runner import record

        record(
            plan,
            SetupStepKey.DEPLOY,
            StepState.DONE,
            summary=f"Demo: the HCX simulator plays the Connector appliance; its appliance API answers at {admin_url}",
            data={"simulated": True, "url": admin_url},
        )
    return Connected(plan, created, changed, moved)
