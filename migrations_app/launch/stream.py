"""The live progress stream of a wave (or one batch): server-sent events from the ASGI server.

Read access is checked once, when the subscription opens. Then the stream asks `progress.changes()`
every `LAUNCH["STREAM_POLL_SECONDS"]`, or at once when the wave's changes are announced (core/live/wakeup.py,
with Redis), and sends an event only when a row is newer than what it has
sent (changes() repeats rows inside its overlap), with a comment every HEARTBEAT_SECONDS so that
proxies keep the connection. Each event's `id` is the cursor: a browser that reconnects sends it as
Last-Event-ID and catches up from there. The generator ends when the client goes away (Django
cancels it on the ASGI disconnect).

An open stream holds no database connection while it waits: its looks run in the process's reader
threads (core/live/readers.py), and the connection its request opened to sign in is closed before the
first event. Open streams are capped per user and per process (core/live/slots.py): past the cap the
answer is 429 and the page polls the API instead.
"""

import asyncio
import contextlib
import dataclasses
import datetime
import json
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.http import Http404, HttpResponse, HttpResponseForbidden, StreamingHttpResponse

from core.access import user_can
from core.live import readers as stream_readers
from core.live import slots as stream_slots
from core.live import wakeup
from migrations_app.models import Batch, VmMigration, Wave

from . import progress

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
    row that changes() repeats is sent again only when it is newer; and the wave's status, so that a
    status change with no row changing (the reconciler completing the wave after its last row) is sent
    too."""

    def __init__(self, since: datetime.datetime | None, status: str | None = None):
        self.cursor = since
        self.sent: dict[int, str] = {}
        self.status = status

    def fresh(self, rows: list[dict], cursor) -> list[dict]:
        new = [r for r in rows if self.sent.get(r["id"], "") < r["updated"]]
        for r in new:
            self.sent[r["id"]] = r["updated"]
        self.cursor = cursor
        if cursor is not None:
            horizon = progress.format_cursor(
                cursor - datetime.timedelta(seconds=settings.LAUNCH["STREAM_OVERLAP_SECONDS"])
            )
            self.sent = {k: v for k, v in self.sent.items() if v > horizon}
        return new


@dataclasses.dataclass
class Look:
    began: float
    done: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    ended: float = 0.0
    rows: list = dataclasses.field(default_factory=list)
    cursor: object = None
    status: str | None = None
    text: str | None = None


class SharedLooks:
    """Looks at the database, shared by the streams of this process that are in the same state.

    Every stream of a wave is woken by the same commit and has been sent the same rows, so their
    looks are the same query with the same answer. A room of 20 people watching a 1,000-VM wave made
    20 reads and serialisations of those rows at once per change: the last viewer waited seconds
    (bench/launch.py --readers). Now a stream in the state of another's look (wave, batch, cursor,
    rows sent) takes that look's answer, waiting for it if it is still running, when the look began
    after the last change this stream was woken for and ended less than half a poll interval ago. A
    stream in another state (joined later, reconnected, fallen behind) looks for itself. Looks run in
    the process's few reader threads (core/live/readers.py); a stream waits for them without a thread.

    Times are wall-clock (time.time()) because an announcement's time comes from the worker that
    wrote; hosts kept in step by NTP differ by milliseconds, and a look that missed a change for that
    reason is caught at the stream's next poll.
    """

    WAIT_SECONDS = 30  # for another stream's look; then look for itself

    def __init__(self, read=stream_readers.read):
        self._looks: dict[tuple, Look] = {}
        self._read = read  # how a look reaches the database: `await read(fn, *args)`

    async def tick(
        self, wave: Wave, batch: Batch | None, tracker: Tracker, announced: float | None
    ) -> str | None:
        """The event text to send this subscription, or None when nothing is new for it. `announced`:
        for a stream with wake-ups, when the last change it was woken for was announced (0.0 before
        any); None for a stream that only polls."""
        # The loop is part of the key: a look's Event belongs to the loop that made it.
        key = (
            id(asyncio.get_running_loop()),
            wave.pk,
            batch.pk if batch else None,
            tracker.cursor,
            frozenset(tracker.sent.items()),
            tracker.status,
        )
        now = time.time()
        look = self._looks.get(key)
        mine = look is None or not self._usable(look, now, announced)
        if mine:
            look = self._looks[key] = Look(began=now)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(look.done.wait(), self.WAIT_SECONDS)
            if look.ended:
                tracker.fresh(look.rows, look.cursor)  # the same rows move this tracker to the same state
                tracker.status = look.status
                return look.text
            look = Look(began=time.time())  # the other look failed or hangs: look alone
        try:
            look.rows, look.cursor, look.status, look.text = await self._read(_look, wave, batch, tracker)
            look.ended = time.time()
        finally:
            look.done.set()  # also when it failed: the waiting streams look for themselves
        keep = settings.LAUNCH["STREAM_OVERLAP_SECONDS"]  # a state older than the overlap is no stream's
        self._looks = {
            k: v
            for k, v in self._looks.items()
            if not v.done.is_set() or (v.ended and time.time() - v.ended <= keep)
        }
        return look.text

    def _usable(self, look: Look, now: float, announced: float | None) -> bool:
        if announced is not None and look.began < announced:
            return False  # it cannot hold the change this stream was woken for
        if not look.done.is_set():
            return True
        # Not older than half a poll interval: a change nobody announced (Redis down, a write that
        # does not announce) still reaches every stream within about one interval.
        return bool(look.ended) and now - look.ended <= settings.LAUNCH["STREAM_POLL_SECONDS"] / 2


def _look(wave: Wave, batch: Batch | None, tracker: Tracker):
    """One look, in a reader thread: the rows, the new cursor, the wave's status, and the event text for
    what is new to `tracker` (None when nothing is)."""
    since = tracker.cursor
    rows, cursor = progress.changes(wave, since, batch, seen=tracker.sent)
    status = Wave.objects.filter(pk=wave.pk).values_list("status", flat=True).first() or tracker.status
    new = tracker.fresh(rows, cursor)
    moved_on = tracker.status is not None and status != tracker.status
    tracker.status = status
    if not (new or moved_on):
        return rows, cursor, status, None
    body = progress.payload(wave, new, cursor, batch, since=since, full=moved_on, status=status)
    return rows, cursor, status, event(body, body["cursor"])


shared_looks = SharedLooks()


def _subscription(request, pk: int):
    """(user, wave, batch) for a stream request, or the response refusing it."""
    user = request.user
    if not user.is_authenticated:
        return HttpResponse("Sign in to watch this wave.", status=401, content_type="text/plain")
    if not user_can(user, VmMigration, "view"):
        return HttpResponseForbidden("You may not watch migrations.", content_type="text/plain")
    wave = Wave.objects.filter(pk=pk).first()
    if wave is None:
        raise Http404("No such wave.")
    batch = None
    if request.GET.get("batch"):
        batch = (
            Batch.objects.filter(pk=request.GET["batch"], wave=wave).first()
            if request.GET["batch"].isdigit()
            else None
        )
        if batch is None:
            raise Http404("No such batch in this wave.")
    return user, wave, batch


async def events(wave: Wave, batch: Batch | None, since: datetime.datetime | None, slot: stream_slots.Slot):
    try:
        # The sign-in and the wave were read in this request's own thread, whose connection would
        # otherwise stay open as long as the page: close it; looks go through the reader threads.
        await sync_to_async(connections.close_all)()
        tracker = Tracker(since, wave.status)
        async with wakeup.listener(f"wave:{wave.pk}") as wakeups:
            yield f"retry: {RETRY_MS}\n: subscribed to wave {wave.pk}\n\n"
            last_sent, announced = time.monotonic(), 0.0
            while True:
                text = await shared_looks.tick(wave, batch, tracker, announced if wakeups.live else None)
                if text is not None:
                    yield text
                    last_sent = time.monotonic()
                elif time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
                    yield ": heartbeat\n\n"
                    last_sent = time.monotonic()
                announced = await wakeups.wait(settings.LAUNCH["STREAM_POLL_SECONDS"]) or announced
    finally:
        slot.release()


async def progress_stream(request, pk: int):
    """`GET /plan/waves/<pk>/progress/stream/[?batch=<id>][&since=<cursor>]`: text/event-stream."""
    # Signed in, allowed, the wave and batch: read in a reader thread too. In the request's own thread
    # each page opening would take a connection of its own, and 200 browsers reconnecting at once
    # (after a restart) would ask PostgreSQL for 200.
    opened = await stream_readers.read(_subscription, request, pk)
    if isinstance(opened, HttpResponse):
        return opened
    user, wave, batch = opened
    try:
        since = progress.parse_cursor(request.headers.get("Last-Event-ID") or request.GET.get("since"))
    except ValueError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    try:
        slot = stream_slots.take(user)
    except stream_slots.Refused as refusal:
        return HttpResponse(
            str(refusal), status=429, content_type="text/plain", headers={"Retry-After": "30"}
        )
    stream = events(wave, batch, since, slot)
    slot.hold_while(stream)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
