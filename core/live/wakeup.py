"""Waking the live streams of a key ("wave:12", "job:5") as soon as a change to it is committed.

A stream (stream.py; migrations_app/launch/stream.py) looks in the database every
`LAUNCH["STREAM_POLL_SECONDS"]`. With Redis (REDIS_URL), whoever changes what a stream follows also
publishes on the key's pub/sub channel once its transaction commits (sequence.bump does it), and the
key's streams look at once instead of up to a poll interval later: on PostgreSQL that wait was the
largest share of the way from a change in HCX to the page (bench/launch.py). A wake-up is only a hint: one lost (Redis down, or published before a stream
subscribed) costs the poll interval, never a change. Without Redis (the demo's defaults) the
streams only poll.

Redis pub/sub channels are shared by all of a server's databases; a wake-up from another portal
on the same Redis costs its listeners one look in the database, nothing else.
"""

import asyncio
import contextlib
import logging
import time

import redis
import redis.asyncio
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)
CHANNEL = "avsportal:live:{}"  # .format(key)

_publishers: dict[str, redis.Redis] = {}  # per URL: a process keeps one connection to publish on


def announce(keys) -> None:
    """Wake the streams of `keys` when the current transaction commits (at once outside one)."""
    ids = sorted(set(keys))
    if ids and settings.REDIS_URL:
        transaction.on_commit(lambda: _publish(ids))


def _publish(ids: list[int]) -> None:
    url = settings.REDIS_URL
    try:
        if url not in _publishers:
            _publishers[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        stamp = repr(time.time())  # after the commit: a look begun later holds the change
        for pk in ids:
            _publishers[url].publish(CHANNEL.format(pk), stamp)
    except redis.RedisError as exc:
        logger.info("Live pages of %s will see the change at their next look, not at once: %s", ids, exc)


def _stamp(message: dict) -> float:
    try:
        return float(message["data"])
    except (TypeError, ValueError):
        return time.time()  # not ours, or an older portal's: a look from now on


class Wakeups:
    """One stream's subscription. `live`: announcements reach it (Redis subscribed, not broken).
    `await wait(seconds)` returns after `seconds` (None), or sooner when the key is announced, with
    the time (time.time(), the writer's clock) of the newest announcement: a look at the database
    begun after it holds the change."""

    def __init__(self, key: str, pubsub=None):
        self.key, self.pubsub = key, pubsub

    @property
    def live(self) -> bool:
        return self.pubsub is not None

    async def wait(self, seconds: float) -> float | None:
        if self.pubsub is None:
            await asyncio.sleep(seconds)
            return None
        try:
            message = await self.pubsub.get_message(timeout=seconds)
            if message is None:
                return None
            newest = _stamp(message)
            while (message := await self.pubsub.get_message(timeout=0)) is not None:  # a burst: one look
                newest = max(newest, _stamp(message))
            return newest
        except redis.RedisError as exc:
            logger.info(
                "Live pages of %s poll only from now: their Redis subscription broke: %s", self.key, exc
            )
            self.pubsub = None
            return None


@contextlib.asynccontextmanager
async def listener(key: str):
    """`async with listener("wave:12") as wakeups:` a subscription to the key's announcements (see
    Wakeups), made on entry, so nothing announced after it is missed; without Redis, or with Redis
    refusing, one that only waits."""
    if not settings.REDIS_URL:
        yield Wakeups(key)
        return
    client = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(CHANNEL.format(key))
    except redis.RedisError as exc:
        logger.info("Live pages of %s poll only: Redis refused a subscription: %s", key, exc)
        await client.aclose()
        yield Wakeups(key)
        return
    try:
        yield Wakeups(key, pubsub)
    finally:
        with contextlib.suppress(redis.RedisError, OSError):
            await pubsub.aclose()
        with contextlib.suppress(redis.RedisError, OSError):
            await client.aclose()
