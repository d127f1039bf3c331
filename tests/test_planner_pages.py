"""The auto-plan pages and API: planners propose and accept, others read or are refused; accepting
creates draft waves in one go or refuses cleanly."""

from datetime import UTC, datetime

import pytest

from core.models import AuditEntry
from inventory.choices import PowerState
from migrations_app.choices import Risk, WaveStatus
from migrations_app.models import DependencyGroup, GroupMember, PlanProposal, TargetCluster, Wave, WaveItem
from tests.factories import make_link_site, make_vcenter, make_vm

pytestmark = pytest.mark.django_db
GIB = 1024


@pytest.fixture
def estate(db):
    vc = make_vcenter()
    site = make_link_site(bandwidth_mbps=1000, vcenter=vc)
    groups = []
    for i, risk in enumerate([Risk.LOW, Risk.MEDIUM, Risk.MEDIUM, Risk.HIGH]):
        group = DependencyGroup.objects.create(name=f"app-{i}", priority=10 * (i + 1), risk=risk)
        vms = [make_vm(vc, f"app-{i}-{n}", used_mib=20 * GIB, power_state=PowerState.ON) for n in range(3)]
        GroupMember.objects.bulk_create(GroupMember(group=group, vm=vm) for vm in vms)
        groups.append(group)
    loose = make_vm(vc, "loose-1", used_mib=GIB, power_state=PowerState.OFF)
    return {"vc": vc, "site": site, "groups": groups, "loose": loose}


def form_data(site, **fields):
    data = {
        "site": str(site.pk),
        "target_cluster": "",
        "migration_type": "bulk",
        "cold_for_powered_off": "on",
        "max_vms": "4",
        "max_tb": "25",
        "pilot_max_vms": "3",
        "pilot_max_tb": "2",
        "first_window_start": "2031-01-04T22:00",
        "window_hours": "8",
        "weekdays": ["5"],
        "time_zone": "Europe/Amsterdam",
        "blackout_dates": "",
        "max_windows": "52",
        "include_ungrouped": "on",
        "name_prefix": "Wave",
    }
    data.update(fields)
    return data


def test_a_planner_proposes_and_sees_the_proposal(client_for, planner, estate):
    client = client_for(planner)
    assert client.get("/plan/autoplan/").status_code == 200
    response = client.post("/plan/autoplan/", form_data(estate["site"]))
    proposal = PlanProposal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/plan/proposals/{proposal.pk}/"
    assert proposal.user == planner and proposal.accepted is None
    # The wall-clock time is read in the chosen zone: 22:00 in Amsterdam is 21:00 UTC in January.
    assert proposal.data["waves"][0]["window_start"] == "2031-01-04T21:00:00+00:00"
    assert not Wave.objects.exists()  # nothing is planned until accepted
    page = client.get(response["Location"]).content.decode()
    assert "Pilot" in page and "app-0" in page and "Accept all" in page and "Fits its window" in page
    assert AuditEntry.objects.filter(action="proposal.create", user=planner).exists()
    listing = client.get("/plan/proposals/").content.decode()
    assert f"#{proposal.pk}" in listing


def test_bad_input_says_why_and_stores_nothing(client_for, planner, estate):
    client = client_for(planner)
    response = client.post(
        "/plan/autoplan/",
        form_data(
            estate["site"],
            first_window_start="2001-01-06T22:00",
            time_zone="Mars/Olympus",
            blackout_dates="soon",
            weekdays=[],
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a time zone" in page
    assert "is not a date (YYYY-MM-DD)" in page
    assert "Choose at least one weekday" in page
    assert not PlanProposal.objects.exists()
    response = client.post(
        "/plan/autoplan/", form_data(estate["site"], first_window_start="2001-01-06T22:00")
    )
    assert "must start in the future" in response.content.decode()


def test_a_target_cluster_of_another_site_is_refused(client_for, planner, estate):
    other = make_link_site(name="Rotterdam")
    cluster = TargetCluster.objects.create(site=other, name="Cluster-1")
    response = client_for(planner).post(
        "/plan/autoplan/", form_data(estate["site"], target_cluster=str(cluster.pk))
    )
    assert response.status_code == 400 and "belongs to another site" in response.content.decode()


def test_accepting_all_creates_draft_waves_with_their_vms(client_for, planner, estate):
    client = client_for(planner)
    cluster = TargetCluster.objects.create(site=estate["site"], name="Cluster-1")
    client.post("/plan/autoplan/", form_data(estate["site"], target_cluster=str(cluster.pk)))
    proposal = PlanProposal.objects.get()
    response = client.post(f"/plan/proposals/{proposal.pk}/accept/", {"accept_all": "on"})
    assert response.status_code == 302
    waves = list(Wave.objects.order_by("sequence"))
    assert len(waves) == len(proposal.data["waves"])
    assert all(
        w.status == WaveStatus.DRAFT and w.site == estate["site"] and w.target_cluster == cluster
        for w in waves
    )
    assert waves[0].pilot and waves[0].window_start == datetime(2031, 1, 4, 21, tzinfo=UTC)
    assert waves[0].time_zone == "Europe/Amsterdam" and waves[0].max_vms == 4
    assert WaveItem.objects.count() == 13
    # Groups stay whole, and the powered-off VM moves Cold.
    for group in estate["groups"]:
        assert WaveItem.objects.filter(group=group).values("wave").distinct().count() == 1
        assert WaveItem.objects.filter(group=group).count() == 3
    assert WaveItem.objects.get(vm=estate["loose"]).migration_type == "cold"
    proposal.refresh_from_db()
    assert proposal.accepted and sorted(proposal.data["accepted_waves"]) == [
        w["number"] for w in proposal.data["waves"]
    ]
    assert AuditEntry.objects.filter(action="proposal.accept", user=planner).exists()
    page = client.get(f"/plan/proposals/{proposal.pk}/").content.decode()
    assert "Created: Wave 01" in page
    # Accepting again is refused, and changes nothing.
    client.post(f"/plan/proposals/{proposal.pk}/accept/", {"accept_all": "on"})
    assert Wave.objects.count() == len(waves)


def test_accepting_selected_waves_creates_only_those(client_for, planner, estate):
    client = client_for(planner)
    client.post("/plan/autoplan/", form_data(estate["site"]))
    proposal = PlanProposal.objects.get()
    assert len(proposal.data["waves"]) >= 3
    client.post(f"/plan/proposals/{proposal.pk}/accept/", {"waves": ["2"]})
    assert list(Wave.objects.values_list("name", flat=True)) == [proposal.data["waves"][1]["name"]]
    assert set(WaveItem.objects.values_list("vm_id", flat=True)) == set(proposal.data["waves"][1]["vms"])
    # Later, the rest.
    client.post(f"/plan/proposals/{proposal.pk}/accept/", {"accept_all": "on"})
    assert Wave.objects.count() == len(proposal.data["waves"])


def test_accept_is_refused_cleanly_when_a_vm_went_into_another_wave(client_for, planner, estate):
    client = client_for(planner)
    client.post("/plan/autoplan/", form_data(estate["site"]))
    proposal = PlanProposal.objects.get()
    taken = proposal.data["waves"][-1]["vms"][0]
    other = Wave.objects.create(name="Meanwhile")
    WaveItem.objects.create(wave=other, vm_id=taken)
    response = client.post(f"/plan/proposals/{proposal.pk}/accept/", {"accept_all": "on"}, follow=True)
    page = response.content.decode()
    assert "is in wave Meanwhile" in page and "Nothing was created" in page
    assert list(Wave.objects.values_list("name", flat=True)) == ["Meanwhile"]
    assert WaveItem.objects.count() == 1
    proposal.refresh_from_db()
    assert proposal.accepted is None and proposal.data["accepted_waves"] == []


def test_accept_is_refused_when_the_database_refuses_a_vm_twice(planner, estate, monkeypatch):
    """A VM that slipped into another wave after the checks: the unique constraint refuses, nothing stays."""
    from migrations_app.planner import proposals

    client_proposal = proposals.do_propose(_request(estate), acting_user=planner)
    vm = client_proposal.data["waves"][0]["vms"][0]

    def sneak(vm_ids):
        WaveItem.objects.create(wave=Wave.objects.create(name="Racer"), vm_id=vm)

    monkeypatch.setattr(proposals, "_check_vms", sneak)
    with pytest.raises(proposals.AcceptRefused, match="taken by another change"):
        proposals.do_accept(client_proposal, None, acting_user=planner)
    assert not Wave.objects.exists() and not WaveItem.objects.exists()


def _request(estate):
    from migrations_app.planner.autoplan import PlanInputs
    from migrations_app.planner.calendar import WindowCalendar
    from migrations_app.planner.proposals import ProposalRequest

    calendar = WindowCalendar(
        first_start=datetime(2031, 1, 4, 22, tzinfo=UTC), hours=8, weekdays=frozenset({5})
    )
    return ProposalRequest(inputs=PlanInputs(max_vms=4), calendar=calendar, site=estate["site"])


def test_accept_is_refused_when_a_group_changed(client_for, planner, estate):
    client = client_for(planner)
    client.post("/plan/autoplan/", form_data(estate["site"]))
    proposal = PlanProposal.objects.get()
    newcomer = make_vm(estate["vc"], "newcomer", used_mib=GIB)
    GroupMember.objects.create(group=estate["groups"][1], vm=newcomer)
    response = client.post(f"/plan/proposals/{proposal.pk}/accept/", {"accept_all": "on"}, follow=True)
    assert "Group app-1 changed since this proposal" in response.content.decode()
    assert not Wave.objects.exists()


def test_roles(client, client_for, planner, engineer, stakeholder, outsider, estate):
    planner_client = client_for(planner)
    planner_client.post("/plan/autoplan/", form_data(estate["site"]))
    proposal = PlanProposal.objects.get()
    client.logout()
    for user in (engineer, stakeholder):
        c = client_for(user)
        assert c.get("/plan/proposals/").status_code == 200
        page = c.get(f"/plan/proposals/{proposal.pk}/").content.decode()
        assert "Accept all" not in page
        assert c.get("/plan/autoplan/").status_code == 403
        assert c.post("/plan/autoplan/", form_data(estate["site"])).status_code == 403
        assert c.post(f"/plan/proposals/{proposal.pk}/accept/", {"accept_all": "on"}).status_code == 403
        c.logout()
    c = client_for(outsider)
    assert c.get("/plan/proposals/").status_code == 403
    assert c.get(f"/plan/proposals/{proposal.pk}/").status_code == 403
    assert not Wave.objects.exists() and PlanProposal.objects.count() == 1


def test_the_api_proposes_lists_and_accepts(client_for, planner, estate):
    client = client_for(planner)
    response = client.post(
        "/api/plan-proposals/",
        {
            "site": estate["site"].pk,
            "first_window_start": "2031-01-04T22:00",
            "max_vms": 4,
            "blackout_dates": ["2031-01-11"],
            "weekdays": [5],
            "include_ungrouped": False,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["data"]["settings"]["include_ungrouped"] is False
    assert body["data"]["settings"]["pilot_max_vms"] == 10  # the form's default
    assert [w["window_start"][:10] for w in body["data"]["waves"]][:2] == ["2031-01-04", "2031-01-18"]
    listing = client.get("/api/plan-proposals/").json()
    assert listing["count"] == 1 and listing["results"][0]["summary"]["waves"] == len(body["data"]["waves"])
    assert "data" not in listing["results"][0]
    assert client.get(f"/api/plan-proposals/{body['id']}/").json()["data"]["waves"]
    response = client.post(
        f"/api/plan-proposals/{body['id']}/accept/", {"waves": [1, 1]}, content_type="application/json"
    )
    assert response.status_code == 200 and [w["name"] for w in response.json()["created"]] == ["Wave 01"]
    response = client.post(
        f"/api/plan-proposals/{body['id']}/accept/", {"waves": [1]}, content_type="application/json"
    )
    assert response.status_code == 409 and "already accepted" in response.json()["detail"]
    response = client.post(
        f"/api/plan-proposals/{body['id']}/accept/", {"waves": []}, content_type="application/json"
    )
    assert response.status_code == 409 and "at least one" in response.json()["detail"]
    assert Wave.objects.count() == 1


def test_the_api_says_what_is_wrong(client_for, planner, estate):
    response = client_for(planner).post(
        "/api/plan-proposals/",
        {"first_window_start": "soon", "time_zone": "X/Y"},
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert (
        "site" in errors and "first_window_start" in errors and "is not a time zone" in errors["time_zone"][0]
    )
    client = client_for(planner)
    for body in (
        [1, 2],
        {"site": {"x": 1}, "first_window_start": ["2031-01-04"], "weekdays": "5", "max_tb": [1]},
        {"site": estate["site"].pk, "first_window_start": "9999-12-31T22:00"},
    ):
        response = client.post("/api/plan-proposals/", body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
    assert "within 5 years" in response.json()["first_window_start"][0]
    assert not PlanProposal.objects.exists()


def test_the_api_checks_roles(client_for, engineer, stakeholder, planner, estate):
    proposal = PlanProposal.objects.create(user=planner, data={"waves": [], "summary": {}})
    for user in (engineer, stakeholder):
        c = client_for(user)
        assert c.get("/api/plan-proposals/").status_code == 200
        assert (
            c.post(
                "/api/plan-proposals/", {"site": estate["site"].pk}, content_type="application/json"
            ).status_code
            == 403
        )
        assert (
            c.post(
                f"/api/plan-proposals/{proposal.pk}/accept/", {}, content_type="application/json"
            ).status_code
            == 403
        )
        c.logout()


def test_the_proposal_pages_cost_the_same_queries_however_many(client_for, planner, estate):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(planner)
    client.post("/plan/autoplan/", form_data(estate["site"]))
    proposal = PlanProposal.objects.get()

    def count(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    few_list, detail_small = count("/plan/proposals/"), count(f"/plan/proposals/{proposal.pk}/")
    for _ in range(30):
        PlanProposal.objects.create(user=planner, data=proposal.data)
    big = PlanProposal.objects.create(
        user=planner, data={**proposal.data, "waves": proposal.data["waves"] * 20}
    )
    assert count("/plan/proposals/") == few_list
    assert count(f"/plan/proposals/{big.pk}/") == detail_small
    assert "Page 1 of 2" in client.get("/plan/proposals/").content.decode()
