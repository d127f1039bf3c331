"""The one-command demo (`scripts/demo`) and the demo estate it loads.

The script runs as a subprocess on SQLite in a temporary AVSPORTAL_VAR_DIR, whatever
DATABASE_URL the tests use, so that it never touches the developer's var/ or database.
It runs with DEMO_VCSIM=0: the simulator and discovery have tests of their own, and
rediscovering a simulator would make the "second run changes nothing" check meaningless.
"""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from hcx import demo as hcx_demo
from hcx.simulator.state import Config as SimulatorConfig
from inventory import demo
from inventory.choices import PowerState, RdmMode, SwitchType, ToolsStatus
from inventory.models import Cluster, Datastore, Host, Network, VCenter, VirtualDisk, VirtualMachine

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "demo"
# Every table the demo writes; a second run must leave each one byte-for-byte the same.
TABLES = [
    "auth_user",
    "auth_user_groups",
    "inventory_vcenter",
    "inventory_cluster",
    "inventory_host",
    "inventory_datastore",
    "inventory_network",
    "inventory_tag",
    "inventory_virtualmachine",
    "inventory_virtualmachine_tags",
    "inventory_virtualdisk",
    "inventory_virtualnic",
    "inventory_cdrom",
    "inventory_snapshot",
    # The demo HCX plan (hcx/demo.py); its connection follows the simulator's ports, checked apart.
    "hcx_hcxplan",
    "hcx_hcxnetworkprofileplan",
    "hcx_hcxplan_networks",
    # The demo plan's groups, connection data, target cluster and waves (migrations_app/demo.py).
    *(
        f"migrations_app_{m}"
        for m in (
            "dependencygroup",
            "groupmember",
            "dependencyimport",
            "endpoint",
            "dependency",
            "targetcluster",
            "wave",
            "waveitem",
            "networkmapping",
            "readinessfinding",
            "approval",
        )
    ),
]
HCXSIM_LINE = re.compile(
    r'HCX simulator \(Connector and AVS of the plan "Main datacenter"\): (http://127\.0\.0\.1:\d+)'
)


def demo_env(var_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "TEST_DB_NAME",
        "SECRET_KEY",
        "SECURE_SSL_REDIRECT",
        "CELERY_BROKER_DIR",
        "CELERY_QUEUE",
    ):
        env.pop(name, None)
    env.update(AVSPORTAL_VAR_DIR=str(var_dir), DEMO_VCSIM="0", **extra)
    return env


def run_demo(var_dir: Path) -> str:
    proc = subprocess.run(
        [str(SCRIPT), "--no-serve"],
        cwd=ROOT,
        env=demo_env(var_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"scripts/demo failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def dump(db_path: Path) -> dict[str, list]:
    with sqlite3.connect(db_path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}  # noqa: S608


def test_the_demo_sets_up_users_and_estate_and_a_second_run_changes_nothing(tmp_path):
    output = run_demo(tmp_path)
    db = tmp_path / "avsportal.sqlite3"
    first = dump(db)

    assert "vCenter simulator skipped: DEMO_VCSIM=0" in output
    credentials = dict(
        line.split()
        for line in (tmp_path / "demo-credentials.txt").read_text().splitlines()
        if not line.startswith("#")
    )
    assert set(credentials) == {"planner", "engineer", "stakeholder", "admin"}
    assert (tmp_path / "demo-credentials.txt").stat().st_mode & 0o077 == 0, "the credentials file is private"
    with sqlite3.connect(db) as conn:
        users = {
            name: (password, superuser, groups)
            for name, password, superuser, groups in conn.execute(
                "SELECT u.username, u.password, u.is_superuser, group_concat(g.name) FROM auth_user u "
                "JOIN auth_user_groups ug ON ug.user_id = u.id JOIN auth_group g ON g.id = ug.group_id GROUP BY u.id"
            )
        }
        vm_count = conn.execute("SELECT count(*) FROM inventory_virtualmachine").fetchone()[0]
    for name, password in credentials.items():
        stored, superuser, groups = users[name]
        assert PBKDF2PasswordHasher().verify(password, stored), f"{name}'s printed password signs in"
        assert groups == name, f"{name} is in the {name} role only"
        assert bool(superuser) == (name == "admin")
        assert f"{name:<12} {password}" in output, "the credentials are printed at the end"
    assert vm_count == len(demo.build_estate().vms) >= 250
    assert "wave Pilot: DNS and print (approved, 0 blockers" in output

    first_sim = demo_connection(db, output)

    output = run_demo(tmp_path)
    assert "nothing changed" in output
    second = dump(db)
    assert {t: len(rows) for t, rows in second.items()} == {t: len(rows) for t, rows in first.items()}
    assert second == first, "a second run rewrote rows (last_updated or passwords changed)"
    assert demo_connection(db, output) != first_sim, "the connection follows the restarted simulator's ports"


def demo_connection(db_path: Path, output: str) -> tuple[str, str]:
    """The demo plan's connection: it points at the HCX simulator the run printed; returns its URLs."""
    printed = HCXSIM_LINE.search(output)
    assert printed, f"the HCX simulator's URL is printed:\n{output}"
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT c.connector_url, c.appliance_url, c.arm_url, c.location_city, p.name FROM hcx_hcxconnection c "
            "JOIN hcx_hcxplan p ON p.id = c.plan_id"
        ).fetchall()
    [(service, admin, arm, city, plan)] = rows
    assert (service, arm, city, plan) == (
        printed.group(1),
        f"{printed.group(1)}/arm",
        "Amsterdam",
        "Main datacenter",
    )
    return service, admin


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_serves_the_portal_and_stops_everything_on_ctrl_c(tmp_path):
    port = free_port()
    log = tmp_path / "demo.out"
    with open(log, "wb") as out:
        # A session of its own, as a terminal gives: Ctrl-C signals the whole process group.
        proc = subprocess.Popen(
            [str(SCRIPT)],
            cwd=ROOT,
            env=demo_env(tmp_path, PORT=str(port)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while b"Press Ctrl-C to stop" not in log.read_bytes():
            assert proc.poll() is None, f"scripts/demo exited early:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"scripts/demo did not get ready:\n{log.read_text()}"
            time.sleep(0.3)
        assert f"http://127.0.0.1:{port}/" in log.read_text()
        # The demo plan's connection reaches a live HCX simulator, with the credentials stored for it.
        service, admin = demo_connection(tmp_path / "avsportal.sqlite3", log.read_text())
        with urllib.request.urlopen(f"{service}/__sim__/state", timeout=10) as response:
            assert response.status == 200
        config = SimulatorConfig()
        login = urllib.request.Request(
            f"{service}/hybridity/api/sessions",
            method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"username": config.username, "password": config.password}).encode(),
        )
        with urllib.request.urlopen(login, timeout=10) as response:
            assert response.status == 200 and response.headers["x-hm-authorization"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10) as response:
            assert b"Sign in to AVS Portal" in response.read()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/vendor/htmx-2.0.11.min.js", timeout=10
        ) as r:
            assert r.status == 200, "static files are served by the app (whitenoise)"
        # The demo runs with DEBUG, yet a mistyped address gets the portal's page, not Django's URL map.
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page/", timeout=10)
        body = missing.value.read().decode()
        assert missing.value.code == 404 and 'data-testid="error-404"' in body and "URLconf" not in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=10) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "image/svg+xml"

        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True
        )
        started = [int(p) for p in children.stdout.split()]
        assert len(started) >= 2, "a worker and a web server run"
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
        assert "Stopping what the demo started" in log.read_text()
        for pid in started:
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not _alive(pid), f"process {pid} outlived Ctrl-C"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.fixture
def loaded(db):
    return demo.load()


def test_the_estate_is_a_healthcare_company_with_readiness_problems_to_find(loaded):
    vc = VCenter.objects.get(name="vcenter.stmarys-health.local")
    assert vc.origin == "demo"
    assert set(Cluster.objects.values_list("name", flat=True)) == {
        "PROD-CL01",
        "PROD-CL02",
        "DMZ-CL01",
        "LEGACY-CL01",
    }
    assert set(Host.objects.filter(cluster__name="LEGACY-CL01").values_list("cpu_vendor", flat=True)) == {
        "amd"
    }
    assert Host.objects.count() == 12
    assert set(Datastore.objects.values_list("type", flat=True)) == {"VMFS", "NFS", "vsan"}
    assert Network.objects.filter(switch_type=SwitchType.STANDARD, vlan_id=0).exists()
    assert Network.objects.filter(switch_type=SwitchType.DISTRIBUTED, vlan_id__gt=0).count() >= 10

    vms = VirtualMachine.objects.all()
    assert 250 <= vms.count() <= 350
    for prefix in (
        "ehr-",
        "pacs-",
        "lis-",
        "dc0",
        "sqlclu",
        "web-portal",
        "fs0",
        "print",
        "mon-",
        "vdi-",
        "dev-",
    ):
        assert vms.filter(name__startswith=prefix).exists(), prefix
    assert vms.filter(hw_version__lt=9).exists() and vms.filter(hw_version__gte=19).exists()
    for status in (ToolsStatus.NOT_INSTALLED, ToolsStatus.NOT_RUNNING, ToolsStatus.OLD):
        assert vms.filter(tools_status=status).exists(), status
    assert vms.filter(power_state=PowerState.OFF, is_template=False).exists()
    assert vms.filter(is_template=True).count() >= 3
    assert vms.filter(ft_enabled=True).count() == 1
    assert vms.filter(usb_devices__gt=0).exists() and vms.filter(passthrough_devices__gt=0).exists()
    assert vms.filter(cdroms__iso_path__endswith=".iso", cdroms__connected=True).exists()
    assert vms.filter(snapshots__isnull=False).distinct().count() >= 10
    assert vms.filter(provisioned_mib__gt=10 * 1024 * 1024).exists(), "a VM over 10 TB"
    assert vms.filter(host__cpu_vendor="amd").exists()
    assert vms.filter(nics__network__switch_type=SwitchType.STANDARD).exists()
    assert vms.filter(attributes__Application="PACS").exists()
    assert vms.filter(tags__name="Compliance:HIPAA").exists()

    disks = VirtualDisk.objects.all()
    quorum = disks.filter(rdm_mode=RdmMode.PHYSICAL)
    assert quorum.exists() and set(quorum.values_list("bus_sharing", flat=True)) == {"physicalSharing"}
    assert disks.filter(sharing="sharingMultiWriter").values("vm").distinct().count() == 2
    assert disks.filter(mode="independent_persistent", rdm_mode="").exists()


def test_loading_again_writes_nothing(loaded, django_assert_max_num_queries):
    assert loaded["vms"]["created"] > 0
    # Reading back is one query per kind of object, whatever the size of the estate.
    with django_assert_max_num_queries(20):
        again = demo.load()
    assert all(r["created"] == r["updated"] == r["removed"] == 0 for r in again.values()), again


def test_it_is_the_same_estate_every_time():
    assert demo.build_estate() == demo.build_estate()
    assert demo.build_estate(seed=1) != demo.build_estate()


def test_the_demo_hcx_plan_is_sound_and_its_connection_follows_the_simulator(db):
    from hcx.choices import SetupStepKey, StepState
    from hcx.models import HcxConnection, HcxSetupStep
    from hcx.planning.checks import check_plan

    demo.load(hcx_demo.with_simulator_networks(demo.build_estate()))
    plan, created = hcx_demo.load_plan(demo.VCENTER_NAME)
    assert created and hcx_demo.load_plan(demo.VCENTER_NAME) == (plan, False)
    report = check_plan(plan)
    assert report.ready and report.error_count == 0, [f.message for f in report.findings]
    assert set(plan.networks.values_list("name", flat=True)) == {"App-VLAN101", "App-VLAN102"}
    assert plan.vcenter.name == demo.VCENTER_NAME and set(plan.extension_gateways) == {
        "App-VLAN101",
        "App-VLAN102",
    }

    first = hcx_demo.connect_simulator("http://127.0.0.1:8001", "http://127.0.0.1:8002")
    connection = HcxConnection.objects.get(plan=plan)
    config = SimulatorConfig()
    assert first.created and (connection.username, connection.password, connection.admin_password) == (
        config.username,
        config.password,
        config.password,
    )
    assert (connection.avs_client_id, connection.avs_client_secret, connection.avs_private_cloud) == (
        config.client_id,
        config.client_secret,
        config.private_cloud,
    )
    assert connection.arm_url == connection.login_url == "http://127.0.0.1:8001/arm"
    assert hcx_demo.connect_simulator("http://127.0.0.1:8001", "http://127.0.0.1:8002").changed == []

    HcxSetupStep.objects.create(plan=plan, step=SetupStepKey.ACTIVATE, state=StepState.DONE)
    moved = hcx_demo.connect_simulator("http://127.0.0.1:9001", "http://127.0.0.1:9002")

    assert moved.moved and HcxConnection.objects.get(plan=plan).appliance_url == "http://127.0.0.1:9002"
    steps = dict(HcxSetupStep.objects.filter(plan=plan).values_list("step", "state"))
    assert steps == {SetupStepKey.DEPLOY: StepState.DONE}, "a fresh simulator: the set-up starts again"
