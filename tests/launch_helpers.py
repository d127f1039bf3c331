"""Shared by the launch tests: a wave ready to launch against the HCX simulator's `meshed` preset.

`make_launch_setup(sim)` builds the site (an HcxPlan whose HcxConnection points at `sim`), an on-premises
inventory whose ids are the simulator's (cluster `domain-c7`, datastore `datastore-12`, port group
`App-VLAN101` = `dvportgroup-41`), VMs registered with the simulator (`/__sim__/vms`, small disks so
that copies take simulated seconds), an approved wave targeting the AVS side the simulator's remote
inventory reports (cluster `Cluster-1` = `domain-c8`, datastore `vsanDatastore` = `datastore-1011`, folder
`Migrated` = `group-v32`, datacenter `datacenter-3`) and a network mapping to the AVS segment `TNT-HCX-MGMT`.

`sync(site)` reads HCX once and writes what it says into the database (transitions.observe), the way
the reconciler does, so tests can finish migrations without running it.
"""

import datetime
from dataclasses import dataclass, field

from django.db import transaction

from hcx.choices import MigrationType
from hcx.models import HcxPlan
from inventory.models import Cluster, Datastore, Network
from migrations_app.choices import MappingTarget, MigrationState, WaveStatus
from migrations_app.models import MigrationEvent, NetworkMapping, TargetCluster, VmMigration, Wave
from tests.factories import make_vm, make_wave
from tests.hcx_migrations import Meshed
from tests.hcx_setup import make_setup_plan

MiB = 1024**2
ONPREM_CLUSTER = ("domain-c7", "Cluster-Prod")
ONPREM_DATASTORE = ("datastore-12", "nfs-01")
PORT_GROUP = ("dvportgroup-41", "App-VLAN101")
AVS_CLUSTER = ("domain-c8", "Cluster-1")
AVS_DATASTORE = ("datastore-1011", "vsanDatastore")
AVS_FOLDER = "Migrated"
AVS_FOLDER_ID = "group-v32"
AVS_DATACENTER = ("datacenter-3", "SDDC-Datacenter")
AVS_SEGMENT = ("/infra/segments/TNT-HCX-MGMT", "TNT-HCX-MGMT")


@dataclass
class LaunchSetup:
    sim: object
    meshed: Meshed
    site: HcxPlan
    wave: Wave
    vms: list = field(default_factory=list)

    def hcx(self) -> dict:
        return self.sim.control.state()

    def hcx_migrations(self) -> list[dict]:
        return self.hcx()["migrations"]

    def finish(self, seconds: float = 100_000):
        """Let simulated time pass until the migrations HCX runs are over (no switchover window)."""
        self.sim.control.advance(seconds)


def make_launch_setup(
    sim,
    *,
    vms: int = 3,
    migration_type: str = MigrationType.BULK,
    name: str = "Wave 1",
    disk_bytes: int = 64 * MiB,
    facts: dict | None = None,
    meshed_variants: dict | None = None,
    **wave_fields,
) -> LaunchSetup:
    """A site meshed with `sim` and an approved wave of `vms` VMs named app-1... `facts` maps a VM name to
    extra simulator facts (e.g. {"app-2": {"isoAttached": True}}); `meshed_variants` are the simulator's
    (hcx/simulator/variants.py); `wave_fields` override the wave's."""
    meshed = Meshed(sim, meshed_variants)
    site = make_setup_plan(sim)
    vcenter = site.vcenter
    cluster = Cluster.objects.create(vcenter=vcenter, moid=ONPREM_CLUSTER[0], name=ONPREM_CLUSTER[1])
    datastore = Datastore.objects.create(
        vcenter=vcenter,
        moid=ONPREM_DATASTORE[0],
        name=ONPREM_DATASTORE[1],
        capacity_mib=4 * MiB,
        free_mib=MiB,
    )
    network = Network.objects.get(vcenter=vcenter, name=PORT_GROUP[1])
    Network.objects.filter(pk=network.pk).update(moid=PORT_GROUP[0])
    made = [
        make_vm(
            vcenter,
            f"app-{i}",
            moid=f"vm-{100 + i}",
            cluster=cluster,
            folder="Apps",
            power_state="poweredOn",
            hw_version=19,
            disks=[(datastore, 1024)],
            nics=[network],
        )
        for i in range(1, vms + 1)
    ]
    meshed.register(
        *[
            {"id": vm.moid, "name": vm.name, "diskBytes": disk_bytes, **(facts or {}).get(vm.name, {})}
            for vm in made
        ]
    )
    target = TargetCluster.objects.create(site=site, name=AVS_CLUSTER[1], hosts=3)
    values = {
        "status": WaveStatus.APPROVED,
        "site": site,
        "target_cluster": target,
        "target_datastore": AVS_DATASTORE[1],
        "target_folder": AVS_FOLDER,
        "migration_type": migration_type,
    }
    values.update(wave_fields)
    wave = make_wave(name, made, **values)
    NetworkMapping.objects.create(
        wave=wave, source=network, target_kind=MappingTarget.SEGMENT, target_name=AVS_SEGMENT[1]
    )
    return LaunchSetup(sim=sim, meshed=meshed, site=site, wave=wave, vms=made)


def sync(site: HcxPlan) -> int:
    """Read the site's migrations in HCX once and record what HCX says; returns how many changed."""
    from migrations_app.launch.site import service_for
    from migrations_app.launch.transitions import OBSERVED_FIELDS, observe

    rows = {
        m.hcx_id: m
        for m in VmMigration.objects.filter(wave__site=site, hcx_id__isnull=False)
        .exclude(state__in=MigrationState.TERMINAL)
        .select_related("vm")
    }
    if not rows:
        return 0
    service = service_for(site)
    try:
        changed, events = [], []
        for progress in service.iter_migrations(ids=sorted(rows)):
            did, new = observe(rows[progress.id], progress)
            if did:
                changed.append(rows[progress.id])
                events += new
    finally:
        service.close()
    with transaction.atomic():
        VmMigration.objects.bulk_update(changed, OBSERVED_FIELDS)
        MigrationEvent.objects.bulk_create(events)
    return len(changed)


def walk_launch_journey(setup: LaunchSetup, engineer):
    """An engineer's launch journey on a wave of three VMs whose window is a day away: launch, switch
    app-1 over now, move app-2's window, cancel app-3 and retry it, then let everything complete (the
    reconciler reading HCX as it goes). Asserts each step as the engineer sees it; returns the batch."""
    from core.jobs import run
    from migrations_app.launch import batches, controls
    from migrations_app.launch.reconcile import reconcile_site

    S, hcxsim = MigrationState, setup.sim
    setup.wave.window_start, setup.wave.window_end = setup.meshed.at(86_400), setup.meshed.at(90_000)
    setup.wave.save()
    batch = batches.do_create_batch(setup.wave, acting_user=engineer)
    run(batches.do_launch_batch(batch, acting_user=engineer).pk)
    hcxsim.control.advance(31 + 120)  # validated, the small disks copied: waiting for the window
    reconcile_site(setup.site)
    first, second, third = batch.migrations.select_related("vm").order_by("vm__name")
    assert {m.state for m in (first, second, third)} == {S.WAITING_FOR_SWITCHOVER}

    now = controls.do_switch_over_now([first], acting_user=engineer)
    start = setup.meshed.at(7200).replace(microsecond=0)
    moved = controls.do_move_switchover_window(
        [second], start, start + datetime.timedelta(hours=1), acting_user=engineer
    )
    cancelled = controls.do_cancel_migrations([third], acting_user=engineer)
    hcxsim.control.advance(1)
    reconcile_site(setup.site)
    retried = controls.do_retry_migrations([third], acting_user=engineer)
    reconcile_site(setup.site)  # sends the retry, in a new group

    assert (len(now.done), len(moved.done), len(cancelled.done), len(retried.done)) == (1, 1, 1, 1), (
        now.refused,
        moved.refused,
        cancelled.refused,
        retried.refused,
    )
    first.refresh_from_db()
    second.refresh_from_db()
    [attempt] = retried.done
    attempt.refresh_from_db()
    assert first.state == S.SWITCHOVER
    assert (second.state, second.switchover_start) == (S.WAITING_FOR_SWITCHOVER, start)
    assert VmMigration.objects.get(pk=third.pk).state == S.CANCELLED
    assert attempt.hcx_id and attempt.state == S.VALIDATING

    hcxsim.control.advance(100_000)
    reconcile_site(setup.site)

    assert {
        m.vm.name: m.state
        for m in batch.migrations.filter(state__in=S.TERMINAL).select_related("vm")
        if m.pk != third.pk
    } == {"app-1": S.COMPLETE, "app-2": S.COMPLETE, "app-3": S.COMPLETE}
    setup.wave.refresh_from_db()
    assert setup.wave.status == WaveStatus.COMPLETED
    return batch
