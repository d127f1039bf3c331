"""`manage.py deploy_connector --plan NAME` against the vCenter simulator."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection as db_connection

from core.models import AuditEntry
from hcx.choices import SetupStepKey, StepState
from hcx.models import HcxConnection, HcxSetupStep
from tests.ova import build_ova
from tests.test_hcx_deploy import appliance_fixture, vms_named  # noqa: F401
from tests.test_hcx_deploy_job import make_deploy_plan

PLACEMENT = ["--datacenter", "DC0", "--cluster", "DC0_C0", "--datastore", "LocalDS_0"]


@pytest.fixture
def sim(db, vcsim):
    return vcsim(vm=1, fresh=True)


@pytest.fixture
def ova_dir(settings, tmp_path):
    settings.HCX_OVA_DIR = tmp_path / "ova"
    settings.HCX_OVA_DIR.mkdir()
    build_ova(settings.HCX_OVA_DIR)
    return settings.HCX_OVA_DIR


def deploy(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command("deploy_connector", *args, stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


def test_it_deploys_with_the_passwords_stored_on_the_connection(sim, ova_dir, appliance, monkeypatch):
    monkeypatch.delenv("HCX_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("HCX_ROOT_PASSWORD", raising=False)
    plan = make_deploy_plan(sim, appliance, hostname="hcx-cmd.example.com")

    output = deploy("--plan", plan.name, "--ova", "hcx-connector.ova", *PLACEMENT)

    assert "Deployed hcx-cmd (vm-" in output and "[100%]" in output
    assert vms_named(sim.connect(), "hcx-cmd")[0]["runtime.powerState"] == "poweredOn"
    step = HcxSetupStep.objects.get(plan=plan, step=SetupStepKey.DEPLOY)
    assert step.state == StepState.DONE and step.summary.startswith("VM hcx-cmd imported and powered on")
    assert AuditEntry.objects.filter(action="hcx_connector.deploy", object_id=plan.pk).exists()

    again = deploy("--plan", plan.name, "--ova", str(ova_dir / "hcx-connector.ova"), *PLACEMENT)

    assert "Found hcx-cmd (vm-" in again  # a path into the OVA folder is taken too
    assert len(vms_named(sim.connect(), "hcx-cmd")) == 1


def test_passwords_from_the_environment_are_stored_encrypted_on_the_connection_first(
    sim, ova_dir, appliance, monkeypatch
):
    plan = make_deploy_plan(sim, appliance, hostname="hcx-env", passwords=False)
    monkeypatch.setenv("HCX_ADMIN_PASSWORD", "Adm1n-From-Env!")
    monkeypatch.setenv("HCX_ROOT_PASSWORD", "R00t-From-Env!")

    output = deploy("--plan", plan.name, "--ova", "hcx-connector.ova", *PLACEMENT)

    assert "Stored HCX_ADMIN_PASSWORD and HCX_ROOT_PASSWORD (encrypted)" in output
    assert "Deployed hcx-env" in output and "Adm1n-From-Env!" not in output
    connection = HcxConnection.objects.get(plan=plan)
    assert (connection.admin_password, connection.root_password) == ("Adm1n-From-Env!", "R00t-From-Env!")
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT admin_password, root_password FROM hcx_hcxconnection WHERE id = %s", [connection.pk]
        )
        stored = repr(cursor.fetchone())
    assert "Adm1n-From-Env!" not in stored and "R00t-From-Env!" not in stored, "kept encrypted at rest"
    assert AuditEntry.objects.filter(
        action="hcx_connection.change", detail__fields=["admin_password", "root_password"]
    ).exists()


def test_without_passwords_anywhere_it_names_them_and_imports_nothing(sim, ova_dir, appliance, monkeypatch):
    monkeypatch.delenv("HCX_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("HCX_ROOT_PASSWORD", raising=False)
    plan = make_deploy_plan(sim, appliance, hostname="hcx-nopw", passwords=False)

    with pytest.raises(CommandError, match="has no appliance admin password and no appliance root password"):
        deploy("--plan", plan.name, "--ova", "hcx-connector.ova", *PLACEMENT)

    assert vms_named(sim.connect(), "hcx-nopw") == []
    assert HcxSetupStep.objects.get(plan=plan, step=SetupStepKey.DEPLOY).state == StepState.FAILED


@pytest.mark.parametrize("ova", ["../outside.ova", "/tmp/outside.ova"])  # noqa: S108
def test_an_ova_outside_the_folder_is_refused(sim, ova_dir, appliance, ova):
    build_ova(ova_dir.parent, name="outside.ova")
    plan = make_deploy_plan(sim, appliance)

    with pytest.raises(CommandError, match="is outside the OVA folder"):
        deploy("--plan", plan.name, "--ova", ova, *PLACEMENT)

    assert not HcxSetupStep.objects.filter(plan=plan).exists()


def test_it_names_the_plans_when_one_is_unknown(sim, ova_dir, appliance):
    make_deploy_plan(sim, appliance, name="Rotterdam")

    with pytest.raises(CommandError, match="No HCX plan named 'Utrecht'; plans: Rotterdam"):
        deploy("--plan", "Utrecht", "--ova", "hcx-connector.ova")
