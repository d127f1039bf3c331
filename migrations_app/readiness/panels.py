"""The readiness and approval panels of the wave page (rendered HTML, safe-marked).

PLACEHOLDER until the readiness part lands: each renders nothing."""


def readiness_panel(context, wave) -> str:
    return ""


def approval_panel(context, wave) -> str:
    return ""
