"""Shared by the HCX migration tests: migration bodies for the simulator's `meshed` preset, and its
test-only controls for VM facts and migration settings (docs/hcx-simulator.md)."""

import datetime

import requests

from hcx.client import bodies
from hcx.simulator.inventory import LOCAL_VC_UUID, REMOTE_VC_UUID

GiB = 1024**3


class Meshed:
    """The endpoints of a simulator reset to `meshed`, and a migration body for any VM."""

    def __init__(self, sim, variants: dict | None = None):
        self.sim = sim
        sim.control.reset("meshed", variants=variants)
        state = sim.control.state()
        self.local = state["localEndpointId"]
        self.remote = state["pairings"][0]["endpointId"]
        # HCX 9.x also lists its automatic default mesh: the preset's is mesh-avs.
        self.mesh_id = next(m["serviceMeshId"] for m in state["serviceMeshes"] if m["name"] == "mesh-avs")

    def spec(self, vm: str, migration_type: str = "Bulk", **kwargs) -> dict:
        kwargs.setdefault(
            "placement",
            [
                bodies.container("resgroup-21", "Compute-ResourcePool", "ResourcePool"),
                bodies.container("group-v22", "Migrated", "Folder"),
            ],
        )
        kwargs.setdefault("datastore_id", "datastore-31")
        return bodies.migration(
            vm_id=vm,
            vm_name=vm.replace("vm-", "app-"),
            migration_type=migration_type,
            source=self.site(),
            destination=self.site(remote=True),
            **kwargs,
        )

    def site(self, *, remote: bool = False) -> dict:
        """The local (or the remote) endpoint with its vCenter, as a migration's source or destination."""
        if remote:
            return bodies.site(self.remote, vcenter_uuid=REMOTE_VC_UUID)
        return bodies.site(self.local, vcenter_uuid=LOCAL_VC_UUID)

    def register(self, *vms: dict):
        post(self.sim, "/vms", {"items": list(vms)})

    def settings(self, **changes) -> dict:
        return post(self.sim, "/migration-settings", changes)

    def now(self) -> float:
        return self.sim.control._call("GET", "/clock")["now"]

    def at(self, seconds_from_now: float) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.now() + seconds_from_now, datetime.UTC)


def post(sim, path: str, body: dict) -> dict:
    response = requests.post(f"{sim.service_url}/__sim__{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()
