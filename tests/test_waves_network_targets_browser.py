"""A planner maps a wave's network in a real browser (headless Chromium): the wave page offers the
site's extended networks and, once read from HCX (the simulator over HTTP), the AVS segments as a list.
Choosing another VLAN's extension is saved but the page says at once that readiness blocks it, and the
readiness check shows the blocker; a segment warns that the VMs keep their addresses; the network's own
extension clears both. A target AVS does not offer, posted by hand, is refused. A screenshot goes to
/tmp (avsportal-wave-network-targets.png) for a person to look at."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from inventory.choices import PowerState, ToolsStatus
from migrations_app.choices import MappingTarget, WaveStatus
from migrations_app.models import NetworkMapping, TargetCluster
from tests.conftest import make_user
from tests.factories import make_vm, make_wave
from tests.hcx_migrations import Meshed
from tests.hcx_setup import make_setup_plan
from tests.journeys import post_as_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def test_a_planner_maps_a_network_from_what_avs_offers_and_readiness_judges_it(sign_in, page, hcxsim_fast):
    Meshed(hcxsim_fast)
    site = make_setup_plan(hcxsim_fast)  # extends App-VLAN101 (VLAN 101) and App-VLAN102 (VLAN 102)
    vlan101 = site.networks.get(name="App-VLAN101")
    vms = [
        make_vm(
            site.vcenter,
            f"web-{n}",
            power_state=PowerState.ON,
            hw_version=19,
            tools_status=ToolsStatus.OK,
            provisioned_mib=10240,
            used_mib=5120,
            nics=[
                {"network": vlan101, "network_name": vlan101.name, "ip_addresses": [f"10.10.101.{20 + n}"]}
            ],
        )
        for n in (1, 2)
    ]
    cluster = TargetCluster.objects.create(site=site, name="Cluster-1", hosts=3)
    wave = make_wave(
        "Wave 1",
        vms,
        status=WaveStatus.DRAFT,
        site=site,
        target_cluster=cluster,
        migration_type="bulk",
        remove_isos=True,
    )
    page = sign_in(make_user("planner"), PASSWORD)

    page.goto(wave.get_absolute_url())
    expect(page.get_by_test_id("network-targets")).to_contain_text("was never read from HCX")
    page.get_by_test_id("network-targets").get_by_role("button", name="Read AVS inventory from HCX").click()
    expect(page.get_by_role("alert").first).to_contain_text("Read the AVS inventory of Amsterdam from HCX")
    expect(page.get_by_test_id("network-targets")).to_contain_text("then the AVS segments read from HCX")

    row = page.locator('tr[data-network="App-VLAN101"]')
    target = row.get_by_label("Target network for App-VLAN101")
    # Offered: the extended networks first, then the segments AVS lists; no free text once read.
    expect(target.locator("optgroup")).to_have_count(2)
    expect(target.locator("optgroup").first).to_have_attribute("label", "Extended networks of Amsterdam")
    expect(target.locator("optgroup").nth(1).locator("option")).to_have_text(
        ["TNT-HCX-MGMT", "TNT-HCX-UPLINK"]
    )
    expect(row.get_by_label("AVS segment not listed for App-VLAN101")).to_have_count(0)

    # A wrong one from the list: VLAN 101 onto the extension of VLAN 102.
    target.select_option(label="App-VLAN102 (VLAN 102, 10.10.102.1/24)")
    row.get_by_role("button", name="Map").click()
    expect(page.get_by_role("alert").first).to_contain_text("now lands on App-VLAN102")
    expect(
        page.get_by_text(
            "Readiness blocks: App-VLAN101 (VLAN 101) is mapped to App-VLAN102, the extension of VLAN 102"
        )
    ).to_be_visible()
    expect(row).to_have_attribute("data-problem", "blocker")
    expect(row).to_contain_text("Map App-VLAN101 to its own extension App-VLAN101")
    page.get_by_test_id("readiness-panel").get_by_role("button", name="Check readiness").click()
    expect(page.get_by_test_id("readiness-blockers")).to_have_text("2 blockers")
    group = page.get_by_test_id("readiness-groups").locator('details[data-rule="network-target"]')
    expect(group).to_contain_text("web-1")
    expect(group).to_contain_text("the extension of VLAN 102: its VMs would land on another VLAN's network")
    page.screenshot(path=str(SCREENSHOTS / "avsportal-wave-network-targets.png"), full_page=True)

    # An AVS segment: no blocker, but a warning that the VMs keep their addresses.
    row = page.locator('tr[data-network="App-VLAN101"]')
    row.get_by_label("Target network for App-VLAN101").select_option(label="TNT-HCX-MGMT")
    row.get_by_role("button", name="Change").click()
    expect(
        page.get_by_text("Readiness warns: App-VLAN101 lands on the AVS segment TNT-HCX-MGMT")
    ).to_be_visible()
    page.get_by_test_id("readiness-panel").get_by_role("button", name="Check again").click()
    expect(page.get_by_test_id("readiness-blockers")).to_have_text("no blockers")
    subnet = page.get_by_test_id("readiness-groups").locator('details[data-rule="network-subnet"]')
    expect(subnet).to_contain_text("HCX keeps the VMs' IP addresses (10.10.101.21)")

    # Posted by hand, a target AVS does not offer is refused and the mapping stays as it was.
    refused = post_as_page(
        page, f"/plan/waves/{wave.pk}/mappings/", {"source": str(vlan101.pk), "target": "segment:seg-typo"}
    )
    assert refused.status == 302
    page.goto(wave.get_absolute_url())
    expect(page.get_by_role("alert").first).to_contain_text("AVS offers no segment seg-typo")
    assert NetworkMapping.objects.get(wave=wave).target_name == "TNT-HCX-MGMT"

    # Its own extension: nothing left to say.
    row = page.locator('tr[data-network="App-VLAN101"]')
    row.get_by_label("Target network for App-VLAN101").select_option(
        label="App-VLAN101 (VLAN 101, 10.10.101.1/24)"
    )
    row.get_by_role("button", name="Change").click()
    expect(page.locator('tr[data-network="App-VLAN101"]')).to_have_attribute("data-problem", "none")
    page.get_by_test_id("readiness-panel").get_by_role("button", name="Check again").click()
    expect(page.get_by_test_id("readiness-groups").locator('details[data-rule^="network-"]')).to_have_count(0)
    mapping = NetworkMapping.objects.get(wave=wave)
    assert (mapping.target_kind, mapping.target_name) == (MappingTarget.EXTENDED, "App-VLAN101")
