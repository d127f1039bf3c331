"""One VM migration as HCX's mobility API takes it (`hcx/client/bodies.migration()`).

The VM is named by its vCenter moref (`VirtualMachine.moid`): the Connector is registered with the
same vCenter the portal discovered, so HCX knows the VM by that id. A rollback names it by its new id
in AVS, read from HCX's remote inventory (`SiteContext.remote_vm`). The wave says where it goes and
how (placement, datastore, network mappings, options, switchover window); a rollback (`REVERSE`)
goes from the AVS endpoint back to the local one, onto the VM's original cluster, folder and datastore.
"""

from hcx.choices import MigrationType
from hcx.client import bodies
from migrations_app.choices import MigrationDirection

from .site import SiteContext

# Our migration types -> bodies.MIGRATION_TYPES keys.
TYPE_NAMES = {
    MigrationType.BULK: "Bulk",
    MigrationType.VMOTION: "vMotion",
    MigrationType.COLD: "Cold",
    MigrationType.RAV: "RAV",
}
# Only these wait for a switchover window (hcx-wire.md §9.2); HCX warns about a window on the others.
WINDOWED = (MigrationType.BULK, MigrationType.RAV)


def spec_for(migration, ctx: SiteContext) -> dict:
    """The body HCX validates and starts for `migration` (a VmMigration with its vm, wave and batch).
    Raises LaunchError when the site or the wave lacks something HCX needs."""
    m, wave, vm = migration, migration.wave, migration.vm
    reverse = m.direction == MigrationDirection.REVERSE
    if reverse:
        # HCX knows the VM in AVS by its id there, not by its old on-premises moref (hcx-wire.md §6).
        source, destination, where, vm_id = ctx.remote, ctx.local, ctx.origin(vm), ctx.remote_vm(vm).id
    else:
        source, destination, where, vm_id = ctx.local, ctx.remote, ctx.target(wave), vm.moid
    # A rollback switches over as soon as its copy is done: the wave's window is for going to AVS.
    windowed = m.migration_type in WINDOWED and not reverse
    return bodies.migration(
        vm_id=vm_id,
        vm_name=vm.name,
        migration_type=TYPE_NAMES[m.migration_type],
        source=source.body(),
        destination=destination.body(),
        placement=list(where.containers),
        datastore_id=where.datastore_id,
        datastore_name=where.datastore_name,
        network_mappings=ctx.network_mappings(m),
        service_mesh_id=ctx.mesh_for(m.migration_type),
        switchover_start=wave.window_start if windowed else None,
        switchover_end=wave.window_end if windowed else None,
        remove_isos=wave.remove_isos,
        remove_snapshots=wave.remove_snapshots,
        force_power_off=wave.force_power_off,
        retain_mac=wave.retain_mac,
        # Going back, the on-premises hosts may not run the newer tools or hardware version.
        upgrade_tools=wave.upgrade_tools and not reverse,
        upgrade_hardware=wave.upgrade_hardware and not reverse,
        seed_checkpoint=m.seed_checkpoint,
    )
