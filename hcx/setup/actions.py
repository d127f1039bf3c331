"""What the set-up page changes, each in one transaction with the acting user and an audit row:
saving the HCX connection, and trusting the Cloud Manager's certificate at the pairing's prompt.
Starting steps is `runner.start_setup` (it writes its own audit row)."""

from django.db import transaction

from core.models import AuditEntry, Job
from hcx.choices import SetupStepKey
from hcx.models import HcxConnection, HcxPlan, HcxSetupStep

from .checklist import CertificatePrompt, build_checklist, same_fingerprint
from .runner import ORDER, start_setup


class TrustRefused(Exception):
    """The certificate on the page is not (or no longer) the one the pairing waits for."""


def do_save_connection(connection: HcxConnection, *, acting_user, changed: list[str]) -> HcxConnection:
    """Save a connection from the form; the audit row names the changed fields, never a secret's value."""
    created = connection.pk is None
    with transaction.atomic():
        connection.save()
        AuditEntry.record(acting_user, "hcx.connection.add" if created else "hcx.connection.change",
                          connection.plan, fields=sorted(changed))
    return connection


def do_trust_certificate(plan: HcxPlan, *, acting_user, sha256: str, then_remaining: bool) -> Job:
    """Trust the certificate the pair step is waiting on and start pairing (and, if asked, the steps
    after it). `sha256` is the fingerprint the person saw: a certificate that changed since is refused.
    The PEM comes from the step's own record, never from the request.

    Raises TrustRefused, or runner.SetupBusy when a job runs (then nothing is stored)."""
    with transaction.atomic():
        row = HcxSetupStep.objects.select_for_update().filter(plan=plan, step=SetupStepKey.PAIR).first()
        prompt = CertificatePrompt.from_step(row)
        if prompt is None:
            raise TrustRefused("No certificate is waiting to be trusted: the pairing is not asking for one now.")
        if not same_fingerprint(prompt.sha256, sha256):
            raise TrustRefused("The certificate changed since the page was shown: look at it again before trusting it.")
        connection, _ = HcxConnection.objects.select_for_update().get_or_create(plan=plan)
        connection.trusted_cloud_certificate = prompt.certificate
        connection.save(update_fields=["trusted_cloud_certificate", "last_updated"])
        AuditEntry.record(acting_user, "hcx.setup.trust_certificate", plan, sha256=prompt.sha256,
                          subject=prompt.subject, remote_url=prompt.remote_url)
        steps = [SetupStepKey.PAIR.value]
        if then_remaining:
            after_pair = ORDER[ORDER.index(SetupStepKey.PAIR) + 1:]
            steps += [key for key in build_checklist(plan, has_connection=True).remaining if key in after_pair]
        return start_setup(acting_user, plan, steps)
