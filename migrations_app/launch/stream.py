"""The live progress stream of a wave (or one batch): server-sent events from the ASGI server.

Read access is checked once, when the subscription opens. Then the stream asks `progress.changes()`
every `LAUNCH["STREAM_POLL_SECONDS"]`, or at once when the wave's changes are announced (wakeup.py,
with Redis), and sends an event only when a row is newer than what it has
sent (changes() repeats rows inside its overlap), with a comment every HEARTBEAT_SECONDS so that
proxies keep the connection. Each event's `id` is the cursor: a browser that reconnects sends it as
Last-Event-ID and catches up from there. The generator ends when the client goes away (Django
cancels it on the ASGI disconnect).
"""

import datetime
import json
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden, StreamingHttpResponse

from core.access import user_can
from migrations_app.models import Batch, VmMigration, Wave

from . import progress, wakeup

HEARTBEAT_SECONDS = 15
# A browser waits this long before reconnecting after the stream drops.
RETRY_MS = 2000


def event(data: dict, cursor: str | None) -> str:
    lines = [f"id: {cursor}"] if cursor else []
    lines.append("event: progress")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'))}")
    return "\n".join(lines) + "\n\n"


class Tracker:
    """What this subscription has sent: the newest `updated` per row still inside the overlap, so a
    row that changes() repeats is sent again only when it is newer."""

    def __init__(self, since: datetime.datetime | None):
        self.cursor = since
        self.sent: dict[int, str] = {}

    def fresh(self, rows: list[dict], cursor) -> list[dict]:
        new = [r for r in rows if self.sent.get(r["id"], "") < r["updated"]]
        for r in new:
            self.sent[r["id"]] = r["updated"]
        self.cursor = cursor
        if cursor is not None:
            horizon = progress.format_cursor(cursor - datetime.timedelta(seconds=settings.LAUNCH["STREAM_OVERLAP_SECONDS"]))
            self.sent = {k: v for k, v in self.sent.items() if v > horizon}
        return new


def _tick(wave: Wave, batch: Batch | None, tracker: Tracker) -> dict | None:
    rows, cursor = progress.changes(wave, tracker.cursor, batch, seen=tracker.sent)
    new = tracker.fresh(rows, cursor)
    return progress.payload(wave, new, cursor, batch) if new else None


async def events(wave: Wave, batch: Batch | None, since: datetime.datetime | None):
    tracker = Tracker(since)
    tick = sync_to_async(_tick)
    async with wakeup.listener(wave.pk) as wait:
        yield f"retry: {RETRY_MS}\n: subscribed to wave {wave.pk}\n\n"
        last_sent = time.monotonic()
        while True:
            body = await tick(wave, batch, tracker)
            if body is not None:
                yield event(body, body["cursor"])
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
                yield ": heartbeat\n\n"
                last_sent = time.monotonic()
            await wait(settings.LAUNCH["STREAM_POLL_SECONDS"])


async def progress_stream(request, pk: int):
    """`GET /plan/waves/<pk>/progress/stream/[?batch=<id>][&since=<cursor>]`: text/event-stream."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse("Sign in to watch this wave.", status=401, content_type="text/plain")
    if not await sync_to_async(user_can)(user, VmMigration, "view"):
        return HttpResponseForbidden("You may not watch migrations.", content_type="text/plain")
    wave = await Wave.objects.filter(pk=pk).afirst()
    if wave is None:
        raise Http404("No such wave.")
    batch = None
    if request.GET.get("batch"):
        batch = await Batch.objects.filter(pk=request.GET["batch"], wave=wave).afirst() if request.GET["batch"].isdigit() else None
        if batch is None:
            raise Http404("No such batch in this wave.")
    try:
        since = progress.parse_cursor(request.headers.get("Last-Event-ID") or request.GET.get("since"))
    except ValueError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    response = StreamingHttpResponse(events(wave, batch, since), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
