"""The set-up path of one plan as a checklist: every step in the path's order with its last known
state, what it needs first, and what to do next. The set-up page, its htmx fragment and the API
all read it, so they can never disagree about which step comes next."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.contenttypes.models import ContentType

from core.models import Job
from hcx.choices import SetupStepKey, StepState
from hcx.models import HcxPlan, HcxSetupStep

from .runner import KIND, ORDER, STEPS, active_setup_job, load_steps

DEPLOY_KIND = "hcx.deploy_connector"


# The steps that may stop to ask whether to trust a certificate: registering vCenter and its lookup
# service (HCX answers "Untrusted SSL connection"), and pairing with the AVS Cloud Manager.
PROMPTING_STEPS = (SetupStepKey.REGISTER, SetupStepKey.PAIR)


@dataclass(frozen=True)
class CertificatePrompt:
    """The certificate a step asks a person to look at before trusting it: vCenter's (or its lookup
    service's) at the registration, the Cloud Manager's at the pairing."""

    certificate: str
    sha256: str
    subject: str
    remote_url: str
    issuer: str = ""
    not_after: str = ""
    step: str = SetupStepKey.PAIR
    server: str = "the Cloud Manager"

    @property
    def for_pairing(self) -> bool:
        return self.step == SetupStepKey.PAIR

    @classmethod
    def from_step(cls, row: HcxSetupStep | None) -> "CertificatePrompt | None":
        if row is None or row.step not in PROMPTING_STEPS or row.state != StepState.NEEDS_INPUT:
            return None
        data = row.data or {}
        pem = str(data.get("certificate") or "")  # kept as HCX sent it: this is what gets trusted
        if not pem.strip():
            return None
        default_server = "the Cloud Manager" if row.step == SetupStepKey.PAIR else "vCenter"
        return cls(
            pem,
            str(data.get("sha256") or "") or fingerprint(pem),
            str(data.get("subject") or ""),
            str(data.get("remote_url") or ""),
            str(data.get("issuer") or ""),
            str(data.get("not_after") or ""),
            row.step,
            str(data.get("server") or default_server),
        )


def fingerprint(pem: str) -> str:
    """The SHA-256 fingerprint of a PEM certificate as HCX and browsers print it (AB:CD:...)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        digest = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA256())
    except ValueError:
        digest = hashlib.sha256(pem.encode()).digest()  # not a certificate: still tell two texts apart
    return ":".join(f"{b:02X}" for b in digest)


def same_fingerprint(a: str, b: str) -> bool:
    def norm(value):
        return "".join(ch for ch in (value or "").lower() if ch in "0123456789abcdef")

    return bool(norm(a)) and norm(a) == norm(b)


@dataclass
class Row:
    key: str
    title: str
    state: str
    summary: str = ""
    message: str = ""
    observed: datetime | None = None
    job: Job | None = None
    needs: list[tuple[str, str, bool]] = field(default_factory=list)  # (key, title, done)
    runnable: bool = False  # registered with the runner; "deploy" may have its own page instead
    is_next: bool = False
    hint: str = ""
    prompt: CertificatePrompt | None = None
    has_connection: bool = True

    @property
    def color(self) -> str:
        return StepState.COLORS[self.state]

    @property
    def state_label(self) -> str:
        return str(StepState(self.state).label)

    @property
    def done(self) -> bool:
        return self.state == StepState.DONE

    @property
    def needs_attention(self) -> bool:
        return self.state in (StepState.FAILED, StepState.NEEDS_INPUT)

    @property
    def run_label(self) -> str:
        return "Run" if self.state == StepState.NOT_STARTED else "Run again"

    @property
    def is_deploy(self) -> bool:
        return self.key == SetupStepKey.DEPLOY

    @property
    def unmet_needs(self) -> list[str]:
        return [title for _, title, done in self.needs if not done]

    @property
    def waits_for(self) -> list[str]:
        """What must be there before "Run" makes sense: the steps it needs, and the connection."""
        return ([] if self.has_connection or self.is_deploy else ["the HCX connection"]) + self.unmet_needs

    @property
    def can_run_now(self) -> bool:
        return self.runnable and not self.waits_for


@dataclass
class Checklist:
    plan: HcxPlan
    rows: list[Row]
    active_job: Job | None
    has_connection: bool

    @property
    def next(self) -> Row | None:
        return next((r for r in self.rows if r.is_next), None)

    @property
    def remaining(self) -> list[str]:
        """What "Run all remaining steps" runs: the steps the runner knows that are not done, in order."""
        return [r.key for r in self.rows if r.runnable and not r.done]

    @property
    def all_done(self) -> bool:
        return all(r.done for r in self.rows)

    @property
    def prompt(self) -> CertificatePrompt | None:
        return next((r.prompt for r in self.rows if r.prompt), None)

    @property
    def busy(self) -> bool:
        return self.active_job is not None


def build_checklist(plan: HcxPlan, *, has_connection: bool | None = None) -> Checklist:
    """Two queries: the plan's step rows (with their jobs) and its active job."""
    load_steps()
    stored = {r.step: r for r in HcxSetupStep.objects.filter(plan=plan).select_related("job")}
    states = {key: (stored[key].state if key in stored else StepState.NOT_STARTED) for key in ORDER}
    if has_connection is None:
        has_connection = plan_has_connection(plan)
    rows = []
    for key in ORDER:
        saved = stored.get(key)
        spec = STEPS.get(key)
        row = Row(
            key=key,
            title=str(SetupStepKey(key).label),
            state=states[key],
            summary=saved.summary if saved else "",
            message=saved.message if saved else "",
            observed=saved.observed if saved else None,
            job=saved.job if saved else None,
            needs=[
                (n, str(SetupStepKey(n).label), states.get(n) == StepState.DONE)
                for n in (spec.needs if spec else ())
            ],
            runnable=spec is not None,
            prompt=CertificatePrompt.from_step(saved),
            has_connection=has_connection,
        )
        rows.append(row)
    first_open = next((r for r in rows if not r.done), None)
    if first_open is not None:
        first_open.is_next = True
        first_open.hint = hint(first_open, has_connection)
    return Checklist(plan, rows, active_setup_job(plan), has_connection)


def plan_has_connection(plan: HcxPlan) -> bool:
    from hcx.models import HcxConnection

    try:
        return plan.connection is not None
    except HcxConnection.DoesNotExist:
        return False


def hint(row: Row, has_connection: bool) -> str:
    """One line saying what to do about the first step that is not done."""
    if row.state == StepState.RUNNING:
        return "Running now: follow the job's progress and log below."
    if row.state == StepState.NEEDS_INPUT:
        if row.prompt and row.prompt.for_pairing:
            return "HCX asks whether to trust the Cloud Manager's certificate: check it below, then trust it to pair."
        if row.prompt:
            return (
                f"HCX does not trust the certificate of {row.prompt.server}: check it below, then trust it to "
                "register."
            )
        return "HCX needs a decision: read the message, act on it, then run the step again."
    if not has_connection and row.key != SetupStepKey.DEPLOY:
        return "Fill in the HCX connection (Connector address, users, Azure or activation key) first, then run this step."
    if row.state == StepState.FAILED:
        return "It failed: fix what the message says (often a detail of the connection), then run it again."
    if row.unmet_needs:
        return f"First finish: {', '.join(row.unmet_needs)}."
    if not row.runnable:
        return (
            "Deploy the Connector appliance into the on-premises vCenter (its deploy page, or "
            "manage.py deploy_connector), then go on with the next steps."
        )
    return f"Next: run “{row.title}”."


def last_setup_job(plan: HcxPlan) -> Job | None:
    """The most recent set-up or deploy job of the plan, running or finished."""
    return (
        Job.objects.filter(
            kind__in=[KIND, DEPLOY_KIND],
            object_type=ContentType.objects.get_for_model(HcxPlan),
            object_id=plan.pk,
        )
        .select_related("user")
        .order_by("-created", "-id")
        .first()
    )
