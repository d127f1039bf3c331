"""Change windows for the auto-planner: a start time of day, a length, the weekdays windows fall
on, and blackout dates on which no window may run.

Windows repeat at the same local time in the plan's time zone (so a Saturday 22:00 window stays at
22:00 across a daylight-saving change); their length is elapsed time. A window that touches a
blackout date anywhere between its start and its end (local dates) is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MAX_BLACKOUT_RANGE_DAYS = 366


class BlackoutError(ValueError):
    pass


def parse_blackouts(text: str) -> list[date]:
    """`2030-12-24, 2030-12-31` or ranges `2030-12-24..2031-01-02`, separated by commas or lines."""
    days: set[date] = set()
    for raw in re.split(r"[,;\n]+", text or ""):
        item = raw.strip()
        if not item:
            continue
        parts = [p.strip() for p in re.split(r"\.\.|\s+to\s+", item)]
        try:
            bounds = [date.fromisoformat(p) for p in parts]
        except ValueError:
            raise BlackoutError(
                f"“{item}” is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)."
            ) from None
        if len(bounds) == 1:
            days.add(bounds[0])
            continue
        if len(bounds) != 2 or bounds[1] < bounds[0]:
            raise BlackoutError(f"“{item}”: a range runs from an earlier date to a later one.")
        span = (bounds[1] - bounds[0]).days
        if span > MAX_BLACKOUT_RANGE_DAYS:
            raise BlackoutError(f"“{item}”: a range may cover at most {MAX_BLACKOUT_RANGE_DAYS} days.")
        days.update(bounds[0] + timedelta(days=d) for d in range(span + 1))
    return sorted(days)


@dataclass(frozen=True)
class Window:
    start: datetime  # aware, UTC
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class WindowCalendar:
    first_start: datetime  # aware; its local time of day is every window's start
    hours: float
    weekdays: frozenset[int]  # 0 = Monday
    time_zone: str = "UTC"
    blackouts: frozenset[date] = frozenset()
    max_windows: int = 52

    def windows(self, skipped: list | None = None) -> Iterator[Window]:
        """The windows in order, at most `max_windows`; those skipped for a blackout are appended to
        `skipped` as (window, blackout date)."""
        zone = ZoneInfo(self.time_zone)
        local = self.first_start.astimezone(zone)
        first_day, time_of_day = local.date(), local.timetz().replace(tzinfo=None)
        length = timedelta(hours=self.hours)
        given = 0
        # Bounded even when every weekday is blacked out for years.
        for offset in range(self.max_windows * 7 + len(self.blackouts) + 7):
            if given >= self.max_windows or not self.weekdays:
                return
            day = first_day + timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            start = datetime.combine(day, time_of_day, tzinfo=zone).astimezone(UTC)
            window = Window(start, start + length)
            hit = self._blackout_in(window, zone)
            if hit is not None:
                if skipped is not None:
                    skipped.append((window, hit))
                continue
            given += 1
            yield window

    def _blackout_in(self, window: Window, zone: ZoneInfo) -> date | None:
        if not self.blackouts:
            return None
        return next(
            (day for day in local_days(window.start, window.end, zone) if day in self.blackouts), None
        )


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The local dates in `zone` a window from `start` to `end` touches (its end excluded: a window that
    ends at midnight does not touch the next day). The auto-planner skips a window touching a blackout
    date; the change calendar shows a wave on each of these days."""
    day = start.astimezone(zone).date()
    last = max(day, (end - timedelta(microseconds=1)).astimezone(zone).date())
    days = []
    while day <= last and len(days) <= MAX_BLACKOUT_RANGE_DAYS:
        days.append(day)
        day += timedelta(days=1)
    return days
