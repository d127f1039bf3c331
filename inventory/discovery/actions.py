"""Changes to vCenter connections and discovery runs, each with the acting user and an audit row."""

from django.db import transaction

from core.choices import AuditAction
from core.models import AuditEntry, Job

from ..models import VCenter

KIND = "inventory.discover_vcenter"


def do_save_vcenter(vcenter: VCenter, *, acting_user, changed: list[str]) -> VCenter:
    """Save a connection from the form; the audit row names changed fields, never the password's value."""
    created = vcenter.pk is None
    with transaction.atomic():
        vcenter.save()
        AuditEntry.record(
            acting_user,
            AuditAction.VCENTER_ADD if created else AuditAction.VCENTER_CHANGE,
            vcenter,
            fields=sorted(changed),
        )
    return vcenter


def do_start_discovery(vcenter: VCenter, *, acting_user) -> Job:
    with transaction.atomic():
        job = Job.enqueue(
            KIND,
            name=f"Discover {vcenter.name}",
            user=acting_user,
            obj=vcenter,
            params={"vcenter_id": vcenter.pk},
        )
        AuditEntry.record(acting_user, AuditAction.VCENTER_DISCOVER, vcenter, job=job.pk)
    return job
