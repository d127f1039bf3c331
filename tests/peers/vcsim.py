"""The govmomi vCenter simulator as a test peer (tools/vcsim, built by scripts/test).

`vcsim(dc=1, cluster=2, host=2, vm=3)` starts a simulator of that size on a free port, or
returns the one already running with that size; all of them stop at the end of the session.
Tests that change the estate (destroy a VM...) should ask for a size no other test uses, or
pass `fresh=True` for a simulator of their own.
"""

import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_REASON = "vCenter simulator not built: install golang-go and golang-github-vmware-govmomi-dev"
USERNAME = "administrator@vsphere.local"
PASSWORD = "sim-Passw0rd!"


def vcsim_binary() -> Path | None:
    for candidate in (os.environ.get("VCSIM_BIN"), ROOT / "var" / "bin" / "vcsim"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


@dataclass
class Simulator:
    url: str
    username: str
    password: str
    proc: subprocess.Popen = field(repr=False)

    @property
    def host(self) -> str:
        return urlparse(self.url).netloc

    @property
    def port(self) -> int:
        return urlparse(self.url).port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def connect(self):
        """A pyvmomi ServiceInstance on this simulator, to compare what discovery stored with
        what vCenter says, or to change the estate. Certificate checks off: it is self-signed."""
        from pyVim.connect import SmartConnect

        return SmartConnect(
            host="127.0.0.1",
            port=self.port,
            user=self.username,
            pwd=self.password,
            disableSslCertValidation=True,
        )


def start_simulator(
    binary: Path, *, dc=1, cluster=1, host=2, standalone_host=0, vm=2, pg=1, ds=1, timeout=60
) -> Simulator:
    args = [
        str(binary),
        "-l",
        "127.0.0.1:0",
        "-dc",
        str(dc),
        "-cluster",
        str(cluster),
        "-host",
        str(host),
        "-standalone-host",
        str(standalone_host),
        "-vm",
        str(vm),
        "-pg",
        str(pg),
        "-ds",
        str(ds),
        "-username",
        USERNAME,
        "-password",
        PASSWORD,
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    found = {}

    def read_url():
        for line in proc.stdout:
            if line.startswith("VCSIM_URL="):
                found["url"] = line.strip().split("=", 1)[1]
                return

    reader = threading.Thread(target=read_url, daemon=True)
    reader.start()
    reader.join(timeout)
    if "url" not in found:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"vcsim did not print its URL within {timeout}s (exit code {proc.poll()})")
    return Simulator(url=found["url"], username=USERNAME, password=PASSWORD, proc=proc)


@pytest.fixture(scope="session")
def vcsim():
    binary = vcsim_binary()
    running: dict[tuple, Simulator] = {}
    extra: list[Simulator] = []

    def get(*, dc=1, cluster=1, host=2, standalone_host=0, vm=2, pg=1, ds=1, fresh=False) -> Simulator:
        if binary is None:
            pytest.skip(SKIP_REASON)
        size = (dc, cluster, host, standalone_host, vm, pg, ds)
        if fresh:
            sim = start_simulator(
                binary,
                dc=dc,
                cluster=cluster,
                host=host,
                standalone_host=standalone_host,
                vm=vm,
                pg=pg,
                ds=ds,
            )
            extra.append(sim)
            return sim
        if size not in running or running[size].proc.poll() is not None:
            running[size] = start_simulator(
                binary,
                dc=dc,
                cluster=cluster,
                host=host,
                standalone_host=standalone_host,
                vm=vm,
                pg=pg,
                ds=ds,
            )
        return running[size]

    yield get
    for sim in [*running.values(), *extra]:
        sim.stop()


def read_vms(si, properties=("name",)) -> dict[str, dict]:
    """Every VM's properties straight from the simulator, by moid, with one PropertyCollector call
    (the simulator cannot answer a lazy pyvmomi read of an unset property)."""
    from pyVmomi import vim, vmodl

    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[
                vmodl.query.PropertyCollector.ObjectSpec(
                    obj=view,
                    skip=True,
                    selectSet=[
                        vmodl.query.PropertyCollector.TraversalSpec(type=vim.view.ContainerView, path="view")
                    ],
                )
            ],
            propSet=[
                vmodl.query.PropertyCollector.PropertySpec(type=vim.VirtualMachine, pathSet=list(properties))
            ],
        )
        objects = content.propertyCollector.RetrieveContents([spec])
    finally:
        view.Destroy()
    return {obj.obj._moId: {p.name: p.val for p in obj.propSet} for obj in objects}
