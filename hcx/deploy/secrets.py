"""Handing the Connector's two appliance passwords from the request to the deployment job.

TEMPORARY, until the HCX plan stores them encrypted: the caller writes them, Fernet-encrypted,
to the shared "handoff" cache under a key derived from the job's id, with a short TTL; the job
reads them once and deletes them. They never go into Job.params, Job.data or the job's log.
"""

import json

from django.core.cache import caches

from core.fields import decrypt, encrypt
from core.jobs import JobError

TTL_SECONDS = 15 * 60


def _key(job) -> str:
    return f"hcx.deploy.passwords.{job.pk}"


def stash_connector_passwords(job, admin_password: str, root_password: str, ttl: int = TTL_SECONDS):
    caches["handoff"].set(_key(job), encrypt(json.dumps([admin_password, root_password])), ttl)


def get_connector_passwords(job) -> tuple[str, str]:
    """(admin, root). One read only: the entry is gone afterwards."""
    cache = caches["handoff"]
    token = cache.get(_key(job))
    cache.delete(_key(job))
    if token is None:
        raise JobError(
            "The appliance passwords for this deployment are no longer available (they are kept "
            f"{TTL_SECONDS // 60} minutes and read once). Start the deployment again."
        )
    admin, root = json.loads(decrypt(token))
    return admin, root


def discard_connector_passwords(job):
    caches["handoff"].delete(_key(job))
