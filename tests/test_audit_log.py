"""The audit log page and API: every role reads it, nobody edits it, filters stay in the URL, exports
are safe to open in a spreadsheet, and the page's query count does not grow with the log."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from core.choices import AuditAction
from core.models import AuditEntry
from tests.factories import make_wave

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(engineer, planner):
    wave = make_wave("Wave A")
    AuditEntry.record(planner, AuditAction.WAVE_SUBMIT, wave, revision=3)
    AuditEntry.record(
        engineer, AuditAction.WAVE_APPROVE, make_wave('=HYPERLINK("http://evil")'), change_ticket="CHG-1"
    )
    AuditEntry.record(engineer, AuditAction.BATCH_LAUNCH, wave, batch="Batch 1")
    return wave


def test_every_role_reads_the_log_filtered_in_the_url(client_for, stakeholder, engineer, entries):
    page = client_for(stakeholder).get(f"/audit/?action=wave&user={engineer.username}")
    assert page.status_code == 200
    table = page.content.decode().split('data-testid="audit-table"')[1]
    assert "Wave approved" in table
    assert "Wave submitted for approval" not in table and "Batch launched" not in table
    assert client_for(stakeholder).get("/audit/?action=wave.approve").context["table"].rows[
        0
    ].record.action == ("wave.approve")


def test_the_log_is_read_only_through_the_api(client_for, admin_user, entries):
    api = client_for(admin_user)  # even an admin cannot change it here
    listed = api.get("/api/audit/?action=batch").json()
    assert [e["action"] for e in listed["results"]] == ["batch.launch"]
    assert listed["results"][0]["object_type"] == "migrations_app.wave"
    entry = AuditEntry.objects.first()
    assert api.delete(f"/api/audit/{entry.pk}/").status_code == 405
    assert (
        api.patch(f"/api/audit/{entry.pk}/", {"action": "x"}, content_type="application/json").status_code
        == 405
    )
    assert AuditEntry.objects.filter(action="x").count() == 0


def test_exports_keep_the_filter_and_never_run_formulas(client_for, engineer, entries):
    client = client_for(engineer)
    response = client.get("/audit/?action=wave.approve&export=csv")
    assert response["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][2] == "wave.approve"
    assert rows[1][5] == '\'=HYPERLINK("http://evil")' and rows[1][6] == "change_ticket: CHG-1"
    book = load_workbook(io.BytesIO(client.get("/audit/?export=xlsx").content))
    cells = [c.value for row in book.active.iter_rows(min_row=2) for c in row]
    assert len(list(book.active.iter_rows(min_row=2))) == 3
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)


def test_a_user_without_a_role_sees_nothing(client_for, outsider, entries):
    assert client_for(outsider).get("/audit/").status_code == 403
    assert client_for(outsider).get("/api/audit/").status_code == 403


def test_the_page_costs_the_same_queries_for_a_longer_log(client_for, engineer, entries):
    client = client_for(engineer)
    client.get("/audit/")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/audit/").status_code == 200
        return len(queries)

    few = count()
    for i in range(40):
        AuditEntry.record(engineer, AuditAction.WAVE_CHANGE, entries, step=i)
    assert count() == few


def test_lists_and_mappings_in_a_detail_read_as_words_not_python(client_for, stakeholder, planner):
    wave = make_wave("Wave A")
    AuditEntry.record(
        planner,
        AuditAction.WAVE_CHANGE,
        wave,
        fields=["window_start", "time_zone"],
        limits={"max_vms": 10},
        pilot=True,
        removed=[],
    )
    body = client_for(stakeholder).get("/audit/").content.decode()
    assert "window_start, time_zone" in body and "max vms: 10" in body and "pilot</span>: yes" in body
    assert "[" not in body.split('data-testid="audit-table"')[1].split("</table>")[0]
    assert "{&#x27;" not in body and "&#x27;window_start&#x27;" not in body
    exported = client_for(stakeholder).get("/audit/?export=csv").content.decode("utf-8-sig")
    assert "fields: window_start, time_zone" in exported and "['" not in exported


def test_the_page_and_its_filter_name_actions_in_words(client_for, stakeholder, entries):
    page = client_for(stakeholder).get("/audit/")
    body = page.content.decode()
    table = body.split('data-testid="audit-table"')[1]
    assert "Wave approved" in table and "Batch launched" in table and "wave.approve" not in table
    options = {o.data["value"]: o.data["label"] for o in page.context["filter"].form["action"].subwidgets}
    assert options["wave.approve"] == "Wave approved" and options["wave"] == "Any wave action"
    assert "wave.approve" in client_for(stakeholder).get("/api/audit/?action=wave").content.decode()


def test_an_action_outside_the_one_naming_scheme_is_refused(engineer):
    with pytest.raises(ValueError):
        AuditEntry.record(engineer, "migrations.wave.approve")
    assert every_action_is_object_dot_verb()


def every_action_is_object_dot_verb() -> bool:
    return all(len(value.split(".")) == 2 and value.islower() for value in AuditAction.values)


@pytest.mark.django_db(transaction=True)
def test_the_migration_renames_old_rows_and_back(engineer):
    """Rows written before the one naming scheme read under the new names, and back when reversed."""
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("core", "0005_job_needs_input_and_longer_name")],
        [("core", "0006_audit_actions_one_naming_scheme")],
    )
    wave = make_wave("Wave A")
    old = {
        "migrations.wave.approve": "wave.approve",
        "migrations_app.batch.launch": "batch.launch",
        "hcx.setup.trust_certificate": "hcx_certificate.trust",
        "vcenter.discover": "vcenter.discover",
    }
    try:
        MigrationExecutor(connection).migrate(before)
        for name in old:
            AuditEntry.objects.create(action=name, object_repr=str(wave))
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        assert sorted(AuditEntry.objects.values_list("action", flat=True)) == sorted(old.values())
        MigrationExecutor(connection).migrate(before)
        assert sorted(AuditEntry.objects.values_list("action", flat=True)) == sorted(old)
    finally:
        call_command("migrate", verbosity=0)
