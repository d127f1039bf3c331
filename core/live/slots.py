"""How many live streams are open, per user and per server process, and the refusal past the caps.

A stream holds a socket, a Redis subscription and an idle request thread while it is open, so a
user (or a script with a user's cookie) opening hundreds would take the process down for everyone
(issue 15). `take(user)` gives a Slot, or refuses when the user already has
`LAUNCH["STREAMS_PER_USER"]` open in this process or the process has `LAUNCH["STREAMS_PER_PROCESS"]`
(raising Refused with what to tell the user); the refused page falls back to polling the API (static/js/launch-progress.js, static/js/live.js). The counts are per
process: a user reaching several uvicorn workers may hold the per-user cap in each.
"""

import threading
import weakref
from collections import Counter

from django.conf import settings

_open: Counter = Counter()  # user id -> open streams
_lock = threading.Lock()


class Slot:
    def __init__(self, user_id: int):
        self.user_id, self._held = user_id, True

    def release(self) -> None:
        with _lock:
            if self._held:
                self._held = False
                _open[self.user_id] -= 1
                if _open[self.user_id] <= 0:
                    del _open[self.user_id]

    def hold_while(self, stream) -> None:
        """Release when `stream` (the response's generator) is gone, even if it never ran: Django
        drops a response whose client left before its first byte without starting the generator."""
        weakref.finalize(stream, self.release)


class Refused(Exception):
    pass


def take(user) -> Slot:
    with _lock:
        if _open[user.pk] >= settings.LAUNCH["STREAMS_PER_USER"]:
            raise Refused(
                f"You have {_open[user.pk]} live pages open, the most allowed; this page refreshes "
                "every few seconds instead. Close another live page to follow this one live."
            )
        if sum(_open.values()) >= settings.LAUNCH["STREAMS_PER_PROCESS"]:
            raise Refused(
                "The server follows as many live pages as it can; this page refreshes every few seconds instead."
            )
        _open[user.pk] += 1
    return Slot(user.pk)


def open_streams() -> int:
    with _lock:
        return sum(_open.values())
