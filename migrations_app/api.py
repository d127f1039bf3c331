"""The planning endpoints under /api/, registered by each part."""

from .dependencies.api import register as register_dependencies
from .launch.api import register as register_launch
from .planner.api import register as register_planner
from .readiness.api import register as register_readiness
from .reports.api import register as register_reports
from .waves.api import register as register_waves


def register(router):
    register_dependencies(router)
    register_waves(router)
    register_readiness(router)
    register_planner(router)
    register_launch(router)
    register_reports(router)
