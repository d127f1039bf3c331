"""The approval workflow's actions: submit (readiness first, no blockers), approve with a change ticket,
reject with a comment, four eyes, approval bound to the revision and withdrawn by any edit, one winner
when two engineers decide at once, and an audit row for every decision."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.db import transaction as db_transaction

from core.models import AuditEntry
from core.roles import ENGINEER, PLANNER
from inventory.choices import PowerState
from migrations_app.choices import Decision, FindingSeverity, WaveStatus
from migrations_app.models import Approval, ReadinessFinding, Wave
from migrations_app.readiness.approval import do_approve, do_reject, do_submit
from migrations_app.readiness.errors import (
    AlreadyDecided,
    BadInput,
    NotReady,
    OwnSubmission,
    StaleRevision,
    WrongState,
)
from migrations_app.readiness.panels import approval_context
from migrations_app.waves.revisions import changed
from tests.conftest import make_user
from tests.test_readiness_rules import add_vm, make_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(db):
    """A wave whose one VM is ready for Bulk."""
    scene = make_scene()
    scene.vm = add_vm(scene, "web01")
    return scene


def fresh(wave) -> Wave:
    return Wave.objects.get(pk=wave.pk)


def audit(action, wave):
    return list(AuditEntry.objects.filter(action=action, object_id=wave.pk).order_by("id"))


def edit(wave, user, **fields):
    """A planner's edit as the wave pages make it: the change and waves/revisions.changed() in one transaction."""
    with db_transaction.atomic():
        Wave.objects.filter(pk=wave.pk).update(**fields)
        return changed(Wave.objects.get(pk=wave.pk), user, "fields: " + ", ".join(fields))


def submitted(scene, planner):
    do_submit(scene.wave, acting_user=planner)
    return fresh(scene.wave)


# --- submit ---


def test_a_ready_wave_is_submitted_after_a_fresh_readiness_run(ready, planner):
    result = do_submit(ready.wave, acting_user=planner, revision=1)
    wave = fresh(ready.wave)
    assert wave.status == WaveStatus.SUBMITTED and wave.submitted_by == planner and wave.submitted_at
    assert wave.readiness_revision == wave.revision == result.revision and result.blockers == 0
    [entry] = audit("wave.submit", wave)
    assert entry.user == planner and entry.detail["revision"] == 1
    assert audit("wave.check_readiness", wave)  # readiness ran as part of the submission


def test_a_wave_with_blockers_is_refused_with_their_count_and_the_findings_are_kept(ready, planner):
    add_vm(ready, "batch01", power_state=PowerState.OFF)
    add_vm(ready, "legacy", hw_version=4)
    with pytest.raises(NotReady) as refused:
        do_submit(ready.wave, acting_user=planner)
    assert refused.value.blockers == 2 and "2 readiness blockers" in refused.value.message
    assert any(item.startswith("batch01: ") for item in refused.value.items)
    wave = fresh(ready.wave)
    assert wave.status == WaveStatus.DRAFT and wave.submitted_by is None
    assert wave.readiness_revision == wave.revision  # the findings that explain the refusal are kept
    assert ReadinessFinding.objects.filter(wave=wave, severity=FindingSeverity.BLOCKER).count() == 2
    assert not audit("wave.submit", wave)


def test_stale_readiness_is_checked_again_at_submit(ready, planner):
    from migrations_app.readiness.actions import do_run_readiness

    do_run_readiness(ready.wave, acting_user=planner)  # clean at revision 1
    edit(ready.wave, planner, migration_type="vmotion")
    ready.vm.hw_version = 8  # fine for Bulk, a blocker for vMotion
    ready.vm.save()
    wave = fresh(ready.wave)
    assert wave.readiness_revision == 1 and wave.revision == 2
    with pytest.raises(NotReady, match="1 readiness blocker"):
        do_submit(wave, acting_user=planner)
    assert fresh(wave).readiness_revision == 2


def test_a_stale_submit_form_is_refused(ready, planner):
    with pytest.raises(StaleRevision, match="you saw revision 3"):
        do_submit(ready.wave, acting_user=planner, revision=3)
    assert fresh(ready.wave).status == WaveStatus.DRAFT


def test_only_drafts_and_rejected_waves_are_submitted(ready, planner):
    submitted(ready, planner)
    with pytest.raises(WrongState, match="only a draft or a rejected wave"):
        do_submit(ready.wave, acting_user=planner)


def test_engineers_and_stakeholders_cannot_submit(ready, engineer, stakeholder):
    for user in (engineer, stakeholder):
        with pytest.raises(PermissionDenied):
            do_submit(ready.wave, acting_user=user)
    assert fresh(ready.wave).status == WaveStatus.DRAFT


# --- approve and reject ---


def test_an_engineer_approves_with_a_change_ticket(ready, planner, engineer):
    submitted(ready, planner)
    approval = do_approve(
        ready.wave, acting_user=engineer, change_ticket=" CHG0012345 ", comment="Window agreed", revision=1
    )
    wave = fresh(ready.wave)
    assert wave.status == WaveStatus.APPROVED
    assert (approval.revision, approval.decision, approval.user, approval.change_ticket) == (
        1,
        Decision.APPROVED,
        engineer,
        "CHG0012345",
    )
    [entry] = audit("wave.approve", wave)
    assert entry.user == engineer and entry.detail == {
        "revision": 1,
        "comment": "Window agreed",
        "change_ticket": "CHG0012345",
    }


def test_an_approval_without_a_change_ticket_is_refused(ready, planner, engineer):
    submitted(ready, planner)
    with pytest.raises(BadInput, match="change ticket"):
        do_approve(ready.wave, acting_user=engineer, change_ticket="  ")
    assert fresh(ready.wave).status == WaveStatus.SUBMITTED and not Approval.objects.exists()


def test_a_rejection_needs_a_comment(ready, planner, engineer):
    submitted(ready, planner)
    with pytest.raises(BadInput, match="comment"):
        do_reject(ready.wave, acting_user=engineer, comment="")
    assert fresh(ready.wave).status == WaveStatus.SUBMITTED
    do_reject(ready.wave, acting_user=engineer, comment="Window clashes with the payroll run")
    wave = fresh(ready.wave)
    assert wave.status == WaveStatus.REJECTED
    [entry] = audit("wave.reject", wave)
    assert entry.detail["comment"] == "Window clashes with the payroll run" and entry.user == engineer


def test_a_rejected_revision_must_change_before_it_is_submitted_again(ready, planner, engineer):
    submitted(ready, planner)
    do_reject(ready.wave, acting_user=engineer, comment="Move it a week")
    with pytest.raises(WrongState, match="already rejected by engineer-user.*Change the wave"):
        do_submit(ready.wave, acting_user=planner)
    edit(ready.wave, planner, notes="moved a week")
    do_submit(ready.wave, acting_user=planner)
    wave = fresh(ready.wave)
    assert wave.status == WaveStatus.SUBMITTED and wave.revision == 2
    do_approve(wave, acting_user=engineer, change_ticket="CHG2")
    assert list(Approval.objects.order_by("revision").values_list("revision", "decision")) == [
        (1, Decision.REJECTED),
        (2, Decision.APPROVED),
    ]


def test_nobody_decides_on_what_they_submitted_not_even_an_admin(ready, admin_user):
    do_submit(ready.wave, acting_user=admin_user)
    for decide in (
        lambda: do_approve(ready.wave, acting_user=admin_user, change_ticket="CHG1"),
        lambda: do_reject(ready.wave, acting_user=admin_user, comment="no"),
    ):
        with pytest.raises(OwnSubmission, match="four eyes"):
            decide()
    assert fresh(ready.wave).status == WaveStatus.SUBMITTED and not Approval.objects.exists()


def test_a_user_with_both_roles_still_needs_a_second_pair_of_eyes(ready, engineer):
    both = make_user(PLANNER, "planner-and-engineer")
    both.groups.add(*engineer.groups.filter(name=ENGINEER))
    do_submit(ready.wave, acting_user=both)
    with pytest.raises(OwnSubmission):
        do_approve(ready.wave, acting_user=both, change_ticket="CHG1")
    do_approve(ready.wave, acting_user=engineer, change_ticket="CHG1")
    assert fresh(ready.wave).status == WaveStatus.APPROVED


def test_planners_cannot_approve(ready, planner):
    other = make_user(PLANNER, "planner-2")
    submitted(ready, planner)
    with pytest.raises(PermissionDenied):
        do_approve(ready.wave, acting_user=other, change_ticket="CHG1")


def test_only_a_submitted_wave_is_decided(ready, engineer):
    with pytest.raises(WrongState, match="only a submitted wave"):
        do_approve(ready.wave, acting_user=engineer, change_ticket="CHG1")


def test_a_second_decision_on_the_same_revision_says_who_decided(ready, planner, engineer):
    second = make_user(ENGINEER, "engineer-2")
    submitted(ready, planner)
    do_approve(ready.wave, acting_user=engineer, change_ticket="CHG1")
    with pytest.raises(AlreadyDecided, match="Revision 1 of .* was already approved by engineer-user"):
        do_reject(ready.wave, acting_user=second, comment="too late")
    assert Approval.objects.count() == 1 and fresh(ready.wave).status == WaveStatus.APPROVED


def test_a_decision_on_a_revision_nobody_looked_at_is_stale(ready, planner, engineer):
    submitted(ready, planner)
    with pytest.raises(StaleRevision):
        do_approve(ready.wave, acting_user=engineer, change_ticket="CHG1", revision=7)
    assert fresh(ready.wave).status == WaveStatus.SUBMITTED


# --- withdrawal ---


def test_an_edit_after_approval_withdraws_it_and_the_panel_says_so(ready, planner, engineer, rf):
    submitted(ready, planner)
    do_approve(ready.wave, acting_user=engineer, change_ticket="CHG1")
    change = edit(ready.wave, planner, notes="one more VM next week")
    wave = fresh(ready.wave)
    assert change.withdrawn and wave.status == WaveStatus.DRAFT and wave.revision == 2
    request = rf.get("/")
    request.user = engineer
    context = approval_context(wave, request)
    texts = [h.text for h in context["history"]]
    assert texts[0] == "Approval for revision 1 withdrawn at revision 2"
    assert texts[1:] == ["Approved revision 1", "Submitted revision 1 for approval"]
    assert context["decision"] is None and not context["may_decide"]
    # The old approval stays on record for its revision; the new revision needs its own.
    assert Approval.objects.get().revision == 1
    do_submit(wave, acting_user=planner)
    do_approve(wave, acting_user=engineer, change_ticket="CHG2")
    assert list(Approval.objects.order_by("revision").values_list("revision", "change_ticket")) == [
        (1, "CHG1"),
        (2, "CHG2"),
    ]


def test_an_edit_while_submitted_withdraws_the_submission(ready, planner):
    submitted(ready, planner)
    edit(ready.wave, planner, notes="x")
    wave = fresh(ready.wave)
    assert wave.status == WaveStatus.DRAFT and wave.submitted_by is None
    assert audit("wave.withdraw_approval", wave)[0].detail["previous_status"] == WaveStatus.SUBMITTED


# --- two engineers at the same moment ---


@pytest.mark.django_db(transaction=True)
def test_two_engineers_approving_at_once_have_one_winner(planner):
    """Engineer A holds the wave's row lock (mid-approval) while B's approval starts and must wait for it;
    when A commits, B finds A's decision. On PostgreSQL the wait is shown through pg_locks."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers by locking the whole database: no row lock to show")
    scene = make_scene()
    add_vm(scene, "web01")
    do_submit(scene.wave, acting_user=planner)
    first, second = make_user(ENGINEER, "engineer-a"), make_user(ENGINEER, "engineer-b")
    locked, go = threading.Event(), threading.Event()
    outcome = {}

    def engineer_a():
        try:
            with db_transaction.atomic():
                Wave.objects.select_for_update().get(pk=scene.wave.pk)
                locked.set()
                go.wait(30)
                outcome["a"] = do_approve(scene.wave, acting_user=first, change_ticket="CHG-A")
        finally:
            connections.close_all()

    def engineer_b():
        try:
            locked.wait(30)
            outcome["b"] = do_approve(scene.wave, acting_user=second, change_ticket="CHG-B")
        except AlreadyDecided as error:
            outcome["b"] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=engineer_a), threading.Thread(target=engineer_b)]
    for thread in threads:
        thread.start()
    assert locked.wait(30)
    waiting = False
    for _ in range(300):  # until B's transaction is seen waiting for A's row lock
        with connection.cursor() as cursor:
            cursor.execute(  # in this test database only: other test runs may share the server
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE NOT l.granted AND a.datname = current_database()"
            )
            if cursor.fetchone()[0]:
                waiting = True
                break
        threading.Event().wait(0.05)
    go.set()
    for thread in threads:
        thread.join(60)
    assert waiting, "the second approval never waited for the first one's lock"
    assert isinstance(outcome["a"], Approval) and outcome["a"].user == first
    assert isinstance(outcome["b"], AlreadyDecided) and "already approved by engineer-a" in str(outcome["b"])
    assert list(Approval.objects.values_list("user__username", flat=True)) == ["engineer-a"]
    assert len(audit("wave.approve", scene.wave)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_engineers_racing_without_help_still_have_one_winner(planner):
    """Both start together (a barrier); whichever gets the lock first wins, the other is told so."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    scene = make_scene()
    add_vm(scene, "web01")
    do_submit(scene.wave, acting_user=planner)
    engineers = [make_user(ENGINEER, f"engineer-{n}") for n in range(2)]
    barrier, results = threading.Barrier(2), []

    def decide(user):
        try:
            barrier.wait(30)
            results.append(do_approve(scene.wave, acting_user=user, change_ticket=f"CHG-{user.username}"))
        except AlreadyDecided as error:
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(user,)) for user in engineers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(type(r).__name__ for r in results) == ["AlreadyDecided", "Approval"]
    assert Approval.objects.count() == 1 and fresh(scene.wave).status == WaveStatus.APPROVED
