"""The readiness and approval panels of the wave page (rendered HTML, safe-marked), also shown on the
readiness report page. Each reads a fixed number of queries whatever the wave's size: counts are
aggregated in the database, each rule lists its first VMs with "and N more", and the blocked VMs with
their "switch to" buttons are capped (the report page has them all).
"""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from core.choices import AuditAction
from core.models import AuditEntry
from hcx.choices import MigrationType
from migrations_app.choices import Decision, FindingSeverity, WaveStatus
from migrations_app.models import Approval, ReadinessFinding, Wave

from .access import can_decide, can_run_readiness, can_submit, can_switch_type
from .actions import summary
from .approval import APPROVE, HISTORY_ACTIONS, REJECT, SUBMIT, SUBMITTABLE, WITHDRAWN
from .evaluate import switch_options
from .rules import RULES_BY_NAME, title

VMS_PER_RULE = 8  # VM names listed under a rule before "and N more"
BLOCKED_VMS = 20  # blocked VMs with "switch to" buttons on the wave page; the report pages them
HISTORY = 20  # submissions, decisions and withdrawals shown, newest first


@dataclass
class RuleGroup:
    rule: str
    severity: str
    findings: int
    title: str = ""
    description: str = ""
    fix: str = ""
    rows: list = field(default_factory=list)

    @property
    def color(self) -> str:
        return FindingSeverity.COLORS[self.severity]

    @property
    def more(self) -> int:
        return self.findings - len(self.rows)


def rule_groups(wave: Wave, per_rule: int = VMS_PER_RULE) -> list[RuleGroup]:
    """Findings grouped by rule and severity, blockers first, each with its first findings by VM name:
    two queries (the counts, and the first rows per group through a window function)."""
    groups = {
        (row["rule"], row["severity"]): RuleGroup(row["rule"], row["severity"], row["findings"])
        for row in ReadinessFinding.objects.filter(wave=wave)
        .order_by()
        .values("rule", "severity")
        .annotate(findings=Count("pk"))
    }
    firsts = (
        ReadinessFinding.objects.filter(wave=wave)
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("rule"), F("severity")],
                order_by=[F("vm__name").asc(nulls_first=True), F("pk").asc()],
            )
        )
        .filter(position__lte=per_rule)
        .values("rule", "severity", "vm_id", "vm__name", "migration_type", "message", "fix")
        .order_by("rule", "severity", "position")
    )
    for row in firsts:
        group = groups.get((row["rule"], row["severity"]))
        if group is not None:
            row["type_label"] = MigrationType(row["migration_type"]).label if row["migration_type"] else ""
            group.rows.append(row)
    for group in groups.values():
        rule = RULES_BY_NAME.get(group.rule)
        group.title = title(group.rule)
        group.description = rule.description if rule else ""
        group.fix = group.rows[0]["fix"] if group.rows else ""
    return sorted(groups.values(), key=lambda g: (g.severity != FindingSeverity.BLOCKER, -g.findings, g.rule))


@dataclass
class BlockedVm:
    id: int
    name: str
    migration_type: str
    rules: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)  # (type, label) that clear every blocker


def blocked_vms(wave: Wave, offset: int = 0, limit: int = BLOCKED_VMS) -> tuple[list[BlockedVm], int]:
    """One page of the wave's VMs with blockers (by name), with the migration types that would clear them."""
    blocked = ReadinessFinding.objects.filter(wave=wave, severity=FindingSeverity.BLOCKER, vm__isnull=False)
    total = blocked.values("vm_id").distinct().count()
    ids = list(
        blocked.order_by("vm__name", "vm_id")
        .values_list("vm_id", "vm__name")
        .distinct()[offset : offset + limit]
    )
    if not ids:
        return [], total
    vms = {vm_id: BlockedVm(vm_id, name, "") for vm_id, name in ids}
    for row in blocked.filter(vm_id__in=list(vms)).order_by("rule").values("vm_id", "rule", "migration_type"):
        vm = vms[row["vm_id"]]
        vm.migration_type = MigrationType(row["migration_type"]).label if row["migration_type"] else ""
        if title(row["rule"]) not in vm.rules:
            vm.rules.append(title(row["rule"]))
    for vm_id, types in switch_options(wave, vms).items():
        vms[vm_id].options = [(t, MigrationType(t).label) for t in types]
    return list(vms.values()), total


def readiness_context(
    wave: Wave, request, *, groups: bool = True, blocked_limit: int = BLOCKED_VMS, blocked_offset: int = 0
) -> dict:
    user = getattr(request, "user", None)
    counts = summary(wave)
    last_run = (
        AuditEntry.objects.filter(
            object_type=ContentType.objects.get_for_model(Wave),
            object_id=wave.pk,
            action=AuditAction.WAVE_CHECK_READINESS,
        )
        .select_related("user")
        .order_by("-created", "-id")
        .first()
    )
    blocked, blocked_total = blocked_vms(wave, blocked_offset, blocked_limit) if counts.blockers else ([], 0)
    return {
        "wave": wave,
        "summary": counts,
        "last_run": last_run,
        "groups": rule_groups(wave) if groups else [],
        "blocked": blocked,
        "blocked_total": blocked_total,
        "blocked_more": max(blocked_total - blocked_offset - len(blocked), 0),
        "can_run": can_run_readiness(user),
        "can_switch": can_switch_type(user) and wave.status not in (WaveStatus.RUNNING, WaveStatus.COMPLETED),
        "report_url": reverse("migrations_app:wave_readiness", args=[wave.pk]),
        "next": request.get_full_path() if request is not None else "",
    }


@dataclass
class HistoryEntry:
    kind: str  # submit, approve, reject, withdrawn
    text: str
    entry: AuditEntry

    @property
    def color(self) -> str:
        return {"approve": "success", "reject": "danger", "submit": "info", "withdrawn": "warning"}[self.kind]


def history(wave: Wave, limit: int = HISTORY) -> list[HistoryEntry]:
    """Submissions, decisions and withdrawals of the wave, newest first, from its audit rows."""
    rows = (
        AuditEntry.objects.filter(
            object_type=ContentType.objects.get_for_model(Wave), object_id=wave.pk, action__in=HISTORY_ACTIONS
        )
        .select_related("user")
        .order_by("-created", "-id")[:limit]
    )
    out = []
    for row in rows:
        revision = row.detail.get("revision")
        if row.action == SUBMIT:
            out.append(HistoryEntry("submit", f"Submitted revision {revision} for approval", row))
        elif row.action == APPROVE:
            out.append(HistoryEntry("approve", f"Approved revision {revision}", row))
        elif row.action == REJECT:
            out.append(HistoryEntry("reject", f"Rejected revision {revision}", row))
        elif row.action == WITHDRAWN:
            # changed() moved the revision on by one: the approval or submission was for the one before.
            what = "Approval" if row.detail.get("previous_status") == WaveStatus.APPROVED else "Submission"
            before = revision - 1 if isinstance(revision, int) else "?"
            out.append(
                HistoryEntry(
                    "withdrawn", f"{what} for revision {before} withdrawn at revision {revision}", row
                )
            )
    return out


def approval_context(wave: Wave, request) -> dict:
    user = getattr(request, "user", None)
    decision = Approval.objects.select_related("user").filter(wave=wave, revision=wave.revision).first()
    submitted_by = wave.submitted_by if wave.submitted_by_id else None
    own = bool(user and submitted_by and submitted_by.pk == user.pk)
    return {
        "wave": wave,
        "status_color": WaveStatus.COLORS[wave.status],
        "decision": decision,
        "approved": decision is not None and decision.decision == Decision.APPROVED,
        "submitted_by": submitted_by,
        "history": history(wave),
        "may_submit": can_submit(user) and wave.status in SUBMITTABLE and decision is None,
        "may_decide": can_decide(user)
        and wave.status == WaveStatus.SUBMITTED
        and decision is None
        and not own,
        "own_submission": own and wave.status == WaveStatus.SUBMITTED and can_decide(user),
        "rejected_same_revision": wave.status == WaveStatus.REJECTED and decision is not None,
        "next": request.get_full_path() if request is not None else "",
    }


def _render(template: str, context: dict, request) -> str:
    return mark_safe(render_to_string(template, context, request=request))  # noqa: S308 - our own template


def readiness_panel(context, wave) -> str:
    request = context.get("request")
    return _render("migrations_app/readiness_panel.html", readiness_context(wave, request), request)


def approval_panel(context, wave) -> str:
    request = context.get("request")
    return _render("migrations_app/approval_panel.html", approval_context(wave, request), request)
