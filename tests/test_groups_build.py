"""Groups built from vSphere tags, folders and name patterns: previewed first, VMs already grouped
skipped and counted, each member with the reason it is in."""

import pytest
from django.urls import reverse

from migrations_app.choices import GroupSource
from migrations_app.dependencies import builders
from migrations_app.models import DependencyGroup, GroupMember
from tests.factories import make_group, make_vcenter, make_vm

URL = reverse("migrations_app:dependencygroup_build")


@pytest.fixture
def vms(db):
    vc = make_vcenter()
    specs = {
        "crm-web-01": ("/DC1/vm/Prod/CRM", ["app:CRM", "env:prod"]),
        "crm-web-02": ("/DC1/vm/Prod/CRM", ["app:CRM", "env:prod"]),
        "crm-db-01": ("/DC1/vm/Prod/CRM", ["app:CRM", "env:prod"]),
        "erp-app-01": ("/DC1/vm/Prod/ERP", ["app:ERP", "env:prod"]),
        "erp-db-01": ("/DC1/vm/Prod/ERP", ["app:ERP", "app:Finance"]),
        "test-01": ("/DC1/vm/Test", ["env:test", "backup"]),
    }
    return {name: make_vm(vc, name, folder=folder, tags=tags) for name, (folder, tags) in specs.items()}


def members(name):
    return dict(GroupMember.objects.filter(group__name=name).values_list("vm__name", "reason"))


@pytest.mark.django_db
def test_one_group_per_tag_of_a_category_skipping_grouped_vms(vms):
    make_group("Pinned", [vms["crm-db-01"]])
    proposals = builders.from_tags(category="app")
    summary = {p.name: (sorted(n for n in p.member_names), p.skipped) for p in proposals}
    # erp-db-01 carries two app tags: the first (ERP) takes it, Finance counts it as skipped
    assert summary == {
        "CRM": (["crm-web-01", "crm-web-02"], 1),
        "ERP": (["erp-app-01", "erp-db-01"], 0),
        "Finance": ([], 1),
    }
    assert DependencyGroup.objects.count() == 1  # a preview writes nothing


@pytest.mark.django_db
def test_building_from_tags_writes_groups_with_reasons_and_says_what_was_skipped(client_for, planner, vms):
    make_group("Pinned", [vms["crm-db-01"]])
    client = client_for(planner)
    preview = client.post(URL, {"by": "tag", "category": "app", "action": "preview"}).content.decode()
    # crm-db-01 is pinned by hand; erp-db-01, tagged ERP and Finance, went to ERP
    assert "2 groups (2 new) with 4 VMs; 2 VMs skipped, being in a group already." in preview
    assert not DependencyGroup.objects.filter(name="CRM").exists()

    response = client.post(URL, {"by": "tag", "category": "app", "action": "create"}, follow=True)
    assert "2 groups built or topped up with 4 VMs; 2 VMs skipped" in response.content.decode()
    crm = DependencyGroup.objects.get(name="CRM")
    assert (crm.source, crm.rule) == (GroupSource.TAG, "app:CRM")
    assert members("CRM") == {"crm-web-01": 'tagged "app:CRM"', "crm-web-02": 'tagged "app:CRM"'}
    assert members("Pinned") == {"crm-db-01": "test"}  # never moved
    assert not DependencyGroup.objects.filter(name="Finance").exists()  # nothing left for it


@pytest.mark.django_db
def test_one_chosen_tag_and_a_prefix(client_for, planner, vms):
    client_for(planner).post(URL, {"by": "tag", "tag": "env:test", "prefix": "app-", "action": "create"})
    assert members("app-test") == {"test-01": 'tagged "env:test"'}


@pytest.mark.django_db
def test_running_a_rule_again_tops_up_its_groups_and_refuses_foreign_names(vms):
    first = builders.from_tags(category="app")
    from migrations_app.dependencies.actions import do_create_groups

    do_create_groups(first, acting_user=None, source=GroupSource.TAG)
    vc = vms["crm-web-01"].vcenter
    make_vm(vc, "crm-web-03", tags=["app:CRM"])
    again = builders.from_tags(category="app")
    crm = next(p for p in again if p.name == "CRM")
    assert crm.existing is not None and crm.member_names == ["crm-web-03"] and crm.skipped == 3

    make_group("test")  # by hand
    with pytest.raises(builders.BuildError, match="Groups named test exist already"):
        builders.from_tags(tag="env:test")


@pytest.mark.django_db
def test_one_group_per_folder(client_for, planner, vms):
    response = client_for(planner).post(URL, {"by": "folder", "under": "/DC1/vm/Prod", "action": "create"})
    assert response.status_code == 302
    assert set(DependencyGroup.objects.values_list("name", "source")) == {
        ("CRM", "folder"),
        ("ERP", "folder"),
    }
    assert members("ERP")["erp-db-01"] == 'in folder "/DC1/vm/Prod/ERP"'


@pytest.mark.django_db
def test_a_glob_pattern_is_previewed_then_made_one_group(client_for, planner, vms):
    client = client_for(planner)
    make_group("Pinned", [vms["crm-db-01"]])
    data = {"by": "pattern", "pattern": "CRM-*", "kind": "glob", "name": "CRM by name"}
    preview = client.post(URL, {**data, "action": "preview"}).content.decode()
    assert "crm-web-01, crm-web-02" in preview and "1 VM skipped, being in a group already" in preview
    client.post(URL, {**data, "action": "create"})
    group = DependencyGroup.objects.get(name="CRM by name")
    assert (group.source, group.rule) == (GroupSource.PATTERN, "glob:CRM-*")
    assert members("CRM by name") == {
        "crm-web-01": 'name matches "CRM-*"',
        "crm-web-02": 'name matches "CRM-*"',
    }


@pytest.mark.django_db
def test_a_regex_pattern_matches_anywhere_in_the_name(vms):
    (proposal,) = builders.from_pattern(pattern=r"-db-\d+$", kind="regex", name="Databases")
    assert proposal.member_names == ["crm-db-01", "erp-db-01"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data,message",
    [
        ({"by": "pattern", "pattern": "crm-(", "kind": "regex", "name": "x"}, "is not a regular expression"),
        ({"by": "pattern", "pattern": "nothing-*", "kind": "glob", "name": "x"}, "No VM name matches"),
        ({"by": "pattern", "pattern": "crm-*", "kind": "glob", "name": ""}, "Give the group a name."),
        ({"by": "tag"}, "Choose a tag category or a tag."),
    ],
)
def test_bad_builder_input_gets_a_message_and_changes_nothing(client_for, planner, vms, data, message):
    response = client_for(planner).post(URL, {**data, "action": "create"})
    assert response.status_code == 400 and message in response.content.decode()
    assert not DependencyGroup.objects.exists()


@pytest.mark.django_db
def test_vanished_vms_are_left_out(vms):
    from django.utils import timezone

    vms["crm-web-02"].removed = timezone.now()
    vms["crm-web-02"].save()
    (crm, *_rest) = builders.from_tags(tag="app:CRM")
    assert crm.member_names == ["crm-db-01", "crm-web-01"]


@pytest.mark.django_db
def test_the_builder_page_shows_categories_and_tags(client_for, planner, vms):
    page = client_for(planner).get(URL).content.decode()
    assert '<option value="app">app</option>' in page and '<option value="env:test">env:test</option>' in page
