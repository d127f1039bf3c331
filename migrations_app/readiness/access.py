"""Who may do what in readiness and approval, as permissions held by roles (core/roles.py), asked
in one place by the pages, the panels and the API.

- Running the readiness checks changes no plan, only its findings: whoever submits (planners) or
  approves (engineers) waves may run them.
- Switching a VM's migration type edits the wave: it needs the change permission on wave items.
- Submitting needs submit_wave (planners); approving and rejecting need approve_wave (engineers),
  and never on one's own submission (approval.py checks that, for admins too).
"""

from core.access import user_can
from migrations_app.models import Wave, WaveItem


def can_run_readiness(user) -> bool:
    return user_can(user, Wave, "submit_wave") or user_can(user, Wave, "approve_wave")


def can_switch_type(user) -> bool:
    return user_can(user, WaveItem, "change")


def can_submit(user) -> bool:
    return user_can(user, Wave, "submit_wave")


def can_decide(user) -> bool:
    return user_can(user, Wave, "approve_wave")
