"""The audit log page and API: every role reads it, nobody edits it, filters stay in the URL, exports
are safe to open in a spreadsheet, and the page's query count does not grow with the log."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from core.models import AuditEntry
from tests.factories import make_wave

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(engineer, planner):
    wave = make_wave("Wave A")
    AuditEntry.record(planner, "wave.submitted", wave, revision=3)
    AuditEntry.record(engineer, "wave.approved", make_wave('=HYPERLINK("http://evil")'), change_ticket="CHG-1")
    AuditEntry.record(engineer, "batch.launched", wave, batch="Batch 1")
    return wave


def test_every_role_reads_the_log_filtered_in_the_url(client_for, stakeholder, engineer, entries):
    page = client_for(stakeholder).get(f"/audit/?action=wave.&user={engineer.username}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "wave.approved" in body
    assert "wave.submitted" not in body and "batch.launched" not in body


def test_the_log_is_read_only_through_the_api(client_for, admin_user, entries):
    api = client_for(admin_user)  # even an admin cannot change it here
    listed = api.get("/api/audit/?action=batch").json()
    assert [e["action"] for e in listed["results"]] == ["batch.launched"]
    assert listed["results"][0]["object_type"] == "migrations_app.wave"
    entry = AuditEntry.objects.first()
    assert api.delete(f"/api/audit/{entry.pk}/").status_code == 405
    assert api.patch(f"/api/audit/{entry.pk}/", {"action": "x"}, content_type="application/json").status_code == 405
    assert AuditEntry.objects.filter(action="x").count() == 0


def test_exports_keep_the_filter_and_never_run_formulas(client_for, engineer, entries):
    client = client_for(engineer)
    response = client.get("/audit/?action=wave.approved&export=csv")
    assert response["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][2] == "wave.approved"
    assert rows[1][5] == "'=HYPERLINK(\"http://evil\")" and rows[1][6] == "change_ticket: CHG-1"
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
        AuditEntry.record(engineer, "wave.changed", entries, step=i)
    assert count() == few


def test_lists_and_mappings_in_a_detail_read_as_words_not_python(client_for, stakeholder, planner):
    wave = make_wave("Wave A")
    AuditEntry.record(planner, "migrations.wave.change", wave, fields=["window_start", "time_zone"],
                      limits={"max_vms": 10}, pilot=True, removed=[])
    body = client_for(stakeholder).get("/audit/").content.decode()
    assert "window_start, time_zone" in body and "max vms: 10" in body and "pilot</span>: yes" in body
    assert "[" not in body.split('data-testid="audit-table"')[1].split("</table>")[0]
    assert "{&#x27;" not in body and "&#x27;window_start&#x27;" not in body
    exported = client_for(stakeholder).get("/audit/?export=csv").content.decode("utf-8-sig")
    assert "fields: window_start, time_zone" in exported and "['" not in exported
