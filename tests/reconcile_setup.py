"""Shared by the reconciler tests: a running wave whose migrations were started in the HCX simulator,
with the portal's rows holding their HCX ids (as a launch leaves them)."""

from dataclasses import dataclass

from django.utils import timezone

from hcx.client import HcxService, Retry, Waiter, bodies
from migrations_app.choices import MigrationState, WaveStatus
from migrations_app.launch.transitions import move
from tests.factories import make_batch, make_estate, make_wave
from tests.hcx_migrations import Meshed
from tests.hcx_setup import make_setup_plan


def sim_client(sim) -> HcxService:
    return HcxService(
        sim.service_url,
        sim.username,
        sim.password,
        waiter=Waiter(interval=0),
        retry=Retry(attempts=2, backoff=0.01),
        timeout=10,
    )


@dataclass
class Launched:
    site: object
    wave: object
    batch: object
    meshed: Meshed

    @property
    def migrations(self):
        return self.batch.migrations.order_by("pk")


def launch(
    sim,
    vms: int,
    *,
    migration_type: str = "bulk",
    hcx_type: str = "Bulk",
    disk_gib: int = 10,
    name: str = "Wave 1",
    site_name: str = "Amsterdam",
    meshed: Meshed | None = None,
    **spec,
) -> Launched:
    """A RUNNING wave of `vms` VMs at a site connected to `sim`, started in HCX as one batch."""
    meshed = meshed or Meshed(sim)
    site = make_setup_plan(sim, name=site_name, azure=False)
    estate = make_estate(vms=vms, devices=False, prefix=f"{name.replace(' ', '')}-")
    wave = make_wave(
        name, vms=estate.vms, status=WaveStatus.RUNNING, site=site, migration_type=migration_type
    )
    batch = make_batch(wave)
    rows = list(batch.migrations.select_related("vm").order_by("pk"))
    meshed.register(
        *({"id": f"vm-{m.vm_id}", "name": m.vm.name, "diskBytes": disk_gib * 1024**3} for m in rows)
    )
    # As dispatch sends them: a mobility group made with the migrations, then started.
    hcx = sim_client(sim)
    group = hcx.create_mobility_group(
        bodies.mobility_group(
            name=f"{name}-{batch.pk}", source=meshed.site(), destination=meshed.site(remote=True)
        ),
        [meshed.spec(f"vm-{m.vm_id}", hcx_type, **spec) for m in rows],
    )
    hcx.start_mobility_group(group.id)
    ids = {p.vm_id: p.id for p in hcx.iter_migrations(group_ids=[group.id])}
    hcx.close()
    for m in rows:
        move(m, MigrationState.SUBMITTING)
        move(m, MigrationState.VALIDATING, hcx_id=ids[f"vm-{m.vm_id}"], submitted=timezone.now())
    return Launched(site, wave, batch, meshed)
