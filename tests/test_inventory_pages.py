"""The inventory pages: who may read them, what they show, sorting, paging, and their query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.choices import DiskMode, PowerState, RdmMode
from inventory.models import VirtualMachine
from tests.factories import (
    make_cluster,
    make_datastore,
    make_estate,
    make_host,
    make_network,
    make_vcenter,
    make_vm,
)

pytestmark = pytest.mark.django_db

READERS = ["planner", "engineer", "stakeholder", "admin_user"]


def page_rows(response):
    return [row.record for row in response.context["table"].paginated_rows]


def inventory_urls(estate):
    vm = estate.vms[0]
    return [
        "/inventory/vms/",
        f"/inventory/vms/{vm.pk}/",
        "/inventory/clusters/",
        f"/inventory/clusters/{estate.clusters[0].pk}/",
        "/inventory/hosts/",
        f"/inventory/hosts/{estate.hosts[0].pk}/",
        "/inventory/datastores/",
        f"/inventory/datastores/{estate.datastores[0].pk}/",
        "/inventory/networks/",
        f"/inventory/networks/{estate.networks[0].pk}/",
    ]


@pytest.mark.parametrize("persona", READERS)
def test_every_role_can_read_every_inventory_page(request, client_for, persona):
    estate = make_estate(vms=6)
    client = client_for(request.getfixturevalue(persona))
    for url in inventory_urls(estate):
        response = client.get(url)
        assert response.status_code == 200, url


def test_a_user_in_no_role_is_refused_every_inventory_page(client_for, outsider):
    estate = make_estate(vms=2)
    client = client_for(outsider)
    for url in inventory_urls(estate):
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_login_from_every_inventory_page(client):
    estate = make_estate(vms=2)
    for url in inventory_urls(estate):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url


def test_the_vm_list_shows_what_a_migration_planner_needs(client_for, planner):
    vc = make_vcenter()
    cluster = make_cluster(vc, "Prod-01")
    host = make_host(vc, "esx-17", cluster)
    net = make_network(vc, "App-VLAN-210", vlan_id=210)
    vm = make_vm(
        vc,
        "erp-app-01",
        cluster=cluster,
        host=host,
        power_state=PowerState.ON,
        num_cpu=6,
        memory_mib=12 * 1024,
        provisioned_mib=300 * 1024,
        used_mib=120 * 1024,
        hw_version=14,
        guest_os="Microsoft Windows Server 2022 (64-bit)",
        tools_status="toolsOld",
        primary_ip="10.2.3.4",
        nics=[net, "Backup-Net"],
    )
    page = client_for(planner).get("/inventory/vms/").content.decode()
    for header in [
        "Name",
        "Power",
        "vCPUs",
        "Memory GiB",
        "Provisioned GiB",
        "Used GiB",
        "Guest OS",
        "HW",
        "Tools",
        "Primary IP",
        "Networks",
        "Cluster",
        "Host",
    ]:
        assert f">{header}<" in page, header
    assert f'href="{vm.get_absolute_url()}"' in page
    assert f'href="{cluster.get_absolute_url()}"' in page and f'href="{host.get_absolute_url()}"' in page
    assert "12.0" in page and "300.0" in page and "120.0" in page
    assert "App-VLAN-210, Backup-Net" in page
    assert 'badge text-bg-success">Powered on<' in page
    assert 'badge text-bg-warning">Out of date<' in page
    assert "10.2.3.4" in page


def test_sorting_by_a_column_happens_across_pages(client_for, planner):
    estate = make_estate(vms=60, devices=False)
    client = client_for(planner)
    first = page_rows(client.get("/inventory/vms/", {"sort": "-num_cpu"}))
    second = page_rows(client.get("/inventory/vms/", {"sort": "-num_cpu", "page": 2}))
    cpus = [vm.num_cpu for vm in first + second]
    assert cpus == sorted((vm.num_cpu for vm in estate.vms), reverse=True)
    assert len({vm.pk for vm in first + second}) == 60


def test_page_two_holds_the_next_rows_in_name_order(client_for, planner):
    make_estate(vms=60, devices=False)
    client = client_for(planner)
    response = client.get("/inventory/vms/", {"page": 2})
    assert [vm.name for vm in page_rows(response)] == [f"vm-{i:05d}" for i in range(51, 61)]
    assert response.context["total"] == 60
    response = client.get("/inventory/vms/", {"page": 3, "per_page": 10})
    assert [vm.name for vm in page_rows(response)] == [f"vm-{i:05d}" for i in range(21, 31)]


def test_no_request_can_ask_for_more_than_500_rows(client_for, planner):
    make_estate(vms=501, devices=False, clusters=1)
    response = client_for(planner).get("/inventory/vms/", {"per_page": 100000})
    assert len(page_rows(response)) == 500


def count_queries(client, url):
    client.get(url)  # warm caches that are not per request (content types, templates)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/inventory/vms/",
        "/inventory/clusters/",
        "/inventory/hosts/",
        "/inventory/datastores/",
        "/inventory/networks/",
    ],
)
def test_list_pages_make_as_many_queries_for_60_vms_as_for_5(client_for, planner, url):
    client = client_for(planner)
    make_estate(vms=5)
    few = count_queries(client, url)
    make_estate(vms=55, prefix="more-")
    assert count_queries(client, url) == few


def test_the_vm_page_needs_a_bounded_number_of_queries(client_for, planner, django_assert_max_num_queries):
    vc = make_vcenter()
    store = make_datastore(vc, "ds-1")
    nets = [make_network(vc, f"net-{n}") for n in range(8)]
    vm = make_vm(
        vc,
        "big",
        disks=[(store, 1024)] * 12,
        nics=nets,
        cdroms=[{"device_type": "ISO", "iso_path": f"[ds-1] iso/{n}.iso"} for n in range(3)],
        snapshots=[{"name": f"snap-{n}", "created_at": timezone.now()} for n in range(6)],
        tags=[f"tag-{n}" for n in range(5)],
    )
    client = client_for(planner)
    client.get(vm.get_absolute_url())
    # session, user, permissions, navigation groups, the VM with its joins, five prefetches
    with django_assert_max_num_queries(12):
        assert client.get(vm.get_absolute_url()).status_code == 200


def test_the_vm_page_shows_the_vm_and_its_devices(client_for, stakeholder):
    vc = make_vcenter()
    cluster = make_cluster(vc, "Prod-01")
    host = make_host(vc, "esx-03", cluster)
    store = make_datastore(vc, "ds-gold")
    net = make_network(vc, "Web-VLAN-30", vlan_id=30)
    vm = make_vm(
        vc,
        "billing-db",
        cluster=cluster,
        host=host,
        guest_os="Red Hat Enterprise Linux 9 (64-bit)",
        hw_version=19,
        firmware="efi",
        annotation="Owned by finance",
        attributes={"cost-centre": "FIN-42"},
        disks=[
            {
                "datastore": store,
                "capacity_mib": 51200,
                "mode": DiskMode.INDEPENDENT_PERSISTENT,
                "rdm_mode": RdmMode.PHYSICAL,
                "sharing": "sharingMultiWriter",
            }
        ],
        nics=[
            {
                "network": net,
                "network_name": net.name,
                "mac_address": "00:50:56:aa:bb:cc",
                "ip_addresses": ["10.30.0.5", "fe80::1"],
            }
        ],
        cdroms=[{"device_type": "ISO", "connected": True, "iso_path": "[ds-gold] iso/rhel9.iso"}],
        snapshots=[{"name": "pre-upgrade", "created_at": timezone.now()}],
        tags=["app:billing"],
    )
    page = client_for(stakeholder).get(vm.get_absolute_url()).content.decode()
    for text in [
        "billing-db",
        "Red Hat Enterprise Linux 9",
        "vmx-19",
        "efi",
        "Owned by finance",
        "cost-centre",
        "FIN-42",
        "Independent persistent",
        "Physical RDM",
        "sharingMultiWriter",
        "50",
        "00:50:56:aa:bb:cc",
        "10.30.0.5, fe80::1",
        "[ds-gold] iso/rhel9.iso",
        "pre-upgrade",
        "app:billing",
    ]:
        assert text in page, text
    for linked in (cluster, host, store, net):
        assert f'href="{linked.get_absolute_url()}"' in page


def test_a_vanished_vm_keeps_its_page(client_for, planner):
    vm = make_vm(make_vcenter(), "gone-01", removed=timezone.now())
    page = client_for(planner).get(vm.get_absolute_url()).content.decode()
    assert "vanished" in page


def test_the_cluster_page_shows_its_hosts_vm_count_and_totals(client_for, planner):
    estate = make_estate(vms=8, clusters=2, hosts_per_cluster=3)
    cluster = estate.clusters[0]
    vms = [vm for vm in estate.vms if vm.cluster_id == cluster.pk]
    # A vanished VM is not counted.
    VirtualMachine.objects.filter(pk=vms[-1].pk).update(removed=timezone.now())
    present = vms[:-1]
    response = client_for(planner).get(cluster.get_absolute_url())
    assert {h.name for h in (r.record for r in response.context["host_table"].paginated_rows)} == {
        h.name for h in estate.hosts if h.cluster_id == cluster.pk
    }
    assert response.context["object"].vm_count == len(present)
    assert response.context["totals"]["vcpus"] == sum(vm.num_cpu for vm in present)
    assert {r.record.pk for r in response.context["vm_table"].paginated_rows} == {vm.pk for vm in present}


def test_the_host_page_lists_its_vms(client_for, planner):
    estate = make_estate(vms=8, clusters=1, hosts_per_cluster=2)
    host = estate.hosts[1]
    response = client_for(planner).get(host.get_absolute_url())
    assert {r.record.pk for r in response.context["vm_table"].paginated_rows} == {
        vm.pk for vm in estate.vms if vm.host_id == host.pk
    }


def test_the_datastore_page_lists_each_vm_with_a_disk_there_once(client_for, planner):
    vc = make_vcenter()
    store, other = make_datastore(vc, "ds-a"), make_datastore(vc, "ds-b")
    both = make_vm(vc, "two-disks-here", disks=[(store, 1024), (store, 2048)])
    make_vm(vc, "elsewhere", disks=[(other, 1024)])
    response = client_for(planner).get(store.get_absolute_url())
    assert [r.record.pk for r in response.context["vm_table"].paginated_rows] == [both.pk]
    assert response.context["object"].vm_count == 1


def test_the_network_page_shows_switch_vlan_and_its_vms(client_for, planner):
    vc = make_vcenter()
    net = make_network(vc, "DMZ-VLAN-99", vlan_id=99, switch_type="standard")
    on = make_vm(vc, "dmz-web", nics=[net, net])
    make_vm(vc, "inside", nics=[make_network(vc, "LAN")])
    response = client_for(planner).get(net.get_absolute_url())
    page = response.content.decode()
    assert "Standard vSwitch" in page and "99" in page
    assert [r.record.pk for r in response.context["vm_table"].paginated_rows] == [on.pk]
    assert f"network_id={net.pk}" in page


def test_an_htmx_refresh_gets_the_table_alone(client_for, planner):
    make_estate(vms=3)
    response = client_for(planner).get(
        "/inventory/vms/", {"q": "vm-00002"}, headers={"HX-Request": "true", "HX-Target": "object-table"}
    )
    page = response.content.decode()
    assert "<html" not in page and "<form" not in page
    assert "vm-00002" in page and "vm-00001" not in page
    assert "1 virtual machine matches these filters" in page
    # Only sorting and paging refresh in place; a VM's link opens its page.
    assert '<tbody hx-boost="false"' in page


@pytest.mark.parametrize(
    "persona, import_link, vcenter_link",
    [("planner", True, False), ("engineer", True, True), ("stakeholder", False, False)],
)
def test_an_empty_inventory_says_what_to_do_first(request, client_for, persona, import_link, vcenter_link):
    page = client_for(request.getfixturevalue(persona)).get("/inventory/vms/").content.decode()
    assert "No inventory yet." in page
    assert ('href="/inventory/import/"' in page) is import_link
    assert ('href="/inventory/vcenters/add/"' in page) is vcenter_link


def test_no_match_is_not_mistaken_for_an_empty_inventory(client_for, planner):
    make_estate(vms=3)
    page = client_for(planner).get("/inventory/vms/", {"q": "no-such-vm"}).content.decode()
    assert "0 virtual machines match these filters" in page
    assert "No inventory yet." not in page


def test_a_filter_set_by_a_link_survives_the_filter_form(client_for, planner):
    estate = make_estate(vms=4, clusters=1, hosts_per_cluster=2)
    host = estate.hosts[0]
    response = client_for(planner).get("/inventory/vms/", {"host_id": host.pk, "q": "vm"})
    page = response.content.decode()
    assert f'<input type="hidden" name="host_id" value="{host.pk}">' in page
    assert f"host id {host.pk}" in page
    assert {r.pk for r in page_rows(response)} == {vm.pk for vm in estate.vms if vm.host_id == host.pk}
