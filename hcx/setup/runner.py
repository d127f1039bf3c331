"""The step registry and the job that runs steps.

A step is registered with `@step(SetupStepKey.X, needs=(...))` on a function
`run(ctx: Context) -> Outcome`. The function reads HCX, creates only what is missing (so running it
again finds what exists and succeeds), logs what it does through `ctx.log`, and returns an Outcome
whose `summary` says what HCX now shows ("Activated", "mesh mesh-1 COMMITTED: HCX-WAN-IX UP, HCX-NET-EXT UP").

Errors: a step raises `StepNeedsInput` when a person must decide (the pairing's certificate
prompt), `JobError` or any `HcxError`/`AvsError` when it fails; the runner turns each into the
step's state and a message on the step, never a stack trace.

A job of several steps goes on past a step that fails or waits for a person: the steps that do not
depend on it (through `needs`, directly or not) still run, and those that do are skipped with a line
in the log. The job then ends FAILED if a step failed, NEEDS_INPUT ("Needs your input") if one only
waits for a decision, COMPLETED otherwise.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.choices import EventLevel
from core.jobs import JobError, JobNeedsInput, job_handler
from core.live import sequence
from core.models import AuditEntry, Job
from hcx.choices import SetupStepKey, StepState
from hcx.client import AvsClient, AvsError, HcxAppliance, HcxError, HcxService, Retry, Waiter
from hcx.client.polling import PollTimeout
from hcx.models import HcxConnection, HcxPlan, HcxSetupStep

from .logins import SharedSession, StoredPasswordGuard

KIND = "hcx.setup"
ORDER = list(SetupStepKey.values)


@dataclass
class Outcome:
    summary: str
    data: dict = field(default_factory=dict)


class StepNeedsInput(Exception):
    """A person must decide before the step can go on; `data` is kept on the step for the page."""

    def __init__(self, message: str, data: dict | None = None):
        super().__init__(message)
        self.data = data or {}


@dataclass(frozen=True)
class Step:
    key: str
    run: Callable[["Context"], Outcome]
    needs: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return str(SetupStepKey(self.key).label)


STEPS: dict[str, Step] = {}


def step(key: str, *, needs: tuple[str, ...] = ()):
    def register(func):
        STEPS[key] = Step(key, func, tuple(needs))
        return func

    return register


def load_steps():
    """The step modules register themselves on import."""
    from . import configure, connect  # noqa: F401


class Context:
    """What a step works with: the plan, its connection, the job, and clients built on demand from
    the connection's stored (encrypted) credentials. TLS is verified unless the connection says not,
    against the connection's extra CA certificates when it has some."""

    def __init__(self, plan: HcxPlan, job: Job | None):
        self.plan = plan
        self.job = job
        self.connection: HcxConnection = getattr(plan, "connection", None) or HcxConnection(plan=plan)
        self.poll_seconds = settings.HCX_SETUP["POLL_SECONDS"]
        self.waiter = Waiter(interval=self.poll_seconds, sleep=self._pause)
        self.retry = Retry(attempts=settings.HCX_SETUP["RETRY_ATTEMPTS"], backoff=settings.HCX_SETUP["RETRY_BACKOFF"])
        self.timeout = settings.HCX_SETUP["HTTP_TIMEOUT"]

    # --- logging ------------------------------------------------------------------------------
    def log(self, message: str, level: str = EventLevel.INFO):
        if self.job is not None:
            self.job.log(message, level)

    def warn(self, message: str):
        self.log(message, EventLevel.WARNING)

    def progress(self, percent: float, text: str):
        if self.job is not None:
            self.job.set_progress(percent, text)

    def check_cancelled(self):
        if self.job is not None and hasattr(self.job, "check_cancelled"):
            self.job.check_cancelled()

    def _pause(self, seconds: float):
        """Every wait on HCX or Azure sleeps here: a cancel asked for while HCX works (a mesh takes
        20-45 minutes) stops the job at the next look instead of after the wait."""
        self.check_cancelled()
        time.sleep(seconds)

    def wait_seconds(self, what: str) -> float:
        """How long to wait for HCX's asynchronous work of this kind, in real seconds."""
        return settings.HCX_SETUP["WAIT_SECONDS"].get(what, settings.HCX_SETUP["WAIT_SECONDS"]["default"])

    # --- clients ------------------------------------------------------------------------------
    @property
    def verify(self) -> bool | str:
        c = self.connection
        if not c.verify_tls:
            return False
        if c.ca_certificates.strip():
            return self._ca_bundle(c.ca_certificates)
        return True

    @staticmethod
    def _ca_bundle(pem: str) -> str:
        """requests verifies against a file: write the PEM once per content under VAR_DIR."""
        folder = settings.VAR_DIR / "ca"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{hashlib.sha256(pem.encode()).hexdigest()[:16]}.pem"
        if not path.exists():
            path.write_text(pem)
        return str(path)

    def require(self, *fields: str):
        """Stop with a clear message naming the connection fields that are empty."""
        missing = [HcxConnection._meta.get_field(f).verbose_name for f in fields if not getattr(self.connection, f)]
        if missing:
            raise JobError(
                f"The HCX connection of {self.plan} is missing: {', '.join(str(m) for m in missing)}. "
                "Fill it in on the plan's set-up page."
            )

    @cached_property
    def hcx(self) -> HcxService:
        self.require("connector_url", "username", "password")
        c = self.connection
        return HcxService(c.connector_url, c.username, c.password, verify=self.verify, timeout=self.timeout,
                          retry=self.retry, waiter=self.waiter, login_guard=StoredPasswordGuard(c),
                          session_store=SharedSession(c),
                          # A set-up job waits for HCX to finish starting; the reconciler tries next cycle.
                          startup_wait=settings.HCX_SETUP["STARTUP_WAIT_SECONDS"] if self.job is not None else 0,
                          startup_interval=settings.HCX_SETUP["STARTUP_RETRY_SECONDS"])

    @cached_property
    def appliance(self) -> HcxAppliance:
        self.require("connector_url", "admin_password")
        c = self.connection
        return HcxAppliance(c.effective_appliance_url, c.admin_password, verify=self.verify, timeout=self.timeout,
                            retry=self.retry, waiter=self.waiter)

    @cached_property
    def avs(self) -> AvsClient:
        self.require("avs_subscription_id", "avs_resource_group", "avs_private_cloud", "avs_tenant_id",
                     "avs_client_id", "avs_client_secret")
        c = self.connection
        urls = {k: v for k, v in (("arm_url", c.arm_url), ("login_url", c.login_url)) if v}
        return AvsClient(subscription_id=c.avs_subscription_id, resource_group=c.avs_resource_group,
                         private_cloud=c.avs_private_cloud, tenant_id=c.avs_tenant_id, client_id=c.avs_client_id,
                         client_secret=c.avs_client_secret, timeout=self.timeout, retry=self.retry, **urls)

    def close(self):
        for name in ("hcx", "appliance", "avs"):
            client = self.__dict__.get(name)
            if client is not None:
                client.close()

    # --- what earlier steps recorded ----------------------------------------------------------
    def step_data(self, key: str) -> dict:
        row = HcxSetupStep.objects.filter(plan=self.plan, step=key).first()
        return dict(row.data) if row else {}


def record(plan: HcxPlan, key: str, state: str, *, job: Job | None = None, summary: str | None = None,
           message: str = "", data: dict | None = None) -> HcxSetupStep:
    """Write a step's state. `summary`/`data` None keeps what was there (a failure keeps the last
    known summary and the ids found so far, so a re-run continues from them)."""
    with transaction.atomic():
        row = _record(plan, key, state, job, summary, message, data)
        sequence.bump(sequence.key_for(plan))  # the set-up page's checklist (hcx/setup/feed.py)
    return row


def _record(plan, key, state, job, summary, message, data) -> HcxSetupStep:
    row, _ = HcxSetupStep.objects.get_or_create(plan=plan, step=key)
    row.state = state
    row.message = message
    row.observed = timezone.now()
    if job is not None:
        row.job = job
    if summary is not None:
        row.summary = summary[:500]
    if data is not None:
        row.data = data
    row.save()
    return row


def describe(exc: Exception) -> str:
    """The message a person reads on the step: HCX's or Azure's own words, never a traceback."""
    if isinstance(exc, PollTimeout):
        return f"HCX did not finish in time: {exc}. Run the step again to keep waiting; nothing is lost."
    return str(exc)


def run_step(ctx: Context, key: str) -> Outcome:
    load_steps()
    spec = STEPS[key]
    for need in spec.needs:
        state = HcxSetupStep.objects.filter(plan=ctx.plan, step=need).values_list("state", flat=True).first()
        if state != StepState.DONE:
            raise JobError(
                f"'{spec.title}' needs '{SetupStepKey(need).label}' done first (it is "
                f"{StepState(state or StepState.NOT_STARTED).label.lower()})."
            )
    record(ctx.plan, key, StepState.RUNNING, job=ctx.job)
    ctx.log(f"Step: {spec.title}")
    try:
        outcome = spec.run(ctx)
    except StepNeedsInput as exc:
        record(ctx.plan, key, StepState.NEEDS_INPUT, message=str(exc), data={**ctx.step_data(key), **exc.data})
        raise JobNeedsInput(f"{spec.title}: {exc}") from exc
    except (HcxError, AvsError, PollTimeout, JobError) as exc:
        message = describe(exc)
        record(ctx.plan, key, StepState.FAILED, message=message)
        raise JobError(f"{spec.title}: {message}") from exc
    except BaseException as exc:  # a crash or a cancel still leaves the step in a true state
        record(ctx.plan, key, StepState.FAILED, message=f"Stopped: {type(exc).__name__}: {exc}"[:2000])
        raise
    record(ctx.plan, key, StepState.DONE, summary=outcome.summary, data=outcome.data)
    ctx.log(f"Done: {outcome.summary}")
    return outcome


@job_handler(KIND)
def setup_job(job, plan_id: int, steps: list[str]):
    plan = HcxPlan.objects.select_related("connection", "vcenter").filter(pk=plan_id).first()
    if plan is None:
        raise JobError(f"HCX plan #{plan_id} no longer exists")
    load_steps()
    ctx = Context(plan, job)
    results, failed, waiting, skipped = {}, [], [], []
    stopped: set[str] = set()  # failed, waiting or skipped: the steps that depend on these wait too
    try:
        for index, key in enumerate(steps):
            title = str(SetupStepKey(key).label)
            job.set_progress(100 * index / len(steps), title)
            job.check_cancelled()
            blocked_by = [n for n in STEPS[key].needs if n in stopped]
            if blocked_by:
                stopped.add(key)
                skipped.append(title)
                ctx.log(f"Skipped: {title}, which needs {', '.join(str(SetupStepKey(n).label) for n in blocked_by)} "
                        "done first", EventLevel.WARNING)
                continue
            try:
                results[key] = run_step(ctx, key).summary
            except JobNeedsInput as exc:
                stopped.add(key)
                waiting.append(title)  # HCX's own words are on the step and in this line of the log
                ctx.log(f"Waiting for your input: {exc}", EventLevel.WARNING)
            except JobError as exc:
                stopped.add(key)
                failed.append(str(exc))
                ctx.log(f"Failed: {exc}", EventLevel.ERROR)
    finally:
        ctx.close()
    after = f" Skipped until then: {', '.join(skipped)}." if skipped else ""
    decide = f"{', '.join(waiting)}: waiting for your decision on the plan's set-up page." if waiting else ""
    if failed:
        raise JobError(" ".join([*failed, decide]).strip() + after)
    if waiting:
        raise JobNeedsInput(decide + after, {"steps": results})
    return {"steps": results}


def active_setup_job(plan: HcxPlan) -> Job | None:
    from django.contrib.contenttypes.models import ContentType

    from core.choices import JobStatus

    return (
        Job.objects.filter(
            kind__in=[KIND, "hcx.deploy_connector"],
            object_type=ContentType.objects.get_for_model(HcxPlan),
            object_id=plan.pk,
            status__in=JobStatus.ACTIVE,
        )
        .order_by("-created")
        .first()
    )


class SetupBusy(Exception):
    def __init__(self, job: Job):
        super().__init__(f"A set-up job is already running for {job.object or 'this plan'}: {job.name} (#{job.pk}).")
        self.job = job


def job_name(plan: HcxPlan, steps: list[str]) -> str:
    """"Run HCX set-up: Main datacenter — Pair with the AVS HCX Cloud Manager", or "… — 7 steps": the
    plan's name whole (Job.name has room for it), the steps' titles as the checklist writes them."""
    what = str(SetupStepKey(steps[0]).label) if len(steps) == 1 else f"{len(steps)} steps"
    return f"Run HCX set-up: {plan} — {what}"


def start_setup(acting_user, plan: HcxPlan, steps: list[str]) -> Job:
    """Enqueue the steps (in the path's order) as one job, unless one is already running for the plan."""
    load_steps()
    unknown = [s for s in steps if s not in STEPS]
    if unknown or not steps:
        raise ValueError(f"unknown set-up steps: {unknown or 'none given'}")
    steps = sorted(set(steps), key=ORDER.index)
    with transaction.atomic():
        # Lock the plan row so that two clicks cannot start two jobs on the same HCX.
        plan = HcxPlan.objects.select_for_update().get(pk=plan.pk)
        busy = active_setup_job(plan)
        if busy is not None:
            raise SetupBusy(busy)
        job = Job.enqueue(KIND, name=job_name(plan, steps), user=acting_user, obj=plan,
                          params={"plan_id": plan.pk, "steps": steps})
        AuditEntry.record(acting_user, "hcx.setup.run", plan, job=job.pk, steps=steps)
    return job
