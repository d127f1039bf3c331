"""What an action on migrations will do, in words, for its confirmation page: what HCX does to the
VMs, and the downtime to expect. Only what docs/hcx-wire.md §9 says HCX does; the minutes are the
planner's assumptions (settings.MIGRATION_ESTIMATES), said as such.
"""

from django.conf import settings

from hcx.choices import MigrationType

from .specs import WINDOWED

# hcx-wire.md §9.2: what each type's switchover does.
SWITCHOVER_WORDS = {
    MigrationType.BULK: (
        "Bulk: HCX powers off the source VM, runs a final delta sync and powers the VM on in AVS "
        "(it boots there). The VM is down from the power-off until it has booted in AVS."
    ),
    MigrationType.RAV: (
        "RAV: a delta vMotion cuts each VM over while it runs, one VM at a time, in an order HCX chooses."
    ),
}


def _minutes(migration_type: str) -> str:
    low, high = settings.MIGRATION_ESTIMATES[f"{migration_type.upper()}_SWITCHOVER_MINUTES"]
    return f"{low}–{high} min" if low != high else f"{low} min"


def _types(migrations) -> list[str]:
    seen = {m.migration_type for m in migrations}
    return [t for t in MigrationType.values if t in seen]


def switchover_now(migrations) -> list[str]:
    lines = [
        "HCX clears their switchover window: each switches over as soon as its copy is done, "
        "at once for those waiting for the window."
    ]
    for t in _types(migrations):
        if t in WINDOWED:
            lines.append(SWITCHOVER_WORDS[t])
            count = sum(1 for m in migrations if m.migration_type == t)
            what = (
                "Expected switchover time, one VM after another"
                if t == MigrationType.RAV
                else "Expected downtime per VM"
            )
            lines.append(
                f"{what}: {_minutes(t)} for {count} {MigrationType(t).label} VM{'s' if count != 1 else ''} "
                "(the planner's assumption)."
            )
    return lines


def move_window(migrations) -> list[str]:
    return [
        "HCX keeps copying and keeps the copies in step with delta syncs until the new window opens; "
        "then each switches over as below.",
        *switchover_now(migrations)[1:],
    ]


def rollback(migrations) -> list[str]:
    lines = [
        "A reverse migration: HCX migrates each VM from AVS back to the source site, with the same "
        "migration type, onto the cluster, folder and datastore it came from. It starts at once, not in "
        "the change window, and switches over as soon as its copy is done."
    ]
    for t in _types(migrations):
        if t == MigrationType.BULK:
            lines.append(
                "Bulk: the VM in AVS is powered off for the final sync and boots again at the source "
                f"site: expect {_minutes(t)} of downtime per VM (the planner's assumption)."
            )
        elif t in (MigrationType.VMOTION, MigrationType.RAV):
            lines.append(f"{MigrationType(t).label}: moved back live, one VM at a time.")
        elif t == MigrationType.COLD:
            lines.append("Cold: the VM stays powered off while it is copied back.")
    lines.append("The VM keeps running in AVS until its rollback switches over.")
    return lines


def retry(migrations) -> list[str]:
    lines = ["A new attempt of each migration, of the same type, sent to HCX at the next dispatch."]
    if any(m.migration_type in WINDOWED and m.seed_checkpoint for m in migrations):
        lines.append(
            "Bulk and RAV with a Seed Checkpoint start from the disks HCX kept, so only what is "
            "missing is copied again."
        )
    if any(m.migration_type in WINDOWED for m in migrations):
        lines.append(
            "Bulk and RAV wait for the wave's change window (if it has one) to switch over, as the first attempt did."
        )
    return lines


WORDS = {"switchover_now": switchover_now, "move_window": move_window, "rollback": rollback, "retry": retry}


def consequences(action: str, migrations) -> list[str]:
    """The lines the confirmation page says for `action` on `migrations` (those it applies to)."""
    words = WORDS.get(action)
    return words(list(migrations)) if words and migrations else []
