"""Which wave states allow which changes, named once (code checks `status in X`, never string literals).

A wave that runs or has run is history: nothing of it changes here. Waiting for approval or
approved waves may change, but the change sends them back to DRAFT (waves/revisions.py).
"""

from migrations_app.choices import WaveStatus

# Planning data (fields, VMs, mappings) may change in these states.
EDITABLE = (WaveStatus.DRAFT, WaveStatus.REJECTED, WaveStatus.SUBMITTED, WaveStatus.APPROVED)
# A change in these states withdraws the submission or approval: the wave becomes a draft again.
WITHDRAWN_BY_CHANGE = (WaveStatus.SUBMITTED, WaveStatus.APPROVED)
# Only waves nobody has asked to approve, or that were turned down, can be deleted.
DELETABLE = (WaveStatus.DRAFT, WaveStatus.REJECTED)
# Launched or done: read-only.
LOCKED = (WaveStatus.RUNNING, WaveStatus.COMPLETED)
# Batches may be made and sent only in these (launch/batches.py, launch/binding.py).
LAUNCHABLE = (WaveStatus.APPROVED, WaveStatus.RUNNING)
