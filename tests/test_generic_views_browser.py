"""The one "Delete X?" page in a real browser (headless Chromium): a planner deletes a group after reading
what goes with it, and is shown what keeps a target cluster from going, with no Delete button; the
search box of a generic list filters the table in place."""

import pytest
from playwright.sync_api import expect

from migrations_app.models import DependencyGroup, TargetCluster
from tests.conftest import make_user
from tests.factories import make_estate, make_group, make_link_site, make_target_cluster, make_wave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


def test_a_planner_deletes_a_group_and_is_stopped_at_a_cluster_in_use(sign_in, page):
    estate = make_estate(vms=4, networks=1)
    group = make_group("billing", estate.vms[:2])
    make_group("shop", estate.vms[2:])
    cluster = make_target_cluster(make_link_site("Rotterdam"))
    make_wave("Wave 1", target_cluster=cluster)
    page = sign_in(make_user("planner"), PASSWORD)

    page.goto("/plan/groups/")
    page.get_by_label("Search").fill("bill")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("count")).to_have_text("1 group matches these filters")

    page.goto(group.get_absolute_url())
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete the group billing?")
    expect(page.get_by_text("Its 2 VMs become ungrouped")).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert").first).to_contain_text("Group billing deleted")
    assert not DependencyGroup.objects.filter(name="billing").exists()

    page.goto(cluster.get_absolute_url())
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_text("1 wave targets this cluster: point it elsewhere first.")).to_be_visible()
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    page.get_by_role("link", name="Back").click()
    expect(page).to_have_url(f"{page.url.split('/plan/')[0]}{cluster.get_absolute_url()}")
    assert TargetCluster.objects.filter(pk=cluster.pk).exists()
