"""The launch API: readers list batches and migrations and poll progress; engineers launch and act
(202 with the job); the others get 403, anonymous 401; the lists' queries do not grow."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import Job
from migrations_app.choices import MigrationState, WaveStatus
from migrations_app.launch.transitions import move
from migrations_app.models import Batch, VmMigration
from tests.test_launch_pages import make_scene, set_state

pytestmark = pytest.mark.django_db
S = MigrationState


@pytest.fixture
def wave():
    return make_scene(vms=4)


def test_readers_list_migrations_and_batches(client_for, planner, stakeholder, wave):
    m = set_state(wave.migrations.order_by("pk").first(), S.INITIAL_SYNC, percent=40)
    for user in (planner, stakeholder):
        client = client_for(user)
        body = client.get("/api/migrations/", {"wave_id": wave.pk}).json()
        assert body["count"] == 4
        row = client.get(f"/api/migrations/{m.pk}/").json()
        assert (row["vm_name"], row["state"], row["percent"], row["batch_name"]) == (
            m.vm.name,
            "initial_sync",
            40,
            "Batch 1",
        )
        batches = client.get("/api/batches/", {"wave_id": wave.pk}).json()["results"]
        assert [(b["name"], b["vm_count"]) for b in batches] == [("Batch 1", 4)]


def test_migrations_filter_by_state_batch_and_vm(client_for, stakeholder):
    wave = make_scene(vms=4, batch=False)
    from tests.factories import make_batch

    vms = [i.vm for i in wave.items.select_related("vm").order_by("vm__name")]
    first, second = make_batch(wave, vms[:1]), make_batch(wave, vms[1:])
    set_state(second.migrations.order_by("pk").first(), S.FAILED)
    client = client_for(stakeholder)
    assert client.get("/api/migrations/", {"batch": first.pk}).json()["count"] == 1
    assert client.get("/api/migrations/", {"state": "failed"}).json()["count"] == 1
    assert client.get("/api/migrations/", {"vm": vms[2].name}).json()["results"][0]["vm"] == vms[2].pk


def test_anonymous_and_outsiders_are_refused(client, client_for, outsider, wave):
    for url in ("/api/migrations/", "/api/batches/", f"/api/waves/{wave.pk}/progress/"):
        response = client.get(url)
        assert (
            response.status_code in (401, 403)
            and "credentials were not provided" in response.json()["detail"]
        )
        assert client_for(outsider).get(url).status_code == 403
        client.logout()


def test_an_engineer_makes_and_launches_a_batch(client_for, engineer):
    wave = make_scene(vms=3, status=WaveStatus.APPROVED, batch=False)
    vm_ids = list(wave.items.values_list("vm_id", flat=True))
    response = client_for(engineer).post(
        "/api/batches/", {"wave": wave.pk, "vms": vm_ids[:2], "launch": True}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    batch = Batch.objects.get(pk=body["batch"]["id"])
    assert body["batch"]["vm_count"] == 2 and body["job"]["id"] == batch.job_id and batch.launched


def test_a_refused_launch_says_why(client_for, engineer):
    wave = make_scene(vms=2, status=WaveStatus.DRAFT, batch=False)
    vm_ids = list(wave.items.values_list("vm_id", flat=True))
    response = client_for(engineer).post(
        "/api/batches/", {"wave": wave.pk, "vms": vm_ids}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "only an approved or running wave" in response.json()["detail"]
    assert not Batch.objects.exists()


def test_readers_may_not_launch_or_act(client_for, planner, stakeholder, wave):
    m = wave.migrations.order_by("pk").first()
    for user in (planner, stakeholder):
        client = client_for(user)
        assert (
            client.post(
                "/api/batches/", {"wave": wave.pk, "vms": [m.vm_id]}, content_type="application/json"
            ).status_code
            == 403
        )
        for action in ("cancel", "retry", "rollback", "switchover"):
            assert client.post(f"/api/migrations/{m.pk}/{action}/").status_code == 403
        assert (
            client.post(
                "/api/migrations/actions/",
                {"action": "cancel", "ids": [m.pk]},
                content_type="application/json",
            ).status_code
            == 403
        )
    assert not Job.objects.exists() and Batch.objects.count() == 1


def test_an_engineer_acts_on_one_migration_or_many(client_for, engineer, wave):
    done = set_state(wave.migrations.order_by("pk").first(), S.COMPLETE)
    client = client_for(engineer)
    response = client.post(f"/api/migrations/{done.pk}/rollback/")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.params["action"] == "rollback" and job.params["migration_ids"] == [done.pk]
    running = list(wave.migrations.exclude(pk=done.pk))
    for m in running:
        set_state(m, S.DELTA_SYNC)
    response = client.post(
        "/api/migrations/actions/",
        {"action": "move_window", "ids": [m.pk for m in running]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "start" in str(response.json())
    response = client.post(
        "/api/migrations/actions/",
        {
            "action": "move_window",
            "ids": [m.pk for m in running],
            "start": "2026-12-01T22:00:00+01:00",
            "end": "2026-12-02T02:00:00+01:00",
        },
        content_type="application/json",
    )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert sorted(job.params["migration_ids"]) == sorted(m.pk for m in running)


def test_api_posts_with_a_session_need_the_csrf_token(engineer, wave):
    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer)
    m = wave.migrations.order_by("pk").first()
    assert client.post(f"/api/migrations/{m.pk}/cancel/").status_code == 403
    assert (
        client.post(
            "/api/migrations/actions/", {"action": "cancel", "ids": [m.pk]}, content_type="application/json"
        ).status_code
        == 403
    )
    assert not Job.objects.exists() and VmMigration.objects.get(pk=m.pk).state == S.WAITING


def test_progress_gives_everything_then_only_what_changed(client_for, stakeholder, wave):
    client = client_for(stakeholder)
    first = client.get(f"/api/waves/{wave.pk}/progress/").json()
    assert len(first["migrations"]) == 4 and first["rollup"]["waiting"] == 4 and first["cursor"]
    quiet = client.get(f"/api/waves/{wave.pk}/progress/", {"since": first["cursor"]}).json()
    # Inside the overlap the same rows come again (the page keeps the newest per row)...
    assert {r["updated"] for r in quiet["migrations"]} <= {r["updated"] for r in first["migrations"]}
    m = wave.migrations.order_by("pk").first()
    move(m, S.SUBMITTING)
    changed = client.get(f"/api/waves/{wave.pk}/progress/", {"since": first["cursor"]}).json()
    row = next(r for r in changed["migrations"] if r["id"] == m.pk)
    assert row["state"] == "submitting" and row["updated"] > first["cursor"]
    assert (
        changed["cursor"] == row["updated"]
        and changed["rollup"]["in_flight"] + changed["rollup"]["waiting"] == 4
    )
    assert client.get(f"/api/waves/{wave.pk}/progress/", {"since": "yesterday"}).status_code == 400


def test_progress_of_one_batch(client_for, stakeholder):
    wave = make_scene(vms=3, batch=False)
    from tests.factories import make_batch

    vms = [i.vm for i in wave.items.select_related("vm").order_by("vm__name")]
    first, _ = make_batch(wave, vms[:1]), make_batch(wave, vms[1:])
    body = client_for(stakeholder).get(f"/api/waves/{wave.pk}/progress/", {"batch": first.pk}).json()
    assert [r["vm"] for r in body["migrations"]] == [vms[0].name] and body["rollup"]["vms"] == 1


def test_the_migrations_list_queries_do_not_grow(client_for, stakeholder):
    counts = []
    for n in (5, 50):
        wave = make_scene(vms=n, name=f"Wave {n}")
        client = client_for(stakeholder)
        with CaptureQueriesContext(connection) as ctx:
            body = client.get("/api/migrations/", {"wave_id": wave.pk, "page_size": 100}).json()
        assert body["count"] == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_the_schema_lists_the_launch_paths(client_for, stakeholder):
    response = client_for(stakeholder).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/batches/",
        "/api/migrations/",
        "/api/migrations/{id}/cancel/",
        "/api/migrations/actions/",
        "/api/waves/{id}/progress/",
    ):
        assert path in paths


@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:59:59-10:00",
        "2026-13-01T00:00:00Z",
        "2026-01-01T00:00:00+25:00",
    ],
)
def test_a_cursor_out_of_range_is_a_400_not_a_500(client_for, stakeholder, wave, since):
    client = client_for(stakeholder)
    response = client.get(f"/api/waves/{wave.pk}/progress/", {"since": since})
    assert response.status_code == 400 and "since" in response.json()
