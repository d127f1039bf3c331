"""The discovery job: `Job.enqueue("inventory.discover_vcenter", params={"vcenter_id": id})`.

Only the id travels in the params; the password stays encrypted in the VCenter row.
"""

from core.jobs import JobError, job_handler

from ..models import VCenter
from .discover import discover


@job_handler("inventory.discover_vcenter")
def discover_vcenter(job, vcenter_id: int):
    vcenter = VCenter.objects.filter(pk=vcenter_id).first()
    if vcenter is None:
        raise JobError(f"vCenter #{vcenter_id} no longer exists")
    last = {"text": None}

    def report(percent, text):
        job.set_progress(percent, text)
        if text != last["text"]:
            job.log(text)
            last["text"] = text

    return discover(vcenter, report=report, check_cancelled=job.check_cancelled)
