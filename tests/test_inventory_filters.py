"""Every VM filter narrows the list the same way on the page and in the API (one FilterSet)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.choices import PowerState, SwitchType, ToolsStatus
from tests.factories import make_cluster, make_datastore, make_host, make_network, make_vcenter, make_vm

ALL_PRESENT = {"web01", "web02", "db01", "tmpl-rhel", "edge01"}


@pytest.fixture
def estate(db):
    """A small estate where each filter picks a known subset."""
    vc1 = make_vcenter("vc-east.example.com")
    vc2 = make_vcenter("vc-edge.example.com")
    prod = make_cluster(vc1, "Prod")
    dev = make_cluster(vc1, "Dev")
    edge = make_cluster(vc2, "Edge")
    p1, p2 = make_host(vc1, "esx-p1", prod), make_host(vc1, "esx-p2", prod)
    d1 = make_host(vc1, "esx-d1", dev)
    e1 = make_host(vc2, "esx-e1", edge)
    net10 = make_network(vc1, "VM-Net-10", vlan_id=10)
    net20 = make_network(vc1, "VM-Net-20", vlan_id=20, switch_type=SwitchType.STANDARD)
    gold, silver = make_datastore(vc1, "ds-gold"), make_datastore(vc1, "ds-silver")
    linux = {"guest_os": "Red Hat Enterprise Linux 8 (64-bit)", "guest_family": "linux"}
    windows = {"guest_os": "Microsoft Windows Server 2019 (64-bit)", "guest_family": "windows"}
    vms = {
        # Two NICs on one network and two disks on one datastore: must still be listed once.
        "web01": make_vm(
            vc1,
            "web01",
            cluster=prod,
            host=p1,
            power_state=PowerState.ON,
            tools_status=ToolsStatus.OK,
            hw_version=19,
            primary_ip="10.1.0.11",
            dns_name="web01.corp.example",
            num_cpu=4,
            **linux,
            nics=[net10, net10],
            disks=[(gold, 10240), (gold, 20480)],
            tags=["app:shop", "env:prod"],
        ),
        "web02": make_vm(
            vc1,
            "web02",
            cluster=prod,
            host=p2,
            power_state=PowerState.ON,
            tools_status=ToolsStatus.OLD,
            hw_version=13,
            primary_ip="10.1.0.12",
            num_cpu=2,
            **linux,
            nics=[net10, net20],
            disks=[(gold, 10240), (silver, 10240)],
            tags=["app:shop"],
        ),
        "db01": make_vm(
            vc1,
            "db01",
            cluster=prod,
            host=p1,
            power_state=PowerState.OFF,
            tools_status=ToolsStatus.NOT_RUNNING,
            hw_version=8,
            num_cpu=16,
            **windows,
            annotation="Oracle database for billing",
            nics=[net20],
            disks=[(silver, 102400)],
            tags=["env:prod"],
        ),
        "tmpl-rhel": make_vm(
            vc1,
            "tmpl-rhel",
            cluster=dev,
            host=d1,
            power_state=PowerState.OFF,
            is_template=True,
            tools_status=ToolsStatus.NOT_INSTALLED,
            hw_version=10,
            num_cpu=1,
            **linux,
        ),
        "old01": make_vm(
            vc1,
            "old01",
            cluster=dev,
            host=d1,
            power_state=PowerState.ON,
            hw_version=7,
            num_cpu=1,
            removed=timezone.now() - timedelta(days=1),
            **windows,
        ),
        # An RVTools row: the NIC names a network that has no Network row.
        "edge01": make_vm(
            vc2,
            "edge01",
            cluster=edge,
            host=e1,
            power_state=PowerState.SUSPENDED,
            hw_version=11,
            num_cpu=8,
            guest_os="VMware Photon OS (64-bit)",
            guest_family="linux",
            nics=["Edge-Net"],
        ),
    }
    return {
        "vc1": vc1,
        "vc2": vc2,
        "prod": prod,
        "dev": dev,
        "p1": p1,
        "p2": p2,
        "net10": net10,
        "net20": net20,
        "gold": gold,
        "silver": silver,
        "vms": vms,
    }


CASES = [
    ("no filter hides vanished VMs", lambda e: {}, ALL_PRESENT),
    ("q over names", lambda e: {"q": "WEB"}, {"web01", "web02"}),
    ("q over primary IP", lambda e: {"q": "10.1.0.11"}, {"web01"}),
    ("q over DNS name", lambda e: {"q": "corp.example"}, {"web01"}),
    ("q over annotation", lambda e: {"q": "billing"}, {"db01"}),
    ("q over guest OS", lambda e: {"q": "photon"}, {"edge01"}),
    ("vcenter by id", lambda e: {"vcenter_id": e["vc2"].pk}, {"edge01"}),
    (
        "vcenter by name",
        lambda e: {"vcenter": "vc-east.example.com"},
        {"web01", "web02", "db01", "tmpl-rhel"},
    ),
    ("cluster by id", lambda e: {"cluster_id": e["prod"].pk}, {"web01", "web02", "db01"}),
    ("cluster by name", lambda e: {"cluster": "Dev"}, {"tmpl-rhel"}),
    ("host by id", lambda e: {"host_id": e["p1"].pk}, {"web01", "db01"}),
    ("host by name", lambda e: {"host": "esx-p2"}, {"web02"}),
    ("power state", lambda e: {"power_state": PowerState.OFF}, {"db01", "tmpl-rhel"}),
    (
        "several power states",
        lambda e: {"power_state": [PowerState.ON, PowerState.SUSPENDED]},
        {"web01", "web02", "edge01"},
    ),
    ("guest OS contains", lambda e: {"guest_os": "windows server"}, {"db01"}),
    ("guest family", lambda e: {"guest_family": "Linux"}, {"web01", "web02", "tmpl-rhel", "edge01"}),
    ("network by id, no duplicates", lambda e: {"network_id": e["net10"].pk}, {"web01", "web02"}),
    ("network by name", lambda e: {"network": "VM-Net-20"}, {"web02", "db01"}),
    ("network known only by name", lambda e: {"network": "Edge-Net"}, {"edge01"}),
    ("datastore by id, no duplicates", lambda e: {"datastore_id": e["gold"].pk}, {"web01", "web02"}),
    ("datastore by name", lambda e: {"datastore": "ds-silver"}, {"web02", "db01"}),
    ("tag", lambda e: {"tag": "app:shop"}, {"web01", "web02"}),
    ("templates", lambda e: {"is_template": "true"}, {"tmpl-rhel"}),
    ("not templates", lambda e: {"is_template": "false"}, ALL_PRESENT - {"tmpl-rhel"}),
    ("tools status", lambda e: {"tools_status": ToolsStatus.OK}, {"web01"}),
    ("tools status never reported", lambda e: {"tools_status": ToolsStatus.UNKNOWN}, {"edge01"}),
    ("hardware version", lambda e: {"hw_version": 13}, {"web02"}),
    ("hardware version below", lambda e: {"hw_version__lt": 9}, {"db01"}),
    ("vanished included", lambda e: {"hw_version__lt": 9, "removed": "all"}, {"db01", "old01"}),
    ("vanished only", lambda e: {"removed": "true"}, {"old01"}),
    ("present only, said aloud", lambda e: {"removed": "false"}, ALL_PRESENT),
    (
        "filters combine",
        lambda e: {"cluster": "Prod", "power_state": PowerState.ON, "network": "VM-Net-20"},
        {"web02"},
    ),
]


def page_names(client, params):
    response = client.get("/inventory/vms/", {**params, "per_page": 500})
    assert response.status_code == 200
    names = [row.record.name for row in response.context["table"].paginated_rows]
    assert response.context["total"] == len(names)
    return names


def api_names(client, params):
    response = client.get("/api/vms/", {**params, "page_size": 500})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return [vm["name"] for vm in body["results"]]


@pytest.mark.parametrize("case, params, expected", CASES, ids=[c[0] for c in CASES])
def test_each_filter_narrows_the_vm_list_on_the_page_and_in_the_api(
    client_for, planner, estate, case, params, expected
):
    client = client_for(planner)
    query = params(estate)
    for names in (page_names(client, query), api_names(client, query)):
        assert len(names) == len(set(names)), f"{case}: a VM is listed twice: {names}"
        assert set(names) == expected, case


def test_the_page_says_which_filter_is_wrong_and_lists_nothing(client_for, planner, estate):
    response = client_for(planner).get("/inventory/vms/", {"cluster_id": 999999, "hw_version": "new"})
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["total"] == 0
    errors = response.context["filter"].errors
    assert set(errors) == {"cluster_id", "hw_version"}
    assert "cluster_id" in page and "hw_version" in page and "Enter a number." in page


def test_the_api_refuses_a_bad_filter_naming_it(client_for, planner, estate):
    response = client_for(planner).get("/api/vms/", {"power_state": "poweredSideways"})
    assert response.status_code == 400
    assert "poweredSideways" in response.json()["power_state"][0]


@pytest.mark.parametrize(
    "url, params, expected",
    [
        ("/api/clusters/", {"vcenter": "vc-east.example.com"}, {"Prod", "Dev"}),
        ("/api/clusters/", {"q": "EV"}, {"Dev"}),
        ("/api/hosts/", {"cluster": "Prod"}, {"esx-p1", "esx-p2"}),
        ("/api/hosts/", {"vcenter": "vc-edge.example.com"}, {"esx-e1"}),
        ("/api/datastores/", {"q": "gold"}, {"ds-gold"}),
        ("/api/networks/", {"switch_type": SwitchType.STANDARD}, {"VM-Net-20"}),
        ("/api/networks/", {"vlan": "10"}, {"VM-Net-10"}),
        ("/api/networks/", {"vlan_id": 20}, {"VM-Net-20"}),
    ],
)
def test_the_other_lists_filter_too(client_for, planner, estate, url, params, expected):
    body = client_for(planner).get(url, params).json()
    assert {row["name"] for row in body["results"]} == expected


def test_the_network_page_list_filters_by_switch_type(client_for, planner, estate):
    response = client_for(planner).get("/inventory/networks/", {"switch_type": SwitchType.DISTRIBUTED})
    assert [row.record.name for row in response.context["table"].paginated_rows] == ["VM-Net-10"]
