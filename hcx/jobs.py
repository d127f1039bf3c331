"""Job handlers of the hcx app, imported here so that core.jobs finds them (it imports every app's `jobs`)."""

from .deploy import jobs as deploy_jobs  # noqa: F401 - registers "hcx.deploy_connector"
from .setup import runner as setup_runner  # noqa: F401,E402 - registers "hcx.setup"
