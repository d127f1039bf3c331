"""PostgreSQL restarted while a worker runs a job (issue 7): the job it interrupted ends FAILED with a
message that says so (not RUNNING forever), and the same worker, reconnected, runs the next job to the
end.

The machine's shared PostgreSQL is never touched: the test starts a server of its own in a temporary
folder, on a free port, with Debian's binaries, and points a worker and an extra database alias of
the test at it. It runs only when the tests run on PostgreSQL.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError, connection, connections

from core.choices import JobStatus
from core.models import Job
from inventory.discovery.actions import KIND
from inventory.models import VCenter, VirtualMachine
from tests.peers.tcpproxy import TcpProxy
from tests.peers.vcsim import read_vms
from tests.peers.worker import ROOT, database_url, wait_for
from tests.test_faults_discovery import MEDIUM, make_worker  # noqa: F401  the worker fixture

ALIAS = "faults_own_pg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


class OwnPostgres:
    """A PostgreSQL server of this test's own. initdb refuses to run as root: as root, the server
    runs as the `postgres` system user (runuser), in a folder it owns."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.root / "data"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)

    def _run(self, tool: str, *args: str, **kwargs):
        command = [str(self.bindir / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, timeout=120, **kwargs)

    def start(self):
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def restart(self):
        """`-m fast`: every session is ended at once, as a failover or a package upgrade does."""
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-m", "fast", "-w", "restart"
        )

    def stop(self):
        if self.data.exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass  # not running
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, *args: str, **kwargs):
        return subprocess.run(
            [
                str(self.bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=120,
            **kwargs,
        )

    def create_portal_database(self, name: str) -> str:
        """A new database with the portal's tables (manage.py migrate); returns its URL."""
        self.psql("-d", "postgres", "-c", f'CREATE DATABASE "{name}"')
        url = f"postgresql://postgres@127.0.0.1:{self.port}/{name}"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
        env.pop("TEST_DB_NAME", None)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
        return url


@pytest.fixture
def own_postgres(django_db_setup, django_db_blocker):
    """The server, a database on it with the portal's tables, and the alias ALIAS to reach it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the tests run on SQLite (set DATABASE_URL to a PostgreSQL database)")
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user("postgres")):
        pytest.skip("running as root, and there is no postgres user (with runuser) for initdb to run as")
    server = OwnPostgres(bindir)
    try:
        server.start()
        server.create_portal_database("portal")
        connections.settings[ALIAS] = {
            **connection.settings_dict,
            "NAME": "portal",
            "HOST": "127.0.0.1",
            "PORT": str(server.port),
            "USER": "postgres",
            "PASSWORD": "",
        }
        with django_db_blocker.unblock():
            yield server
    finally:
        if ALIAS in connections.settings:
            connections[ALIAS].close()
            del connections[ALIAS]
            del connections.settings[ALIAS]
        server.stop()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def on_own_pg(read):
    """`read()` against the test's server; None while it restarts (a fresh session each time, as
    the one from before the restart is gone)."""
    try:
        return read()
    except (OperationalError, InterfaceError):
        return None
    finally:
        connections[ALIAS].close()


def job_row(pk: int) -> Job | None:
    return on_own_pg(lambda: Job.objects.using(ALIAS).get(pk=pk))


def discovery(vc: VCenter) -> Job:
    return Job.objects.using(ALIAS).create(
        kind=KIND, name=f"Discover {vc.name}", params={"vcenter_id": vc.pk}
    )


def test_a_postgresql_restart_mid_job_fails_that_job_saying_so_and_the_worker_runs_the_next(
    own_postgres, vcsim, make_worker
):  # noqa: F811
    sim = vcsim(**MEDIUM)
    total = len(read_vms(sim.connect()))
    own = connections.settings[ALIAS]
    with TcpProxy("127.0.0.1", sim.port) as proxy:
        proxy.slow(0.01)  # the restart lands while VM pages are still coming
        vc = VCenter.objects.using(ALIAS).create(
            name="lab",
            url=f"https://127.0.0.1:{proxy.port}/sdk",
            username=sim.username,
            password=sim.password,
            verify_tls=False,
        )
        worker = make_worker(DATABASE_URL=database_url(own), DISCOVERY_PAGE_SIZE="20")
        worker.start()
        first = discovery(vc)
        worker.send(first.pk)

        wait_for(
            lambda: (job_row(first.pk) or first).progress_text.startswith("Read "),
            timeout=60,
            message="the worker to read VM pages",
        )
        own_postgres.restart()
        wait_for(
            lambda: getattr(job_row(first.pk), "is_terminal", False),
            timeout=120,
            message="the interrupted job to end",
        )

        first = job_row(first.pk)
        assert first.status == JobStatus.FAILED
        assert first.error.startswith("The database failed or restarted while this job ran (")
        assert first.error.endswith("); start it again")
        assert first.completed is not None
        assert on_own_pg(lambda: VirtualMachine.objects.using(ALIAS).count()) == 0  # all or nothing

        proxy.heal()
        second = discovery(vc)
        worker.send(second.pk)
        wait_for(
            lambda: getattr(job_row(second.pk), "is_terminal", False),
            timeout=120,
            message="the next job to end",
        )

    assert worker.runs[-1].proc.poll() is None, "the same worker, still running"
    second = job_row(second.pk)
    assert second.status == JobStatus.COMPLETED, second.error
    assert on_own_pg(lambda: VirtualMachine.objects.using(ALIAS).filter(vcenter_id=vc.pk).count()) == total
    assert on_own_pg(lambda: Job.objects.using(ALIAS).filter(status__in=JobStatus.ACTIVE).count()) == 0
