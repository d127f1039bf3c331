"""Job handlers of the planning app (found by core.jobs through autodiscovery); each part adds its own."""

from .dependencies import jobs as dependency_jobs  # noqa: F401
from .launch import dry_run as launch_dry_run  # noqa: F401 - "launch.validate_wave", the dry run in HCX
from .launch import jobs as launch_jobs  # noqa: F401
