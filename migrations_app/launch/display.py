"""How migration figures are written; static/js/launch-progress.js writes them the same way."""


def gb(value) -> str:
    return f"{(value or 0) / 1e9:.1f} GB"


def bytes_text(done, total) -> str:
    return f"{gb(done)} / {gb(total)}" if total else gb(done)


def throughput_text(mbps) -> str:
    return f"{mbps:.0f} Mbit/s" if mbps is not None else "—"


def duration_text(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


HEALTH_COLORS = {"healthy": "success", "lagging": "warning", "failed": "danger"}


def present(rollup: dict) -> dict:
    """A rollup (rollup.py's as_dict()) with its figures written out, for the templates."""
    return {
        **rollup,
        "bytes_text": bytes_text(rollup.get("bytes_done"), rollup.get("bytes_total")),
        "health_color": HEALTH_COLORS.get(rollup.get("health"), "secondary"),
    }
