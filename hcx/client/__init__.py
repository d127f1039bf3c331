"""Clients for the HCX service API, the HCX appliance API and the AVS side of Azure Resource
Manager. Plain HTTP (requests) with timeouts, safe-only retries and typed errors (errors.py); no
Django, so job handlers, commands and tests use them alike."""

from .appliance import HcxAppliance
from .avs import AvsClient
from .errors import (
    AvsAuthError,
    AvsError,
    HcxActivationRefused,
    HcxAuthError,
    HcxCertificateUntrusted,
    HcxConflict,
    HcxError,
    HcxJobFailed,
    HcxNotFound,
    HcxUnavailable,
)
from .polling import Waiter
from .service import HcxService, Job, Started, Task
from .transport import Retry

__all__ = [
    "AvsAuthError",
    "AvsClient",
    "AvsError",
    "HcxActivationRefused",
    "HcxAppliance",
    "HcxAuthError",
    "HcxCertificateUntrusted",
    "HcxConflict",
    "HcxError",
    "HcxJobFailed",
    "HcxNotFound",
    "HcxService",
    "HcxUnavailable",
    "Job",
    "Retry",
    "Started",
    "Task",
    "Waiter",
]
