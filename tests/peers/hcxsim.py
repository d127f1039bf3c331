"""HCX simulator fixtures: the simulator runs as its own process (`python -m hcx.simulator`) on free
ports, as in the demo, and tests reach it only over HTTP.

`hcxsim_server` (session) starts one process; `hcxsim` (per test) resets it to a fresh state and
yields the same object, whose `control` drives the test-only `/__sim__/` endpoints.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "administrator@vsphere.local"
PASSWORD = "Sim-Passw0rd!"
CLIENT_ID = "portal-tests"
CLIENT_SECRET = "portal-tests-secret"


class Control:
    """The simulator's `/__sim__/` endpoints: reset, faults, clock, state."""

    def __init__(self, service_url: str):
        self.base = f"{service_url}/__sim__"

    def _call(self, method, path, **kwargs):
        response = requests.request(method, f"{self.base}{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self, preset: str = "fresh", variants: dict | None = None) -> dict:
        """Wipe the simulator; `variants` (hcx/simulator/variants.py) pick the shapes it answers in."""
        return self._call("POST", "/reset", json={"preset": preset, "variants": variants or {}})

    def set_variants(self, **chosen) -> dict:
        return self._call("POST", "/variants", json=chosen)

    def fault(self, kind: str, **spec) -> dict:
        return self._call("POST", "/faults", json={"kind": kind, **spec})

    def clear_faults(self):
        self._call("DELETE", "/faults")

    def advance(self, seconds: float) -> float:
        return self._call("POST", "/clock", json={"advance": seconds})["now"]

    def state(self) -> dict:
        return self._call("GET", "/state")


@dataclass
class SimProcess:
    proc: subprocess.Popen
    service_url: str
    admin_url: str
    username: str
    password: str
    client_id: str
    client_secret: str
    log_path: Path
    cert_path: str | None = None  # with --tls: the self-signed certificate to verify against

    @property
    def control(self) -> Control:
        return Control(self.service_url)

    @property
    def arm_url(self) -> str:
        return f"{self.service_url}/arm"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_simulator(log_path: Path, *extra_args: str, timeout: float = 30) -> SimProcess:
    """Start `python -m hcx.simulator` on free ports and wait for its HCXSIM_READY line.
    HCXSIM_VARIANTS="hcx_version=9.x,..." in the environment starts it with those variants, so that a
    whole test file can be run against another shape of HCX (a reset keeps them)."""
    for chosen in filter(None, os.environ.get("HCXSIM_VARIANTS", "").split(",")):
        extra_args = (*extra_args, "--variant", chosen.strip())
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hcx.simulator",
            "--port",
            "0",
            "--admin-port",
            "0",
            "--username",
            USERNAME,
            "--password",
            PASSWORD,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
            *extra_args,
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log_path.read_text().splitlines():
            if line.startswith("HCXSIM_READY "):
                fields = dict(part.split("=", 1) for part in line.split()[1:])
                return SimProcess(
                    proc,
                    fields["service"],
                    fields["admin"],
                    USERNAME,
                    PASSWORD,
                    CLIENT_ID,
                    CLIENT_SECRET,
                    log_path,
                    fields.get("cert"),
                )
        if proc.poll() is not None:
            raise RuntimeError(f"HCX simulator exited at start:\n{log_path.read_text()}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"HCX simulator not ready after {timeout}s:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def hcxsim_server(tmp_path_factory):
    sim = start_simulator(tmp_path_factory.mktemp("hcxsim") / "hcxsim.log")
    yield sim
    sim.stop()


@pytest.fixture
def hcxsim(hcxsim_server):
    """The session's simulator, reset to a fresh (unactivated) Connector with no faults."""
    hcxsim_server.control.reset()
    return hcxsim_server


def hcx_login(sim: SimProcess) -> requests.Session:
    """A requests session logged in to the service API, sending the token on every call."""
    session = requests.Session()
    response = session.post(
        f"{sim.service_url}/hybridity/api/sessions",
        json={"username": sim.username, "password": sim.password},
        timeout=10,
    )
    response.raise_for_status()
    session.headers.update(
        {"x-hm-authorization": response.headers["x-hm-authorization"], "Accept": "application/json"}
    )
    return session


def admin_session(sim: SimProcess) -> requests.Session:
    session = requests.Session()
    session.auth = ("admin", sim.password)
    return session


def arm_session(sim: SimProcess) -> requests.Session:
    """A requests session holding a bearer token from the simulator's Entra ID token stub."""
    response = requests.post(
        f"{sim.arm_url}/tenant-1/oauth2/v2.0/token",
        timeout=10,
        data={
            "grant_type": "client_credentials",
            "client_id": sim.client_id,
            "client_secret": sim.client_secret,
            "scope": "https://management.azure.com/.default",
        },
    )
    response.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    session.params = {"api-version": "2023-09-01"}
    return session


@pytest.fixture(scope="session")
def hcxsim_fast_server(tmp_path_factory):
    """A second simulator whose clock runs 600x real time, for the set-up jobs, which wait in real
    time as they do against a real HCX: a 20-minute service mesh takes 2 seconds."""
    sim = start_simulator(tmp_path_factory.mktemp("hcxsim-fast") / "hcxsim.log", "--time-scale", "600")
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def tls_vcenter(tmp_path_factory):
    """A TLS server standing in for a vCenter whose certificate HCX's refusal does not carry, so the
    portal reads it from the server itself (`service_url` with https, `cert_path` its certificate)."""
    sim = start_simulator(tmp_path_factory.mktemp("tls-vcenter") / "hcxsim.log", "--tls")
    yield sim
    sim.stop()


@pytest.fixture
def hcxsim_fast(hcxsim_fast_server):
    hcxsim_fast_server.control.reset()
    return hcxsim_fast_server
