"""`manage.py discover_vcenter` against the vCenter simulator."""

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inventory.models import VCenter, VirtualMachine
from tests.peers.vcsim import read_vms

ROOT = Path(__file__).resolve().parents[1]
SIZE = {"dc": 1, "cluster": 1, "host": 2, "vm": 2}


@pytest.fixture
def sim(vcsim):
    return vcsim(**SIZE)


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["host:port", "https://host:port", "https://host:port/sdk"])
def test_it_discovers_from_a_url_in_any_usual_form(sim, monkeypatch, form):
    url = form.replace("host:port", sim.host)
    monkeypatch.setenv("VCENTER_PASSWORD", sim.password)
    out = StringIO()

    call_command(
        "discover_vcenter",
        "--url",
        url,
        "--username",
        sim.username,
        "--insecure",
        "--name",
        "lab",
        stdout=out,
    )

    vc = VCenter.objects.get(name="lab")
    assert vc.url == url and vc.password == sim.password and vc.verify_tls is False
    total = len(read_vms(sim.connect()))
    assert VirtualMachine.objects.filter(vcenter=vc).count() == total
    assert re.search(rf"vms\s+{total} found, {total} new", out.getvalue())


@pytest.mark.django_db
def test_it_fails_with_the_reason_and_stores_no_inventory(sim, monkeypatch):
    monkeypatch.setenv("VCENTER_PASSWORD", "wrong")
    with pytest.raises(CommandError, match="refused the user name or password"):
        call_command(
            "discover_vcenter", "--url", sim.url, "--username", sim.username, "--insecure", stdout=StringIO()
        )
    assert not VirtualMachine.objects.exists()


@pytest.mark.django_db
def test_it_verifies_the_certificate_unless_told_otherwise(sim, monkeypatch):
    monkeypatch.setenv("VCENTER_PASSWORD", sim.password)
    with pytest.raises(CommandError, match="not trusted.*--insecure"):
        call_command("discover_vcenter", "--url", sim.url, "--username", sim.username, stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_it_runs_as_a_command_line_program(sim):
    from django.db import connection

    from tests.peers.worker import database_url

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "VCENTER_PASSWORD": sim.password,
        "DATABASE_URL": database_url(connection.settings_dict),
    }
    env.pop("TEST_DB_NAME", None)
    ok = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "discover_vcenter",
            "--url",
            sim.host,
            "--username",
            sim.username,
            "--insecure",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "vms " in ok.stdout and VirtualMachine.objects.count() == len(read_vms(sim.connect()))

    env["VCENTER_PASSWORD"] = "wrong"
    bad = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "discover_vcenter",
            "--url",
            sim.host,
            "--username",
            sim.username,
            "--insecure",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0
    assert "refused the user name or password" in bad.stderr
