"""Numbering the changes of a live stream, in the transaction of each change.

`bump(key)` increments the key's LiveSequence row and returns the new number. The UPDATE locks the
row until the transaction ends, so two changes of one key commit in the order of their numbers, and
a reader that sees number N sees every change up to N: no overlap window, no de-duplication (the
launch stream's timestamp cursor needed both). The key's streams are woken when it commits
(wakeup.py).
"""

from django.db import IntegrityError, transaction
from django.db.models import F

from . import wakeup


def bump(key: str) -> int:
    """Number one change of `key`; call it inside the change's transaction."""
    from core.models import LiveSequence

    with transaction.atomic():
        if not LiveSequence.objects.filter(key=key).update(seq=F("seq") + 1):
            try:
                with transaction.atomic():
                    LiveSequence.objects.create(key=key, seq=1)
            except IntegrityError:  # another transaction made it first: count on it
                LiveSequence.objects.filter(key=key).update(seq=F("seq") + 1)
        seq = LiveSequence.objects.filter(key=key).values_list("seq", flat=True).get()
    wakeup.announce([key])
    return seq


def key_for(obj) -> str:
    """The stream of one object, "<app>.<model>:<pk>" (an HCX plan's set-up page follows "hcx.hcxplan:3")."""
    return f"{obj._meta.label_lower}:{obj.pk}"


def current(key: str) -> int:
    """The newest committed number of `key` (0 before any change)."""
    from core.models import LiveSequence

    return LiveSequence.objects.filter(key=key).values_list("seq", flat=True).first() or 0
