"""The home page lists what needs doing, per kind of work a person may do: an engineer sees approvals
waiting, change windows now, failed migrations and HCX set-up waiting for them; a planner sees waves
with blockers, VMs to plan and capacity conflicts; a stakeholder lands on the programme dashboard.
Each item links to the page where it is done, and the page's query count does not grow with the items."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hcx.choices import SetupStepKey, StepState
from hcx.models import HcxConnection, HcxSetupStep
from migrations_app.choices import FindingSeverity, WaveStatus
from migrations_app.models import ReadinessFinding
from tests.factories import (
    make_batch,
    make_estate,
    make_link_site,
    make_target_cluster,
    make_vcenter,
    make_vm,
    make_wave,
)
from tests.test_dashboard import complete, fail

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def engineer_work(planner, n: int = 1, prefix: str = ""):
    """`n` of each thing an engineer must do: a wave to approve, a wave in its window, a failed
    migration, a certificate to trust and a refused password."""
    now = timezone.now()
    estate = make_estate(vms=2 * n, prefix=f"{prefix}e-")
    made = {"approve": [], "window": [], "failed": [], "sites": []}
    for i in range(n):
        made["approve"].append(
            make_wave(
                f"{prefix}To approve {i}",
                status=WaveStatus.SUBMITTED,
                submitted_by=planner,
                submitted_at=now,
                revision=2,
            )
        )
        window = make_wave(
            f"{prefix}In window {i}",
            vms=estate.vms[2 * i : 2 * i + 2],
            status=WaveStatus.RUNNING,
            window_start=now - HOUR,
            window_end=now + 3 * HOUR,
        )
        made["window"].append(window)
        done, failed = make_batch(window).migrations.select_related("vm").order_by("vm__name")
        complete(done)
        made["failed"].append(fail(failed, "The VM would not shut down"))
        site = make_link_site(f"{prefix}Site {i}")
        HcxSetupStep.objects.create(
            plan=site,
            step=SetupStepKey.PAIR,
            state=StepState.NEEDS_INPUT,
            message="Untrusted certificate",
            data={"certificate": PEM},
        )
        HcxConnection.objects.create(
            plan=site,
            connector_url="https://hcx.example.com",
            login_failures=3,
            login_refusal="Invalid credentials",
        )
        made["sites"].append(site)
    return made


def planner_work(n: int = 1, prefix: str = ""):
    """`n` waves with a blocker, `n` overfilled target clusters, one wave over its cap, and some VMs in no wave."""
    vc = make_vcenter()
    made = {"blocked": [], "clusters": [], "unplanned": []}
    for i in range(n):
        vm = make_vm(vc, f"{prefix}blocked-{i}")
        wave = make_wave(f"{prefix}Blocked {i}", vms=[vm], readiness_revision=1)
        ReadinessFinding.objects.create(
            wave=wave,
            vm=vm,
            rule="vm_power_state",
            severity=FindingSeverity.BLOCKER,
            message="Powered off",
            migration_type="bulk",
        )
        made["blocked"].append(wave)
        # AV36P, 3 hosts, one held back for HA: 2 x 36 cores x 4 = 288 vCPUs usable; 400 planned.
        cluster = make_target_cluster(name=f"{prefix}Cluster {i}", hosts=3)
        make_wave(
            f"{prefix}Too big {i}",
            vms=[make_vm(vc, f"{prefix}huge-{i}", num_cpu=400)],
            target_cluster=cluster,
        )
        made["clusters"].append(cluster)
        made["unplanned"].append(make_vm(vc, f"{prefix}loose-{i}"))
    return made


def home(client):
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode(), response.context


def test_an_engineer_sees_what_to_approve_launch_retry_and_set_up(client_for, engineer, planner):
    made = engineer_work(planner)
    body, context = home(client_for(engineer))
    assert [t.key for t in context["engineer_lists"]] == ["approvals", "windows", "failed", "setup"]
    assert context["planner_lists"] == []  # engineers do not plan
    lists = {t.key: t for t in context["engineer_lists"]}
    wave = made["approve"][0]
    assert [(i.text, i.url) for i in lists["approvals"].items] == [(wave.name, wave.get_absolute_url())]
    running = made["window"][0]
    assert [(i.text, i.url, i.badge) for i in lists["windows"].items] == [
        (running.name, f"/plan/waves/{running.pk}/progress/", "window open")
    ]
    failed = made["failed"][0]
    assert [(i.text, i.url) for i in lists["failed"].items] == [
        (failed.vm.name, f"/plan/migrations/{failed.pk}/")
    ]
    assert "would not shut down" in lists["failed"].items[0].detail
    site = made["sites"][0]
    setup = [(i.text, i.url, i.detail) for i in lists["setup"].items]
    assert setup[0] == (
        f"{site.name}: Pair with the AVS HCX Cloud Manager",
        f"/hcx/plans/{site.pk}/setup/",
        "a certificate to check and trust",
    )
    assert setup[1][:2] == (
        f"{site.name}: HCX refuses the stored password",
        f"/hcx/plans/{site.pk}/connection/",
    )
    assert "3 failed logins in a row" in setup[1][2]
    for url in (wave.get_absolute_url(), f"/plan/migrations/{failed.pk}/", f"/hcx/plans/{site.pk}/setup/"):
        assert f'href="{url}"' in body
    assert 'data-testid="todo-engineer"' in body and 'data-testid="todo-planner"' not in body


def test_a_wave_whose_window_is_days_away_or_over_is_not_listed(client_for, engineer):
    now = timezone.now()
    make_wave(
        "Next week",
        status=WaveStatus.APPROVED,
        window_start=now + 7 * 24 * HOUR,
        window_end=now + 7 * 24 * HOUR + HOUR,
    )
    make_wave(
        "Yesterday", status=WaveStatus.APPROVED, window_start=now - 26 * HOUR, window_end=now - 22 * HOUR
    )
    make_wave("Draft now", window_start=now - HOUR, window_end=now + HOUR)  # not approved: nothing to launch
    soon = make_wave(
        "Tonight", status=WaveStatus.APPROVED, window_start=now + 5 * HOUR, window_end=now + 9 * HOUR
    )
    _, context = home(client_for(engineer))
    windows = next(t for t in context["engineer_lists"] if t.key == "windows")
    assert [(i.text, i.badge) for i in windows.items] == [(soon.name, "window soon")]


def test_a_planner_sees_blocked_waves_vms_to_plan_and_overfilled_clusters(client_for, planner):
    made = planner_work()
    capped = make_wave("Capped", vms=[make_vm(make_vcenter(), f"capped-{n}") for n in range(3)], max_vms=2)
    body, context = home(client_for(planner))
    assert context["engineer_lists"] == []
    lists = {t.key: t for t in context["planner_lists"]}
    assert list(lists) == ["blockers", "unplanned", "capacity"]
    blocked = made["blocked"][0]
    assert [(i.text, i.url) for i in lists["blockers"].items] == [
        (blocked.name, f"/plan/waves/{blocked.pk}/readiness/")
    ]
    assert lists["blockers"].items[0].detail == "1 blocker"
    # In no wave: the loose VM only (the others are in waves).
    assert lists["unplanned"].total == 1
    assert lists["unplanned"].items[0].url == "/inventory/vms/?unplanned=true"
    cluster = made["clusters"][0]
    conflicts = [(i.text, i.url) for i in lists["capacity"].items]
    assert conflicts == [
        (f"{cluster.name} ({cluster.site.name}) is overfilled", f"/plan/targets/{cluster.pk}/"),
        ("Capped is over its cap", capped.get_absolute_url()),
    ]
    assert "vCPUs: 400.0 vCPU planned, 288.0 usable" in lists["capacity"].items[0].detail
    assert "3 VMs, over the cap of 2" in lists["capacity"].items[1].detail
    assert f'href="/plan/targets/{cluster.pk}/"' in body


def test_the_unplanned_link_lists_exactly_the_vms_in_no_wave(client_for, planner):
    made = planner_work()
    vc = made["unplanned"][0].vcenter
    make_vm(vc, "already-in-avs", migrated_copy_name="already-in-avs-1733600000")
    page = client_for(planner).get("/inventory/vms/?unplanned=true")
    assert [r.record.name for r in page.context["table"].paginated_rows] == ["loose-0"]
    others = client_for(planner).get("/inventory/vms/?unplanned=false")
    assert "loose-0" not in {r.record.name for r in others.context["table"].paginated_rows}


def test_an_admin_sees_both_lists(client_for, admin_user, planner):
    engineer_work(planner)
    planner_work()
    body, context = home(client_for(admin_user))
    assert context["engineer_lists"] and context["planner_lists"]
    assert 'data-testid="todo-engineer"' in body and 'data-testid="todo-planner"' in body


def test_a_stakeholder_lands_on_the_programme_dashboard(client_for, stakeholder, planner):
    engineer_work(planner)
    body, context = home(client_for(stakeholder))
    assert 'data-testid="dashboard-live"' in body and "engineer_lists" not in context


def test_someone_in_no_role_is_told_to_ask_for_one(client_for, outsider):
    body, context = home(client_for(outsider))
    assert 'data-testid="no-role"' in body and not context["engineer_lists"] and not context["planner_lists"]


def test_with_nothing_to_do_each_list_says_so(client_for, engineer):
    body, _ = home(client_for(engineer))
    assert "No wave waits for approval." in body and "No migration has failed." in body


def _count(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["engineer", "planner", "admin_user"])
def test_the_query_count_does_not_grow_with_the_work_waiting(
    request, client_for, planner, persona, monkeypatch
):
    monkeypatch.setattr("migrations_app.todo.SHOWN", 2)  # lists show two items: three overflow them
    client = client_for(request.getfixturevalue(persona))
    engineer_work(planner, 3, "a-")
    planner_work(3, "a-")
    few = _count(client)
    engineer_work(planner, 4, "b-")
    planner_work(4, "b-")
    assert _count(client) == few
    body = client.get("/").content.decode()
    assert "and 5 more" in body  # seven of each, two shown: the rest is counted, not read


def test_the_home_page_stays_within_its_query_budget(
    client_for, admin_user, planner, django_assert_max_num_queries
):
    engineer_work(planner, 2)
    planner_work(2)
    client = client_for(admin_user)
    client.get("/")
    # session, user, permissions (2), navigation groups; four engineer lists (set-up: steps and logins,
    # the refused passwords); three planner lists (clusters, capped waves and their count); figures (3), jobs
    with django_assert_max_num_queries(20):
        client.get("/")
