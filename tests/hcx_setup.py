"""A plan and connection that point at a running HCX simulator, for the set-up step tests.

The port groups and networks are the names the simulator's fixed vSphere inventory reports
(hcx/simulator/inventory.py), so the steps find them as they would on a real Connector."""

from hcx.choices import LinkType, ProfileKind
from hcx.models import HcxConnection, HcxNetworkProfilePlan, HcxPlan
from inventory.choices import SwitchType
from tests.factories import make_network, make_vcenter

SUBSCRIPTION, RESOURCE_GROUP, PRIVATE_CLOUD = "00000000-0000-0000-0000-000000000000", "avs-rg", "avs-sim"
CLOUD_USER, CLOUD_PASSWORD = "cloudadmin@vsphere.local", "CloudAdmin1!"

PROFILES = {
    ProfileKind.MANAGEMENT: ("Mgmt-VLAN10", "192.168.10.1", [("192.168.10.20", "192.168.10.29")]),
    ProfileKind.UPLINK: ("Uplink-VLAN30", "192.168.30.1", [("192.168.30.20", "192.168.30.29")]),
    ProfileKind.VMOTION: ("vMotion-VLAN20", "192.168.20.1", [("192.168.20.20", "192.168.20.29")]),
    ProfileKind.REPLICATION: ("Mgmt-VLAN10", "192.168.10.1", [("192.168.10.30", "192.168.10.39")]),
}
EXTENDED = {"App-VLAN101": "10.10.101.1/24", "App-VLAN102": "10.10.102.1/24"}


def make_setup_plan(
    sim, *, name: str = "Amsterdam", azure: bool = True, extend=EXTENDED, **connection
) -> HcxPlan:
    """A sound plan for site `name` with its connection to `sim` (a tests.peers.hcxsim.SimProcess).
    `azure=False` leaves the service principal out (the pasted-key path); `connection` overrides fields."""
    vcenter = make_vcenter(
        url="https://vcsa-onprem.local/sdk",
        username="administrator@vsphere.local",
        password="VMware1!",
        verify_tls=False,
    )
    plan = HcxPlan.objects.create(
        name=name,
        vcenter=vcenter,
        connector_hostname="hcx-connector",
        connector_ip="192.168.10.9",
        connector_prefix_length=24,
        connector_gateway="192.168.10.1",
        dns_servers=["192.168.1.53"],
        ntp_servers=["pool.ntp.org"],
        avs_block="10.100.0.0/22",
        link_type=LinkType.EXPRESSROUTE,
        bandwidth_mbps=1000,
        latency_ms=20,
        concurrent_migrations=50,
        estate_vm_count=120,
        extension_gateways=dict(extend),
    )
    for kind, (port_group, gateway, ranges) in PROFILES.items():
        HcxNetworkProfilePlan.objects.create(
            plan=plan,
            kind=kind,
            port_group=port_group,
            gateway=gateway,
            prefix_length=24,
            ip_ranges=[{"start": s, "end": e} for s, e in ranges],
            primary_dns="192.168.1.53",
            mtu=1500,
        )
    for number, network in enumerate(extend):
        plan.networks.add(
            make_network(vcenter, network, switch_type=SwitchType.DISTRIBUTED, vlan_id=101 + number)
        )
    values = {
        "connector_url": sim.service_url,
        "appliance_url": sim.admin_url,
        "username": sim.username,
        "password": sim.password,
        "admin_password": sim.password,
        "root_password": sim.password,
        "verify_tls": True,
        "location_city": "Amsterdam",
    }
    if azure:
        values.update(
            avs_subscription_id=SUBSCRIPTION,
            avs_resource_group=RESOURCE_GROUP,
            avs_private_cloud=PRIVATE_CLOUD,
            avs_tenant_id="tenant-1",
            avs_client_id=sim.client_id,
            avs_client_secret=sim.client_secret,
            arm_url=sim.arm_url,
            login_url=sim.arm_url,
        )
    values.update(connection)
    HcxConnection.objects.create(plan=plan, **values)
    return plan
