"""What the set-up page changes, each in one transaction with the acting user and an audit row:
saving the HCX connection, and trusting the certificate a step asks about (vCenter's, the Cloud Manager's).
Starting steps is `runner.start_setup` (it writes its own audit row)."""

from django.db import transaction

from core.choices import AuditAction
from core.live import sequence
from core.models import AuditEntry, Job
from hcx.models import HcxConnection, HcxPlan, HcxSetupStep

from .checklist import PROMPTING_STEPS, CertificatePrompt, build_checklist, same_fingerprint
from .logins import forget_failures
from .runner import ORDER, start_setup


class TrustRefused(Exception):
    """The certificate on the page is not (or no longer) the one the pairing waits for."""


def do_save_connection(connection: HcxConnection, *, acting_user, changed: list[str]) -> HcxConnection:
    """Save a connection from the form; the audit row names the changed fields, never a secret's value."""
    created = connection.pk is None
    if {"password", "username"} & set(changed):
        forget_failures(connection)  # hcx/setup/logins.py: a new password is tried again
    with transaction.atomic():
        connection.save()
        sequence.bump(sequence.key_for(connection.plan))  # the set-up page's checklist
        AuditEntry.record(
            acting_user,
            AuditAction.HCX_CONNECTION_ADD if created else AuditAction.HCX_CONNECTION_CHANGE,
            connection.plan,
            fields=sorted(changed),
        )
    return connection


def do_trust_certificate(plan: HcxPlan, *, acting_user, sha256: str, then_remaining: bool) -> Job:
    """Trust the certificate a step is waiting on (vCenter's at the registration, the Cloud Manager's at
    the pairing) and run that step again (and, if asked, the steps after it). `sha256` is the
    fingerprint the person saw: a certificate that changed since is refused. The PEM comes from the
    step's own record, never from the request.

    Raises TrustRefused, or runner.SetupBusy when a job runs (then nothing is stored)."""
    with transaction.atomic():
        rows = HcxSetupStep.objects.select_for_update().filter(plan=plan, step__in=PROMPTING_STEPS)
        prompt, row = next(((p, r) for r in rows if (p := CertificatePrompt.from_step(r))), (None, None))
        if prompt is None:
            raise TrustRefused("No certificate is waiting to be trusted: no step is asking for one now.")
        if not same_fingerprint(prompt.sha256, sha256):
            raise TrustRefused(
                "The certificate changed since the page was shown: look at it again before trusting it."
            )
        if prompt.for_pairing:
            connection, _ = HcxConnection.objects.select_for_update().get_or_create(plan=plan)
            connection.trusted_cloud_certificate = prompt.certificate
            connection.save(update_fields=["trusted_cloud_certificate", "last_updated"])
        else:
            # Kept on the step until it is done: the step imports it into HCX and registers.
            row.data = {
                **row.data,
                "trusted_certificates": [*row.data.get("trusted_certificates", []), prompt.certificate],
            }
            row.save(update_fields=["data"])
        sequence.bump(sequence.key_for(plan))  # the set-up page's checklist
        AuditEntry.record(
            acting_user,
            AuditAction.HCX_CERTIFICATE_TRUST,
            plan,
            sha256=prompt.sha256,
            subject=prompt.subject,
            remote_url=prompt.remote_url,
            step=prompt.step,
        )
        steps = [prompt.step]
        if then_remaining:
            after = ORDER[ORDER.index(prompt.step) + 1 :]
            steps += [key for key in build_checklist(plan, has_connection=True).remaining if key in after]
        return start_setup(acting_user, plan, steps)
