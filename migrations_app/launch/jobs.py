"""Job handlers of launching (found by core.jobs through migrations_app/jobs.py).

`launch.submit_batch` is short: it sends what of the batch's site waits (dispatch.py) and ends. It
holds no migration while it copies; the reconciler follows them and sends what waits for a free slot.
Running it twice (a redelivered task, a second launch click) sends nothing twice: dispatch only sends
WAITING rows and recovers SUBMITTING ones from HCX.
"""

from collections import Counter

from core.choices import EventLevel
from core.jobs import JobError, job_handler
from hcx.client import HcxError
from migrations_app.choices import MigrationState
from migrations_app.models import Batch

from .batches import SUBMIT_KIND
from .dispatch import dispatch
from .errors import LaunchError
from .site import service_for


@job_handler(SUBMIT_KIND)
def submit_batch(job, batch_id: int):
    batch = Batch.objects.select_related("wave", "wave__site").filter(pk=batch_id).first()
    if batch is None:
        raise JobError(f"Batch #{batch_id} no longer exists")
    site = batch.wave.site
    if site is None:
        raise JobError(f"{batch.wave} has no site: HCX does not know where to send it")
    job.set_progress(10, f"Sending {batch} to HCX at {site}")
    try:
        service = service_for(site)
    except LaunchError as exc:
        raise JobError(str(exc)) from None
    try:
        # Each send makes its own mobility group with its migrations (dispatch.py): a batch that waits
        # behind the limits has none yet.
        result = dispatch(site, service=service)
        batch.refresh_from_db(fields=["hcx_group_id", "hcx_group_name"])
    except (LaunchError, HcxError) as exc:
        raise JobError(str(exc)) from None
    finally:
        service.close()
    if batch.hcx_group_id:
        job.log(f"HCX mobility group {batch.hcx_group_name} (the batch's latest): {batch.hcx_group_id}")
    for message in result.messages:
        job.log(
            message,
            EventLevel.WARNING if "refused" in message or "Nothing more" in message else EventLevel.INFO,
        )
    states = Counter(batch.migrations.values_list("state", flat=True))
    summary = ", ".join(f"{n} {MigrationState(s).label.lower()}" for s, n in sorted(states.items()))
    job.log(f"{batch}: {summary}")
    job.set_progress(100, summary[:300])
    waiting = states.get(MigrationState.WAITING, 0)
    if result.error and waiting and not result.sent:
        raise JobError(
            f"{waiting} migration(s) of {batch} not sent: {result.error}. They are sent as soon as HCX "
            "answers."
        )
    return {
        "sent": result.sent,
        "refused": result.refused,
        "recovered": result.recovered,
        "waiting": waiting,
        "states": dict(states),
        "group": batch.hcx_group_id,
    }


from . import controls  # noqa: E402,F401 - registers "launch.control" (the engineer's actions)
