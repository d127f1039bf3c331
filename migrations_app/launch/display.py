"""How migration figures are written. The live pages get these texts from the server (progress.row(),
present()), so a figure reads the same when the page loads and when the stream updates it."""

import datetime

from django.utils import timezone

from core.sizes import sizes_text

from .rollup import PHASES


def bytes_text(done, total) -> str:
    return sizes_text(done, total)


def throughput_text(mbps) -> str:
    return f"{mbps:,.0f} Mbit/s" if mbps is not None else "—"


def duration_text(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def moment_text(moment: datetime.datetime | None, zone: datetime.tzinfo) -> str:
    """`2031-01-05 14:05 CET`: a time in the wave's zone, named."""
    if moment is None:
        return "—"
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def eta_text(eta_seconds, reported: datetime.datetime | None, zone: datetime.tzinfo, *, now=None) -> str:
    """When HCX expects the step to end, in the wave's zone, and how long that is from now:
    `2031-01-05 14:05 CET (in 2m 05s)`. HCX's ETA counts from its reading (`reported`, the row's
    `updated`), not from whenever the page is drawn."""
    if eta_seconds is None:
        return "—"
    now = now or timezone.now()
    finish = (reported or now) + datetime.timedelta(seconds=int(eta_seconds))
    left = (finish - now).total_seconds()
    return f"{moment_text(finish, zone)} ({'in ' + duration_text(left) if left > 0 else 'due now'})"


HEALTH_COLORS = {"healthy": "success", "lagging": "warning", "failed": "danger"}


def phase_rows(rollup: dict) -> list[dict]:
    """The phases with their counts and share of the VMs (for the stacked bar and its legend)."""
    counts, vms = rollup.get("phases") or {}, rollup.get("vms") or 0
    return [
        {
            "key": key,
            "label": label,
            "color": color,
            "count": counts.get(key, 0),
            "width": round(100 * counts.get(key, 0) / vms, 2) if vms else 0,
        }
        for key, label, color in PHASES
    ]


def summary_text(rollup: dict) -> str:
    """The header's one line: `1 of 6 VMs done · 2 ready to switch over · 1 stopped`."""
    vms, done = rollup.get("vms") or 0, rollup.get("done") or 0
    if not vms:
        return "No VMs to migrate yet"
    parts = [f"{done} of {vms} VM{'s' if vms != 1 else ''} done"]
    if rollup.get("ready"):
        parts.append(f"{rollup['ready']} ready to switch over")
    stopped = (rollup.get("phases") or {}).get("stopped", 0)
    if stopped:
        parts.append(f"{stopped} stopped")
    return " · ".join(parts)


def present(rollup: dict) -> dict:
    """A rollup (rollup.py's as_dict()) with its figures written out, for the templates and the stream."""
    if not rollup:
        return {}
    return {
        **rollup,
        "bytes_text": bytes_text(rollup.get("bytes_done"), rollup.get("bytes_total")),
        "health_color": HEALTH_COLORS.get(rollup.get("health"), "secondary"),
        "phase_rows": phase_rows(rollup),
        "summary": summary_text(rollup),
    }
