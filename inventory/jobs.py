"""Job handlers of the inventory app (found by core.jobs through autodiscovery)."""

from .discovery import jobs as discovery_jobs  # noqa: F401
from .rvtools import jobs as rvtools_jobs  # noqa: F401
