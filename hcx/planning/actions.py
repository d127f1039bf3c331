"""Changes to a plan go through here: one transaction, the acting user named, an audit row, and a
new revision so that a document printed earlier can be told apart from the current plan."""

from django.db import transaction
from django.db.models import F

from core.choices import AuditAction
from core.models import AuditEntry

from ..models import HcxPlan


def do_record_plan_change(plan: HcxPlan, *, acting_user, action: str, **detail) -> HcxPlan:
    """Call inside the transaction that changed the plan or one of its profiles."""
    if action != AuditAction.HCX_PLAN_CREATE:
        HcxPlan.objects.filter(pk=plan.pk).update(revision=F("revision") + 1)
        plan.refresh_from_db(fields=["revision"])
    AuditEntry.record(acting_user, action, plan, revision=plan.revision, **detail)
    return plan


def do_save_plan(plan_form, profile_formset, *, acting_user) -> HcxPlan:
    """Save a validated plan form and its profile formset together, or nothing."""
    created = plan_form.instance.pk is None
    with transaction.atomic():
        plan = plan_form.save()
        profile_formset.instance = plan
        profile_formset.save()
        return do_record_plan_change(
            plan,
            acting_user=acting_user,
            action=AuditAction.HCX_PLAN_CREATE if created else AuditAction.HCX_PLAN_CHANGE,
        )


def do_delete_plan(plan: HcxPlan, *, acting_user) -> None:
    with transaction.atomic():
        AuditEntry.record(acting_user, AuditAction.HCX_PLAN_DELETE, plan, revision=plan.revision)
        plan.delete()
