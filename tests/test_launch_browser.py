"""In Chromium, against uvicorn: an engineer and a stakeholder watch the same wave; HCX readings taken
as the reconciler takes them change both pages' cells in place, without a reload. A page that cannot
use the stream polls the API instead."""

import dataclasses
import datetime

import pytest
from django.db import transaction

from hcx.client.migrations import MigrationProgress, Phase
from migrations_app.launch.transitions import OBSERVED_FIELDS, observe
from migrations_app.models import MigrationEvent
from tests.peers.asgi import asgi_server  # noqa: F401 (fixture)
from tests.peers.browser import TIMEOUT_MS
from tests.test_launch_pages import make_scene

PASSWORD = "correct horse battery"  # tests/conftest.py make_user


def reading(m, **changes) -> MigrationProgress:
    base = dict(id=f"m-{m.pk}", group_id="g-1", vm_id=m.vm.moid, vm_name=m.vm.name, migration_type="Bulk",
                state="INITIAL_SYNC", phase=Phase.INITIAL_SYNC, percent=0, bytes_transferred=0,
                bytes_total=20_000_000_000, throughput_mbps=900.0, eta_seconds=125, message="Copying disks",
                events=(), errors=(), switchover_start=None, switchover_end=None, waiting_for_window=False,
                reschedule_allowed=True, created=None, updated=None,
                started=datetime.datetime.now(datetime.UTC), ended=None)
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
    pages = [open_page(browser, asgi_server, user, f"/plan/waves/{wave.pk}/progress/") for user in (engineer, stakeholder)]
    for page in pages:
        expect(page.get_by_test_id("live-status")).to_have_text("live")
        expect(page.locator(f'tr[data-migration-id="{m.pk}"] [data-field="state"]')).to_have_text("Waiting to be sent")

    reconcile(m, percent=37, bytes_transferred=7_400_000_000)
    for page in pages:
        row = page.locator(f'tr[data-migration-id="{m.pk}"]')
        expect(row.locator('[data-field="percent"]')).to_have_text("37%")
        expect(row.locator('[data-field="state"]')).to_have_text("Initial sync")
        expect(row.locator('[data-field="bytes"]')).to_have_text("7.4 GB / 20.0 GB")
        expect(row.locator('[data-field="eta"]')).to_have_text("2m 05s")
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
