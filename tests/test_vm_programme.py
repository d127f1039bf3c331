"""A VM's page says where it is in the programme: its dependency group, its wave, the readiness
findings for it, every migration of it (type, state, times) and where it runs now, on-premises or in
AVS after a switchover; in a fixed number of queries whatever the length of its history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.choices import PowerState
from migrations_app.choices import MigrationState, WaveStatus
from migrations_app.launch.controls import do_retry_migrations, do_roll_back_migrations
from migrations_app.models import Wave
from migrations_app.readiness.actions import do_run_readiness
from migrations_app.vm_status import HISTORY_SHOWN
from tests.factories import make_batch, make_group, make_vcenter, make_vm
from tests.test_dashboard import complete, fail
from tests.test_readiness_rules import add_vm, make_scene

pytestmark = pytest.mark.django_db


def programme(client, vm):
    response = client.get(vm.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode(), response.context["programme"]


def section(body: str, testid: str) -> str:
    return body.split(f'data-testid="{testid}"', 1)[1].split("</dd>", 1)[0].split("</table>", 1)[0]


def migrated_vm(planner, engineer):
    """batch01, powered off (a readiness blocker for Bulk), in the group Billing and its wave: its first
    migration failed, the retry switched it over to AVS."""
    scene = make_scene()
    vm = add_vm(scene, "batch01", power_state=PowerState.OFF)
    make_group("Billing", [vm])
    do_run_readiness(scene.wave, acting_user=planner)
    Wave.objects.filter(pk=scene.wave.pk).update(status=WaveStatus.RUNNING)
    [first] = make_batch(scene.wave).migrations.all()
    fail(first, "The VM would not shut down")
    [second] = do_retry_migrations([first], acting_user=engineer).done
    complete(second)
    return scene, vm, first, second


def test_a_migrated_vm_shows_its_group_wave_findings_history_and_that_it_runs_in_avs(
    client_for, planner, engineer, stakeholder
):
    scene, vm, first, second = migrated_vm(planner, engineer)
    body, p = programme(client_for(stakeholder), vm)
    assert p.group.name == "Billing" and p.wave == scene.wave
    assert 'href="/plan/groups/' in section(body, "vm-group") and "Billing" in section(body, "vm-group")
    assert f'href="{scene.wave.get_absolute_url()}"' in section(body, "vm-wave") and "Running" in section(
        body, "vm-wave"
    )
    findings = section(body, "vm-findings")
    assert "Blocker" in findings and "powered off" in findings.lower()
    assert [(m.pk, m.attempt, m.state) for m in p.history] == [
        (second.pk, 2, MigrationState.COMPLETE),
        (first.pk, 1, MigrationState.FAILED),
    ]
    history = section(body, "vm-history")
    for text in (
        "Complete",
        "Failed",
        "To AVS",
        "Bulk",
        f'href="/plan/migrations/{second.pk}/"',
        f"{second.ended:%Y-%m-%d}",
    ):
        assert text in history, text
    location = section(body, "vm-location")
    assert "In AVS" in location and f"switched over to AVS by {scene.wave.name}, attempt 2" in location


def test_a_rolled_back_vm_runs_on_premises_again(client_for, planner, engineer):
    scene, vm, first, second = migrated_vm(planner, engineer)
    [back] = do_roll_back_migrations([second], acting_user=engineer).done
    complete(back)
    body, p = programme(client_for(planner), vm)
    assert not p.location.in_avs and "rolled back from AVS" in section(body, "vm-location")
    assert p.history[0].pk == back.pk and "Rollback to the source site" in section(body, "vm-history")


def test_a_vm_outside_the_programme_says_so(client_for, planner):
    vm = make_vm(make_vcenter(), "loose")
    body, p = programme(client_for(planner), vm)
    assert "On-premises" in section(body, "vm-location") and "not migrated" in section(body, "vm-location")
    assert "none" in section(body, "vm-group") and "in no wave yet" in section(body, "vm-wave")
    assert "No migration of this VM yet." in body


def test_a_vm_moved_outside_the_portal_is_in_avs(client_for, planner):
    vm = make_vm(make_vcenter(), "app-1", migrated_copy_name="app-1-1733600000")
    _, p = programme(client_for(planner), vm)
    assert p.location.in_avs and "app-1-1733600000" in p.location.why


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_history(client_for, planner, engineer):
    scene, vm, first, second = migrated_vm(planner, engineer)
    client = client_for(planner)
    url = vm.get_absolute_url()
    client.get(url)
    short = _queries(client, url)
    # session, user, permissions (2), navigation groups, the VM with its group and wave, its five device
    # prefetches, the VM's findings and its migrations
    assert short <= 13
    latest = second
    for _ in range(HISTORY_SHOWN // 2):  # roll back and migrate again, past what the page shows
        [back] = do_roll_back_migrations([latest], acting_user=engineer).done
        complete(back)
        [latest] = make_batch(scene.wave, [vm]).migrations.all()
        complete(latest)
    body, p = programme(client, vm)
    assert len(p.history) == HISTORY_SHOWN and p.more_history and p.location.in_avs
    assert f'href="/plan/migrations/?vm_id={vm.pk}"' in body
    # One more at most: the latest switchover is read on its own once the history is longer than shown.
    assert _queries(client, url) <= short + 1
