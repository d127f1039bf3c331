"""In Chromium: a stakeholder filters the audit log by an action chosen by its words, and reads the
actions in words (AuditAction labels), not as codes."""

import pytest
from playwright.sync_api import expect

from core.choices import AuditAction
from core.models import AuditEntry
from tests.conftest import make_user
from tests.factories import make_wave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


def test_a_stakeholder_filters_the_log_by_an_action_in_words(sign_in, page):
    engineer, planner = make_user("engineer"), make_user("planner")
    wave = make_wave("Wave A")
    AuditEntry.record(planner, AuditAction.WAVE_SUBMIT, wave, revision=1)
    AuditEntry.record(engineer, AuditAction.WAVE_APPROVE, wave, change_ticket="CHG-1")
    AuditEntry.record(engineer, AuditAction.BATCH_LAUNCH, wave, batch="Batch 1")
    page = sign_in(make_user("stakeholder"), PASSWORD)

    page.goto("/audit/")
    table = page.get_by_test_id("audit-table")
    expect(table).to_contain_text("Wave submitted for approval")
    expect(table).not_to_contain_text("wave.submit")
    page.get_by_label("Action").select_option(label="Wave approved")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(
        "/audit/?user=&action=wave.approve&object_type=&object_id=&object=&after=&before="
    )
    expect(table).to_contain_text("CHG-1")
    expect(table).not_to_contain_text("Batch launched")
    page.get_by_label("Action").select_option(label="Any wave action")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tbody tr")).to_have_count(2)
