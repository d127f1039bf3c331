"""Launching, finishing and failing migrations tell the people who opted in: the launch and the
reconciler write the outbox rows with their own changes."""

import pytest

from core.choices import NotificationEvent
from core.models import Notification, NotificationPreference
from migrations_app.choices import MigrationState, WaveStatus
from migrations_app.launch.batches import do_launch_batch
from migrations_app.launch.rollup import finish_waves
from migrations_app.launch.transitions import move
from migrations_app.models import Wave
from tests.factories import make_batch, make_estate, make_target_cluster, make_wave

pytestmark = pytest.mark.django_db


@pytest.fixture
def listening(stakeholder):
    stakeholder.email = "board@example.org"
    stakeholder.save()
    for event in (NotificationEvent.WAVE_LAUNCHED, NotificationEvent.WAVE_COMPLETED):
        NotificationPreference.objects.create(user=stakeholder, event=event)
    return stakeholder


def test_a_launch_and_a_finished_wave_reach_those_who_asked(engineer, listening):
    estate = make_estate(vms=2, devices=False)
    target = make_target_cluster()
    wave = make_wave(
        "Pilot",
        vms=estate.vms,
        status=WaveStatus.APPROVED,
        migration_type="bulk",
        site=target.site,
        target_cluster=target,
    )
    batch = make_batch(wave)
    do_launch_batch(batch, acting_user=engineer)
    launched = Notification.objects.get(event=NotificationEvent.WAVE_LAUNCHED)
    assert launched.user == listening and "Pilot: Batch 1 was launched by" in launched.subject

    do_launch_batch(batch, acting_user=engineer)  # launching again is no news
    assert Notification.objects.filter(event=NotificationEvent.WAVE_LAUNCHED).count() == 1

    for m in batch.migrations.all():
        move(m, MigrationState.SUBMITTING)
        move(m, MigrationState.VALIDATING, hcx_id=f"hcx-{m.pk}")
        m.state = MigrationState.COMPLETE  # as the reconciler would have read it
        m.save()
    assert finish_waves(Wave.objects.all()) == 1
    done = Notification.objects.get(event=NotificationEvent.WAVE_COMPLETED)
    assert done.subject == "Wave Pilot completed" and done.user == listening
