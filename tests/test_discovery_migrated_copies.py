"""Rediscovery after an HCX Bulk switchover, against the govmomi vCenter simulator: HCX renames the
source VM with a POSIX-timestamp suffix and moves it to "Migrated VMs" (inventory/migrated_copies.py).
The portal's record of the VM keeps its name and folder (the VM in AVS), says which copy was left
on-premises, and the copy is not offered to plan again; a plain rename is still a rename."""

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim

from inventory.discovery.discover import discover
from inventory.migrated_copies import original_name
from inventory.models import VCenter, VirtualMachine
from migrations_app.planner.autoplan import PlanInputs
from migrations_app.planner.proposals import load_units
from tests.factories import make_wave
from tests.peers.vcsim import read_vms

pytestmark = pytest.mark.django_db

STAMP = "1733600000"


def connection(sim) -> VCenter:
    return VCenter.objects.create(
        name=sim.host, url=sim.url, username=sim.username, password=sim.password, verify_tls=False
    )


def vm_named(si, name: str):
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        return next(vm for vm in view.view if vm.name == name)
    finally:
        view.Destroy()


def bulk_switchover(si, vm, name: str):
    """What HCX does to the source VM after a Bulk switchover: rename it and move it to Migrated VMs."""
    WaitForTask(vm.Rename_Task(newName=name))
    datacenter = vm.parent
    while not isinstance(datacenter, vim.Datacenter):
        datacenter = datacenter.parent
    folder = next(
        (f for f in datacenter.vmFolder.childEntity if f.name == "Migrated VMs"), None
    ) or datacenter.vmFolder.CreateFolder("Migrated VMs")
    WaitForTask(folder.MoveIntoFolder_Task([vm]))


@pytest.mark.parametrize(
    ("name", "folder", "original"),
    [
        (f"app-1-{STAMP}", "vm/Migrated VMs", "app-1"),
        (f"db_01_{STAMP}", "Migrated VMs", "db_01"),
        (f"app-1-{STAMP}123", "vm/Migrated VMs", "app-1"),  # milliseconds
        (f"app-1-{STAMP}", "vm/Prod", None),
        ("app-1-2024", "vm/Migrated VMs", None),
        ("app-1", "vm/Migrated VMs", None),
    ],
)
def test_it_tells_a_bulk_copy_by_its_suffix_and_folder(name, folder, original):
    assert original_name(name, folder) == original


def test_a_bulk_copy_is_the_migrated_vm_s_old_self_not_a_new_vm_to_plan(vcsim, client_for, planner):
    sim = vcsim(dc=1, cluster=1, host=1, vm=3, fresh=True)
    vc = connection(sim)
    discover(vc)
    si = sim.connect()
    names = sorted(p["name"] for p in read_vms(si).values())
    moved, other = names[0], names[1]
    before = VirtualMachine.objects.get(vcenter=vc, name=moved)
    bulk_switchover(si, vm_named(si, moved), f"{moved}-{STAMP}")
    WaitForTask(vm_named(si, other).Rename_Task(newName=f"{other}-renamed"))  # a plain rename

    summary = discover(vc)
    again = discover(vc)

    after = VirtualMachine.objects.get(pk=before.pk)
    assert (after.moid, after.name, after.folder, after.migrated_copy_name) == (
        before.moid,
        moved,
        before.folder,
        f"{moved}-{STAMP}",
    )
    assert (
        VirtualMachine.objects.get(vcenter=vc, moid=vm_named(si, f"{other}-renamed")._moId).name
        == f"{other}-renamed"
    )
    assert (summary["vms"]["created"], summary["vms"]["vanished"]) == (0, 0)
    assert again["writes"] == 0
    # Out of what is offered to plan: the add-VMs list and the auto-planner.
    page = client_for(planner)
    wave = make_wave("Wave 1", [])
    listing = page.get(f"/plan/waves/{wave.pk}/add-vms/").content.decode()
    assert moved not in listing and f"{other}-renamed" in listing
    singles = load_units(PlanInputs(include_ungrouped=True)).units
    assert before.pk not in {vm_id for unit in singles for vm_id in unit.vm_ids}
    assert "in AVS; copy left as" in page.get(f"/inventory/vms/{before.pk}/").content.decode()
