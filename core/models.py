"""Shared base models and the one Job model that records every background task."""

import logging

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import job_registry
from .choices import AuditAction, DeliveryStatus, EventLevel, JobStatus, NotificationEvent
from .fields import EncryptedTextField
from .live import sequence
from .live.sequence import LiveSequence  # noqa: F401 (a model of this app; it lives beside its counter)

logger = logging.getLogger(__name__)


class TimestampedModel(models.Model):
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_updated = models.DateTimeField(_("last updated"), auto_now=True)

    class Meta:
        abstract = True

    def get_absolute_url(self):
        """Convention: `<app>:<model>` is the detail view, taking the primary key."""
        return reverse(f"{self._meta.app_label}:{self._meta.model_name}", args=[self.pk])


class Job(models.Model):
    """A background task: its state, progress, log (JobEvent rows), who started it, what it concerns.

    State is written by primary key with update_fields only (workers never save stale rows).
    """

    kind = models.CharField(_("kind"), max_length=100, help_text=_("Registered handler name"))
    # Room for "Run HCX set-up: <a 200-character plan name> — <a step's title>" without cutting it.
    name = models.CharField(_("name"), max_length=400)
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    progress_text = models.CharField(_("progress text"), max_length=300, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    object_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    object = GenericForeignKey("object_type", "object_id")
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    data = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    event_count = models.PositiveIntegerField(_("events"), default=0)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    completed = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["-created", "-id"], name="core_job_created_idx"),
            models.Index(fields=["object_type", "object_id"], name="core_job_object_idx"),
        ]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        permissions = [("cancel_job", "Can cancel a running job")]

    def __str__(self):
        return f"{self.name} (#{self.pk})"

    def get_absolute_url(self):
        return reverse("core:job", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in JobStatus.ACTIVE

    @property
    def is_terminal(self) -> bool:
        return self.status in JobStatus.TERMINAL

    @property
    def status_color(self) -> str:
        return JobStatus.COLORS[self.status]

    @property
    def duration(self):
        if self.started and self.completed:
            return self.completed - self.started
        return None

    @classmethod
    def enqueue(cls, kind: str, *, name: str, user=None, obj=None, params=None) -> "Job":
        """Create the Job row and send its task once the surrounding transaction commits."""
        job_registry.get_handler(kind)  # unknown kinds fail here, in the request, not in the worker
        job = cls.objects.create(
            kind=kind,
            name=name,
            user=user,
            object_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
            object_id=obj.pk if obj is not None else None,
            params=params or {},
        )
        job._bump_object()
        transaction.on_commit(job.send)
        return job

    def send(self):
        result = job_registry.task().apply_async((self.pk,), **job_registry.time_limits(self.kind))
        Job.objects.filter(pk=self.pk).update(task_id=result.id or "")

    @staticmethod
    def live_key_for(pk: int) -> str:
        """The key of a job's live stream (core/live): every change below bumps its sequence in the
        change's own transaction, so a page following it misses none and gets none twice."""
        return f"job:{pk}"

    @property
    def live_key(self) -> str:
        return self.live_key_for(self.pk)

    def _bump_object(self):
        """A job starting or ending changes the page of what it concerns (an HCX plan's set-up checklist
        says a job runs): number it on that object's stream too."""

        if self.object_type_id and self.object_id:
            model = ContentType.objects.get_for_id(self.object_type_id).model_class()
            if model is not None:
                sequence.bump(f"{model._meta.label_lower}:{self.object_id}")

    def log(self, message: str, level: str = EventLevel.INFO) -> "JobEvent":
        """Append one numbered event row, saved at once so that viewers see it while the job runs."""

        with transaction.atomic():
            change = sequence.bump(self.live_key)
            Job.objects.filter(pk=self.pk).update(event_count=F("event_count") + 1)
            seq = Job.objects.values_list("event_count", flat=True).get(pk=self.pk)
            self.event_count = seq
            return JobEvent.objects.create(
                job_id=self.pk, seq=seq, change=change, level=level, message=message[:2000]
            )

    def set_progress(self, percent: float, text: str | None = None):

        self.progress = max(0, min(100, int(percent)))
        fields = {"progress": self.progress}
        if text is not None:
            self.progress_text = fields["progress_text"] = text[:300]
        with transaction.atomic():
            Job.objects.filter(pk=self.pk).update(**fields)
            sequence.bump(self.live_key)

    def request_cancel(self):

        with transaction.atomic():
            if Job.objects.filter(pk=self.pk, status__in=JobStatus.ACTIVE).update(cancel_requested=True):
                sequence.bump(self.live_key)

    def mark(self, status: str, **fields):
        """Move to a new status by primary key; terminal states stamp `completed`."""
        fields["status"] = status
        if status == JobStatus.RUNNING and not self.started:
            fields["started"] = timezone.now()
        if status in JobStatus.TERMINAL:
            fields["completed"] = timezone.now()
            if status == JobStatus.COMPLETED:
                fields["progress"] = 100

        with transaction.atomic():
            Job.objects.filter(pk=self.pk).update(**fields)
            sequence.bump(self.live_key)
            self._bump_object()
        for key, value in fields.items():
            setattr(self, key, value)


class JobEvent(models.Model):
    """One line of a job's log, numbered per job. Viewers fetch `?after=<seq>` to catch up."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField(_("sequence"))
    # The job's live sequence (LiveSequence "job:<pk>") when this row was written: a page that has seen
    # change N asks for the rows after N.
    change = models.PositiveBigIntegerField(_("live change"), default=0)
    created = models.DateTimeField(_("created"), default=timezone.now)
    level = models.CharField(_("level"), max_length=10, choices=EventLevel.choices, default=EventLevel.INFO)
    message = models.TextField(_("message"))

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="core_jobevent_unique_seq")]
        verbose_name = _("job event")
        verbose_name_plural = _("job events")

    def __str__(self):
        return f"#{self.seq} {self.message[:60]}"

    @property
    def level_color(self) -> str:
        return EventLevel.COLORS[self.level]


class AuditEntry(models.Model):
    """Who did what to which object, and why. Written by action functions, never edited."""

    created = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(_("action"), max_length=100, choices=AuditAction.choices)
    object_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self):
        return f"{self.created:%Y-%m-%d %H:%M} {self.user} {self.action} {self.object_repr}"

    @classmethod
    def record(cls, user, action: AuditAction, obj=None, **detail) -> "AuditEntry":
        """`action` is one of `AuditAction` (a name outside it raises ValueError: one naming scheme)."""
        return cls.objects.create(
            user=user if getattr(user, "is_authenticated", False) else None,
            action=AuditAction(action),
            object_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
            object_id=getattr(obj, "pk", None),
            object_repr=str(obj)[:200] if obj is not None else "",
            detail=detail,
        )


class NotificationPreference(models.Model):
    """A user's opt-in to one event by email. Nobody gets mail they did not ask for."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(_("event"), max_length=40, choices=NotificationEvent.choices)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="one_preference_per_event")]

    def __str__(self):
        return f"{self.user} <- {self.get_event_display()}"


class Webhook(models.Model):
    """A generic JSON webhook (fits Teams and Slack incoming webhooks) for chosen events. The URL of
    such a webhook is a secret (whoever has it can post to the channel): stored encrypted, never shown."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = EncryptedTextField(_("URL"))
    events = models.JSONField(_("events"), default=list, blank=True, help_text=_("Event names; empty: none"))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self):
        return self.name


class Notification(models.Model):
    """One message to one recipient (an email address or a webhook): an outbox row written in the
    transaction of the event, sent after commit by a worker, retried until it goes or gives up."""

    event = models.CharField(_("event"), max_length=40, choices=NotificationEvent.choices)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The recipient of an email"),
    )
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=1000, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(webhook__isnull=False),
                name="notification_has_a_recipient",
            ),
        ]

    def __str__(self):
        return f"{self.get_event_display()}: {self.subject}"


class SignInFailure(models.Model):
    """Failed sign-ins under one key (an account or an address) since `since` (core/throttling.py). In the
    database, not a per-process cache, so that every web worker counts the same failures."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    count = models.PositiveIntegerField(_("failures"), default=0)
    since = models.DateTimeField(_("since"), db_index=True)  # the purge of expired counts reads it

    class Meta:
        verbose_name = _("sign-in failure count")
        verbose_name_plural = _("sign-in failure counts")

    def __str__(self):
        return f"{self.key}: {self.count} since {self.since:%H:%M:%S}"
