"""How wave figures are written on pages: the window in the wave's own time zone, sizes in GiB/TiB (core/sizes.py)."""

import datetime
import zoneinfo

from django.utils.html import format_html

from migrations_app.choices import WaveStatus

MIB_PER_TB = 1024 * 1024


def zone_of(wave) -> datetime.tzinfo:
    try:
        return zoneinfo.ZoneInfo(wave.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def window_text(wave) -> str:
    """`2025-03-08 22:00 – 2025-03-09 04:00 Europe/Amsterdam` (the end's date only when it differs)."""
    if not wave.window_start or not wave.window_end:
        return ""
    zone = zone_of(wave)
    start, end = wave.window_start.astimezone(zone), wave.window_end.astimezone(zone)
    end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end_text} {wave.time_zone}"


def status_badge(wave) -> str:
    return format_html(
        '<span class="badge text-bg-{}">{}</span>',
        WaveStatus.COLORS.get(wave.status, "secondary"),
        wave.get_status_display(),
    )


def tb(mib) -> str:
    from core.sizes import tib_figure

    return tib_figure(mib)
