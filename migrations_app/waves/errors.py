"""What the wave actions refuse, each with a message a planner can act on. Pages show the message;
the API answers 400, or 409 for a stale revision."""


class WaveError(Exception):
    """A refused change; nothing was written."""

    def __init__(self, message: str, *, items: list[str] | None = None):
        self.message = message
        self.items = list(items or [])
        super().__init__(message)

    def __str__(self):
        if not self.items:
            return self.message
        return f"{self.message} {', '.join(self.items)}."


class WaveLocked(WaveError):
    """The wave is running or completed: it is history and stays as it is."""


class StaleRevision(WaveError):
    """The change was made to an older revision than the wave now has."""


class WrongStatus(WaveError):
    """A status move the life of a wave does not make (waves/states.py TRANSITIONS)."""
