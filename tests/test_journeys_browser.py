"""Each role's journey in headless Chromium against uvicorn, the real worker with beat and the fast HCX
simulator: the planner imports connections, plans and submits a wave and may not approve or launch it;
the engineer approves, launches and watches it complete live, and may not change its plan; the
stakeholder reads the dashboard, takes the PDF and a CSV, and may launch nothing. Then every page family
is checked for labelled fields and for a phone-width layout.

The other browser tests cover the single pages in depth (waves, approval, launch stream); these walk
across them as one person would.
"""

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import ENGINEER, PLANNER, STAKEHOLDER
from migrations_app.choices import MigrationState, WaveStatus
from migrations_app.models import Approval, Batch, DependencyGroup, VmMigration, Wave
from tests.conftest import make_user
from tests.factories import make_batch, make_estate, make_link_site, make_target_cluster, make_wave
from tests.journeys import (  # noqa: F401 (fixtures)
    HORIZONTAL_OVERFLOW,
    PHONE,
    UNLABELLED_FIELDS,
    journey_worker,
    make_site_estate,
    person,
    post_as_page,
)
from tests.launch_helpers import AVS_SEGMENT, PORT_GROUP
from tests.peers.asgi import asgi_server  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLOWS_CSV = b"source,destination,port\napp-1,app-2,443\napp-2,app-3,5432\napp-3,10.9.9.9,53\n"


def window(days_ahead: int = 30) -> tuple[str, str]:
    """A change window far enough ahead that the 600x simulator does not reach it during the test:
    the migrations wait for it until the engineer switches them over."""
    start = (timezone.now() + datetime.timedelta(days=days_ahead)).replace(hour=22, minute=0)
    return f"{start:%Y-%m-%dT%H:%M}", f"{start + datetime.timedelta(hours=6):%Y-%m-%dT%H:%M}"


def test_a_planner_imports_plans_and_submits_a_wave_but_may_not_approve_or_launch_it(
    person, journey_worker, hcxsim_fast
):  # noqa: F811
    estate = make_site_estate(hcxsim_fast)
    page = person(make_user(PLANNER))

    page.goto("/plan/dependencies/import/")
    page.get_by_label("Dependency file").set_input_files(
        files=[{"name": "flows.csv", "mimeType": "text/csv", "buffer": FLOWS_CSV}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Completed")  # the worker ran the import

    page.goto("/plan/groups/add/")
    page.get_by_label("Name").fill("billing")
    page.get_by_role("button", name="Save").click()
    page.get_by_label("Add VMs").fill("app-1, app-2, app-3")
    page.get_by_test_id("add-vms").get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("members")).to_contain_text("app-3")
    # The imported connections are known: the only one leaving the group goes to the external DNS server.
    expect(page.get_by_test_id("outside")).to_contain_text("10.9.9.9")

    start, end = window()
    page.goto("/plan/waves/add/")
    page.get_by_label("Name").fill("Wave A")
    page.get_by_label("Change window start").fill(start)
    page.get_by_label("Change window end").fill(end)
    page.get_by_label("Time zone").select_option("UTC")
    page.get_by_label("Site").select_option(label=estate.site.name)
    page.get_by_label("Target cluster").select_option(label=f"{estate.site.name} / {estate.target.name}")
    page.get_by_label("Target datastore").fill(estate.target.datastores[0])
    page.get_by_label("Target folder").fill(estate.target.folders[0])
    page.get_by_label("Default migration type").select_option("bulk")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("wave-window")).to_contain_text(start.replace("T", " "))

    page.get_by_role("link", name="Add groups").click()
    page.get_by_role("row", name="billing").get_by_role("checkbox").check()
    page.get_by_role("button", name="Add the ticked groups").click()
    expect(page.get_by_role("alert").first).to_contain_text("3 VMs added to Wave A.")

    network = PORT_GROUP[1]
    row = page.locator(f'tr[data-network="{network}"]')
    # The segments AVS offers are read from HCX, then one is chosen from the list.
    page.get_by_test_id("network-targets").get_by_role("button", name="Read AVS inventory from HCX").click()
    expect(page.get_by_test_id("network-targets")).to_contain_text("then the AVS segments read from HCX")
    row = page.locator(f'tr[data-network="{network}"]')
    row.get_by_label(f"Target network for {network}").select_option(f"segment:{AVS_SEGMENT[1]}")
    row.get_by_role("button", name=re.compile("^(Map|Change)$")).click()
    expect(page.get_by_role("alert").first).to_contain_text(f"now lands on {AVS_SEGMENT[1]}")

    page.get_by_test_id("readiness-panel").get_by_role("button", name="Check readiness").click()
    expect(page.get_by_test_id("readiness-blockers")).to_have_text("no blockers")
    page.get_by_test_id("approval-submit").click()
    expect(page.get_by_role("alert").first).to_contain_text("submitted for approval")
    expect(page.get_by_test_id("approval-status")).to_have_text("Submitted for approval")

    # Refused: no decision form for a planner, and posting one by hand is forbidden.
    wave = Wave.objects.get(name="Wave A")
    expect(page.get_by_test_id("approval-decide")).to_have_count(0)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    refused = post_as_page(
        page, f"/plan/waves/{wave.pk}/approve/", {"revision": str(wave.revision), "change_ticket": "CHG-SELF"}
    )
    assert refused.status == 403
    page.goto(f"/plan/waves/{wave.pk}/progress/")
    expect(page.get_by_test_id("rollup")).to_be_visible()
    expect(page.get_by_role("link", name="Launch the whole wave")).to_have_count(0)
    assert page.request.get(f"/plan/waves/{wave.pk}/launch/").status == 403
    assert post_as_page(page, f"/plan/waves/{wave.pk}/launch/").status == 403

    wave.refresh_from_db()
    assert wave.status == WaveStatus.SUBMITTED
    assert not Approval.objects.filter(wave=wave).exists() and not Batch.objects.filter(wave=wave).exists()
    assert sorted(DependencyGroup.objects.get(name="billing").members.values_list("vm__name", flat=True)) == [
        "app-1",
        "app-2",
        "app-3",
    ]


def submitted_wave(sim, planner):
    """What the planner's journey ends with: a wave of app-1..3 on the meshed site, submitted, its window
    a month ahead (so Bulk migrations wait for it)."""
    from migrations_app.readiness.approval import do_submit
    from tests.launch_helpers import make_launch_setup

    start = timezone.now() + datetime.timedelta(days=30)
    setup = make_launch_setup(
        sim,
        vms=3,
        name="Wave B",
        status=WaveStatus.DRAFT,
        window_start=start,
        window_end=start + datetime.timedelta(hours=6),
        time_zone="UTC",
    )
    do_submit(setup.wave, acting_user=planner)
    setup.wave.refresh_from_db()
    assert setup.wave.status == WaveStatus.SUBMITTED
    return setup


def test_an_engineer_approves_launches_and_watches_a_wave_complete_live_but_may_not_replan_it(
    person, journey_worker, hcxsim_fast
):  # noqa: F811
    setup = submitted_wave(hcxsim_fast, make_user(PLANNER))
    wave = setup.wave
    page = person(make_user(ENGINEER))

    page.goto("/plan/approvals/")
    page.get_by_role("row", name=wave.name).get_by_role("link", name="Review").click()
    decide = page.get_by_test_id("approval-decide")
    decide.get_by_label("Change ticket").fill("CHG0100")
    decide.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("alert").first).to_contain_text("approved under change ticket CHG0100")

    # A second tab stays on the progress page from before the launch to the end, never reloaded.
    page.get_by_role("link", name="Progress and launch").click()
    watch = page.context.new_page()
    watch.goto(page.url)
    watch.evaluate("window.notReloaded = true")
    expect(watch.get_by_test_id("live-status")).to_have_text("live")
    rollup = watch.locator('[data-rollup="main"]')
    expect(rollup.locator('[data-rollup-field="percent"]')).to_have_text("0%")

    page.get_by_role("link", name="Launch the whole wave").click()
    expect(page.get_by_test_id("question")).to_contain_text("send 3 VMs to HCX")
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_role("alert").first).to_contain_text(f"{wave.name} is being launched")

    # Copied, the Bulk migrations wait for the window a month ahead; the bar has moved without a reload.
    expect(rollup.locator('[data-rollup-field="waiting"]')).to_have_text("3")
    expect(rollup.locator('[data-rollup-field="bar"]')).not_to_have_attribute("aria-valuenow", "0")
    page.goto(f"/plan/waves/{wave.pk}/progress/")
    states = page.get_by_test_id("migrations-table").locator('[data-field="state"]')
    expect(states.filter(has_text="Waiting for switchover")).to_have_count(3)
    for box in page.get_by_test_id("migrations-table").locator('input[name="ids"]').all():
        box.check()
    page.get_by_test_id("migration-actions").get_by_role("button", name="Switchover now").click()
    expect(page.get_by_test_id("will-do")).to_contain_text("app-3")
    page.get_by_role("button", name="Switchover now").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Completed")

    expect(rollup.locator('[data-rollup-field="percent"]')).to_have_text("100%")
    expect(rollup.locator('[data-rollup-field="done"]')).to_have_text("3")
    expect(rollup.locator('[data-rollup-field="health"]')).to_have_text("healthy")
    assert watch.evaluate("window.notReloaded") is True
    page.goto(wave.get_absolute_url())
    expect(page.get_by_test_id("wave-status")).to_contain_text("Completed")
    assert (
        sorted(VmMigration.objects.filter(wave=wave).values_list("state", flat=True))
        == [MigrationState.COMPLETE] * 3
    )

    # Refused: the plan of a launched wave is not an engineer's to change.
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    assert page.request.get(f"/plan/waves/{wave.pk}/edit/").status == 403
    revision = Wave.objects.get(pk=wave.pk).revision
    refused = post_as_page(
        page,
        f"/plan/waves/{wave.pk}/edit/",
        {"name": "Renamed", "revision": str(revision), "time_zone": "UTC", "migration_type": "bulk"},
    )
    assert refused.status == 403
    assert Wave.objects.filter(pk=wave.pk, name=wave.name, revision=revision).exists()


def complete(m: VmMigration, at: datetime.datetime):
    """What the reconciler writes when HCX reports a migration complete."""
    VmMigration.objects.filter(pk=m.pk).update(
        state=MigrationState.COMPLETE,
        hcx_state="MIGRATION_COMPLETE",
        percent=100,
        bytes_transferred=2 * 10**9,
        bytes_total=2 * 10**9,
        started=at - datetime.timedelta(minutes=20),
        ended=at,
        updated=timezone.now(),
    )


def programme_under_way():
    """A running wave with 3 of its 4 VMs migrated, and an approved wave not launched yet."""
    estate = make_estate(vms=6, prefix="fin-")
    site = make_link_site("Rotterdam")
    target = make_target_cluster(site)
    now = timezone.now()
    running = make_wave(
        "Finance",
        vms=estate.vms[:4],
        status=WaveStatus.RUNNING,
        site=site,
        target_cluster=target,
        migration_type="bulk",
        time_zone="UTC",
        window_start=now - datetime.timedelta(hours=2),
        window_end=now + datetime.timedelta(hours=4),
    )
    migrations = list(make_batch(running).migrations.order_by("vm__name"))
    for m in migrations[:3]:
        complete(m, now - datetime.timedelta(minutes=5))
    approved = make_wave(
        "HR",
        vms=estate.vms[4:],
        status=WaveStatus.APPROVED,
        site=site,
        target_cluster=target,
        migration_type="bulk",
        time_zone="UTC",
        window_start=now + datetime.timedelta(days=7),
        window_end=now + datetime.timedelta(days=7, hours=6),
    )
    return running, approved, migrations[3]


def test_a_stakeholder_watches_the_dashboard_move_takes_the_pdf_and_csv_but_may_not_launch(person):  # noqa: F811
    running, approved, last = programme_under_way()
    page = person(make_user(STAKEHOLDER))

    page.goto("/")  # a stakeholder's home page is the programme dashboard
    expect(page.get_by_role("heading", name="Migration programme")).to_be_visible()
    migrated = page.get_by_test_id("migrated-vms")
    expect(migrated).to_have_text(re.compile(r"^\s*3\s*/\s*6\s*$"))
    expect(
        page.get_by_test_id("burnup-vms").get_by_role("img", name="VMs migrated against plan")
    ).to_be_visible()
    expect(page.get_by_test_id("running-waves")).to_contain_text(running.name)
    page.evaluate("window.notReloaded = true")

    complete(last, timezone.now())
    expect(migrated).to_have_text(re.compile(r"^\s*4\s*/\s*6\s*$"))  # the page polls while a wave runs
    assert page.evaluate("window.notReloaded") is True
    burnup = page.request.get("/api/dashboard/").json()["burnup"]["points"]
    assert burnup[-1]["actual_vms"] == 4 and burnup[-1]["planned_vms"] == 6

    with page.expect_download() as download:
        page.get_by_test_id("programme-pdf").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    with page.expect_download() as download:
        page.get_by_role("link", name="Results (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert sorted((r["VM"], r["State"]) for r in rows) == [
        (m.vm.name, "Complete") for m in running.migrations.select_related("vm").order_by("vm__name")
    ]

    # Refused: nothing to launch or act with, and the launch page and its POST are forbidden.
    page.goto(f"/plan/waves/{approved.pk}/progress/")
    expect(page.get_by_test_id("rollup")).to_be_visible()
    expect(page.get_by_role("link", name="Launch the whole wave")).to_have_count(0)
    expect(page.get_by_test_id("migration-actions")).to_have_count(0)
    assert post_as_page(page, f"/plan/waves/{approved.pk}/launch/").status == 403
    assert page.goto(f"/plan/waves/{approved.pk}/launch/").status == 403
    assert not Batch.objects.filter(wave=approved).exists()
    assert Wave.objects.get(pk=approved.pk).status == WaveStatus.APPROVED


def page_families(running, approved) -> dict[str, str]:
    """One page or more of each family, as paths."""
    from django.urls import reverse

    from core.models import Job
    from tests.factories import make_group

    migration = running.migrations.order_by("pk").first()
    group = make_group("payroll", [running.items.first().vm])
    job = Job.objects.create(kind="test", name="A finished job", status="completed", progress=100)
    site = running.site
    plan = lambda name, *args: reverse(f"migrations_app:{name}", args=args)  # noqa: E731
    return {
        "dashboard": plan("dashboard"),
        "wave report": plan("wave_report", running.pk),
        "progress": plan("wave_progress", running.pk),
        "batch progress": plan("batch", migration.batch_id),
        "launch": plan("wave_launch", approved.pk),
        "new batch": plan("batch_add", running.pk),
        "migrations": plan("vmmigration_list"),
        "migration": plan("vmmigration", migration.pk),
        "waves": plan("wave_list"),
        "change calendar": plan("wave_calendar"),
        "dependency graph": plan("dependency_graph"),
        "wave": plan("wave", approved.pk),
        "wave edit": plan("wave_add"),
        "wave add groups": plan("wave_add_groups", approved.pk),
        "wave add VMs": plan("wave_add_vms", approved.pk),
        "targets": plan("targetcluster_list"),
        "readiness": plan("wave_readiness", approved.pk),
        "approvals": plan("approval_list"),
        "groups": plan("dependencygroup_list"),
        "group": plan("dependencygroup", group.pk),
        "dependency import": plan("import_dependencies"),
        "notification preferences": reverse("core:notification_preferences"),
        "notification log": reverse("core:notification_list"),
        "webhooks": reverse("core:webhook_list"),
        "webhook add": reverse("core:webhook_add"),
        "audit log": reverse("core:audit_log"),
        "jobs": reverse("core:job_list"),
        "job": reverse("core:job", args=[job.pk]),
        "HCX sites": reverse("hcx:hcxplan_list"),
        "HCX site": reverse("hcx:hcxplan", args=[site.pk]),
        "HCX set-up": reverse("hcx:hcxplan_setup", args=[site.pk]),
        "HCX connection": reverse("hcx:hcxplan_connection", args=[site.pk]),
        "HCX deploy": reverse("hcx:hcxplan_deploy", args=[site.pk]),
    }


def test_every_page_family_labels_its_fields_and_fits_a_phone(person):  # noqa: F811
    from core.roles import ADMIN

    running, approved, _ = programme_under_way()
    paths = page_families(running, approved)
    page = person(make_user(ADMIN), viewport=PHONE)  # an admin sees every form and button
    problems = {}
    for family, path in paths.items():
        response = page.goto(path)
        assert response.status == 200, f"{family}: {path} answered {response.status}"
        page.wait_for_load_state("load")
        unlabelled = page.evaluate(UNLABELLED_FIELDS)
        overflow = page.evaluate(HORIZONTAL_OVERFLOW)
        if unlabelled or overflow:
            problems[f"{family} ({path})"] = {"unlabelled": unlabelled, "overflow": overflow}
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
