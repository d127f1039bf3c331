"""The threads through which the live streams of a process read the database.

A stream waits on the event loop (no thread) and reads through `await read(fn, ...)`, which runs
`fn` in one of `LAUNCH["STREAM_READERS"]` threads. Django keeps a database connection per thread,
so all the streams of a process hold at most that many connections, however many are open: before,
each stream read in its request's own thread and kept that thread's connection until it closed,
and about 90 open pages took PostgreSQL's default 100 connections (issue 15).

A reader that has had nothing to do for `STREAM_READER_IDLE_SECONDS` closes its connection, so a
process with no open stream holds none; one whose query failed closes it at once, and the next read
connects again (a restarted database costs one failed look).
"""

import asyncio
import concurrent.futures
import queue
import threading

from django.conf import settings
from django.db import DatabaseError, connections

_jobs: queue.SimpleQueue = queue.SimpleQueue()
_threads: list[threading.Thread] = []
_lock = threading.Lock()


async def read(fn, *args):
    """`fn(*args)` in a reader thread; its answer (or exception) here."""
    _start()
    future: concurrent.futures.Future = concurrent.futures.Future()
    _jobs.put((future, fn, args))
    return await asyncio.wrap_future(future)


def _start() -> None:
    wanted = max(1, settings.LAUNCH["STREAM_READERS"])
    if len(_threads) >= wanted:
        return
    with _lock:
        while len(_threads) < wanted:
            thread = threading.Thread(target=_serve, name=f"stream-reader-{len(_threads)}", daemon=True)
            thread.start()
            _threads.append(thread)


def _serve() -> None:
    while True:
        try:
            future, fn, args = _jobs.get(timeout=settings.LAUNCH["STREAM_READER_IDLE_SECONDS"])
        except queue.Empty:
            connections.close_all()  # idle: hold no connection
            continue
        if not future.set_running_or_notify_cancel():
            continue
        try:
            future.set_result(fn(*args))
        except DatabaseError as error:
            connections.close_all()  # broken or not, the next read starts on a fresh connection
            future.set_exception(error)
        except BaseException as error:  # noqa: BLE001 (handed to the awaiting stream)
            future.set_exception(error)
