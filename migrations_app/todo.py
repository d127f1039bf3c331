"""What needs doing, for the home page: per kind of work, the items waiting and a link to where each
is done.

Which lists a person sees follows their permissions (core/roles.py), not their role's name: an
engineer approves, launches and sets up HCX; a planner shapes waves; an admin holds both. Each list
is one query (at most SHOWN rows; a count only when there are more), whatever the size of the
estate: no query per item.

- Engineers: waves waiting for approval, approved or running waves in or near their change window,
  failed migrations (each VM's latest attempt), HCX set-up steps that need a person (a certificate to
  trust, a failed step) and sites whose stored HCX password HCX refuses.
- Planners: draft or rejected waves with readiness blockers, VMs in no wave yet, and target clusters
  the waves planned into them overfill (waves/capacity.py), plus waves over their own caps.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Q, Value
from django.urls import reverse
from django.utils import timezone

from core.access import user_can
from hcx.choices import SetupStepKey, StepState
from inventory.querysets import count_subquery
from migrations_app.choices import FindingSeverity, MigrationState, WaveStatus

SHOWN = 10  # items per list; the list's own page has the rest
# "Near" a change window: it opens within this time. A day ahead leaves the engineer time to check
# the site and the batches before the window opens.
NEAR_WINDOW = datetime.timedelta(hours=24)


@dataclass
class Item:
    text: str
    url: str
    detail: str = ""
    color: str = "secondary"
    badge: str = ""


@dataclass
class TodoList:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    more: int = 0  # items beyond SHOWN
    more_url: str = ""
    empty: str = "Nothing waiting."
    count: int | None = None  # what the list's badge says, when it is not its number of items

    @property
    def total(self) -> int:
        return self.count if self.count is not None else len(self.items) + self.more


def _cut(rows: list, queryset) -> tuple[list, int]:
    """SHOWN rows of SHOWN + 1 read, and how many more there are (counted only when there are)."""
    if len(rows) <= SHOWN:
        return rows, 0
    return rows[:SHOWN], queryset.count() - SHOWN


# --- engineers ---------------------------------------------------------------------------------------


def approvals_waiting() -> TodoList:
    from migrations_app.models import Wave

    waves = (
        Wave.objects.filter(status=WaveStatus.SUBMITTED)
        .select_related("submitted_by")
        .order_by("submitted_at", "pk")
    )
    rows, more = _cut(list(waves[: SHOWN + 1]), waves)
    return TodoList(
        "approvals",
        "Waves waiting for your approval",
        [
            Item(
                w.name,
                w.get_absolute_url(),
                detail=f"revision {w.revision}, submitted"
                + (f" by {w.submitted_by}" if w.submitted_by else "")
                + (f" {timezone.localtime(w.submitted_at):%Y-%m-%d %H:%M}" if w.submitted_at else ""),
                color="info",
                badge="to approve",
            )
            for w in rows
        ],
        more,
        reverse("migrations_app:approval_list"),
        "No wave waits for approval.",
    )


def windows_now(now: datetime.datetime) -> TodoList:
    from migrations_app.models import Wave
    from migrations_app.waves.display import window_text

    waves = Wave.objects.filter(
        status__in=[WaveStatus.APPROVED, WaveStatus.RUNNING],
        window_start__lte=now + NEAR_WINDOW,
        window_end__gte=now,
    ).order_by("window_start", "pk")
    rows, more = _cut(list(waves[: SHOWN + 1]), waves)
    items = []
    for w in rows:
        open_now = w.window_start <= now
        items.append(
            Item(
                w.name,
                reverse("migrations_app:wave_progress", args=[w.pk]),
                detail=f"{w.get_status_display()}: {window_text(w)}",
                color="success" if open_now else "warning",
                badge="window open" if open_now else "window soon",
            )
        )
    return TodoList(
        "windows",
        "Change windows open or opening within a day",
        items,
        more,
        reverse("migrations_app:wave_list"),
        "No approved wave has its change window now or within a day.",
    )


def failed_migrations() -> TodoList:
    from migrations_app.reports.dashboard import latest_attempts

    failed = latest_attempts().filter(state__in=[MigrationState.FAILED, MigrationState.REFUSED])
    rows, more = _cut(
        list(failed.select_related("vm", "wave").order_by("-ended", "-pk")[: SHOWN + 1]), failed
    )
    return TodoList(
        "failed",
        "Failed migrations",
        [
            Item(
                m.vm.name,
                reverse("migrations_app:vmmigration", args=[m.pk]),
                detail=f"{m.wave.name}, attempt {m.attempt}" + (f": {m.message}" if m.message else ""),
                color=MigrationState.COLORS[m.state],
                badge=str(MigrationState(m.state).label),
            )
            for m in rows
        ],
        more,
        reverse("migrations_app:vmmigration_list")
        + f"?state={MigrationState.FAILED}&state={MigrationState.REFUSED}",
        "No migration has failed.",
    )


def setup_needs() -> TodoList:
    """Set-up steps that wait for a person, and sites whose stored HCX password HCX refuses."""
    from hcx.models import HcxConnection, HcxSetupStep

    steps = (
        HcxSetupStep.objects.filter(state__in=[StepState.NEEDS_INPUT, StepState.FAILED])
        .select_related("plan")
        .order_by("plan__name", "plan_id", "id")
    )
    rows, more = _cut(list(steps[: SHOWN + 1]), steps)
    items = []
    for step in rows:
        if step.state == StepState.NEEDS_INPUT and (step.data or {}).get("certificate"):
            what = "a certificate to check and trust"
        elif step.state == StepState.NEEDS_INPUT:
            what = "needs your decision"
        else:
            what = "failed: " + (step.message.splitlines()[0][:200] if step.message else "see its job")
        items.append(
            Item(
                f"{step.plan.name}: {SetupStepKey(step.step).label}",
                reverse("hcx:hcxplan_setup", args=[step.plan_id]),
                detail=what,
                color=StepState.COLORS[step.state],
                badge=str(StepState(step.state).label),
            )
        )
    # Only what the item says: the connection's secrets are neither read nor decrypted.
    refused = (
        HcxConnection.objects.filter(login_failures__gt=0)
        .select_related("plan")
        .only("plan", "plan__name", "username", "login_failures")
        .order_by("plan__name", "pk")
    )
    logins, more_logins = _cut(list(refused[: SHOWN + 1]), refused)
    limit = settings.HCX_LOGIN["MAX_FAILURES"]
    for c in logins:
        items.append(
            Item(
                f"{c.plan.name}: HCX refuses the stored password",
                reverse("hcx:hcxplan_connection", args=[c.plan_id]),
                detail=f"{c.username}, {c.login_failures} failed login{'s' if c.login_failures != 1 else ''} in a row"
                + (
                    ": the portal stopped logging in, save the right password"
                    if c.login_failures >= limit
                    else ""
                ),
                color="danger",
                badge="password",
            )
        )
    return TodoList(
        "setup",
        "HCX set-up waiting for you",
        items,
        more + more_logins,
        reverse("hcx:hcxplan_list"),
        "No set-up step waits for you.",
    )


# --- planners ----------------------------------------------------------------------------------------


def drafts_with_blockers() -> TodoList:
    from migrations_app.models import ReadinessFinding, Wave

    blockers = ReadinessFinding.objects.filter(wave=OuterRef("pk"), severity=FindingSeverity.BLOCKER)
    waves = (
        Wave.objects.filter(status__in=[WaveStatus.DRAFT, WaveStatus.REJECTED])
        .annotate(blockers=count_subquery(blockers, "wave"))
        .filter(blockers__gt=0)
        .order_by("sequence", "window_start", "pk")
    )
    rows, more = _cut(list(waves[: SHOWN + 1]), waves)
    items = []
    for w in rows:
        stale = w.readiness_revision != w.revision
        items.append(
            Item(
                w.name,
                reverse("migrations_app:wave_readiness", args=[w.pk]),
                detail=f"{w.blockers} blocker{'s' if w.blockers != 1 else ''}"
                + (" (checked before the last change: check again)" if stale else ""),
                color="danger",
                badge=w.get_status_display(),
            )
        )
    return TodoList(
        "blockers",
        "Waves with readiness blockers",
        items,
        more,
        reverse("migrations_app:wave_list"),
        "No draft wave has a readiness blocker.",
    )


def unplanned_vms() -> TodoList:
    from inventory.filtersets import unplanned
    from inventory.models import VirtualMachine

    count = unplanned(VirtualMachine.objects.filter(removed__isnull=True)).count()
    url = reverse("inventory:virtualmachine_list") + "?unplanned=true"
    items = (
        [
            Item(
                f"{count:,} VM{'s' if count != 1 else ''} in no wave yet",
                url,
                detail="neither in a wave nor in AVS already",
                color="warning",
                badge="unplanned",
            )
        ]
        if count
        else []
    )
    return TodoList(
        "unplanned", "VMs to plan", items, 0, "", "Every VM is in a wave (or in AVS already).", count
    )


def capacity_conflicts() -> TodoList:
    """Target clusters that their waves overfill, and waves over their own VM or TB cap."""
    from migrations_app.waves import querysets
    from migrations_app.waves.capacity import MIB_PER_TB, Resource, Totals, cap_warnings, usable_capacity

    items = []
    # Target clusters are few (an AVS private cloud has at most 12): every one that has waves is read.
    for cluster in querysets.target_clusters().filter(wave_count__gt=0).order_by("site__name", "name"):
        if cluster.sku not in settings.AVS_HOST_TYPES:
            continue
        capacity = usable_capacity(cluster)
        planned = Totals(
            vms=cluster.vm_count,
            vcpus=cluster.vcpus,
            memory_mib=cluster.memory_mib,
            used_mib=cluster.used_mib,
        )
        short = [
            r
            for r in (
                Resource("vCPUs", "vCPU", planned.vcpus, 0, capacity.vcpus),
                Resource("memory", "GiB", planned.memory_gb, 0, capacity.memory_gb),
                Resource("vSAN storage", "TiB", planned.used_tb, 0, capacity.storage_tb),
            )
            if not r.fits
        ]
        if short:
            items.append(
                Item(
                    f"{cluster.name} ({cluster.site.name}) is overfilled",
                    reverse("migrations_app:targetcluster", args=[cluster.pk]),
                    detail="; ".join(
                        f"{r.label}: {r.planned:,.1f} {r.unit} planned, {r.usable:,.1f} usable" for r in short
                    ),
                    color="danger",
                    badge="capacity",
                )
            )
    tb_cap_mib = ExpressionWrapper(F("max_tb") * Value(MIB_PER_TB), output_field=DecimalField())
    capped = (
        querysets.waves()
        .exclude(status=WaveStatus.COMPLETED)
        .filter(Q(vm_count__gt=F("max_vms")) | Q(used_mib__gt=tb_cap_mib))
        .order_by("sequence", "pk")
    )
    capped_rows = list(capped[: SHOWN + 1])
    unread = capped.count() - len(capped_rows) if len(capped_rows) > SHOWN else 0
    for w in capped_rows:
        warnings = cap_warnings(w, Totals(vms=w.vm_count, used_mib=w.used_mib))
        if warnings:
            items.append(
                Item(
                    f"{w.name} is over its cap",
                    w.get_absolute_url(),
                    detail="; ".join(str(c) for c in warnings),
                    color="warning",
                    badge="cap",
                )
            )
    rows, more = items[:SHOWN], max(len(items) - SHOWN, 0) + unread
    return TodoList(
        "capacity",
        "Capacity conflicts",
        rows,
        more,
        reverse("migrations_app:targetcluster_list"),
        "Every target cluster holds what is planned into it.",
    )


# --- per person --------------------------------------------------------------------------------------


def engineer_lists(user, now=None) -> list[TodoList]:
    from hcx.models import HcxPlan
    from migrations_app.models import Batch, Wave

    now = now or timezone.now()
    lists = []
    if user_can(user, Wave, "approve_wave"):
        lists.append(approvals_waiting())
    if user_can(user, Batch, "launch_wave"):
        lists.append(windows_now(now))
    if user_can(user, Batch, "control_migration"):
        lists.append(failed_migrations())
    if user_can(user, HcxPlan, "run_setup"):
        lists.append(setup_needs())
    return lists


def planner_lists(user) -> list[TodoList]:
    from inventory.models import VirtualMachine
    from migrations_app.models import Wave

    if not user_can(user, Wave, "change"):
        return []
    lists = [drafts_with_blockers()]
    if user_can(user, VirtualMachine, "view"):
        lists.append(unplanned_vms())
    lists.append(capacity_conflicts())
    return lists
