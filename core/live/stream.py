"""The view a live page follows: `endpoint(FeedClass)`.

A Feed says what a page follows: its sequence key (sequence.py), who may open it, and what changed
between two numbers of that key. The endpoint answers

- a server-sent events stream: one `change` event per look that found the key's number moved, its
  `id` the number the message is complete up to. A browser that reconnects sends it back as
  Last-Event-ID and is sent only what came after, with no row twice;
- with `?format=json`, one look as JSON (`{"seq": N, ...}`): the page's fallback when it cannot keep a
  stream (past the caps of slots.py, served by WSGI, or no EventSource), polling the same URL.

Each message has `done`: true once nothing more will change (a finished job); the stream then ends
and the page stops following.

An open stream holds no database connection while it waits: its looks run in the reader threads
(readers.py), and the connection its request opened to sign in is closed before the first event. It
looks every `LAUNCH["STREAM_POLL_SECONDS"]`, or at once when the key is announced (wakeup.py), and
sends a comment every HEARTBEAT_SECONDS so that proxies keep the connection.
"""

import json
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse, StreamingHttpResponse

from . import readers, sequence, slots, wakeup

HEARTBEAT_SECONDS = 15
# A browser waits this long before reconnecting after the stream drops.
RETRY_MS = 2000


class Feed:
    """What a page follows. Subclasses set `open` (who may follow what; raise Http404 or
    PermissionDenied) and `changes`; all of it runs in a reader thread."""

    key: str

    @classmethod
    def open(cls, request, **kwargs) -> "Feed":
        raise NotImplementedError

    def changes(self, since: int, upto: int) -> dict:
        """What changed after number `since` up to `upto` (inclusive), as the message for the page."""
        raise NotImplementedError

    def finished(self) -> bool:
        """Nothing more will change: the page may stop following."""
        return False


def look(feed: Feed, since: int) -> dict:
    """One look: `{"seq": N, "done": ..., **changes}` when the key moved past `since`, else
    `{"seq": since, "done": ...}` with nothing else."""
    upto = sequence.current(feed.key)
    if upto <= since:
        return {"seq": since, "done": feed.finished()}
    body = feed.changes(since, upto)
    return {"seq": upto, "done": feed.finished(), **body}


def event(body: dict) -> str:
    return f"id: {body['seq']}\nevent: change\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


def _open(feed_class, request, kwargs):
    if not request.user.is_authenticated:
        return HttpResponse("Sign in to follow this page live.", status=401, content_type="text/plain")
    try:
        return feed_class.open(request, **kwargs)
    except PermissionDenied as denied:
        return HttpResponseForbidden(
            str(denied) or "You may not follow this page.", content_type="text/plain"
        )


def _since(request) -> int:
    text = request.headers.get("Last-Event-ID") or request.GET.get("since") or "0"
    if not text.isdigit():
        raise ValueError(f"Not a change number: {text[:40]!r}")
    return int(text)


async def _events(feed: Feed, since: int, slot: slots.Slot):
    try:
        # The sign-in was read in this request's own thread, whose connection would otherwise stay
        # open as long as the page: close it; looks go through the reader threads.
        await sync_to_async(connections.close_all)()
        async with wakeup.listener(feed.key) as wakeups:
            yield f"retry: {RETRY_MS}\n: following {feed.key}\n\n"
            last_sent = time.monotonic()
            while True:
                body = await readers.read(look, feed, since)
                if body["seq"] > since or body["done"]:
                    yield event(body)
                    since, last_sent = body["seq"], time.monotonic()
                    if body["done"]:
                        return
                elif time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
                    yield ": heartbeat\n\n"
                    last_sent = time.monotonic()
                await wakeups.wait(settings.LAUNCH["STREAM_POLL_SECONDS"])
    finally:
        slot.release()


def endpoint(feed_class: type[Feed]):
    """The async view following `feed_class`, its URL kwargs handed to `feed_class.open`."""

    async def follow(request, **kwargs):
        # Signed in, allowed, the object: read in a reader thread too, so that 200 browsers
        # reconnecting at once (after a restart) do not ask PostgreSQL for 200 connections.
        opened = await readers.read(_open, feed_class, request, kwargs)
        if isinstance(opened, HttpResponse):
            return opened
        try:
            since = _since(request)
        except ValueError as error:
            return HttpResponse(str(error), status=400, content_type="text/plain")
        if request.GET.get("format") == "json":
            return JsonResponse(
                await readers.read(look, opened, since), headers={"Cache-Control": "no-cache"}
            )
        if not isinstance(request, ASGIRequest):
            # Under WSGI (runserver, Django's test live server) an endless response would be read
            # whole before its first byte, holding a worker thread for nothing: the page polls.
            return HttpResponse(
                "This server cannot hold live streams; the page polls instead.",
                status=503,
                content_type="text/plain",
                headers={"Retry-After": "30"},
            )
        try:
            slot = slots.take(request.user)
        except slots.Refused as refusal:
            return HttpResponse(
                str(refusal), status=429, content_type="text/plain", headers={"Retry-After": "30"}
            )
        stream = _events(opened, since, slot)
        slot.hold_while(stream)
        response = StreamingHttpResponse(stream, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
        return response

    follow.__name__ = f"follow_{feed_class.__name__}"
    return follow
