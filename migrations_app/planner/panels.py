"""The duration-estimate panel of the wave page (rendered HTML, safe-marked).

A constant number of queries whatever the wave's size: one aggregate over its items, one for its
biggest VMs, the site when the page has not loaded it, and its measured throughput."""

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from .estimates import estimate_wave


def estimate_panel(context, wave) -> str:
    estimate = estimate_wave(wave)
    seed_start = None
    if wave.window_start and estimate.pre_seed is not None and estimate.pre_seed.high:
        try:
            zone = ZoneInfo(wave.time_zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        seed_start = (wave.window_start - timedelta(seconds=estimate.pre_seed.high)).astimezone(zone)
    html = render_to_string(
        "migrations_app/planner_estimate_panel.html",
        {"wave": wave, "estimate": estimate, "seed_start": seed_start},
    )
    return mark_safe(html)
