"""HCX's clock against the portal's, with the HCX simulator: a time HCX reports beyond the tolerance in
the portal's future (the simulator skipped ahead, as its fast clock does in the demo) is taken as the
portal's now, the migration's log says so once with how far ahead HCX is, and the stakeholder's
"migrated against plan" chart draws the migrated line for them."""

import datetime
import re

import pytest
from django.utils import timezone

from migrations_app.choices import MigrationEventKind, MigrationState, WaveStatus
from migrations_app.launch.reconcile import forget_clients, reconcile_site
from migrations_app.models import MigrationEvent
from tests.reconcile_setup import launch

S = MigrationState
pytestmark = pytest.mark.django_db

HOURS_AHEAD = 6
COPY_DONE = 31 + 30 + 300 + 60  # validated, copied (1 GiB), switched over and cleaned up, with room


@pytest.fixture(autouse=True)
def _fresh_clients():
    forget_clients()
    yield
    forget_clients()


def clock_notes(m) -> list[str]:
    return list(
        MigrationEvent.objects.filter(migration=m, kind=MigrationEventKind.HCX)
        .filter(message__startswith="HCX's clock")
        .values_list("message", flat=True)
    )


def test_times_from_an_hcx_clock_hours_ahead_are_taken_as_now(hcxsim, client_for, engineer):
    launched = launch(hcxsim, 2, disk_gib=1)
    hcxsim.control.advance(COPY_DONE + HOURS_AHEAD * 3600)  # done, on a clock six hours ahead of ours

    reconcile_site(launched.site)
    after = timezone.now()

    for m in launched.migrations:
        assert m.state == S.COMPLETE
        assert m.started <= m.ended <= after
        assert m.hcx_clock_ahead_minutes > 2  # the latest time HCX gave: its end, well in our future
        [note] = clock_notes(m)
        assert re.fullmatch(
            r"HCX's clock is at least \d+ minutes ahead of the portal's: times clamped.*", note
        )
        page = client_for(engineer).get(f"/plan/migrations/{m.pk}/").content.decode()
        assert f"at least {m.hcx_clock_ahead_minutes} minutes ahead of the portal" in page


def test_the_clock_note_is_written_once_however_many_cycles_see_it(hcxsim):
    launched = launch(hcxsim, 1, disk_gib=100)  # a copy of half an hour on HCX's clock
    hcxsim.control.advance(45 + 600)  # copying, ten minutes ahead

    reconcile_site(launched.site)
    m = launched.migrations.get()
    assert m.state == S.INITIAL_SYNC and m.started <= timezone.now()
    assert m.hcx_clock_ahead_minutes >= 10 and len(clock_notes(m)) == 1

    hcxsim.control.advance(120)
    reconcile_site(launched.site)
    m.refresh_from_db()
    assert m.hcx_clock_ahead_minutes >= 12  # the latest skew is kept
    assert len(clock_notes(m)) == 1


def test_a_clock_within_the_tolerance_is_taken_as_it_is(hcxsim):
    launched = launch(hcxsim, 1)
    hcxsim.control.advance(45)

    reconcile_site(launched.site)

    m = launched.migrations.get()
    assert m.state == S.INITIAL_SYNC and m.started is not None
    assert m.hcx_clock_ahead_minutes is None and clock_notes(m) == []


def migrated_line(page: str) -> list[tuple[float, float]]:
    """The points of the green "Migrated" line of the first burn-up chart on the page."""
    chart = page[page.index("VMs migrated against plan") :]
    lines = re.findall(r'<polyline points="([^"]+)" style="stroke: rgb\(9%,52%,32%\)', chart)  # #198754
    assert lines, "no migrated line in the chart"
    return [tuple(map(float, xy.split())) for xy in lines[0].split(",")]


def test_the_dashboard_draws_the_migrated_line_after_migrations_end_on_a_fast_hcx_clock(
    hcxsim, client_for, stakeholder
):
    launched = launch(hcxsim, 3, disk_gib=5000)  # three copies sharing the link: over a day
    now = timezone.now()
    launched.wave.window_start, launched.wave.window_end = now, now + datetime.timedelta(days=2)
    launched.wave.save(update_fields=["window_start", "window_end"])
    hcxsim.control.advance(80 * 3600)  # they end a day or more ahead of the portal's clock

    reconcile_site(launched.site)

    launched.wave.refresh_from_db()
    assert set(launched.migrations.values_list("state", flat=True)) == {S.COMPLETE}
    assert launched.wave.status == WaveStatus.COMPLETED
    page = client_for(stakeholder).get("/plan/dashboard/").content.decode()
    points = migrated_line(page)
    assert len(set(points)) >= 2  # a line, not a lone point at zero
    assert all(m.hcx_clock_ahead_minutes >= 24 * 60 for m in launched.migrations)  # HCX said "tomorrow"
