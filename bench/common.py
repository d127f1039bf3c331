"""What the benches share: a scratch database, a timer, and one way to hand a figure to bench/run.

Each bench still prints its figures; `report()` also appends them as JSON lines to the file named
by BENCH_REPORT (set by bench/run), which writes bench/RESULTS.md from them. Run alone, a bench
only prints.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / "var" / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def setup_django(name: str, *, fresh: bool = False):
    """Django on `var/bench/<name>.sqlite3` (removed first with `fresh`), or on DATABASE_URL if set."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    database = SCRATCH / f"{name}.sqlite3"
    if "DATABASE_URL" not in os.environ:
        if fresh:
            database.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avsportal.settings")
    os.environ.setdefault("OUTBOUND_ALLOW", "127.0.0.0/8,::1")  # the simulators listen on loopback
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")  # the bench's clients speak plain HTTP
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def percentile(values, share: float) -> float:
    """The nearest-rank percentile (share 0.95 for p95) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def median(values) -> float:
    return statistics.median(values)


def report(
    bench: str,
    measure: str,
    figure: str,
    *,
    baseline: str = "",
    target: str = "",
    met: bool | None = None,
    note: str = "",
):
    """One row of RESULTS.md: `figure` beside `baseline` (both already formatted), against `target`.
    `met` is None where there is no target to meet (a figure given for information)."""
    path = os.environ.get("BENCH_REPORT")
    if not path:
        return
    row = {
        "bench": bench,
        "measure": measure,
        "figure": figure,
        "baseline": baseline,
        "target": target,
        "met": met,
        "note": note,
    }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")
