"""The demo's plan: St Mary's estate grouped, a little connection data, a target cluster and three waves,
so that a new user finds the planning pages alive (`load_demo` runs it after the estate and HCX plan).

Everything is made as a user would make it, through the same action functions the pages call, by the
demo planner (groups, data, cluster, waves, submissions) and the demo engineer (the approval):

- groups from the estate's vSphere tags ("Application:..."), one from a name pattern; the EHR, PACS
  and LIS servers are left ungrouped on purpose, so that the imported connections between them show
  up as suggested move groups and in the graph;
- a small dependency import (a plain CSV, see CONNECTIONS), with two endpoints outside the inventory;
- a target cluster on the demo plan "Main datacenter";
- the pilot wave, APPROVED: readiness clean, its networks mapped to the networks the plan extends;
  the second wave SUBMITTED; the third a DRAFT whose readiness shows what is still to fix.

Idempotent: each piece is made once and left alone afterwards (a demo user's edits survive a restart).
It reads only the demo estate and plan, so it works with the vCenter and HCX simulators off.
"""

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.roles import ENGINEER, PLANNER
from hcx.choices import MigrationType
from hcx.models import HcxPlan
from inventory.models import Network
from migrations_app.choices import AvsSku, DependencyFormat, GroupSource, MappingTarget, Risk, WaveStatus
from migrations_app.dependencies.actions import do_create_groups, do_save_group
from migrations_app.dependencies.builders import from_pattern, from_tags
from migrations_app.dependencies.importer import import_file
from migrations_app.models import DependencyGroup, DependencyImport, TargetCluster, Wave
from migrations_app.readiness.actions import do_run_readiness
from migrations_app.readiness.approval import do_approve, do_submit
from migrations_app.waves.actions import (
    do_add_groups,
    do_create_wave,
    do_save_mapping,
    do_save_target_cluster,
)

CLUSTER = "Cluster-1"
DOMAIN = "stmarys-health.local"  # connection data names the sources fully qualified; matching takes both
TIME_ZONE = "Europe/London"
DEPENDENCY_FILE = "smh-demo-connections.csv"
CHANGE_TICKET = "CHG0042001"
# (tag, priority, risk, owner): the groups made from the estate's tags; lower priority moves earlier.
TAG_GROUPS = [
    ("Application:DNS/DHCP", 10, Risk.LOW, "Infrastructure"),
    ("Application:Print", 10, Risk.LOW, "Infrastructure"),
    ("Application:Active Directory", 20, Risk.MEDIUM, "Infrastructure"),
    ("Application:File Services", 20, Risk.MEDIUM, "Infrastructure"),
    ("Application:Monitoring", 30, Risk.LOW, "Infrastructure"),
]
PATTERN_GROUP = ("bkp-proxy*", "Backup proxies", 30, Risk.MEDIUM, "Infrastructure")


@dataclass(frozen=True)
class DemoWave:
    name: str
    sequence: int
    weeks_ahead: int  # the change window is that many Saturdays from now, 22:00-04:00 London time
    groups: tuple[str, ...]
    # source network -> the AVS segment it lands on. Not an extended network: the demo plan extends the
    # simulator's App-VLAN101/102, whose VLANs none of the demo estate's port groups share, and a VLAN
    # landing on another VLAN's extension is a readiness blocker (waves/network_targets.py). The
    # segments are typed (the demo reads no AVS inventory), so readiness warns that it cannot check them.
    mappings: dict[str, str]
    status: str
    pilot: bool = False
    notes: str = ""


WAVES = [
    DemoWave(
        "Pilot: DNS and print",
        10,
        1,
        ("DNS/DHCP", "Print"),
        {"dvpg-infra-vlan10": "seg-infra-vlan10"},
        WaveStatus.APPROVED,
        pilot=True,
        notes="Low-risk infrastructure first: proves the service mesh, the extended networks and the runbook.",
    ),
    DemoWave(
        "Wave 2: directory and files",
        20,
        2,
        ("Active Directory", "File Services"),
        {"dvpg-infra-vlan10": "seg-infra-vlan10", "dvpg-files-vlan160": "seg-files-vlan160"},
        WaveStatus.SUBMITTED,
    ),
    # The monitoring trunk port group stays unmapped: the draft's readiness shows what is left to do.
    DemoWave(
        "Wave 3: monitoring and backup",
        30,
        3,
        ("Monitoring", "Backup proxies"),
        {"dvpg-mgmt-vlan5": "seg-mgmt-vlan5"},
        WaveStatus.DRAFT,
    ),
]

# source, destination, port, times seen: what a few days of connection data would show.
CONNECTIONS = [
    *[(f"ehr-web{n:02}", f"ehr-app{n:02}", 8443, 24) for n in range(1, 9)],
    *[(f"ehr-app{n:02}", "ehr-db01", 5432, 40) for n in range(1, 17)],
    ("ehr-db01", "ehr-db02", 5432, 60),  # streaming replication
    *[(f"ehr-iface{n:02}", "ehr-app01", 2575, 12) for n in range(1, 5)],
    *[(f"ehr-print{n:02}", f"ehr-app0{n}", 9100, 3) for n in range(1, 5)],
    *[(f"pacs-web{n:02}", f"pacs-img0{n}", 104, 18) for n in range(1, 4)],
    *[(f"pacs-img{n:02}", "pacs-db01", 1433, 30) for n in range(1, 7)],
    ("pacs-db01", "pacs-db02", 5022, 60),  # availability group
    ("pacs-img01", "pacs-arch01", 2049, 9),
    *[(f"lis-app{n:02}", "lis-db01", 1521, 20) for n in range(1, 5)],
    ("lis-db01", "lis-db02", 1521, 30),  # Data Guard
    *[(f"lis-iface{n:02}", "lis-app01", 2575, 15) for n in range(1, 3)],
    # Infrastructure ports: in the graph, left out of the suggestions (DEPENDENCIES["INFRASTRUCTURE_PORTS"]).
    *[(f"{vm}", "dc01", 389, 50) for vm in ("ehr-app01", "pacs-img01", "lis-app01", "fs01", "print01")],
    *[(f"{vm}", "dns01", 53, 80) for vm in ("ehr-web01", "pacs-web01", "lis-app01", "print01")],
    # Outside the inventory: what stays behind is what a planner must see.
    ("ehr-iface01", "10.20.0.15", 2575, 10),
    ("web-portal01", "payments.partner.example", 443, 6),
]


@dataclass
class Report:
    skipped: str = ""
    made: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.made)


def load_planning() -> Report:
    """Make what is missing of the demo plan; returns what was made (nothing on a second run)."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[PLANNER, ENGINEER])}
    if set(users) != {PLANNER, ENGINEER}:
        return Report(skipped=f"no demo users {PLANNER!r} and {ENGINEER!r} (run create_demo_users first)")
    site = HcxPlan.objects.filter(name="Main datacenter").first()
    if site is None:
        return Report(skipped="no demo HCX plan 'Main datacenter'")
    planner, engineer = users[PLANNER], users[ENGINEER]
    report = Report()
    _groups(planner, report)
    _connections(planner, report)
    cluster = _cluster(site, planner, report)
    for wave in WAVES:
        if not Wave.objects.filter(name=wave.name).exists():
            _wave(wave, site, cluster, planner, engineer, report)
    return report


def _groups(planner, report: Report) -> None:
    for tag, priority, risk, owner in TAG_GROUPS:
        _build(
            from_tags(tag=tag), GroupSource.TAG, planner, report, priority=priority, risk=risk, owner=owner
        )
    pattern, name, priority, risk, owner = PATTERN_GROUP
    _build(
        from_pattern(pattern=pattern, name=name),
        GroupSource.PATTERN,
        planner,
        report,
        priority=priority,
        risk=risk,
        owner=owner,
    )


def _build(proposals, source, planner, report: Report, **fields) -> None:
    new = [p for p in proposals if p.existing is None and p.members]
    if not new:
        return  # made on an earlier run (a builder would only top it up with VMs grouped since)
    with transaction.atomic():
        groups, added = do_create_groups(new, acting_user=planner, source=source)
        for group in groups:
            for name, value in fields.items():
                setattr(group, name, value)
            do_save_group(group, acting_user=planner, changed=sorted(fields))
    report.made.append(
        f"group{'s' if len(groups) != 1 else ''} {', '.join(g.name for g in groups)} ({added} VMs)"
    )


def _connections(planner, report: Report) -> None:
    if DependencyImport.objects.filter(file_name=DEPENDENCY_FILE).exists():
        return
    lines = ["source,destination,port,protocol"]
    for source, destination, port, seen in CONNECTIONS:
        lines += [f"{source}.{DOMAIN},{destination},{port},tcp"] * seen
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / DEPENDENCY_FILE
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        done = import_file(path, DEPENDENCY_FILE, format=DependencyFormat.CSV, user=planner)
    report.made.append(
        f"dependency import {DEPENDENCY_FILE} ({done.edges} connections, {done.external} external)"
    )


def _cluster(site: HcxPlan, planner, report: Report) -> TargetCluster:
    cluster = TargetCluster.objects.filter(site=site, name=CLUSTER).first()
    if cluster is not None:
        return cluster
    cluster = TargetCluster(
        site=site,
        name=CLUSTER,
        sku=AvsSku.AV36P,
        hosts=6,
        failures_to_tolerate=1,
        datastores=["vsanDatastore"],
        folders=["Migrated VMs"],
    )
    cluster.full_clean()
    do_save_target_cluster(cluster, acting_user=planner)
    report.made.append(f"target cluster {cluster}")
    return cluster


def _window(weeks_ahead: int) -> tuple[datetime, datetime]:
    """22:00 on the `weeks_ahead`th Saturday from today to 04:00 the next morning, London time."""
    zone = ZoneInfo(TIME_ZONE)
    today = timezone.now().astimezone(zone).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks_ahead - 1)
    start = datetime.combine(saturday, time(22, 0), tzinfo=zone)
    return start, start + timedelta(hours=6)


def _wave(spec: DemoWave, site, cluster, planner, engineer, report: Report) -> None:
    start, end = _window(spec.weeks_ahead)
    wave = do_create_wave(
        {
            "name": spec.name,
            "sequence": spec.sequence,
            "pilot": spec.pilot,
            "window_start": start,
            "window_end": end,
            "time_zone": TIME_ZONE,
            "site": site,
            "target_cluster": cluster,
            "target_datastore": "vsanDatastore",
            "target_folder": "Migrated VMs",
            "migration_type": MigrationType.BULK,
            "notes": spec.notes,
        },
        acting_user=planner,
    )
    groups = DependencyGroup.objects.filter(name__in=spec.groups).values_list("pk", flat=True)
    do_add_groups(wave.pk, list(groups), acting_user=planner)
    sources = {
        n.name: n for n in Network.objects.filter(vcenter_id=site.vcenter_id, name__in=list(spec.mappings))
    }
    for source, target in spec.mappings.items():
        if source in sources:
            do_save_mapping(wave.pk, sources[source], MappingTarget.SEGMENT, target, acting_user=planner)
    wave.refresh_from_db()
    if spec.status == WaveStatus.DRAFT:
        checked = do_run_readiness(wave, acting_user=planner)
    else:
        checked = do_submit(wave, acting_user=planner, revision=wave.revision)
        if spec.status == WaveStatus.APPROVED:
            do_approve(
                wave,
                acting_user=engineer,
                change_ticket=CHANGE_TICKET,
                revision=wave.revision,
                comment="Pilot approved at the CAB: low risk, rollback by reverse migration.",
            )
    wave.refresh_from_db()
    report.made.append(
        f"wave {wave.name} ({wave.get_status_display().lower()}, {checked.blockers} blockers, "
        f"{checked.warnings} warnings)"
    )
