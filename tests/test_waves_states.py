"""A wave's status changes in one place, `waves.states.set_status`: it allows only the moves of a
wave's life, changes the row compare-and-set (two actors at once move it once) and records the move."""

import re
from pathlib import Path

import pytest
from django.db import transaction

from core.choices import AuditAction
from core.models import AuditEntry
from migrations_app.choices import WaveStatus
from migrations_app.models import Wave
from migrations_app.waves.errors import WrongStatus
from migrations_app.waves.states import TRANSITIONS, set_status
from tests.factories import make_wave

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_it_moves_the_wave_and_records_who_and_why(engineer):
    wave = make_wave("Wave A", status=WaveStatus.RUNNING)
    with transaction.atomic():
        assert set_status(
            wave, WaveStatus.COMPLETED, acting_user=engineer, audit=AuditAction.WAVE_COMPLETE, vms=3
        )
    assert wave.status == Wave.objects.get(pk=wave.pk).status == WaveStatus.COMPLETED
    entry = AuditEntry.objects.get(action=AuditAction.WAVE_COMPLETE, object_id=wave.pk)
    assert entry.user == engineer and entry.detail == {"vms": 3}


def test_it_refuses_a_move_a_wave_never_makes(engineer):
    wave = make_wave("Done", status=WaveStatus.COMPLETED)
    with pytest.raises(WrongStatus), transaction.atomic():
        set_status(wave, WaveStatus.DRAFT, acting_user=engineer, audit=AuditAction.WAVE_WITHDRAW_APPROVAL)
    assert Wave.objects.get(pk=wave.pk).status == WaveStatus.COMPLETED
    assert not AuditEntry.objects.exists()
    assert WaveStatus.RUNNING not in TRANSITIONS[WaveStatus.DRAFT]  # launching needs an approval first


def test_two_actors_at_once_move_it_once(engineer):
    wave = make_wave("Wave A", status=WaveStatus.RUNNING)
    stale = Wave.objects.get(pk=wave.pk)
    with transaction.atomic():
        assert set_status(wave, WaveStatus.COMPLETED, acting_user=None, audit=AuditAction.WAVE_COMPLETE)
    with transaction.atomic():
        assert not set_status(stale, WaveStatus.COMPLETED, acting_user=None, audit=AuditAction.WAVE_COMPLETE)
    assert AuditEntry.objects.filter(action=AuditAction.WAVE_COMPLETE).count() == 1


def test_no_other_code_writes_a_waves_status():
    """The guardrail: an `.update(status=WaveStatus...)` or `wave.status = ...` anywhere but states.py."""
    writes = re.compile(
        r"\.update\([^)]*?\bstatus=(WaveStatus\.|status\b)"
        r"|^[ \t]*wave\.status[ \t]*(,[ \t]*[\w.]+[ \t]*)*=[^=]",
        re.M,
    )
    found = []
    for path in (ROOT / "migrations_app").rglob("*.py"):
        if path.name == "states.py" or "migrations" in path.parts:
            continue
        text = path.read_text()
        found += [
            f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}" for m in writes.finditer(text)
        ]
    assert found == []
