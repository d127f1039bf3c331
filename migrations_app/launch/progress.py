"""What a live page needs to catch up: the migrations that changed since its cursor, and the rollup.

`changes()` is the one way to get changes; the server-sent events stream (stream.py) and the polling
API (`GET /api/waves/<id>/progress/?since=`) both call it, so both say the same thing.

A row's `updated` is stamped before its transaction commits, so a row committed late can carry a
stamp older than a cursor that was taken meanwhile. `changes()` therefore looks back
`LAUNCH["STREAM_OVERLAP_SECONDS"]` before the cursor; a row may come again, and the reader keeps the
newest `updated` per row and ignores the rest. The query is on the (wave, updated) index, so its
cost follows the rows that changed, not the size of the wave.
"""

import datetime

from django.conf import settings
from django.db.models import Max
from django.urls import reverse
from django.utils.dateformat import format as format_date
from django.utils.dateparse import parse_datetime

from migrations_app.choices import MigrationEventKind, MigrationState, WaveStatus
from migrations_app.models import Batch, MigrationEvent, VmMigration, Wave
from migrations_app.waves.display import zone_of

from .display import bytes_text, eta_text, present, throughput_text

LATEST_EVENTS = 20  # shown under a progress page's table, newest first
# Events read to make those 20 lines: a Bulk migration waiting for its window logs a delta sync and a
# wait every 2 hours (hcx-wire.md §9.2), so repeats are collapsed into one line each, from this many rows.
EVENTS_READ = LATEST_EVENTS * 10


EARLIEST = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(9000, 1, 1, tzinfo=datetime.UTC)


def format_cursor(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    # Fixed width (microseconds always), so that cursors compare as strings too (the page does).
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_cursor(text: str | None) -> datetime.datetime | None:
    """An ISO timestamp from a query string or Last-Event-ID; a `+` decoded as a space is put back.
    Raises ValueError for anything else."""
    if not text:
        return None
    value = parse_datetime(text.strip().replace(" ", "+"))
    if value is None:
        raise ValueError(f"{text!r} is not an ISO date and time")
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    # The readers take the overlap off and write the cursor back in UTC: a time at either end of the
    # calendar would overflow there, in the middle of an answer or a stream.
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"{text!r} is out of range (from {EARLIEST:%Y} to {LATEST:%Y})")
    return value


def row(m: VmMigration, zone: datetime.tzinfo = datetime.UTC, *, now=None) -> dict:
    """One migration as the page's cells show it (the JSON of the stream and of the polling API); the
    texts are written here, times in the wave's zone `zone`, so the page writes nothing itself."""
    return {
        "id": m.pk,
        "vm": m.vm.name,
        "batch": m.batch_id,
        "state": m.state,
        "state_label": str(MigrationState(m.state).label),
        "color": m.state_color,
        "percent": m.percent,
        "bytes_transferred": m.bytes_transferred,
        "bytes_total": m.bytes_total,
        "throughput_mbps": m.throughput_mbps,
        "eta_seconds": m.eta_seconds,
        "message": m.message,
        "attempt": m.attempt,
        "updated": format_cursor(m.updated),
        "bytes_text": bytes_text(m.bytes_transferred, m.bytes_total),
        "throughput_text": throughput_text(m.throughput_mbps),
        "eta_text": eta_text(m.eta_seconds, m.updated, zone, now=now),
    }


def migrations_of(wave: Wave | int, batch: Batch | int | None = None):
    qs = VmMigration.objects.filter(wave=wave).select_related("vm")
    return qs.filter(batch=batch) if batch is not None else qs


def latest_cursor(wave: Wave | int, batch: Batch | int | None = None) -> str | None:
    """The cursor a page starts from: the newest `updated` of what it shows (one indexed read)."""
    qs = VmMigration.objects.filter(wave=wave)
    if batch is not None:
        qs = qs.filter(batch=batch)
    return format_cursor(qs.aggregate(at=Max("updated"))["at"])


def rollup(wave: Wave, batch: Batch | None = None) -> dict:
    """The rollup with its texts (display.present())."""
    from .rollup import batch_progress, wave_progress

    return present((batch_progress(batch) if batch is not None else wave_progress(wave)).as_dict())


def batch_rollups(batch_ids) -> dict[str, dict]:
    from .rollup import batch_progress

    batches = Batch.objects.filter(pk__in=set(batch_ids)).select_related("wave__site")
    return {str(b.pk): present(batch_progress(b).as_dict()) for b in batches}


def wave_status(status: str) -> dict:
    """The wave's status as the page's header badge shows it."""
    return {
        "value": status,
        "label": str(WaveStatus(status).label),
        "color": WaveStatus.COLORS.get(status, "secondary"),
    }


def changes(
    wave: Wave,
    since: datetime.datetime | None,
    batch: Batch | None = None,
    *,
    seen: dict[int, str] | None = None,
) -> tuple[list[dict], datetime.datetime | None]:
    """The migrations of `wave` (or of `batch`) updated after `since` less the overlap (all of them
    without `since`), and the new cursor: the newest `updated` seen, never older than `since`.
    `seen` (row id -> the `updated` already sent, as format_cursor writes it) leaves out the rows the
    caller has: after a cycle that touched every row, a stream re-reads only ids and times for the
    overlap instead of whole rows."""
    qs = migrations_of(wave, batch)
    zone = zone_of(wave)
    if since is not None:
        overlap = datetime.timedelta(seconds=settings.LAUNCH["STREAM_OVERLAP_SECONDS"])
        qs = qs.filter(updated__gt=since - overlap)
    if seen:
        stamps = list(qs.order_by().values_list("pk", "updated"))
        cursor = max([u for _, u in stamps] + ([since] if since else []), default=None)
        wanted = [pk for pk, u in stamps if seen.get(pk, "") < format_cursor(u)]
        migrations = list(qs.filter(pk__in=wanted).order_by("updated", "pk")) if wanted else []
        return [row(m, zone) for m in migrations], cursor
    migrations = list(qs.order_by("updated", "pk"))
    cursor = max([m.updated for m in migrations] + ([since] if since else []), default=None)
    return [row(m, zone) for m in migrations], cursor


def payload(
    wave: Wave,
    rows: list[dict],
    cursor,
    batch: Batch | None = None,
    *,
    full: bool = False,
    since: datetime.datetime | None = None,
    status: str | None = None,
) -> dict:
    """The message a page reads: the rows, the wave's status (`status`, else the one `wave` holds),
    the rollup of what it shows, (on a wave's page) the rollups of the batches those rows are in, and
    the events logged since `since` (the latest ones without it). Rollups and events are read only
    when rows changed (or `full`)."""
    body = {
        "wave": wave.pk,
        "batch": batch.pk if batch else None,
        "cursor": format_cursor(cursor),
        "wave_status": wave_status(status or wave.status),
        "migrations": rows,
        "rollup": None,
        "batches": {},
        "events": [],
    }
    if rows or full:
        body["rollup"] = rollup(wave, batch)
        body["batches"] = (
            batch_rollups(r["batch"] for r in rows) if batch is None else {str(batch.pk): body["rollup"]}
        )
        body["events"] = latest_events(wave, batch, since)
    return body


def event_key(e: MigrationEvent) -> str:
    """What makes two events of a migration repeats of one another: a state change to the same state
    (a delta sync, the wait after it), or the same message of any other kind."""
    what = e.state if e.kind == MigrationEventKind.STATE else e.message
    return f"{e.migration_id}:{e.kind}:{what}"


def collapse(events, zone: datetime.tzinfo = datetime.UTC) -> list[dict]:
    """Events (newest first) as the page's lines: each repeat folded into the line of its newest
    (`count`, `ids`, the first time in `first_at`), the lines in the order of their newest event.
    Times are in the wave's `zone`."""
    lines: dict[str, dict] = {}
    for e in events:
        key = event_key(e)
        at = format_date(e.at.astimezone(zone), "Y-m-d H:i:s")
        line = lines.get(key)
        if line is None:
            lines[key] = {
                "id": e.pk,
                "key": key,
                "ids": [e.pk],
                "count": 1,
                "at": at,
                "first_at": at,
                "migration": e.migration_id,
                "url": reverse("migrations_app:vmmigration", args=[e.migration_id]),
                "vm": e.migration.vm.name,
                "message": e.message,
                "user": str(e.user) if e.user else "",
            }
        else:
            line["ids"].append(e.pk)
            line["count"] += 1
            line["first_at"] = at
    return list(lines.values())


def latest_events(
    wave: Wave, batch: Batch | None = None, since: datetime.datetime | None = None
) -> list[dict]:
    """The newest LATEST_EVENTS lines of the wave's (or batch's) events, newest first, repeats
    collapsed (collapse()); with `since`, only the events logged after it less the overlap (an event
    may come again: the page counts each id once)."""
    events = MigrationEvent.objects.filter(wave=wave)
    if batch is not None:
        events = events.filter(migration__batch=batch)
    if since is not None:
        events = events.filter(
            at__gt=since - datetime.timedelta(seconds=settings.LAUNCH["STREAM_OVERLAP_SECONDS"])
        )
    events = events.select_related("migration__vm", "user").order_by("-at", "-id")[:EVENTS_READ]
    return collapse(events, zone_of(wave))[:LATEST_EVENTS]
