"""The demo's plan (migrations_app/demo.py, run by `load_demo`): what a new user finds on the planning
pages, made by the demo planner and engineer, and a second `load_demo` that adds nothing."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from core.models import AuditEntry
from core.roles import ENGINEER, PLANNER
from migrations_app import demo as planning
from migrations_app.choices import Decision, FindingSeverity, GroupSource, WaveStatus
from migrations_app.dependencies.suggestions import suggest
from migrations_app.models import Approval, DependencyGroup, DependencyImport, Endpoint, TargetCluster, Wave
from migrations_app.waves.networks import wave_networks

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every row of the planning app, and the audit log's length."""
    rows = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in apps.get_app_config("migrations_app").get_models()
    }
    rows["audit"] = AuditEntry.objects.count()
    return rows


@pytest.fixture
def demo_users(tmp_path):
    call_command("create_demo_users", credentials=tmp_path / "credentials.txt", stdout=StringIO())


def test_the_demo_has_an_approved_pilot_a_submitted_wave_and_a_draft_and_a_second_run_adds_nothing(
    demo_users,
):
    said = load_demo()
    assert "Demo plan: " in said and "Pilot: DNS and print (approved, 0 blockers" in said

    pilot, second, third = (Wave.objects.get(name=w.name) for w in planning.WAVES)
    # The pilot: approved at the revision it is at now, by the engineer, over the planner's submission.
    approval = Approval.objects.get(wave=pilot, revision=pilot.revision)
    assert pilot.status == WaveStatus.APPROVED and pilot.pilot
    assert (approval.decision, approval.user.username, approval.change_ticket) == (
        Decision.APPROVED,
        ENGINEER,
        planning.CHANGE_TICKET,
    )
    assert pilot.submitted_by.username == PLANNER
    assert pilot.readiness_revision == pilot.revision
    assert not pilot.findings.filter(severity=FindingSeverity.BLOCKER).exists()
    assert pilot.items.count() == 6 and pilot.target_cluster.site.name == "Main datacenter"
    # Its networks land on AVS segments, typed before any AVS inventory was read: no VLAN lands on another
    # VLAN's extension (the demo plan extends none of its VLANs), and the page warns what is left to check.
    networks = wave_networks(pilot)
    assert networks and all(
        n.mapped and n.lands.target_name.startswith("seg-") and n.problem == "warning" for n in networks
    )
    assert AuditEntry.objects.filter(
        action="wave.approve", object_id=pilot.pk, user__username=ENGINEER
    ).exists()

    assert second.status == WaveStatus.SUBMITTED and second.submitted_by.username == PLANNER
    assert second.readiness_revision == second.revision and not Approval.objects.filter(wave=second).exists()
    assert not second.findings.filter(severity=FindingSeverity.BLOCKER).exists()
    # The draft was checked: what is left to do shows (the monitoring trunk port group is not mapped).
    assert third.status == WaveStatus.DRAFT and third.readiness_revision == third.revision
    assert third.findings.filter(rule="network-unmapped", severity=FindingSeverity.BLOCKER).exists()

    # Groups from tags and a name pattern; connection data whose suggestions and external endpoints show.
    assert DependencyGroup.objects.filter(source=GroupSource.TAG).count() == len(planning.TAG_GROUPS)
    assert DependencyGroup.objects.get(name="Backup proxies").members.count() == 2
    assert DependencyImport.objects.get(file_name=planning.DEPENDENCY_FILE).external == 2
    assert Endpoint.objects.filter(vm__isnull=True).count() == 2
    suggested = {vm.name for item in suggest().items for vm in item.vms}
    assert {"ehr-web01", "ehr-db02", "pacs-img01", "lis-db02"} <= suggested
    assert TargetCluster.objects.count() == 1

    before = snapshot()
    assert "already there, left as it is" in load_demo().splitlines()[-1]
    assert snapshot() == before


def test_a_wave_a_user_changed_is_left_as_it_is(demo_users):
    load_demo()
    pilot = Wave.objects.get(name=planning.WAVES[0].name)
    Wave.objects.filter(pk=pilot.pk).update(status=WaveStatus.DRAFT, notes="moved to next month")
    Wave.objects.get(name=planning.WAVES[2].name).delete()
    load_demo()
    pilot.refresh_from_db()
    assert (pilot.status, pilot.notes) == (WaveStatus.DRAFT, "moved to next month")
    assert Wave.objects.get(name=planning.WAVES[2].name).status == WaveStatus.DRAFT  # made again


def test_without_the_demo_users_the_estate_loads_and_the_plan_waits_for_them(tmp_path):
    said = load_demo()
    assert "Demo plan (groups and waves) skipped: no demo users" in said
    assert not Wave.objects.exists() and not DependencyGroup.objects.exists()
    call_command("create_demo_users", credentials=tmp_path / "credentials.txt", stdout=StringIO())
    load_demo()
    assert Wave.objects.get(name=planning.WAVES[0].name).status == WaveStatus.APPROVED
