"""`manage.py deploy_connector` against the vCenter simulator."""

import io

import pytest
from django.core.management import CommandError, call_command

from inventory.models import VCenter
from tests.ova import build_ova
from tests.peers.vcsim import read_vms
from tests.test_hcx_deploy import appliance_fixture  # noqa: F401

ARGS = [
    "--ip",
    "10.0.0.9",
    "--prefix",
    "24",
    "--gateway",
    "10.0.0.1",
    "--dns",
    "10.0.0.2",
    "--network",
    "DC0_DVPG0",
    "--datastore",
    "LocalDS_0",
]


@pytest.fixture
def vcenter(db, vcsim):
    sim = vcsim(vm=1, fresh=True)
    return VCenter.objects.create(
        name="onprem", url=sim.url, username=sim.username, password=sim.password, verify_tls=False
    ), sim


def test_it_deploys_with_passwords_from_the_environment(vcenter, tmp_path, appliance, monkeypatch):
    vc, sim = vcenter
    monkeypatch.setenv("HCX_ADMIN_PASSWORD", "Adm1n-From-Env!")
    monkeypatch.setenv("HCX_ROOT_PASSWORD", "R00t-From-Env!")
    out = io.StringIO()

    call_command(
        "deploy_connector",
        "--vcenter",
        "onprem",
        "--ova",
        str(build_ova(tmp_path)),
        "--hostname",
        "hcx-cmd.example.com",
        "--wait-url",
        appliance,
        *ARGS,
        stdout=out,
    )

    assert "Deployed hcx-cmd (vm-" in out.getvalue()
    assert "[100%]" in out.getvalue() and "Adm1n-From-Env!" not in out.getvalue()
    names = [p["name"] for p in read_vms(sim.connect()).values()]
    assert names.count("hcx-cmd") == 1


def test_it_refuses_to_import_without_the_passwords(vcenter, tmp_path, monkeypatch):
    vc, sim = vcenter
    monkeypatch.delenv("HCX_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("HCX_ROOT_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="admin password is empty; root password is empty"):
        call_command(
            "deploy_connector",
            "--vcenter",
            "onprem",
            "--ova",
            str(build_ova(tmp_path)),
            "--hostname",
            "hcx-nopw.example.com",
            *ARGS,
            stdout=io.StringIO(),
        )

    assert "hcx-nopw" not in [p["name"] for p in read_vms(sim.connect()).values()]


def test_it_names_the_stored_vcenters_when_one_is_unknown(vcenter, tmp_path):
    with pytest.raises(CommandError, match="No vCenter connection named 'other'; stored: onprem"):
        call_command(
            "deploy_connector",
            "--vcenter",
            "other",
            "--ova",
            str(tmp_path / "x.ova"),
            "--hostname",
            "h",
            *ARGS,
        )
