"""Simulated time: real time multiplied by a scale, plus whatever tests have skipped ahead.

All asynchronous HCX work (jobs, interconnect tasks, the ARM add-on deployment) is measured on this
clock, so a test can finish a 20-minute service-mesh deployment by advancing it instead of waiting.
"""

import threading
import time


class SimClock:
    def __init__(self, scale: float = 1.0, *, behind: float = 0.0):
        """`behind`: seconds the clock starts before the real now, for set-up that is skipped through
        at once (a preset) to end at the real now rather than in the future."""
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._lock = threading.Lock()
        self._real_start = time.monotonic()
        self._epoch_start = time.time() - behind
        self._skipped = 0.0

    def now(self) -> float:
        """Simulated epoch seconds."""
        with self._lock:
            return self._epoch_start + (time.monotonic() - self._real_start) * self.scale + self._skipped

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._skipped += seconds
        return self.now()
