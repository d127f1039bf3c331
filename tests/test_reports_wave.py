"""The wave report: plan versus actual per VM with its filters in the URL, approvals with their change
tickets, findings and events; the same data through the API; every role reads it, an outsider is
refused, and the page's query count does not grow with the wave."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from migrations_app.choices import Decision, FindingSeverity, WaveStatus
from migrations_app.models import Approval, ReadinessFinding
from tests.factories import make_estate, make_link_site
from tests.test_dashboard import running_wave

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(engineer):
    estate = make_estate(vms=6)
    wave = running_wave(estate.vms)
    wave.site = make_link_site()
    wave.save(update_fields=["site"])
    Approval.objects.create(
        wave=wave,
        revision=wave.revision,
        decision=Decision.APPROVED,
        user=engineer,
        change_ticket="CHG-4711",
        comment="Go",
    )
    ReadinessFinding.objects.create(
        wave=wave,
        vm=estate.vms[5],
        rule="vm_snapshots",
        migration_type="bulk",
        severity=FindingSeverity.WARNING,
        message="Has a snapshot",
    )
    return wave


@pytest.mark.parametrize("role", ["planner", "engineer", "stakeholder", "admin_user"])
def test_every_role_reads_the_report(request, client_for, wave, role):
    client = client_for(request.getfixturevalue(role))
    page = client.get(f"/plan/waves/{wave.pk}/report/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "CHG-4711" in body and "Has a snapshot" in body
    assert "6 VMs" in body  # the plan-versus-actual table's count
    table = vm_table(client, f"/plan/waves/{wave.pk}/report/")
    assert "vm-00001" in table and "Complete" in table and "Failed" in table and "Waiting to be sent" in table
    assert "would not shut down" in body  # the failed VM's message, and the event that says so
    api = client.get(f"/api/wave-reports/{wave.pk}/").json()
    assert api["progress"]["failed"] == 1 and api["approvals"][0]["change_ticket"] == "CHG-4711"


def test_an_outsider_is_refused(client_for, outsider, wave):
    client = client_for(outsider)
    for url in (
        f"/plan/waves/{wave.pk}/report/",
        f"/plan/waves/{wave.pk}/report.pdf",
        "/plan/reports/programme.pdf",
        "/plan/reports/export/vms/?format=csv",
        f"/api/wave-reports/{wave.pk}/",
        f"/api/wave-reports/{wave.pk}/vms/",
        f"/api/wave-reports/{wave.pk}/events/",
    ):
        assert client.get(url).status_code == 403, url


def vm_table(client, url) -> str:
    body = client.get(url).content.decode()
    count = body.split('data-testid="vm-count">', 1)[1].split("</p>", 1)[0]
    table = body.split('data-testid="vm-report-table"', 1)[1].split("</table>", 1)[0]
    return f"{count} {table}"


def test_filters_live_in_the_url(client_for, stakeholder, wave):
    client = client_for(stakeholder)
    failed = vm_table(client, f"/plan/waves/{wave.pk}/report/?result=failed")
    assert "1 VM match these filters" in failed and "vm-00003" in failed and "vm-00001" not in failed
    waiting = vm_table(client, f"/plan/waves/{wave.pk}/report/?result=waiting")
    assert "2 VMs match these filters" in waiting and "vm-00005" in waiting and "vm-00006" in waiting
    assert "vm-00001" not in waiting
    named = vm_table(client, f"/plan/waves/{wave.pk}/report/?vm=00002")
    assert "1 VM match" in named and "(rollback)" in named  # its latest attempt brought it back
    api = client.get(f"/api/wave-reports/{wave.pk}/vms/?result=failed").json()
    assert [r["vm_name"] for r in api["results"]] == ["vm-00003"]
    assert api["results"][0]["latest"]["state"] == "failed" and api["results"][0]["attempts"] == 1
    rolled = client.get(f"/api/wave-reports/{wave.pk}/vms/?vm=00002").json()["results"][0]
    assert rolled["attempts"] == 2 and rolled["latest"]["direction"] == "reverse"
    events = client.get(f"/api/wave-reports/{wave.pk}/events/?vm=00003").json()["results"]
    assert events and all(e["vm"] == "vm-00003" for e in events)
    both = client.get(f"/plan/waves/{wave.pk}/report/?result=failed&e-kind=state").content.decode()
    # Filtering one table keeps the other's filter: each form carries the other's choices.
    vm_form = both.split('data-testid="vm-filter"', 1)[1].split("</form>", 1)[0]
    event_form = both.split('data-testid="event-filter"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="e-kind" value="state">' in vm_form
    assert '<input type="hidden" name="result" value="failed">' in event_form
    assert client.get(f"/api/wave-reports/{wave.pk}/vms/?result=nonsense").status_code == 400


def test_a_wave_with_nothing_launched_says_what_comes_next(client_for, stakeholder):
    estate = make_estate(vms=2)
    from tests.factories import make_wave

    wave = make_wave("Quiet", vms=estate.vms, status=WaveStatus.DRAFT)
    client = client_for(stakeholder)
    body = client.get(f"/plan/waves/{wave.pk}/report/").content.decode()
    assert "Nothing launched yet" in body and "No decision yet" in body and "No events yet" in body
    table = vm_table(client, f"/plan/waves/{wave.pk}/report/?result=none")
    assert "2 VMs match" in table and table.count("Not launched") == 2


def test_the_report_costs_the_same_queries_for_a_bigger_wave(client_for, stakeholder):
    client = client_for(stakeholder)
    small = running_wave(make_estate(vms=5, prefix="s-").vms, "Small")
    big = running_wave(make_estate(vms=45, prefix="b-").vms, "Big")

    def count(wave, suffix=""):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/plan/waves/{wave.pk}/report/{suffix}").status_code == 200
        return len(queries)

    assert count(big) == count(small)
    with CaptureQueriesContext(connection) as a:
        client.get(f"/api/wave-reports/{small.pk}/vms/")
    with CaptureQueriesContext(connection) as b:
        client.get(f"/api/wave-reports/{big.pk}/vms/")
    assert len(a) == len(b)
