"""Deploying the HCX Connector OVA into govmomi's vCenter simulator, and the packages it refuses."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pyVim.task import WaitForTask

from core.jobs import JobError
from hcx.deploy.deploy import deploy_connector
from hcx.deploy.ova import open_package
from hcx.deploy.spec import ConnectorSpec
from tests.ova import HCX_PROPERTIES, build_folder, build_ova, descriptor
from tests.peers.vcsim import read_vms

ADMIN_PASSWORD = "Adm1n-Secret!"
ROOT_PASSWORD = "R00t-Secret!"
SPEC = {
    "vm_name": "hcx-connector-01",
    "hostname": "hcx01.example.com",
    "ip": "10.0.0.9",
    "prefix": 24,
    "gateway": "10.0.0.1",
    "network": "DC0_DVPG0",
    "dns": ["10.0.0.2", "10.0.0.3"],
    "search_domains": ["example.com"],
    "ntp": ["ntp.example.com"],
    "ssh_enabled": True,
    "datastore": "LocalDS_0",
}


def make_spec(**changes) -> ConnectorSpec:
    return ConnectorSpec.from_dict(
        {**SPEC, **changes}, admin_password=ADMIN_PASSWORD, root_password=ROOT_PASSWORD
    )


class Answering(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(401)  # an appliance asking for credentials has answered
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(name="appliance")
def appliance_fixture():
    """A local HTTP server standing in for the appliance API on 9443."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_url():
    """A URL on which nothing listens."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    port = server.server_port
    server.server_close()
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def sim(vcsim):
    # A simulator of its own: these tests add VMs.
    return vcsim(vm=1, fresh=True)


def vms_named(si, name) -> list[dict]:
    return [
        props
        for props in read_vms(si, ("name", "config", "network", "runtime.powerState")).values()
        if props["name"] == name
    ]


def ovf_values(config) -> dict[str, str]:
    """OVF property values as vCenter keeps them (vAppConfig); govmomi's simulator keeps them in extraConfig."""
    if config.vAppConfig and config.vAppConfig.property:
        return {p.id: p.value for p in config.vAppConfig.property}
    return {option.key: option.value for option in config.extraConfig}


def deploy(sim, package, spec, **options):
    si = sim.connect()
    options.setdefault("answer_check", lambda: True)
    return si, deploy_connector(
        si, package, spec, nfc_host=f"127.0.0.1:{sim.port}", verify_tls=False, **options
    )


def test_it_deploys_the_connector_with_its_settings_on_the_chosen_port_group(sim, tmp_path, appliance):
    package = open_package(build_ova(tmp_path))
    progress = []

    si, result = deploy(
        sim,
        package,
        make_spec(),
        answer_check=appliance,
        poll_seconds=0.1,
        report=lambda percent, text: progress.append(percent),
    )

    [vm] = vms_named(si, "hcx-connector-01")
    assert result["imported"] is True
    assert vm["runtime.powerState"] == "poweredOn"
    assert [net.name for net in vm["network"]] == ["DC0_DVPG0"]
    values = ovf_values(vm["config"])
    assert {key: values.get(key) for key in make_spec().ovf_properties()} == {
        "mgr_cli_passwd": ADMIN_PASSWORD,
        "mgr_root_passwd": ROOT_PASSWORD,
        "hostname": "hcx01.example.com",
        "mgr_ip_0": "10.0.0.9",
        "mgr_prefix_ip_0": "24",
        "mgr_gateway_0": "10.0.0.1",
        "mgr_dns_list": "10.0.0.2 10.0.0.3",  # space separated, as the OVA's own descriptions say
        "mgr_domain_search_list": "example.com",
        "mgr_ntp_list": "ntp.example.com",
        "mgr_isSSHEnabled": "True",
    }
    assert progress[0] == 0 and progress[-1] == 100
    assert progress == sorted(progress)


def test_it_deploys_from_an_unpacked_folder(sim, tmp_path):
    package = open_package(build_folder(tmp_path / "unpacked"))

    si, result = deploy(sim, package, make_spec(vm_name="hcx-from-folder"))

    assert result["imported"] is True
    assert len(vms_named(si, "hcx-from-folder")) == 1


def test_it_finds_the_existing_vm_on_a_second_run_and_powers_it_on(sim, tmp_path):
    package = open_package(build_ova(tmp_path))
    spec = make_spec(vm_name="hcx-twice")
    si, first = deploy(sim, package, spec)
    vm = si.content.searchIndex.FindByUuid(None, vms_named(si, "hcx-twice")[0]["config"].uuid, True)
    WaitForTask(vm.PowerOffVM_Task())
    assert vms_named(si, "hcx-twice")[0]["runtime.powerState"] == "poweredOff"
    asked = []

    si, second = deploy(sim, package, spec, passwords=lambda: asked.append(1) or ("x", "y"))

    assert second["imported"] is False and second["vm"] == first["vm"]
    [again] = vms_named(si, "hcx-twice")
    assert again["runtime.powerState"] == "poweredOn"
    assert asked == []  # no import, so no secrets needed


def test_it_says_when_the_appliance_does_not_answer_in_time(sim, tmp_path, closed_url):
    package = open_package(build_ova(tmp_path))

    with pytest.raises(JobError) as caught:
        deploy(
            sim,
            package,
            make_spec(vm_name="hcx-silent"),
            answer_check=closed_url,
            wait_seconds=0.3,
            poll_seconds=0.1,
        )

    message = str(caught.value)
    assert closed_url in message and "did not answer within 0.3 seconds" in message
    assert "DC0_DVPG0" in message and ADMIN_PASSWORD not in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"network": "Nope-PG"}, "Port group 'Nope-PG' not found on DC0_C0; it has: "),
        ({"datastore": "NoSuchDS"}, "Datastore 'NoSuchDS' not found on DC0_C0; it has: LocalDS_0"),
        ({"cluster": "Elsewhere"}, "Cluster 'Elsewhere' not found in vCenter; it has: DC0_C0"),
        ({"folder": "Nowhere"}, "VM folder 'Nowhere' not found in DC0; it has: "),
        ({"datacenter": "DC9"}, "Datacenter 'DC9' not found in vCenter; it has: DC0"),
        (
            {"datacenter": "DC0", "cluster": "Elsewhere"},
            "Cluster 'Elsewhere' not found in datacenter DC0; it has: DC0_C0",
        ),
    ],
)
def test_it_names_what_was_not_found_and_what_exists(sim, tmp_path, change, expected):
    package = open_package(build_ova(tmp_path))

    with pytest.raises(JobError) as caught:
        deploy(sim, package, make_spec(vm_name="hcx-misplaced", **change))

    assert str(caught.value).startswith(expected)
    if "network" in change:
        assert "DC0_DVPG0" in str(caught.value) and "VM Network" in str(caught.value)
    assert vms_named(sim.connect(), "hcx-misplaced") == []


def test_it_refuses_an_ova_that_is_not_the_hcx_connector(sim, tmp_path):
    other = descriptor(properties={"hostname": ("string", False)})
    package = open_package(build_ova(tmp_path, ovf=other))

    with pytest.raises(JobError, match="does not declare the HCX Connector properties mgr_cli_passwd"):
        deploy(sim, package, make_spec(vm_name="hcx-wrong-ova"))

    assert vms_named(sim.connect(), "hcx-wrong-ova") == []


def test_lists_go_to_the_ova_space_separated(tmp_path):
    spec = make_spec(
        dns=["10.0.0.2", "10.0.0.3"],
        search_domains=["example.com", "corp.example.com"],
        ntp=["0.pool.ntp.org", "1.pool.ntp.org"],
    )

    values = spec.ovf_properties()

    assert (values["mgr_dns_list"], values["mgr_domain_search_list"], values["mgr_ntp_list"]) == (
        "10.0.0.2 10.0.0.3",
        "example.com corp.example.com",
        "0.pool.ntp.org 1.pool.ntp.org",
    )


def test_a_unified_appliance_gets_its_grub_password(sim, tmp_path):
    unified = descriptor(properties={**HCX_PROPERTIES, "mgr_grub_passwd": ("password", True)})
    package = open_package(build_ova(tmp_path, ovf=unified))
    warnings = []

    si, _ = deploy(sim, package, make_spec(vm_name="hcx-unified"), warn=warnings.append)

    [vm] = vms_named(si, "hcx-unified")
    assert ovf_values(vm["config"])["mgr_grub_passwd"] == ROOT_PASSWORD
    assert "mgr_grub_passwd" not in make_spec().ovf_properties()  # only where the OVA declares it
    assert not any("does not set" in w for w in warnings)


def test_a_property_the_portal_does_not_know_is_listed_and_keeps_its_default(sim, tmp_path):
    newer = descriptor(
        properties={
            **HCX_PROPERTIES,
            "mgr_fips_mode": ("boolean", False, "False"),
            "mgr_syslog_server": ("string", False, ""),
        }
    )
    package = open_package(build_ova(tmp_path, ovf=newer))
    warnings = []

    si, _ = deploy(sim, package, make_spec(vm_name="hcx-newer"), warn=warnings.append)

    assert (
        "hcx-connector.ova declares 2 properties the portal does not set; they keep their default: "
        "mgr_fips_mode = 'False'; mgr_syslog_server = ''"
    ) in warnings
    [vm] = vms_named(si, "hcx-newer")
    assert ovf_values(vm["config"]).get("mgr_fips_mode") in ("False", None)


@pytest.mark.parametrize("needed", [("password", True), ("string", False, "", "MinLen(8)")])
def test_a_property_the_appliance_needs_and_the_portal_cannot_fill_refuses_the_deploy(sim, tmp_path, needed):
    newer = descriptor(properties={**HCX_PROPERTIES, "mgr_new_secret": needed})
    package = open_package(build_ova(tmp_path, ovf=newer))

    with pytest.raises(JobError) as caught:
        deploy(sim, package, make_spec(vm_name="hcx-refused"))

    assert str(caught.value).startswith(
        "hcx-connector.ova declares mgr_new_secret, which has no default and which "
        "the portal does not know how to fill"
    )
    assert vms_named(sim.connect(), "hcx-refused") == []


def test_it_refuses_an_ova_without_the_management_network(tmp_path):
    package = open_package(build_ova(tmp_path, ovf=descriptor(network="Mgmt")))

    with pytest.raises(JobError, match="has no network 'VSMgmt' to map \\(it declares: Mgmt\\)"):
        make_spec().check_against(package)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        ({"include_ovf": False}, "contains no OVF descriptor (.ovf); it holds: hcx-connector-disk1.vmdk"),
        ({"ovf": "<Envelope><VirtualSystem>"}, "hcx-connector.ovf in hcx-connector.ova is not valid XML"),
        ({"ovf": "not xml at all"}, "is not valid XML: syntax error: line 1"),
        ({"ovf": '<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"/>'}, "has no VirtualSystem"),
        ({"ovf": "<Project/>"}, "is not an OVF envelope: its root element is <Project>"),
        ({"include_disk": False}, "references hcx-connector-disk1.vmdk, which is not in the package"),
        ({"ovf": '<!DOCTYPE x [<!ENTITY a "b">]><Envelope/>'}, "declares a DOCTYPE or entities"),
    ],
)
def test_it_explains_what_is_wrong_with_a_broken_package(tmp_path, build, expected):
    with pytest.raises(JobError) as caught:
        open_package(build_ova(tmp_path, **build))

    assert expected in str(caught.value)


def test_it_says_when_the_file_is_not_an_ova(tmp_path):
    path = tmp_path / "connector.ova"
    path.write_text("this is a text file")

    with pytest.raises(JobError, match="connector.ova is not an OVA: an OVA is a tar archive"):
        open_package(path)


def test_it_checks_the_spec_before_deploying():
    with pytest.raises(JobError) as caught:
        make_spec(ip="10.0.0.300", gateway="10.1.0.1", dns=["dns.example.com"]).validate()

    assert "ip '10.0.0.300' is not an IPv4 address" in str(caught.value)
    assert "DNS server 'dns.example.com' is not an IP address" in str(caught.value)
    with pytest.raises(JobError, match="gateway 10.1.0.1 is outside the Connector's subnet 10.0.0.0/24"):
        make_spec(gateway="10.1.0.1").validate()
    with pytest.raises(JobError, match="admin password is empty"):
        make_spec().with_passwords("", "root").validate()
