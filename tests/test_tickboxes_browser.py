"""Every table with tick boxes, in a real browser (headless Chromium): a person ticks rows, presses the
form's button, and the server acts on exactly those rows. A tick box that is not tied to its form
sends nothing, so each test checks the database as well as the page."""

import pytest
from playwright.sync_api import expect

from migrations_app.models import Batch, GroupMember, WaveItem
from tests.conftest import make_user
from tests.factories import make_estate, make_group, make_link_site, make_target_cluster, make_wave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


def test_it_takes_the_ticked_vms_out_of_the_wave(sign_in, page):
    estate = make_estate(vms=4)
    keep, *gone = estate.vms[:3]
    wave = make_wave("Wave 1", estate.vms[:3], target_cluster=make_target_cluster())
    page = sign_in(make_user("planner"), PASSWORD)

    page.goto(wave.get_absolute_url())
    for vm in gone:
        page.get_by_test_id("wave-vms").get_by_role("row", name=vm.name).get_by_role("checkbox").check()
    page.get_by_role("button", name="Take the ticked VMs out of the wave").click()

    expect(page.get_by_role("alert").first).to_contain_text("2 VMs taken out of Wave 1.")
    assert set(WaveItem.objects.filter(wave=wave).values_list("vm__name", flat=True)) == {keep.name}
    table = page.get_by_test_id("wave-vms")
    expect(table).to_contain_text(keep.name)
    for vm in gone:
        expect(table.get_by_role("link", name=vm.name, exact=True)).to_have_count(0)


def test_it_adds_the_ticked_vms_to_the_wave(sign_in, page):
    estate = make_estate(vms=4)
    wave = make_wave("Wave 1", target_cluster=make_target_cluster())
    page = sign_in(make_user("planner"), PASSWORD)

    page.goto(f"{wave.get_absolute_url()}add-vms/")
    picked = estate.vms[1:3]
    for vm in picked:
        page.get_by_role("row", name=vm.name).get_by_role("checkbox").check()
    page.get_by_role("button", name="Add the ticked VMs").click()

    expect(page.get_by_role("alert").first).to_contain_text("2 VMs added to Wave 1.")
    assert set(WaveItem.objects.filter(wave=wave).values_list("vm_id", flat=True)) == {vm.pk for vm in picked}


def test_it_removes_the_ticked_vms_from_a_group(sign_in, page):
    estate = make_estate(vms=4)
    group = make_group("billing", estate.vms[:3])
    page = sign_in(make_user("planner"), PASSWORD)

    page.goto(group.get_absolute_url())
    members = page.get_by_test_id("members")
    for vm in estate.vms[:2]:
        members.get_by_role("row", name=vm.name).get_by_role("checkbox").check()
    members.get_by_role("button", name="Remove ticked VMs").click()

    expect(page.get_by_role("alert").first).to_contain_text("2")
    assert list(GroupMember.objects.filter(group=group).values_list("vm_id", flat=True)) == [estate.vms[2].pk]


def test_it_makes_a_batch_of_the_ticked_vms(sign_in, page):
    estate = make_estate(vms=4)
    cluster = make_target_cluster()
    wave = make_wave("Wave 1", estate.vms[:3], target_cluster=cluster, site=cluster.site, status="approved")
    page = sign_in(make_user("engineer"), PASSWORD)

    page.goto(f"/plan/waves/{wave.pk}/batches/add/")
    for vm in estate.vms[:2]:
        page.get_by_test_id("batch-form").get_by_label(vm.name, exact=True).check()
    page.get_by_role("button", name="Make the batch").click()

    expect(page.get_by_role("alert").first).to_contain_text("made with 2")
    batch = Batch.objects.get(wave=wave)
    assert set(batch.migrations.values_list("vm_id", flat=True)) == {vm.pk for vm in estate.vms[:2]}


def test_it_accepts_the_ticked_waves_of_a_proposal(sign_in, page):
    from django.test import Client

    from migrations_app.models import PlanProposal, Wave
    from tests.test_planner_pages import form_data

    estate = make_estate(vms=12)
    for i in range(3):
        make_group(f"app-{i}", estate.vms[4 * i : 4 * i + 4])
    site = make_link_site("Rotterdam", vcenter=estate.vcenter)
    planner = make_user("planner")
    client = Client()
    client.force_login(planner)
    client.post("/plan/autoplan/", form_data(site, max_vms="4", pilot_max_vms="4", pilot_max_tb="25"))
    proposal = PlanProposal.objects.get()
    names = [w["name"] for w in proposal.data["waves"]]
    assert len(names) >= 2
    page = sign_in(planner, PASSWORD)

    page.goto(f"/plan/proposals/{proposal.pk}/")
    page.get_by_label(f"Accept {names[1]}", exact=True).check()
    page.get_by_role("button", name="Accept the ticked waves").click()

    expect(page.get_by_role("alert").first).to_contain_text(names[1])
    assert list(Wave.objects.values_list("name", flat=True)) == [names[1]]
