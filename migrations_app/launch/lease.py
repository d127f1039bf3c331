"""One reconciler cycle per site at a time, across worker processes and hosts, without Redis.

No table of ours fits a compare-and-set lease (a lease needs a holder and an expiry, and no site row
has such columns), so the database's own locks do it:

- PostgreSQL: a session advisory lock, `pg_try_advisory_lock(namespace, site id)`. It belongs to the
  worker's database connection, so a worker killed with `kill -9` (its connection dropped) or one
  whose connection broke frees it at once; nothing waits for an expiry.
- SQLite (one host, by nature): an exclusive `flock` on a file per site under `VAR_DIR/leases/`. The
  kernel frees it when the process dies, however it dies.

A hung, not dead, worker keeps its lease: the task's time limit (tasks.py) is what bounds a cycle.
Neither lock waits: a second cycle finds the lease taken and skips, as a later beat will run anyway.
"""

import contextlib
import fcntl
import logging
import os
import zlib

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

# The first key of our advisory locks, so they never meet another application's on the same server.
NAMESPACE = zlib.crc32(b"avsportal.reconcile") & 0x7FFFFFFF


def _lease_dir():
    folder = settings.VAR_DIR / "leases"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def _file_lease(key: int):
    # Keyed by database too: two databases on one host (a demo and a test run) share VAR_DIR, and
    # their site 1s are different sites.
    database = zlib.crc32(str(connection.settings_dict["NAME"]).encode()) & 0xFFFFFFFF
    path = _lease_dir() / f"reconcile-{database:08x}-site-{key}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            # flock, not lockf: flock locks belong to the open file, so two cycles in one process
            # (threads) exclude each other too, not only two processes.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _advisory_lease(key: int):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [NAMESPACE, key])
        held = cursor.fetchone()[0]
    if not held:
        yield False
        return
    try:
        yield True
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [NAMESPACE, key])
        except Exception:  # noqa: BLE001 - a broken connection has freed the lock with itself
            logger.warning(
                "Could not free the reconciler lease of site %s; its connection ended", key, exc_info=True
            )


@contextlib.contextmanager
def site_lease(site):
    """`with site_lease(site) as held:` held is True when this cycle may run, False when another
    cycle of the same site runs now. Never waits."""
    lease = _advisory_lease if connection.vendor == "postgresql" else _file_lease
    with lease(site.pk) as held:
        yield held
