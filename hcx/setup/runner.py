"""The job that runs set-up steps (the registry and the Context: steps.py).

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

from django.db import transaction

from core.choices import AuditAction, EventLevel
from core.jobs import JobError, JobNeedsInput, job_handler
from core.models import AuditEntry, Job
from hcx.choices import SetupStepKey, StepState
from hcx.client import AvsError, HcxError
from hcx.client.polling import PollTimeout
from hcx.models import HcxPlan, HcxSetupStep

from .steps import STEPS, Context, Outcome, Step, StepNeedsInput, record, step  # noqa: F401 - callers use them here

KIND = "hcx.setup"
ORDER = list(SetupStepKey.values)


def load_steps():
    """The step modules register themselves on import."""
    from . import configure, connect  # noqa: F401


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
        record(
            ctx.plan, key, StepState.NEEDS_INPUT, message=str(exc), data={**ctx.step_data(key), **exc.data}
        )
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
                ctx.log(
                    f"Skipped: {title}, which needs {', '.join(str(SetupStepKey(n).label) for n in blocked_by)} "
                    "done first",
                    EventLevel.WARNING,
                )
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
        super().__init__(
            f"A set-up job is already running for {job.object or 'this plan'}: {job.name} (#{job.pk})."
        )
        self.job = job


def job_name(plan: HcxPlan, steps: list[str]) -> str:
    """ "Run HCX set-up: Main datacenter — Pair with the AVS HCX Cloud Manager", or "… — 7 steps": the
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
        job = Job.enqueue(
            KIND,
            name=job_name(plan, steps),
            user=acting_user,
            obj=plan,
            params={"plan_id": plan.pk, "steps": steps},
        )
        AuditEntry.record(acting_user, AuditAction.HCX_SETUP_RUN, plan, job=job.pk, steps=steps)
    return job
