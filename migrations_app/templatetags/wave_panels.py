"""Panels of the wave page that belong to other parts of the app: readiness findings, approval
decisions (readiness/) and the duration estimate (planner/). The wave page includes them with
`{% load wave_panels %}{% readiness_panel wave %}{% approval_panel wave %}{% estimate_panel wave %}`.

PLACEHOLDERS until those parts land: each renders nothing.
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def readiness_panel(context, wave):
    return ""


@register.simple_tag(takes_context=True)
def approval_panel(context, wave):
    return ""


@register.simple_tag(takes_context=True)
def estimate_panel(context, wave):
    return ""
