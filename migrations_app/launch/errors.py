"""What launching refuses, each with a message an engineer can act on. A LaunchError is a WaveError,
so pages and the API show it (and answer 400) as they do the wave actions' refusals; nothing is
written when one is raised."""

from migrations_app.waves.errors import WaveError


class LaunchError(WaveError):
    """A batch that cannot be made or launched, or a site HCX cannot migrate to yet (no pairing, no
    service mesh, a target the AVS side does not have)."""


__all__ = ["LaunchError"]
