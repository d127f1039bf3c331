"""The reconciler: what HCX says about a site's migrations, taken into the database.

A cycle (`reconcile_site`) is short and idempotent, so Celery beat runs it every
`LAUNCH["RECONCILE_SECONDS"]` and a killed worker loses nothing: the next cycle reads HCX again.

1. Take the site's lease (lease.py): one cycle per site at a time; a second one skips.
2. Read every in-flight migration of the site from HCX by id, `page_size` ids per query, so one query
   answers one page, whatever the number of migrations (never one query per VM).
3. Take each reading through `transitions.observe()` (the only place states change) and write the
   rows that changed in one statement (bulkwrite.py: `bulk_update(rows, OBSERVED_FIELDS)`, made fast
   enough for 1,000 rows) and their state changes with one `bulk_create`, in one transaction; then
   finish the site's waves that are done (rollup.py).
4. Send what waits, into the slots that freed up (dispatch.py).

HCX down, slow or answering 5xx: the cycle stops before writing anything and logs why; the next
cycle reads everything again. An expired session is logged in again by the client itself. HCX's
paging is not documented (docs/hcx-wire.md §6), so a migration missing from the paged answer is
asked for again by its id; only when HCX answers that question without it does it end FAILED, with a
message saying so, so that no wave waits forever on it and the engineer can retry it.

When a cycle sees migrations end, their mobility groups are archived in HCX once every migration of
the group is over (HCX refuses, 403, while one runs: the group is archived when its last one ends).
"""

import logging
import threading
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.live import wakeup
from hcx.client import HcxError, HcxService
from hcx.client.migrations import QUERY_PAGE_SIZE, MigrationProgress, Phase
from hcx.models import HcxPlan
from migrations_app.choices import MigrationState, WaveStatus
from migrations_app.models import MigrationEvent, VmMigration, Wave
from migrations_app.notifications import migrations_failed

from .bulkwrite import update_rows
from .errors import LaunchError
from .lease import site_lease
from .rollup import finish_waves
from .transitions import OBSERVED_FIELDS, observe

logger = logging.getLogger(__name__)
S = MigrationState


@dataclass
class CycleStats:
    """What one cycle did. `skipped` says why it did nothing (another cycle held the lease, or HCX
    could not be read)."""

    site: int
    hcx_calls: int = 0
    migrations_read: int = 0
    rows_written: int = 0
    events_written: int = 0
    waves_finished: int = 0
    missing: int = 0
    groups_archived: int = 0
    skipped: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


# --- the HCX client of a site ----------------------------------------------------------------------

_clients = threading.local()


def client_for(site: HcxPlan) -> HcxService:
    """The site's HCX client (site.py builds it as the set-up jobs do), kept between cycles of this
    worker thread so that a cycle does not log in each time: HCX's session outlives many cycles, and
    the client logs in again when it expires. A changed connection makes a new one. LaunchError when
    the site has no usable connection."""
    from .site import service_for

    connection = getattr(site, "connection", None)
    key = (connection.pk, connection.last_updated) if connection is not None else None
    cache = _clients.__dict__.setdefault("by_site", {})
    cached = cache.get(site.pk)
    if cached and cached[0] == key:
        return cached[1]
    if cached:
        cached[1].close()
    service = service_for(site)
    cache[site.pk] = (key, service)
    return service


def forget_clients():
    """Drop this thread's cached clients (their sessions): for tests that restart the simulator."""
    for _key, service in getattr(_clients, "by_site", {}).values():
        service.close()
    _clients.__dict__["by_site"] = {}


# --- one cycle -------------------------------------------------------------------------------------


def _in_flight(site):
    return VmMigration.objects.filter(wave__site=site, state__in=sorted(S.IN_HCX), hcx_id__isnull=False)


def read_hcx(service: HcxService, hcx_ids: list[str], page_size: int, stats: CycleStats) -> dict:
    """{hcx id: MigrationProgress} for `hcx_ids`, asking for `page_size` ids per query: one page each,
    more when HCX pages smaller than asked. Ids missing from those answers are asked for once more,
    on their own: HCX's paging is not documented, and a missing id is not yet a gone one."""
    wanted = set(hcx_ids)
    readings: dict[str, MigrationProgress] = {}
    for start in range(0, len(hcx_ids), page_size):
        _read_ids(service, hcx_ids[start : start + page_size], page_size, readings, stats)
    for missing in [i for i in hcx_ids if i not in readings]:
        _read_ids(service, [missing], page_size, readings, stats)
    readings = {i: p for i, p in readings.items() if i in wanted}
    stats.migrations_read = len(readings)
    return readings


def _read_ids(service: HcxService, ids: list[str], page_size: int, readings: dict, stats: CycleStats):
    offset = 0
    while True:  # one turn per chunk, unless HCX pages smaller than we asked
        page = service.query_migrations(ids=ids, offset=offset, page_size=page_size)
        stats.hcx_calls += 1
        readings.update((p.id, p) for p in page.items)
        offset += page.answered
        if (
            not page.answered
            or all(i in readings for i in ids)
            or (page.total is not None and offset >= page.total)
        ):
            return


def gone_from_hcx(m: VmMigration, service: HcxService) -> MigrationProgress:
    """The reading for a migration HCX no longer has (deleted there, or HCX was rebuilt): it failed,
    as far as the portal can know, and says so."""
    text = (
        f"HCX at {service.url} no longer has migration {m.hcx_id}: it was deleted in HCX or HCX was "
        "rebuilt. Check the VM in vCenter before retrying it."
    )
    return MigrationProgress(
        id=m.hcx_id,
        group_id=None,
        vm_id=None,
        vm_name=None,
        migration_type=None,
        state="NOT_FOUND",
        phase=Phase.FAILED,
        percent=m.percent,
        bytes_transferred=m.bytes_transferred,
        bytes_total=m.bytes_total,
        throughput_mbps=None,
        eta_seconds=None,
        message=text,
        events=(),
        errors=(text,),
        switchover_start=m.switchover_start,
        switchover_end=m.switchover_end,
        waiting_for_window=False,
        reschedule_allowed=False,
        created=None,
        updated=None,
        started=m.started,
        ended=None,
    )


def reconcile_site(
    site: HcxPlan, *, service: HcxService | None = None, page_size: int | None = None
) -> CycleStats:
    """One cycle for `site` (see the module's docstring). Returns what it did."""
    stats = CycleStats(site=site.pk)
    page_size = page_size or settings.LAUNCH.get("RECONCILE_PAGE_SIZE", QUERY_PAGE_SIZE)
    with site_lease(site) as held:
        if not held:
            stats.skipped = "another cycle of this site is running"
            logger.debug("Site %s: %s", site, stats.skipped)
            return stats
        hcx_ids = list(_in_flight(site).order_by("pk").values_list("hcx_id", flat=True))
        if hcx_ids:
            try:
                service = service or client_for(site)
                readings = read_hcx(service, hcx_ids, page_size, stats)
            except (HcxError, LaunchError) as exc:
                stats.skipped = f"HCX could not be read: {exc}"
                logger.warning(
                    "Site %s: reconciler cycle ended without changes after %d HCX call(s); %s; "
                    "the next cycle reads again",
                    site,
                    stats.hcx_calls,
                    stats.skipped,
                )
                return stats
            ended = _write(site, set(hcx_ids), readings, service, stats)
            archive_groups(service, ended, stats)
        else:
            with transaction.atomic():
                stats.waves_finished = finish_waves(Wave.objects.filter(site=site, status=WaveStatus.RUNNING))
        if VmMigration.objects.filter(
            wave__site=site, state__in=sorted(S.NOT_SENT), batch__launched__isnull=False
        ).exists():
            from .dispatch import dispatch

            sent = dispatch(site, service=service)
            if sent.error:
                logger.warning("Site %s: nothing sent to HCX this cycle: %s", site, sent.error)
            elif sent.sent or sent.refused or sent.recovered:
                logger.info(
                    "Site %s: sent %d migration(s), %d refused by HCX, %d recovered, %d still waiting",
                    site,
                    sent.sent,
                    sent.refused,
                    sent.recovered,
                    sent.waiting,
                )
    if stats.rows_written or stats.waves_finished:
        logger.info(
            "Site %s: read %d migration(s) in %d HCX call(s), wrote %d row(s) and %d state change(s), "
            "finished %d wave(s)",
            site,
            stats.migrations_read,
            stats.hcx_calls,
            stats.rows_written,
            stats.events_written,
            stats.waves_finished,
        )
    return stats


def _write(site, asked: set, readings: dict, service: HcxService, stats: CycleStats) -> set[str]:
    """Take the readings in; returns the mobility groups of the migrations that ended in this cycle."""
    now = timezone.now()
    with transaction.atomic():
        # Read again under the transaction (rows locked on PostgreSQL): a cancel or a send that
        # landed while HCX was being read is not overwritten with an older picture.
        # HCX's validation answer (JSON, per VM) is not observed: not decoded 1,000 times a cycle.
        rows = (
            _in_flight(site)
            .filter(hcx_id__in=sorted(asked))
            .defer("validation")
            .select_for_update(of=("self",))
        )
        changed, events = [], []
        for m in rows:
            reading = readings.get(m.hcx_id)
            if reading is None:
                stats.missing += 1
                logger.warning("Site %s: HCX no longer has migration %s (%s)", site, m.hcx_id, m)
                reading = gone_from_hcx(m, service)
            did_change, new_events = observe(m, reading, now=now)
            if did_change:
                changed.append(m)
                events.extend(new_events)
        if changed:
            update_rows(VmMigration, changed, OBSERVED_FIELDS)
            migrations_failed([m for m in changed if m.state == S.FAILED])
            wakeup.announce(f"wave:{m.wave_id}" for m in changed)
        if events:
            MigrationEvent.objects.bulk_create(events)
        stats.rows_written, stats.events_written = len(changed), len(events)
        stats.waves_finished = finish_waves(Wave.objects.filter(site=site, status=WaveStatus.RUNNING))
    return {
        readings[m.hcx_id].group_id
        for m in changed
        if m.state in S.TERMINAL and m.hcx_id in readings and readings[m.hcx_id].group_id
    }


def archive_groups(service: HcxService, group_ids: set[str], stats: CycleStats):
    """Archive each group whose migrations are all over (docs/hcx-wire.md §6). A group with one still
    running is kept for when that one ends; an HCX that cannot be reached now is not retried (archiving
    only tidies HCX's own list)."""
    for group_id in sorted(group_ids):
        try:
            members = list(service.iter_migrations(group_ids=[group_id]))
            stats.hcx_calls += 1
            if not members or not all(m.done for m in members):
                continue
            stats.hcx_calls += 1
            if service.archive_mobility_groups([group_id]):
                stats.groups_archived += 1
            else:
                logger.info(
                    "Mobility group %s: HCX does not archive it yet; it is when its last migration ends",
                    group_id,
                )
        except HcxError as exc:
            logger.warning("Mobility group %s not archived: %s", group_id, exc)


def sites_to_reconcile():
    """The sites with a migration not finished, or a wave still running."""
    active = VmMigration.objects.filter(wave__site=OuterRef("pk"), state__in=sorted(S.ACTIVE))
    return (
        HcxPlan.objects.filter(Q(Exists(active)) | Q(waves__status=WaveStatus.RUNNING))
        .distinct()
        .order_by("pk")
    )


def reconcile_all() -> list[CycleStats]:
    """A cycle for every site that has something going on. A site whose cycle fails is logged and
    the others still run."""
    results = []
    for site in sites_to_reconcile():
        try:
            results.append(reconcile_site(site))
        except Exception:
            logger.exception("Site %s: reconciler cycle failed", site)
    return results
