"""Numbering the changes of a live stream, in the transaction of each change.

`bump(key)` increments the key's LiveSequence row and returns the new number. The UPDATE locks the
row until the transaction ends, so two changes of one key commit in the order of their numbers, and
a reader that sees number N sees every change up to N: no overlap window, no de-duplication (the
launch stream's timestamp cursor needed both). The key's streams are woken when it commits
(wakeup.py).
"""

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from . import wakeup


class LiveSequence(models.Model):
    """The change counter of one live stream ("job:5", "wave:12", "setup:3", "dashboard").

    Whoever changes what a stream shows bumps its counter in the same transaction (core/live/sequence.py);
    the row lock the bump takes orders the changes of a key by commit, so a page that has seen number N
    asks for what changed after N and gets each change once (as AWX numbers a job's events).
    """

    key = models.CharField(_("stream"), max_length=100, unique=True)
    seq = models.PositiveBigIntegerField(_("sequence"), default=0)

    class Meta:
        app_label = "core"
        ordering = ["key"]
        verbose_name = _("live sequence")
        verbose_name_plural = _("live sequences")

    def __str__(self):
        return f"{self.key} #{self.seq}"


def bump(key: str) -> int:
    """Number one change of `key`; call it inside the change's transaction."""
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
    return LiveSequence.objects.filter(key=key).values_list("seq", flat=True).first() or 0
