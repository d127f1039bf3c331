"""Pages of waves and target clusters: lists, the wave page, edits, the VM pickers, the plan file."""

from django.contrib import messages


def report(request, done: str, change=None) -> None:
    """Say what was done, and, when the change withdrew an approval or submission, say that too."""
    if done:
        messages.success(request, done)
    if change is not None and change.message:
        messages.warning(request, change.message)
