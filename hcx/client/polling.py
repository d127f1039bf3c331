"""One poll loop for everything HCX and Azure do asynchronously (jobs, interconnect tasks,
activation, the appliance coming up).

Time is read and spent through a `Waiter`, so a test can hand in one that reads and advances the
HCX simulator's clock: a 20-minute service-mesh deployment then takes a few requests, not 20 minutes.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Waiter:
    """How a poll reads the time and waits. `interval` is the pause between two looks."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    interval: float = 5.0


REAL_TIME = Waiter()


class PollTimeout(Exception):
    """The condition did not hold within the timeout; `last` is the last value seen."""

    def __init__(self, message: str, last=None):
        super().__init__(message)
        self.last = last


def poll(check: Callable[[], T | None], *, timeout: float, what: str, waiter: Waiter = REAL_TIME) -> T:
    """Call `check()` until it returns something other than None and return that.

    `check` raises to stop early (a failed job). After `timeout` seconds of the waiter's clock,
    PollTimeout says what was being waited for."""
    deadline = waiter.clock() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        remaining = deadline - waiter.clock()
        if remaining <= 0:
            raise PollTimeout(f"gave up waiting for {what} after {timeout:g} s")
        waiter.sleep(min(waiter.interval, remaining))
