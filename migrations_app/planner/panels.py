"""The duration-estimate panel of the wave page (rendered HTML, safe-marked).

PLACEHOLDER until the estimates part lands: renders nothing."""


def estimate_panel(context, wave) -> str:
    return ""
