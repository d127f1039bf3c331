"""Discovery against the govmomi vCenter simulator: what is stored is what vCenter says."""

import pytest
from pyVmomi import vim

from core.jobs import JobError
from inventory.discovery.connect import parse_url
from inventory.discovery.discover import discover
from inventory.models import (
    CdRom,
    Cluster,
    Datastore,
    Host,
    Network,
    Snapshot,
    VCenter,
    VirtualDisk,
    VirtualMachine,
    VirtualNic,
)
from tests.peers.vcsim import read_vms

pytestmark = pytest.mark.django_db

SMALL = {"dc": 1, "cluster": 2, "host": 2, "vm": 3}
WIDE = {"dc": 2, "cluster": 1, "host": 3, "standalone_host": 1, "vm": 2, "pg": 2}
INVENTORY = (
    VCenter,
    Cluster,
    Host,
    Datastore,
    Network,
    VirtualMachine,
    VirtualDisk,
    VirtualNic,
    CdRom,
    Snapshot,
)


def connection(sim, **fields) -> VCenter:
    values = {
        "name": sim.host,
        "url": sim.url,
        "username": sim.username,
        "password": sim.password,
        "verify_tls": False,
        **fields,
    }
    return VCenter.objects.create(**values)


def hosts_clusters(si) -> dict:
    """host moid -> cluster moid (None when standalone), straight from the simulator."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
    try:
        return {
            h._moId: (h.parent._moId if isinstance(h.parent, vim.ClusterComputeResource) else None)
            for h in view.view
        }
    finally:
        view.Destroy()


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["1dc-2clusters", "2dcs-standalone-host"])
def test_it_stores_what_the_simulator_says(vcsim, size):
    sim = vcsim(**size)
    vc = connection(sim)

    summary = discover(vc)

    si = sim.connect()
    truth = read_vms(
        si,
        [
            "name",
            "config.instanceUuid",
            "config.hardware.numCPU",
            "config.hardware.memoryMB",
            "runtime.powerState",
            "runtime.host",
            "config.hardware.device",
        ],
    )
    host_cluster = hosts_clusters(si)
    stored = {
        vm.moid: vm for vm in VirtualMachine.objects.filter(vcenter=vc).select_related("host", "cluster")
    }
    assert summary["vms"]["found"] == len(truth) == len(stored) > 0
    assert set(stored) == set(truth)
    for moid, props in truth.items():
        vm = stored[moid]
        assert vm.name == props["name"]
        assert vm.instance_uuid == props["config.instanceUuid"]
        assert vm.num_cpu == props["config.hardware.numCPU"]
        assert vm.memory_mib == props["config.hardware.memoryMB"]
        assert vm.power_state == props["runtime.powerState"]
        assert vm.host.moid == props["runtime.host"]._moId
        assert (vm.cluster.moid if vm.cluster else None) == host_cluster[vm.host.moid]
        disks = [d for d in props["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualDisk)]
        assert sorted((d.deviceInfo.label, d.capacityInKB // 1024) for d in disks) == sorted(
            vm.disks.values_list("label", "capacity_mib")
        )
        assert all(d.datastore_id for d in vm.disks.all())
        nics = [
            d for d in props["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualEthernetCard)
        ]
        assert sorted(n.deviceInfo.label for n in nics) == sorted(vm.nics.values_list("label", flat=True))
        assert all(
            n.network_id and n.network.name == n.network_name for n in vm.nics.select_related("network")
        )
    vc.refresh_from_db()
    about = si.RetrieveContent().about
    assert vc.instance_uuid == about.instanceUuid
    assert vc.version == about.fullName
    assert vc.last_synced is not None
    assert Host.objects.filter(vcenter=vc).count() == len(host_cluster)
    assert Cluster.objects.filter(vcenter=vc).count() == size["dc"] * size["cluster"]


def test_it_keeps_what_readiness_needs(vcsim):
    """The simulator gives its first VM a snapshot and its second an ISO in the CD-ROM drive."""
    sim = vcsim(**SMALL)
    vc = connection(sim)
    discover(vc)

    first, second = VirtualMachine.objects.filter(vcenter=vc).order_by("name")[:2]
    snapshot = first.snapshots.get()
    assert snapshot.name == "before-upgrade" and snapshot.created_at is not None
    assert second.cdroms.get().iso_path == "[LocalDS_0] iso/install.iso"
    assert first.hw_version and first.hw_version >= 4
    content = sim.connect().RetrieveContent()
    view = content.viewManager.CreateContainerView(
        content.rootFolder, [vim.dvs.DistributedVirtualPortgroup], True
    )
    portgroups = [pg for pg in view.view if not pg.config.uplink]
    assert portgroups
    for pg in portgroups:
        network = Network.objects.get(vcenter=vc, name=pg.name)
        assert network.moid == pg._moId
        assert network.switch_type == "distributed"
        assert network.switch_name == pg.config.distributedVirtualSwitch.name


def _stamps(vc):
    return {
        model.__name__: sorted(model.objects.values_list("pk", "last_updated"))
        for model in (Cluster, Host, Datastore, Network, VirtualMachine)
    }


def test_it_writes_nothing_when_nothing_changed(vcsim):
    sim = vcsim(**SMALL)
    vc = connection(sim)
    first = discover(vc)
    before = _stamps(vc)
    parts_before = {m.__name__: sorted(m.objects.values_list("pk", flat=True)) for m in INVENTORY[5:]}

    second = discover(vc)

    assert first["writes"] > 0
    assert second["writes"] == 0
    assert second["vms"] == {
        "found": first["vms"]["found"],
        "created": 0,
        "updated": 0,
        "vanished": 0,
        "unchanged": first["vms"]["found"],
    }
    assert _stamps(vc) == before
    assert {m.__name__: sorted(m.objects.values_list("pk", flat=True)) for m in INVENTORY[5:]} == parts_before


def test_it_marks_a_vm_destroyed_in_vcenter_vanished_and_keeps_it(vcsim):
    sim = vcsim(dc=1, cluster=1, host=1, vm=3, fresh=True)
    vc = connection(sim)
    discover(vc)
    victim = VirtualMachine.objects.filter(vcenter=vc).order_by("name").last()
    si = sim.connect()
    content = si.RetrieveContent()
    vm = content.searchIndex.FindByUuid(None, victim.instance_uuid, True, True)
    if vm.runtime.powerState == "poweredOn":
        _wait(vm.PowerOffVM_Task())
    _wait(vm.Destroy_Task())

    summary = discover(vc)

    assert summary["vms"]["vanished"] == 1
    victim.refresh_from_db()
    assert victim.removed is not None
    assert victim.disks.exists(), "a vanished VM keeps its last known disks"
    assert VirtualMachine.objects.filter(vcenter=vc, removed__isnull=True).count() == summary["vms"]["found"]
    again = discover(vc)
    assert again["writes"] == 0


def _wait(task):
    from pyVim.task import WaitForTask

    WaitForTask(task)


def test_it_reads_vms_in_pages(vcsim, settings):
    sim = vcsim(**SMALL)
    settings.DISCOVERY_PAGE_SIZE = 2
    vc = connection(sim)

    summary = discover(vc)

    total = len(read_vms(sim.connect()))
    assert total > 2
    assert summary["vm_pages"] == -(-total // 2)
    assert VirtualMachine.objects.filter(vcenter=vc).count() == total


def _nothing_written(vc):
    vc.refresh_from_db()
    assert vc.instance_uuid == "" and vc.last_synced is None
    assert not VirtualMachine.objects.exists() and not Host.objects.exists() and not Cluster.objects.exists()


def test_it_says_when_the_password_is_wrong(vcsim):
    sim = vcsim(**SMALL)
    vc = connection(sim, password="not-the-password")
    with pytest.raises(JobError, match="refused the user name or password"):
        discover(vc)
    _nothing_written(vc)


def test_it_says_when_vcenter_is_unreachable(vcsim):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    vc = VCenter.objects.create(
        name="gone", url=f"127.0.0.1:{port}", username="u", password="p", verify_tls=False
    )
    with pytest.raises(
        JobError,
        match="Could not reach vCenter https://127.0.0.1:.*refused, timed out, no route or TLS failed",
    ):
        discover(vc)
    _nothing_written(vc)


def test_it_refuses_an_untrusted_certificate_when_verifying(vcsim):
    sim = vcsim(**SMALL)
    vc = connection(sim, verify_tls=True)
    with pytest.raises(JobError, match="not trusted.*--insecure / untick verify TLS"):
        discover(vc)
    _nothing_written(vc)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("vcenter.example.com", "https://vcenter.example.com:443/sdk"),
        ("https://vcenter.example.com", "https://vcenter.example.com:443/sdk"),
        ("vc01:8443", "https://vc01:8443/sdk"),
        ("https://10.0.0.5:9443/sdk", "https://10.0.0.5:9443/sdk"),
        (" https://vc.example.com/sdk/ ", "https://vc.example.com:443/sdk"),
    ],
)
def test_it_accepts_a_url_as_people_type_it(text, expected):
    assert str(parse_url(text)) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "No vCenter URL"),
        ("http://vc.example.com", "only https"),
        ("vc.example.com:99999", "port"),
    ],
)
def test_it_rejects_a_url_it_cannot_use(text, message):
    with pytest.raises(JobError, match=message):
        parse_url(text)


def _silent_listener():
    """A port that accepts connections and never says a word (TLS never completes)."""
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    return listener


def _plain_http_listener():
    """A port that answers plain HTTP, not TLS."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_port_that_never_completes_tls_fails_the_discovery_instead_of_holding_the_worker(settings):
    import threading

    settings.VCENTER_TIMEOUT_SECONDS = 1
    with _silent_listener() as listener:
        vc = VCenter.objects.create(
            name="silent",
            url=f"127.0.0.1:{listener.getsockname()[1]}",
            username="u",
            password="p",
            verify_tls=False,
        )
        failure = []

        def run():
            try:
                discover(vc)
            except JobError as exc:
                failure.append(str(exc))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(60)  # a guard against hanging the test run, not a measure: the deadline is 1 s
        assert not thread.is_alive(), "discovery still waiting for a TLS handshake that never comes"
    assert failure and "Could not reach vCenter" in failure[0]


def test_closed_and_non_tls_ports_read_the_same_so_they_do_not_map_open_ports(settings):
    import socket

    settings.VCENTER_TIMEOUT_SECONDS = 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    http_server = _plain_http_listener()
    messages = {}
    try:
        for name, port in {"closed": closed, "plain http": http_server.server_port}.items():
            vc = VCenter.objects.create(
                name=name, url=f"127.0.0.1:{port}", username="u", password="p", verify_tls=False
            )
            with pytest.raises(JobError) as caught:
                discover(vc)
            messages[name] = str(caught.value).replace(str(port), "PORT")
    finally:
        http_server.shutdown()
        http_server.server_close()
    assert len(set(messages.values())) == 1, messages
