"""Where one VM is in the programme, for its inventory page: its dependency group, its wave, the
readiness findings of that wave for it, its migration history, and where it runs now.

Where it runs: the latest of its migrations that switched over decides (a migration to AVS puts it
in AVS, a rollback brings it back on-premises). HCX switches a VM over before it cleans up, so a
migration in cleanup counts as well as a complete one. With no such migration in the portal, a
discovery that found HCX's on-premises copy (inventory/migrated_copies.py) says it is in AVS, moved
outside the portal; else it is on-premises.

A fixed number of queries: the group and the wave come with the VM (`select_related`), then one for
the findings and one for the newest HISTORY_SHOWN migrations (and one for the latest switchover when it is
older than those).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist

from core.access import user_can
from migrations_app.choices import MigrationDirection, MigrationState, WaveStatus
from migrations_app.models import ReadinessFinding, VmMigration, Wave
from migrations_app.waves.display import window_text

HISTORY_SHOWN = 20  # the newest attempts; the migration list filtered by the VM has them all
# A migration past these states has switched over: the VM runs where it was sent.
SWITCHED_OVER = (MigrationState.CLEANUP, MigrationState.COMPLETE)
RELATED = ("group_membership__group", "wave_item__wave")  # for the VM's queryset


@dataclass
class Location:
    in_avs: bool
    why: str
    migration: VmMigration | None = None

    @property
    def label(self) -> str:
        return "In AVS" if self.in_avs else "On-premises"

    @property
    def color(self) -> str:
        return "success" if self.in_avs else "secondary"


@dataclass
class VmStatus:
    group: object | None = None
    wave: Wave | None = None
    wave_window: str = ""
    wave_color: str = "secondary"
    findings: list[ReadinessFinding] = field(default_factory=list)
    findings_stale: bool = False
    history: list[VmMigration] = field(default_factory=list)
    more_history: bool = False
    location: Location | None = None


def _related(vm, name):
    """A reverse one-to-one that may be missing (select_related leaves it unset, not None)."""
    try:
        return getattr(vm, name)
    except ObjectDoesNotExist:
        return None


def vm_status(vm, user) -> VmStatus:
    status = VmStatus()
    if user_can(user, Wave, "view"):
        membership, item = _related(vm, "group_membership"), _related(vm, "wave_item")
        status.group = membership.group if membership else None
        status.wave = item.wave if item else None
        if status.wave is not None:
            status.wave_window = window_text(status.wave)
            status.wave_color = WaveStatus.COLORS.get(status.wave.status, "secondary")
        if status.wave is not None and user_can(user, ReadinessFinding, "view"):
            status.findings = list(
                ReadinessFinding.objects.filter(wave=status.wave, vm=vm).order_by("severity", "rule", "pk")
            )
            status.findings_stale = status.wave.readiness_revision != status.wave.revision
    if user_can(user, VmMigration, "view"):
        rows = list(
            VmMigration.objects.filter(vm=vm)
            .select_related("wave", "batch")
            .order_by("-created", "-pk")[: HISTORY_SHOWN + 1]
        )
        status.history, status.more_history = rows[:HISTORY_SHOWN], len(rows) > HISTORY_SHOWN
        # The history is newest first: its latest switchover is read there, unless part of it is not shown.
        last = next((m for m in status.history if m.state in SWITCHED_OVER), None)
        if last is None and status.more_history:
            last = (
                VmMigration.objects.filter(vm=vm, state__in=SWITCHED_OVER)
                .select_related("wave")
                .order_by("-created", "-pk")
                .first()
            )
        status.location = location(vm, last)
    return status


def location(vm, last: VmMigration | None) -> Location:
    """Where `vm` runs, given the latest of its migrations that switched over (None: none did)."""
    if last is not None:
        if last.direction == MigrationDirection.FORWARD:
            return Location(True, f"switched over to AVS by {last.wave.name}, attempt {last.attempt}", last)
        return Location(False, f"rolled back from AVS by {last.wave.name}, attempt {last.attempt}", last)
    if vm.migrated_copy_name:
        return Location(True, f"vCenter shows HCX's on-premises copy, {vm.migrated_copy_name}")
    return Location(False, "not migrated")
