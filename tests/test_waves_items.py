"""Putting VMs into waves and taking them out: groups move whole, a VM is in one wave at a time (the
database says so too), every change is a new revision, and a change withdraws an approval."""

import pytest
from django.db import transaction
from django.utils import timezone

from core.models import AuditEntry
from hcx.choices import MigrationType
from migrations_app.choices import MappingTarget, WaveStatus
from migrations_app.models import DependencyGroup, NetworkMapping, Wave, WaveItem
from migrations_app.waves import actions
from migrations_app.waves.errors import WaveError, WaveLocked
from migrations_app.waves.revisions import changed
from tests.factories import make_estate, make_group, make_network, make_vcenter, make_vm, make_wave

pytestmark = pytest.mark.django_db


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def estate(db):
    return make_estate(vms=8, devices=False)


def test_a_planner_adds_a_whole_group(client_for, planner, estate):
    group = make_group("billing", estate.vms[:3])
    wave = make_wave("W1")
    client = client_for(planner)
    page = client.get(f"/plan/waves/{wave.pk}/add-groups/").content.decode()
    assert "billing" in page
    response = client.post(f"/plan/waves/{wave.pk}/add-groups/", {"select": [group.pk]}, follow=True)
    assert "3 VMs added to W1." in messages_of(response)
    assert set(WaveItem.objects.filter(wave=wave).values_list("vm_id", flat=True)) == {
        vm.pk for vm in estate.vms[:3]
    }
    assert set(WaveItem.objects.values_list("group_id", flat=True)) == {group.pk}
    wave.refresh_from_db()
    assert wave.revision == 2
    entry = AuditEntry.objects.get(action="wave.change", object_id=wave.pk)
    assert entry.detail["what"] == "added 3 VMs of billing" and entry.user == planner


def test_a_group_partly_in_another_wave_is_refused_with_the_vms_at_fault(client_for, planner, estate):
    group = make_group("billing", estate.vms[:4])
    make_wave("W2", estate.vms[1:3])
    wave = make_wave("W1")
    response = client_for(planner).post(
        f"/plan/waves/{wave.pk}/add-groups/", {"select": [group.pk]}, follow=True
    )
    assert (
        "Nothing was added: a group moves whole, and billing has VMs in other waves. Remove them there first, "
        "or add the group to that wave: vm-00002 (in W2), vm-00003 (in W2)."
    ) in messages_of(response)
    assert not WaveItem.objects.filter(wave=wave).exists()
    assert Wave.objects.get(pk=wave.pk).revision == 1


def test_a_vm_in_another_wave_is_refused_naming_that_wave(client_for, planner, estate):
    make_wave("Wave A", estate.vms[:1])
    wave = make_wave("Wave B")
    response = client_for(planner).post(
        f"/plan/waves/{wave.pk}/add-vms/", {"select": [estate.vms[0].pk, estate.vms[1].pk]}, follow=True
    )
    assert (
        "Nothing was added: a VM belongs to one wave at a time, and these are in another: vm-00001 (in Wave A)."
        in messages_of(response)
    )
    assert not WaveItem.objects.filter(wave=wave).exists()


def test_a_single_vm_whose_group_is_in_another_wave_is_refused(estate, planner):
    make_group("billing", estate.vms[:3])
    make_wave("W2", estate.vms[:2])
    wave = make_wave("W1")
    with pytest.raises(WaveError) as refused:
        actions.do_add_vms(wave.pk, [estate.vms[2].pk], acting_user=planner)
    assert str(refused.value).endswith("or move the whole group here): billing (has VMs in W2).")
    # in the wave that holds the rest of its group, it is welcome
    change, added = actions.do_add_vms(
        Wave.objects.get(name="W2").pk, [estate.vms[2].pk], acting_user=planner
    )
    assert added == 1 and change.revision == 2


def test_the_database_refuses_a_second_wave_even_when_the_check_missed_it(monkeypatch, estate, planner):
    """Two planners adding one VM to two waves at the same moment: both checks pass, the unique constraint
    refuses the second insert, and the change is rolled back with a message naming the other wave."""
    make_wave("Wave A", estate.vms[:1])
    wave = make_wave("Wave B")
    real_rows, real_check = actions._vm_rows, actions._taken_elsewhere
    checks = []

    def rows_read_before_the_other_insert(vm_ids):
        return [(pk, name, removed, None, group) for pk, name, removed, _, group in real_rows(vm_ids)]

    def check_made_before_the_other_insert(vm_ids, wave_pk):
        checks.append(vm_ids)
        return [] if len(checks) == 1 else real_check(vm_ids, wave_pk)

    monkeypatch.setattr(actions, "_vm_rows", rows_read_before_the_other_insert)
    monkeypatch.setattr(actions, "_taken_elsewhere", check_made_before_the_other_insert)
    with pytest.raises(WaveError) as refused:
        actions.do_add_vms(wave.pk, [estate.vms[0].pk, estate.vms[1].pk], acting_user=planner)
    assert "were put into another wave while you were adding them" in str(refused.value)
    assert "vm-00001 (in Wave A)" in str(refused.value)
    assert not WaveItem.objects.filter(wave=wave).exists()
    assert Wave.objects.get(pk=wave.pk).revision == 1
    assert not AuditEntry.objects.exists()


def test_a_vanished_vm_is_refused(planner):
    vc = make_vcenter()
    gone = make_vm(vc, "gone", removed=timezone.now())
    wave = make_wave("W1")
    with pytest.raises(WaveError, match="these VMs have vanished from their vCenter: gone"):
        actions.do_add_vms(wave.pk, [gone.pk], acting_user=planner)


def test_the_vm_picker_lists_only_vms_in_no_wave_and_searches(client_for, planner, estate):
    make_wave("Other", estate.vms[:2])
    wave = make_wave("W1")
    client = client_for(planner)
    response = client.get(f"/plan/waves/{wave.pk}/add-vms/")
    names = [vm.name for vm in response.context["table"].page.object_list.data]
    assert names == [vm.name for vm in estate.vms[2:]]
    response = client.get(f"/plan/waves/{wave.pk}/add-vms/", {"q": "vm-00007"})
    assert [vm.name for vm in response.context["table"].page.object_list.data] == ["vm-00007"]


def test_the_group_picker_marks_groups_with_vms_elsewhere(client_for, planner, estate):
    make_group("split", estate.vms[:2])
    make_group("free", estate.vms[2:4])
    make_wave("Other", estate.vms[:1])
    wave = make_wave("W1")
    response = client_for(planner).get(f"/plan/waves/{wave.pk}/add-groups/")
    rows = {g.name: g for g in response.context["table"].page.object_list.data}
    assert (rows["split"].vm_count, rows["split"].elsewhere) == (2, 1)
    assert (rows["free"].vm_count, rows["free"].elsewhere) == (2, 0)
    response = client_for(planner).get(f"/plan/waves/{wave.pk}/add-groups/", {"unplanned": "1"})
    assert [g.name for g in response.context["table"].page.object_list.data] == ["free"]


@pytest.mark.parametrize("status", [WaveStatus.SUBMITTED, WaveStatus.APPROVED])
def test_changing_the_vms_of_an_approved_wave_withdraws_the_approval(client_for, planner, estate, status):
    wave = make_wave("W1", estate.vms[:3], status=status)
    client = client_for(planner)
    response = client.post(f"/plan/waves/{wave.pk}/remove/", {"select": [estate.vms[0].pk]}, follow=True)
    text = messages_of(response)
    assert "1 VMs taken out of W1." in text and "W1: Approval withdrawn: the wave changed" in text
    wave.refresh_from_db()
    assert wave.status == WaveStatus.DRAFT and wave.revision == 2
    assert AuditEntry.objects.filter(action="wave.withdraw_approval", object_id=wave.pk).count() == 1


def test_the_migration_type_of_a_vm_is_changed_and_the_default_restored(client_for, planner, estate):
    wave = make_wave("W1", estate.vms[:2], migration_type=MigrationType.BULK)
    vm = estate.vms[0]
    client = client_for(planner)
    response = client.post(
        f"/plan/waves/{wave.pk}/migration-type/",
        {"vm": vm.pk, "migration_type": MigrationType.VMOTION, "return": "?vm-page=1"},
    )
    assert response["Location"] == f"/plan/waves/{wave.pk}/?vm-page=1"
    item = WaveItem.objects.get(vm=vm)
    assert (
        item.migration_type == MigrationType.VMOTION
        and item.effective_migration_type == MigrationType.VMOTION
    )
    assert WaveItem.objects.get(vm=estate.vms[1]).effective_migration_type == MigrationType.BULK
    client.post(f"/plan/waves/{wave.pk}/migration-type/", {"vm": vm.pk, "migration_type": ""})
    assert WaveItem.objects.get(vm=vm).migration_type == ""
    wave.refresh_from_db()
    assert wave.revision == 3
    response = client.post(
        f"/plan/waves/{wave.pk}/migration-type/", {"vm": vm.pk, "migration_type": "teleport"}, follow=True
    )
    assert "'teleport' is not a migration type." in messages_of(response)
    response = client.post(
        f"/plan/waves/{wave.pk}/migration-type/",
        {"vm": vm.pk, "migration_type": "cold", "return": "//evil.example"},
    )
    assert response["Location"] == f"/plan/waves/{wave.pk}/"


def test_a_launched_wave_keeps_its_vms(client_for, planner, estate):
    wave = make_wave("W1", estate.vms[:2], status=WaveStatus.RUNNING)
    client = client_for(planner)
    response = client.post(f"/plan/waves/{wave.pk}/add-vms/", {"select": [estate.vms[3].pk]}, follow=True)
    assert "a wave that has been launched cannot be changed" in messages_of(response)
    client.post(f"/plan/waves/{wave.pk}/remove/", {"select": [estate.vms[0].pk]})
    assert WaveItem.objects.filter(wave=wave).count() == 2
    assert client.get(f"/plan/waves/{wave.pk}/add-groups/", follow=True).status_code == 200


def test_network_mappings_are_saved_changed_and_removed(client_for, planner):
    vc = make_vcenter()
    net = make_network(vc, "App-VLAN-10", vlan_id=10)
    wave = make_wave("W1", [make_vm(vc, "app", nics=[net])])
    client = client_for(planner)
    url = f"/plan/waves/{wave.pk}/mappings/"
    response = client.post(
        url, {"source": net.pk, "target_kind": MappingTarget.SEGMENT, "target_name": "seg-app"}, follow=True
    )
    assert "W1: App-VLAN-10 now lands on seg-app." in messages_of(response)
    mapping = NetworkMapping.objects.get(wave=wave, source=net)
    assert mapping.target_kind == MappingTarget.SEGMENT
    response = client.post(
        url, {"source": net.pk, "target_kind": MappingTarget.SEGMENT, "target_name": "seg-app"}, follow=True
    )
    assert "App-VLAN-10 already maps to seg-app." in messages_of(response)
    client.post(url, {"source": net.pk, "target_kind": MappingTarget.EXTENDED, "target_name": "App-VLAN-10"})
    assert NetworkMapping.objects.get(pk=mapping.pk).target_kind == MappingTarget.EXTENDED
    assert Wave.objects.get(pk=wave.pk).revision == 3
    response = client.post(
        url, {"source": 999999, "target_kind": MappingTarget.EXTENDED, "target_name": "x"}, follow=True
    )
    assert "That network is not in the inventory." in messages_of(response)
    response = client.post(
        url, {"source": net.pk, "target_kind": MappingTarget.EXTENDED, "target_name": "  "}, follow=True
    )
    assert "The mapping was not saved" in messages_of(response)
    client.post(f"/plan/waves/{wave.pk}/mappings/{mapping.pk}/delete/")
    assert not NetworkMapping.objects.exists()
    assert Wave.objects.get(pk=wave.pk).revision == 4


def test_changed_bumps_the_revision_of_a_draft_without_a_message(planner):
    wave = make_wave("W1")
    with transaction.atomic():
        change = changed(wave, planner, "something")
    assert change.revision == 2 and not change.withdrawn and change.message == ""


def test_changed_refuses_a_running_wave_and_rolls_the_change_back(planner, estate):
    wave = make_wave("W1", status=WaveStatus.COMPLETED)
    with pytest.raises(WaveLocked):
        with transaction.atomic():
            WaveItem.objects.create(wave=wave, vm=estate.vms[0])
            changed(wave, planner, "sneaked in")
    assert not WaveItem.objects.exists()


@pytest.mark.django_db
def test_each_tick_box_says_which_group_it_ticks(client_for, planner):
    estate = make_estate(vms=2, devices=False)
    make_group("billing", estate.vms)
    wave = make_wave("Tick")
    page = client_for(planner).get(f"/plan/waves/{wave.pk}/add-groups/").content.decode()
    assert 'aria-label="Select billing"' in page


def test_of_several_groups_picked_the_refusal_names_only_the_one_with_vms_elsewhere(
    client_for, planner, estate
):
    make_group("accounts", estate.vms[:2])
    billing = make_group("billing", estate.vms[2:5])
    make_group("crm", estate.vms[5:7])
    make_wave("W2", estate.vms[3:4])
    wave = make_wave("W1")
    picked = list(DependencyGroup.objects.values_list("pk", flat=True))
    response = client_for(planner).post(f"/plan/waves/{wave.pk}/add-groups/", {"select": picked}, follow=True)
    said = messages_of(response)
    assert (
        f"Nothing was added: a group moves whole, and {billing.name} has VMs in other waves. Remove them there "
        "first, or add the group to that wave: vm-00004 (in W2)."
    ) in said
    assert "accounts" not in said and "crm" not in said
    assert not WaveItem.objects.filter(wave=wave).exists()
