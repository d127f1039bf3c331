"""In Chromium: a planner renames the target cluster of an approved wave on its edit page; the engineer
then finds the wave a draft that needs approving again, the change named in its history, and the
launch refused. Screenshots go to /tmp (avsportal-binding-*.png)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.roles import ENGINEER, PLANNER
from migrations_app.choices import Decision, WaveStatus
from migrations_app.models import Approval, Batch, Wave
from tests.conftest import make_user
from tests.factories import make_target_cluster, make_vcenter, make_vm, make_wave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def test_a_planner_renaming_an_approved_wave_s_cluster_sends_it_back_for_approval(page, sign_in):
    planner, engineer, approver = make_user(PLANNER), make_user(ENGINEER), make_user(ENGINEER, "approver")
    cluster = make_target_cluster(name="Cluster-1", datastores=["vsanDatastore"])
    wave = make_wave(
        "Wave 1",
        [make_vm(make_vcenter(), "dc01")],
        site=cluster.site,
        target_cluster=cluster,
        status=WaveStatus.APPROVED,
    )
    Approval.objects.create(
        wave=wave, revision=1, decision=Decision.APPROVED, user=approver, change_ticket="CHG7"
    )

    sign_in(planner, PASSWORD)
    page.goto(f"/plan/targets/{cluster.pk}/edit/")
    page.get_by_label("Name").fill("Cluster-9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="Approval withdrawn")).to_contain_text(
        "Wave 1: Approval withdrawn: the wave changed (it was approved; now revision 2)"
    )
    page.get_by_role("button", name="Sign out").click()

    sign_in(engineer, PASSWORD)
    page.goto(wave.get_absolute_url())
    expect(page.get_by_test_id("approval-status")).to_have_text("Draft")
    expect(page.get_by_test_id("approval-history")).to_contain_text(
        "Changed: target cluster Cluster-9 changed: name 'Cluster-1' -> 'Cluster-9'"
    )
    page.goto(f"/plan/waves/{wave.pk}/progress/")
    expect(page.get_by_test_id("launch-blocked")).to_contain_text(
        "Wave 1 changed after approval (revision 1 approved, now 2): approve it again"
    )
    expect(page.get_by_role("link", name="Launch the whole wave")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "avsportal-binding-blocked.png"), full_page=True)
    # The launch page itself, reached by its address, refuses too.
    page.goto(f"/plan/waves/{wave.pk}/launch/")
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("approve it again")
    assert Wave.objects.get(pk=wave.pk).status == WaveStatus.DRAFT
    assert Batch.objects.count() == 0
