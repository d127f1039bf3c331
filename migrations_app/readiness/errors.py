"""What the readiness and approval steps refuse, each with a message the user can act on, and the HTTP
status the API answers with. They extend the wave actions' errors (waves/errors.py), so that pages
and endpoints handle both the same way; nothing is written when one is raised."""

from migrations_app.waves.errors import StaleRevision, WaveError, WaveLocked


class BadInput(WaveError):
    """A missing or malformed value (a rejection without a comment, an unknown migration type)."""


class WrongState(WaveError):
    """The wave is not in a state this step starts from."""


class AlreadyDecided(WrongState):
    """Somebody decided on this revision first (two engineers at the same moment: one wins)."""


class OwnSubmission(WaveError):
    """Four eyes: nobody approves or rejects what they submitted themselves."""


class NotReady(WaveError):
    """The wave has readiness blockers, or its findings are not for its current revision."""

    def __init__(self, message: str, *, items=None, blockers: int = 0):
        super().__init__(message, items=items)
        self.blockers = blockers


def http_status(error: WaveError) -> int:
    if isinstance(error, OwnSubmission):
        return 403
    if isinstance(error, (WrongState, StaleRevision, WaveLocked)):
        return 409
    return 400


__all__ = [
    "AlreadyDecided",
    "BadInput",
    "NotReady",
    "OwnSubmission",
    "StaleRevision",
    "WaveError",
    "WaveLocked",
    "WrongState",
    "http_status",
]
