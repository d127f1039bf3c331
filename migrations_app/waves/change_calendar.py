"""The change calendar: one month of the waves' change windows and the blackout dates, for the
calendar page (server-rendered, weeks from Monday).

A wave shows on every local date its window touches in the wave's own time zone, with its times and
the zone named, so a Saturday 22:00-06:00 window in Europe/Amsterdam sits on Saturday and Sunday
whatever the reader's zone. Blackout dates are those of the accepted auto-plans (the dates the planner
gave the auto-planner, `settings.blackout_dates` of a proposal); a window touching one is flagged.
The touching rule is the auto-planner's own (planner/calendar.py `local_days`).
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime
from dataclasses import dataclass, field

from migrations_app.models import PlanProposal, Wave
from migrations_app.planner.calendar import local_days

from .display import zone_of

MONTH_NAMES = list(stdlib_calendar.month_name)
# The widest UTC offsets there are (UTC-12 .. UTC+14): a window this far outside the grid's dates
# cannot touch them in any zone.
ZONE_MARGIN = datetime.timedelta(hours=15)


class MonthError(ValueError):
    pass


def parse_month(text: str | None, today: datetime.date) -> datetime.date:
    """`2030-12` -> 2030-12-01; empty: this month. MonthError for anything else."""
    if not text:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in text.split("-"))
        return datetime.date(year, month, 1)
    except ValueError:
        raise MonthError(f"“{text}” is not a month; use YYYY-MM, for example 2030-12.") from None


def add_months(first: datetime.date, count: int) -> datetime.date:
    index = first.year * 12 + first.month - 1 + count
    year, month = divmod(index, 12)
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
        return first
    return datetime.date(year, month + 1, 1)


@dataclass(frozen=True)
class Entry:
    """A wave on one day: its window's local times and zone."""

    wave: Wave
    times: str
    blackout: bool


@dataclass
class Day:
    date: datetime.date
    in_month: bool
    today: bool
    blackout: bool
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Month:
    first: datetime.date
    weeks: list[list[Day]]
    previous: datetime.date
    next: datetime.date
    blackout_sources: dict[datetime.date, list[int]]

    @property
    def title(self) -> str:
        return f"{MONTH_NAMES[self.first.month]} {self.first.year}"

    @property
    def agenda(self) -> list[Day]:
        """The month's days with a window or a blackout, for narrow screens."""
        return [d for week in self.weeks for d in week if d.in_month and (d.entries or d.blackout)]


def blackout_dates() -> dict[datetime.date, list[int]]:
    """Blackout date -> the accepted auto-plans (proposal ids) that name it; one query."""
    found: dict[datetime.date, list[int]] = {}
    rows = (
        PlanProposal.objects.filter(accepted__isnull=False)
        .order_by("pk")
        .values_list("pk", "data__settings__blackout_dates")
    )
    for pk, dates in rows:
        for text in dates if isinstance(dates, list) else []:
            try:
                day = datetime.date.fromisoformat(str(text))
            except ValueError:
                continue  # written by the auto-planner as ISO dates; anything else is not ours
            found.setdefault(day, []).append(pk)
    return found


def month(first: datetime.date, today: datetime.date) -> Month:
    """The month starting `first`, in two queries whatever the number of waves."""
    dates = stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    grid_start, grid_end = dates[0][0], dates[-1][-1]
    blackouts = blackout_dates()
    days = {d: Day(d, d.month == first.month, d == today, d in blackouts) for week in dates for d in week}
    since = datetime.datetime.combine(grid_start, datetime.time(), datetime.UTC) - ZONE_MARGIN
    until = (
        datetime.datetime.combine(grid_end + datetime.timedelta(days=1), datetime.time(), datetime.UTC)
        + ZONE_MARGIN
    )
    waves = Wave.objects.filter(
        window_start__isnull=False, window_end__isnull=False, window_start__lt=until, window_end__gt=since
    ).order_by("window_start", "sequence", "name")
    for wave in waves:
        zone = zone_of(wave)
        touched = local_days(wave.window_start, wave.window_end, zone)
        start, end = wave.window_start.astimezone(zone), wave.window_end.astimezone(zone)
        end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %d %b %H:%M}"
        zone_name = getattr(zone, "key", "UTC")  # an unknown zone name is shown in UTC, and named so
        times = f"{start:%H:%M}–{end_text} {zone_name}"
        hit = any(d in blackouts for d in touched)
        for d in touched:
            if d in days:
                days[d].entries.append(
                    Entry(wave, times if d == start.date() else f"(from {start:%a %d %b}) {times}", hit)
                )
    return Month(
        first=first,
        weeks=[[days[d] for d in week] for week in dates],
        previous=add_months(first, -1),
        next=add_months(first, 1),
        blackout_sources=blackouts,
    )
