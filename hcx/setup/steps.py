"""The step registry and what a step works with (its Context), and how a step's state is recorded.

A step is registered with `@step(SetupStepKey.X, needs=(...))` on a function
`run(ctx: Context) -> Outcome` in connect.py or configure.py; runner.py imports those modules (which
import this one, never the runner) and runs the steps as one job.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.choices import EventLevel
from core.live import sequence
from core.models import Job
from hcx import clients
from hcx.choices import SetupStepKey
from hcx.client import AvsClient, HcxAppliance, HcxService, Waiter
from hcx.models import HcxConnection, HcxPlan, HcxSetupStep


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


class Context:
    """What a step works with: the plan, its connection, the job, and clients built on demand from
    the connection's stored (encrypted) credentials (hcx/clients.py)."""

    def __init__(self, plan: HcxPlan, job: Job | None):
        self.plan = plan
        self.job = job
        self.connection: HcxConnection = clients.connection_of(plan)
        self.poll_seconds = settings.HCX_SETUP["POLL_SECONDS"]
        self.waiter = Waiter(interval=self.poll_seconds, sleep=self._pause)

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

    # --- clients (hcx/clients.py, as every part of the portal builds them) -------------------
    def require(self, *fields: str):
        """Stop with a clear message naming the connection fields that are empty."""
        clients.require(self.plan, self.connection, *fields)

    @cached_property
    def hcx(self) -> HcxService:
        # A set-up job waits for HCX to finish starting; the reconciler tries next cycle.
        return clients.hcx_service(
            self.plan,
            self.connection,
            waiter=self.waiter,
            startup_wait=settings.HCX_SETUP["STARTUP_WAIT_SECONDS"] if self.job is not None else 0,
        )

    @cached_property
    def appliance(self) -> HcxAppliance:
        return clients.hcx_appliance(self.plan, self.connection, waiter=self.waiter)

    @cached_property
    def avs(self) -> AvsClient:
        return clients.avs_client(self.plan, self.connection)

    def close(self):
        for name in ("hcx", "appliance", "avs"):
            client = self.__dict__.get(name)
            if client is not None:
                client.close()

    # --- what earlier steps recorded ----------------------------------------------------------
    def step_data(self, key: str) -> dict:
        row = HcxSetupStep.objects.filter(plan=self.plan, step=key).first()
        return dict(row.data) if row else {}


def record(
    plan: HcxPlan,
    key: str,
    state: str,
    *,
    job: Job | None = None,
    summary: str | None = None,
    message: str = "",
    data: dict | None = None,
) -> HcxSetupStep:
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
