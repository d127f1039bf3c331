"""Panels of the wave page that belong to other parts of the app: readiness findings and approval
decisions (readiness/panels.py) and the duration estimate (planner/panels.py). The wave page shows
them with `{% load wave_panels %}{% readiness_panel wave %}{% approval_panel wave %}{% estimate_panel wave %}`.
"""

from django import template

from migrations_app.planner import panels as planner_panels
from migrations_app.readiness import panels as readiness_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def readiness_panel(context, wave):
    return readiness_panels.readiness_panel(context, wave)


@register.simple_tag(takes_context=True)
def approval_panel(context, wave):
    return readiness_panels.approval_panel(context, wave)


@register.simple_tag(takes_context=True)
def estimate_panel(context, wave):
    return planner_panels.estimate_panel(context, wave)
