"""The progress pages and the launch and action pages: every role watches, only engineers launch and
act (with a confirmation step and CSRF), and the progress page's queries do not grow with the wave."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import Job
from migrations_app.choices import MigrationState, WaveStatus
from migrations_app.launch.transitions import move
from migrations_app.models import Batch, MigrationEvent, VmMigration
from tests.factories import (
    make_batch,
    make_estate,
    make_group,
    make_link_site,
    make_target_cluster,
    make_wave,
)

pytestmark = pytest.mark.django_db
S = MigrationState


def make_scene(vms=4, name="Wave 1", status=WaveStatus.RUNNING, batch=True):
    estate = make_estate(vms=vms, prefix=name.replace(" ", "").lower() + "-")
    site = make_link_site(f"site-{name}")
    wave = make_wave(
        name,
        vms=estate.vms,
        status=status,
        site=site,
        target_cluster=make_target_cluster(site),
        migration_type="bulk",
        time_zone="Europe/Amsterdam",
    )
    if batch:
        make_batch(wave)
    return wave


def set_state(m: VmMigration, state: str, **fields):
    VmMigration.objects.filter(pk=m.pk).update(state=state, **fields)
    m.refresh_from_db()
    return m


@pytest.fixture
def wave():
    return make_scene()


def test_it_shows_a_waves_progress_to_every_role(client_for, planner, stakeholder, engineer, wave):
    m = wave.migrations.order_by("pk").first()
    move(m, S.SUBMITTING)
    for user in (planner, stakeholder, engineer):
        response = client_for(user).get(f"/plan/waves/{wave.pk}/progress/")
        assert response.status_code == 200, user
        text = response.content.decode()
        assert m.vm.name in text and "Being sent to HCX" in text
        assert f'data-migration-id="{m.pk}"' in text
        assert f'data-batch-rollup="{m.batch_id}"' in text
        assert 'data-testid="events"' in text and "Being sent to HCX" in text


def test_readers_see_no_launch_or_action_buttons(client_for, stakeholder, engineer, wave):
    text = client_for(stakeholder).get(f"/plan/waves/{wave.pk}/progress/").content.decode()
    assert "migration-actions" not in text and "New batch" not in text and "Launch the whole wave" not in text
    assert 'name="ids"' not in text
    text = client_for(engineer).get(f"/plan/waves/{wave.pk}/progress/").content.decode()
    assert 'data-testid="migration-actions"' in text and "New batch" in text and 'name="ids"' in text


def test_outsiders_and_anonymous_are_refused(client, client_for, outsider, wave):
    response = client.get(f"/plan/waves/{wave.pk}/progress/")
    assert response.status_code == 302 and "login" in response["Location"]
    assert client_for(outsider).get(f"/plan/waves/{wave.pk}/progress/").status_code == 403


def test_the_table_filters_by_batch_and_state_in_the_url(client_for, stakeholder):
    wave = make_scene(vms=6, batch=False)
    vms = [i.vm for i in wave.items.select_related("vm").order_by("vm__name")]
    first, second = make_batch(wave, vms[:3]), make_batch(wave, vms[3:])
    failed = set_state(second.migrations.order_by("pk").first(), S.FAILED)
    client = client_for(stakeholder)
    text = client.get(f"/plan/waves/{wave.pk}/progress/?batch={first.pk}").content.decode()
    assert all(v.name in text for v in vms[:3]) and not any(v.name in text for v in vms[3:])
    text = client.get(f"/plan/waves/{wave.pk}/progress/?state=failed").content.decode()
    assert failed.vm.name in text and "1 migration match" in text
    # The batch's own page: its migrations and its rollup only.
    text = client.get(f"/plan/batches/{second.pk}/").content.decode()
    assert all(v.name in text for v in vms[3:]) and not any(v.name in text for v in vms[:3])


def test_the_migration_page_shows_its_attempts_and_events(client_for, planner, wave):
    m = wave.migrations.order_by("pk").first()
    move(m, S.SUBMITTING)
    move(m, S.REFUSED, message="Target datastore is full")
    retry = VmMigration.objects.create(
        batch=m.batch, wave=wave, vm=m.vm, migration_type=m.migration_type, attempt=2, retry_of=m
    )
    response = client_for(planner).get(f"/plan/migrations/{retry.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Target datastore is full" in text and "(attempt 1)" in text
    assert f'href="/plan/migrations/{m.pk}/"' in text  # the earlier attempt


def test_readers_are_refused_launching_and_acting(client_for, planner, stakeholder, wave):
    batch = wave.batches.get()
    ids = list(wave.migrations.values_list("pk", flat=True))
    for user in (planner, stakeholder):
        client = client_for(user)
        assert client.get(f"/plan/waves/{wave.pk}/batches/add/").status_code == 403
        assert client.post(f"/plan/waves/{wave.pk}/batches/add/", {"vms": ids[:1]}).status_code == 403
        assert client.post(f"/plan/batches/{batch.pk}/launch/").status_code == 403
        assert client.post(f"/plan/waves/{wave.pk}/launch/").status_code == 403
        response = client.post(
            f"/plan/waves/{wave.pk}/migrations/act/", {"action": "cancel", "ids": ids, "confirm": "1"}
        )
        assert response.status_code == 403
    assert not Job.objects.exists()
    assert not wave.migrations.exclude(state=S.WAITING).exists()


def test_an_engineer_makes_a_batch_then_launches_it_after_confirming(client_for, engineer):
    wave = make_scene(vms=4, status=WaveStatus.APPROVED, batch=False)
    vms = [i.vm for i in wave.items.select_related("vm").order_by("vm__name")]
    group = make_group("web tier", vms[2:])
    wave.items.filter(vm__in=vms[2:]).update(group=group)
    client = client_for(engineer)
    form = client.get(f"/plan/waves/{wave.pk}/batches/add/").content.decode()
    assert vms[0].name in form and "web tier" in form
    response = client.post(
        f"/plan/waves/{wave.pk}/batches/add/", {"name": "Pilot", "vms": [vms[0].pk], "groups": [group.pk]}
    )
    batch = Batch.objects.get(wave=wave)
    assert response.status_code == 302 and response["Location"] == f"/plan/batches/{batch.pk}/launch/"
    assert set(batch.migrations.values_list("vm__name", flat=True)) == {vms[0].name, vms[2].name, vms[3].name}
    confirm = client.get(response["Location"])
    assert "Launch Pilot of Wave 1: send 3 VMs to HCX?" in confirm.content.decode()
    assert Batch.objects.get(pk=batch.pk).launched is None  # asking is not launching
    response = client.post(f"/plan/batches/{batch.pk}/launch/", follow=True)
    batch.refresh_from_db()
    assert batch.launched is not None and batch.job is not None
    assert f'href="/jobs/{batch.job.pk}/"' in response.content.decode()
    # The VMs now in a batch are no longer offered for a new one.
    form = client.get(f"/plan/waves/{wave.pk}/batches/add/").content.decode()
    assert vms[1].name in form and vms[0].name not in form


def test_a_refused_launch_is_shown_on_the_page(client_for, engineer):
    wave = make_scene(vms=2, status=WaveStatus.DRAFT, batch=False)
    response = client_for(engineer).post(f"/plan/waves/{wave.pk}/launch/")
    assert response.status_code == 400
    assert "only an approved or running wave can be launched" in response.content.decode()
    assert not Batch.objects.exists() and not Job.objects.exists()


def test_launching_the_whole_wave_confirms_then_makes_one_batch(client_for, engineer):
    wave = make_scene(vms=3, status=WaveStatus.APPROVED, batch=False)
    client = client_for(engineer)
    assert "send 3 VMs to HCX as one batch?" in client.get(f"/plan/waves/{wave.pk}/launch/").content.decode()
    assert not Batch.objects.exists()
    response = client.post(f"/plan/waves/{wave.pk}/launch/")
    batch = Batch.objects.get(wave=wave)
    assert response["Location"] == f"/plan/batches/{batch.pk}/"
    assert batch.migrations.count() == 3 and batch.job is not None


def test_an_action_lists_what_it_will_do_before_it_does_it(client_for, engineer, wave):
    done = list(wave.migrations.order_by("pk")[:3])
    for m in done:
        set_state(m, S.COMPLETE)
    running = set_state(wave.migrations.order_by("pk").last(), S.INITIAL_SYNC)
    client = client_for(engineer)
    url = f"/plan/waves/{wave.pk}/migrations/act/"
    response = client.post(url, {"action": "rollback", "ids": [m.pk for m in done] + [running.pk]})
    text = response.content.decode()
    assert response.status_code == 200
    assert "Roll back 3 VMs to the source site?" in text
    assert f"{running.vm.name}: initial sync: only a finished migration can be rolled back" in text
    assert not Job.objects.exists()  # only asked
    response = client.post(url, {"action": "rollback", "ids": [m.pk for m in done], "confirm": "1"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.params["action"] == "rollback" and sorted(job.params["migration_ids"]) == sorted(
        m.pk for m in done
    )
    assert job.user == engineer


def test_the_cancel_confirmation_says_that_hcx_forces_it_and_what_becomes_of_the_vm(
    client_for, engineer, wave
):
    running = set_state(wave.migrations.order_by("pk").first(), S.INITIAL_SYNC)

    response = client_for(engineer).post(
        f"/plan/waves/{wave.pk}/migrations/act/", {"action": "cancel", "ids": [running.pk]}
    )

    text = response.content.decode()
    assert "Cancel the migration of 1 VM?" in text
    assert (
        "HCX force-cancels the migration: it stops at once, before any switchover. The source VM stays at the "
        "source site as it is"
    ) in text
    assert "except the disks a Seed Checkpoint keeps for a retry" in text


def test_moving_the_window_takes_times_in_the_waves_time_zone(client_for, engineer, wave):
    m = set_state(wave.migrations.order_by("pk").first(), S.DELTA_SYNC)
    client = client_for(engineer)
    url = f"/plan/waves/{wave.pk}/migrations/act/"
    page = client.post(url, {"action": "move_window", "ids": [m.pk]}).content.decode()
    assert "Europe/Amsterdam" in page and 'name="start"' in page
    response = client.post(
        url,
        {
            "action": "move_window",
            "ids": [m.pk],
            "confirm": "1",
            "start": "2026-12-01T23:00",
            "end": "2026-12-01T22:00",
        },
    )
    assert response.status_code == 400 and "must end after it starts" in response.content.decode()
    client.post(
        url,
        {
            "action": "move_window",
            "ids": [m.pk],
            "confirm": "1",
            "start": "2026-12-01T22:00",
            "end": "2026-12-02T02:00",
        },
    )
    job = Job.objects.get()
    start = datetime.datetime.fromisoformat(job.params["start"])
    assert start == datetime.datetime(2026, 12, 1, 21, 0, tzinfo=datetime.UTC)  # 22:00 in Amsterdam (CET)


def test_actions_and_launches_need_the_csrf_token(engineer, wave):
    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer)
    ids = list(wave.migrations.values_list("pk", flat=True))
    batch = wave.batches.get()
    assert (
        client.post(
            f"/plan/waves/{wave.pk}/migrations/act/", {"action": "cancel", "ids": ids, "confirm": "1"}
        ).status_code
        == 403
    )
    assert client.post(f"/plan/batches/{batch.pk}/launch/").status_code == 403
    assert client.post(f"/plan/waves/{wave.pk}/launch/").status_code == 403
    assert not Job.objects.exists() and not wave.migrations.exclude(state=S.WAITING).exists()
    # With the page's token the same POST goes through.
    page = client.get(f"/plan/waves/{wave.pk}/progress/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        f"/plan/waves/{wave.pk}/migrations/act/",
        {"action": "cancel", "ids": ids, "confirm": "1", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert set(wave.migrations.values_list("state", flat=True)) == {
        S.CANCELLED
    }  # never sent: cancelled at once


@pytest.mark.parametrize("url", ["/plan/waves/{wave}/progress/", "/plan/migrations/?wave_id={wave}"])
def test_the_progress_page_queries_do_not_grow_with_the_wave(client_for, engineer, url):
    counts = []
    for n in (5, 50):
        wave = make_scene(vms=n, name=f"Wave {n}")
        for m in wave.migrations.order_by("pk")[::2]:
            move(m, S.SUBMITTING)  # events and a mix of states
        client = client_for(engineer)
        client.get(url.format(wave=wave.pk))  # warm caches (content types, permissions)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url.format(wave=wave.pk) + ("&" if "?" in url else "?") + "per_page=100")
        assert response.status_code == 200
        assert response.content.decode().count("data-migration-id=") == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_every_migration_event_links_to_its_migration(client_for, stakeholder, wave):
    m = wave.migrations.order_by("pk").first()
    move(m, S.SUBMITTING, message="Sent to HCX")
    assert MigrationEvent.objects.filter(migration=m).exists()
    text = client_for(stakeholder).get(f"/plan/waves/{wave.pk}/progress/").content.decode()
    assert f'<a href="/plan/migrations/{m.pk}/">{m.vm.name}</a>: Sent to HCX' in text


def test_the_progress_page_says_when_hcx_refuses_the_sites_stored_password(
    client_for, stakeholder, wave, settings
):
    from hcx.models import HcxConnection

    connection = HcxConnection.objects.create(
        plan=wave.site, connector_url="https://hcx.example.test", password="Wrong-Passw0rd"
    )
    url = f"/plan/waves/{wave.pk}/progress/"
    assert "HCX refuses the stored password" not in client_for(stakeholder).get(url).content.decode()
    HcxConnection.objects.filter(pk=connection.pk).update(
        login_failures=settings.HCX_LOGIN["MAX_FAILURES"], login_refusal="Invalid username or password"
    )

    text = client_for(stakeholder).get(url).content.decode()

    assert (
        "HCX refuses the stored password of administrator@vsphere.local (3 failed logins in a row; HCX said: "
        "Invalid username or password). The portal stopped logging in"
    ) in text
    assert f'href="/hcx/plans/{wave.site.pk}/setup/">Set-up page' in text
    assert "Wrong-Passw0rd" not in text
