"""At phone width (390 px) the pages people open on the move fit the screen: the programme dashboard,
a wave page with everything on it (window, fit, networks, HCX's validation answers, long names), the
change calendar and the dependency graph scroll down, never sideways (wide tables scroll in their own box)."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from core.choices import JobStatus
from core.models import Job
from inventory.models import VirtualMachine
from migrations_app.choices import WaveStatus
from migrations_app.launch.dry_run import VALIDATE_KIND
from migrations_app.models import NetworkMapping
from tests.conftest import make_user
from tests.factories import (
    make_batch,
    make_dependency,
    make_estate,
    make_group,
    make_link_site,
    make_target_cluster,
    make_wave,
)
from tests.journeys import HORIZONTAL_OVERFLOW, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
LONG = "finance-reporting-consolidation-application-server"


def programme():
    estate = make_estate(vms=8, networks=2, prefix=f"{LONG}-")
    # Big figures in the wave's totals: five-digit vCPUs and memory.
    VirtualMachine.objects.filter(pk__in=[vm.pk for vm in estate.vms]).update(
        num_cpu=4096, memory_mib=64 * 2**20
    )
    site = make_link_site("Rotterdam-Datacenter-North-Campus-Building-7")
    target = make_target_cluster(
        site, "Cluster-Production-Workloads-Amsterdam-01", datastores=["vsanDatastore"]
    )
    now = timezone.now()
    make_group("Finance reporting and consolidation (quarter close)", estate.vms[:4])
    running = make_wave(
        "Finance and reporting wave for the quarter close",
        vms=estate.vms[:4],
        status=WaveStatus.RUNNING,
        site=site,
        target_cluster=target,
        migration_type="bulk",
        time_zone="America/Argentina/Buenos_Aires",
        window_start=now - datetime.timedelta(hours=2),
        window_end=now + datetime.timedelta(hours=30),
        max_vms=2,
        max_tb=0.0001,
        pilot=True,
        target_folder="Migrated/Finance/Reporting/Quarter-close",
        notes="Coordinate with the finance team; the reporting database must be quiesced first.",
    )
    make_batch(running)
    approved = make_wave(
        "Human resources and payroll",
        vms=estate.vms[4:],
        status=WaveStatus.APPROVED,
        site=site,
        target_cluster=target,
        migration_type="bulk",
        time_zone="UTC",
        window_start=now + datetime.timedelta(days=3),
        window_end=now + datetime.timedelta(days=3, hours=6),
    )
    for network in estate.networks:
        NetworkMapping.objects.create(
            wave=approved, source=network, target_name=f"{network.name}-segment-in-avs-long-name"
        )
    answers = [
        {
            "vm": vm.name,
            "vm_id": vm.pk,
            "migration_type": "Bulk",
            "passed": i != 0,
            "errors": [
                {
                    "code": "ISO_ATTACHED",
                    "message": "VirtualMachine has an ISO image mounted: "
                    "/vmfs/volumes/datastore-with-a-very-long-name/isos/windows-server-2022-eval.iso",
                }
            ]
            if i == 0
            else [],
            "warnings": [{"code": "TOOLS_NOT_RUNNING", "message": "VMware Tools is not running"}],
        }
        for i, vm in enumerate(estate.vms[4:])
    ]
    Job.objects.create(
        kind=VALIDATE_KIND,
        name="Validate",
        status=JobStatus.COMPLETED,
        completed=now,
        object_type=ContentType.objects.get_for_model(approved),
        object_id=approved.pk,
        data={"vms": answers, "passed": 3, "failed": 1, "skipped": []},
    )
    for a, b in zip(estate.vms, estate.vms[1:], strict=False):
        make_dependency(a, b, 443)
    return running, approved


def overflow_of(browser, live_server, paths):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    user = make_user("admin")
    page.goto("/login/")
    page.get_by_label("User name").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("whoami")).to_contain_text(user.get_username())
    problems = {}
    for name, path in paths.items():
        assert page.goto(path).status == 200, path
        page.wait_for_load_state("load")
        found = page.evaluate(HORIZONTAL_OVERFLOW)
        if found:
            problems[name] = found
    context.close()
    return problems


def test_the_dashboard_and_the_wave_pages_fit_a_phone(browser, live_server):
    running, approved = programme()
    paths = {
        "dashboard": reverse("migrations_app:dashboard"),
        "running wave": running.get_absolute_url(),
        "approved wave": approved.get_absolute_url(),
        "calendar": reverse("migrations_app:wave_calendar"),
        "graph": reverse("migrations_app:dependency_graph"),
        "waves": reverse("migrations_app:wave_list"),
    }
    problems = overflow_of(browser, live_server, paths)
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
