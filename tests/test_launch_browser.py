"""In Chromium, against uvicorn: an engineer and a stakeholder watch the same wave; HCX readings taken
as the reconciler takes them change both pages' cells in place, without a reload. A page that cannot
use the stream polls the API instead."""

import dataclasses
import datetime
import re

import pytest
from django.db import transaction

from hcx.client.migrations import MigrationProgress, Phase
from migrations_app.choices import WaveStatus
from migrations_app.launch.rollup import finish_waves
from migrations_app.launch.transitions import OBSERVED_FIELDS, observe
from migrations_app.models import MigrationEvent, Wave
from tests.peers.asgi import asgi_server  # noqa: F401 (fixture)
from tests.peers.browser import TIMEOUT_MS
from tests.test_launch_pages import make_scene

PASSWORD = "correct horse battery"  # tests/conftest.py make_user


def reading(m, **changes) -> MigrationProgress:
    base = dict(
        id=f"m-{m.pk}",
        group_id="g-1",
        vm_id=m.vm.moid,
        vm_name=m.vm.name,
        migration_type="Bulk",
        state="INITIAL_SYNC",
        phase=Phase.INITIAL_SYNC,
        percent=0,
        bytes_transferred=0,
        bytes_total=20_000_000_000,
        throughput_mbps=900.0,
        eta_seconds=125,
        message="Copying disks",
        events=(),
        errors=(),
        switchover_start=None,
        switchover_end=None,
        waiting_for_window=False,
        reschedule_allowed=True,
        created=None,
        updated=None,
        started=datetime.datetime.now(datetime.UTC),
        ended=None,
    )
    return dataclasses.replace(MigrationProgress(**base), **changes)


def reconcile(m, **changes):
    """What the reconciler does with a reading: observe it, save the observed fields and the events."""
    changed, events = observe(m, reading(m, **changes))
    assert changed
    with transaction.atomic():
        m.save(update_fields=OBSERVED_FIELDS)
        MigrationEvent.objects.bulk_create(events)


def open_page(browser, server, user, path):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=server.url, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("User name").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("whoami")).to_contain_text(user.get_username())
    page.goto(path)
    page.evaluate("window.notReloaded = true")
    return page


@pytest.mark.django_db(transaction=True)
def test_two_viewers_see_a_migration_move_without_reloading(browser, asgi_server, engineer, stakeholder):  # noqa: F811
    from playwright.sync_api import expect

    wave = make_scene(vms=3)
    m = wave.migrations.select_related("vm").order_by("pk").first()
    pages = [
        open_page(browser, asgi_server, user, f"/plan/waves/{wave.pk}/progress/")
        for user in (engineer, stakeholder)
    ]
    for page in pages:
        expect(page.get_by_test_id("live-status")).to_have_text("live")
        expect(page.locator(f'tr[data-migration-id="{m.pk}"] [data-field="state"]')).to_have_text(
            "Waiting to be sent"
        )

    reconcile(m, percent=37, bytes_transferred=7_400_000_000)
    for page in pages:
        row = page.locator(f'tr[data-migration-id="{m.pk}"]')
        expect(row.locator('[data-field="percent"]')).to_have_text("37%")
        expect(row.locator('[data-field="state"]')).to_have_text("Initial sync")
        expect(row.locator('[data-field="bytes"]')).to_have_text("6.9 GiB of 18.6 GiB")
        # A time in the wave's zone (Europe/Amsterdam), and how far off it is.
        expect(row.locator('[data-field="eta"]')).to_have_text(
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d CES?T \(in 2m 0\ds\)$")
        )
        expect(page.locator('[data-rollup="main"] [data-rollup-field="in_flight"]')).to_have_text("1")

    reconcile(m, state="MIGRATION_FAILED", phase=Phase.FAILED, percent=37, errors=("Disk copy failed",))
    newest = MigrationEvent.objects.filter(migration=m).order_by("-at", "-id").first()
    for page in pages:
        row = page.locator(f'tr[data-migration-id="{m.pk}"]')
        expect(row.locator('[data-field="state"]')).to_have_text("Failed")
        expect(row.locator('[data-field="message"]')).to_have_text("Disk copy failed")
        expect(page.locator('[data-rollup="main"] [data-rollup-field="health"]')).to_have_text("failed")
        # The latest events follow too, newest on top, each once.
        latest = page.locator('[data-testid="events"] li').first
        expect(latest).to_contain_text(f"{m.vm.name}: {newest.message}")
        assert page.locator(f'[data-testid="events"] li[data-event-id="{newest.pk}"]').count() == 1
        assert page.evaluate("window.notReloaded") is True
    for page in pages:
        page.context.close()


@pytest.mark.django_db(transaction=True)
def test_a_page_without_the_stream_polls_the_api(browser, asgi_server, stakeholder):  # noqa: F811
    from playwright.sync_api import expect

    wave = make_scene(vms=2)
    m = wave.migrations.select_related("vm").order_by("pk").first()
    page = open_page(browser, asgi_server, stakeholder, f"/plan/waves/{wave.pk}/progress/?live=poll")
    expect(page.get_by_test_id("live-status")).to_have_text("polling")
    reconcile(m, percent=64)
    expect(page.locator(f'tr[data-migration-id="{m.pk}"] [data-field="percent"]')).to_have_text("64%")
    assert page.evaluate("window.notReloaded") is True
    page.context.close()


@pytest.mark.django_db(transaction=True)
def test_the_run_view_shows_phases_the_ready_callout_and_a_header_that_follows_the_stream(
    browser, asgi_server, engineer, stakeholder
):  # noqa: F811
    from playwright.sync_api import expect

    wave = make_scene(vms=3)
    start = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=2)
    Wave.objects.filter(pk=wave.pk).update(window_start=start, window_end=start + datetime.timedelta(hours=4))
    first, second, third = wave.migrations.select_related("vm").order_by("pk")
    path = f"/plan/waves/{wave.pk}/progress/"
    engineer_page, watcher = (open_page(browser, asgi_server, user, path) for user in (engineer, stakeholder))
    for page in (engineer_page, watcher):
        expect(page.get_by_test_id("live-status")).to_have_text("live")
        expect(
            page.locator('[data-rollup="main"] [data-phase="not_started"] [data-phase-count]')
        ).to_have_text("3")
    expect(engineer_page.get_by_test_id("ready-callout")).to_be_hidden()

    # Copying, then copied and waiting for the window (with a delta sync every now and then).
    reconcile(first, percent=40, bytes_transferred=8_000_000_000)
    phases = watcher.locator('[data-rollup="main"]')
    expect(phases.locator('[data-phase="copying"] [data-phase-count]')).to_have_text("1")
    for m in (first, second):
        reconcile(
            m,
            state="WAITING",
            phase=Phase.WAITING_FOR_SWITCHOVER,
            percent=100,
            bytes_transferred=20_000_000_000,
            eta_seconds=None,
            message="",
        )
    for _ in range(3):
        reconcile(first, state="DELTA_SYNC", phase=Phase.DELTA_SYNC, message="")
        reconcile(first, state="WAITING", phase=Phase.WAITING_FOR_SWITCHOVER, message="")
    for page in (engineer_page, watcher):
        main = page.locator('[data-rollup="main"]')
        expect(main.locator('[data-phase="waiting_window"] [data-phase-count]')).to_have_text("2")
        expect(main.locator('[data-phase="copying"] [data-phase-count]')).to_have_text("0")
        expect(page.get_by_test_id("ready-callout")).to_contain_text("Ready to switch over: 2 VMs")
        expect(page.get_by_test_id("ready-callout")).to_contain_text(wave.time_zone)
        expect(page.get_by_test_id("summary")).to_have_text("0 of 3 VMs done · 2 ready to switch over")
        # Two thirds of the bytes copied, no VM done: not a finished bar.
        expect(main.locator('[data-rollup-field="percent"]')).not_to_have_text("100%")
        # The delta syncs of app-1 are one line, counted.
        delta = page.get_by_test_id("events").locator("li", has_text=f"{first.vm.name}: Delta sync")
        expect(delta).to_have_count(1)
        expect(delta).to_contain_text("×3")

    # The engineer's actions apply where they can: a VM not sent yet cannot switch over, a copied one can.
    actions = engineer_page.get_by_test_id("migration-actions")
    expect(actions.get_by_role("button", name="Switchover now")).to_be_disabled()
    engineer_page.locator(f'tr[data-migration-id="{third.pk}"] input[name="ids"]').check()
    expect(actions.get_by_role("button", name="Cancel")).to_be_enabled()
    expect(actions.get_by_role("button", name="Switchover now")).to_be_disabled()
    expect(actions.get_by_role("button", name="Roll back")).to_be_disabled()
    engineer_page.locator(f'tr[data-migration-id="{first.pk}"] input[name="ids"]').check()
    expect(actions.get_by_role("button", name="Switchover now")).to_be_enabled()

    # The callout's button asks first, and says what will happen to the VMs.
    engineer_page.get_by_test_id("ready-callout").get_by_role("button", name="Switch them over now").click()
    expect(engineer_page.get_by_test_id("question")).to_have_text(
        "Switch over 2 VMs now, outside the planned window?"
    )
    expect(engineer_page.get_by_test_id("will-do")).to_contain_text(first.vm.name)
    expect(engineer_page.get_by_test_id("will-do")).to_contain_text(second.vm.name)
    said = engineer_page.get_by_test_id("consequences")
    expect(said).to_contain_text(
        "HCX powers off the source VM, runs a final delta sync and powers the VM on in AVS"
    )
    expect(said).to_contain_text("Expected downtime per VM: 5–15 min for 2 Bulk VMs")
    expect(engineer_page.get_by_role("button", name="Switchover now")).to_be_enabled()

    # The watcher's header follows the stream to the end: the summary, then the wave's status.
    for m in (first, second, third):
        reconcile(
            m,
            state="MIGRATION_COMPLETE",
            phase=Phase.COMPLETE,
            percent=100,
            bytes_transferred=20_000_000_000,
            eta_seconds=None,
            message="",
        )
    expect(watcher.get_by_test_id("summary")).to_have_text("3 of 3 VMs done")
    expect(watcher.get_by_test_id("ready-callout")).to_be_hidden()
    expect(watcher.locator('[data-rollup="main"] [data-rollup-field="percent"]')).to_have_text("100%")
    expect(watcher.get_by_test_id("wave-status")).to_have_text("Running")
    assert finish_waves(Wave.objects.filter(pk=wave.pk)) == 1
    expect(watcher.get_by_test_id("wave-status")).to_have_text(str(WaveStatus.COMPLETED.label))
    assert watcher.evaluate("window.notReloaded") is True
    for page in (engineer_page, watcher):
        page.context.close()
