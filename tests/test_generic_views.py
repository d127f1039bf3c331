"""One way to write a page (core/generic_views.py): every list, add/change and delete page of a model is
built on the same views, every `q` box is the same search, and every "Delete X?" page is one template
that says what goes with the object or what keeps it from going."""

import pathlib

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters import FilterSet

from core.filters import SearchFilter
from core.generic_views import ObjectDeleteView, ObjectEditView, ObjectListView
from core.models import AuditEntry, Webhook
from hcx.models import HcxPlan
from inventory.models import VirtualMachine
from migrations_app.choices import WaveStatus
from migrations_app.models import DependencyGroup, TargetCluster, Wave
from tests.factories import make_group, make_link_site, make_target_cluster, make_vcenter, make_vm, make_wave

ROOT = pathlib.Path(__file__).resolve().parent.parent
APPS = ("core", "inventory", "hcx", "migrations_app")

# Pages named like list/edit/delete pages that are something else, and why.
NOT_MODEL_PAGES = {
    "WaveMappingDeleteView": "a POST that removes one network mapping from the wave page, no page of its own",
    "HcxConnectionEditView": "the HCX set-up step that stores a login, part of the set-up checklist",
    "VCenterListView": "a handful of connections, no filters: a plain paged list",
    "WebhookListView": "a handful of webhooks, no filters: a plain paged table",
    "ProposalListView": "the planner's proposals, no filters: a plain paged list",
    "JobListView": "the background jobs, no filters: a plain paged list",
}


def page_views():
    """Every class-based view the URLs name (API views left out), with its URL name."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "api":
                    yield from walk(
                        pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else prefix
                    )
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "view_class"):
                yield f"{prefix}{pattern.name}", pattern.callback.view_class

    return list(walk(get_resolver().url_patterns))


@pytest.mark.parametrize(
    "suffix, base",
    [("ListView", ObjectListView), ("EditView", ObjectEditView), ("DeleteView", ObjectDeleteView)],
)
def test_it_builds_every_list_edit_and_delete_page_on_the_generic_views(suffix, base):
    views = {
        view.__name__: view
        for _, view in page_views()
        if view.__name__.endswith(suffix) and view.__module__.split(".")[0] in APPS
    }
    assert views
    strays = [
        name for name, view in views.items() if not issubclass(view, base) and name not in NOT_MODEL_PAGES
    ]
    assert strays == []


def test_it_searches_with_one_filter_in_every_filterset():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    filtersets = [fs for fs in subclasses(FilterSet) if fs.__module__.split(".")[0] in APPS]
    with_q = [fs for fs in filtersets if "q" in fs.base_filters]
    assert len(with_q) >= 10
    assert [fs.__name__ for fs in with_q if not isinstance(fs.base_filters["q"], SearchFilter)] == []


def test_it_styles_filter_forms_in_one_place():
    definitions = [
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "def style_filter_form" in path.read_text()
    ]
    assert [p.relative_to(ROOT).as_posix() for p in definitions] == ["core/generic_views.py"]
    assert not any(
        "def _search" in p.read_text() for app in APPS for p in (ROOT / app).rglob("filtersets.py")
    )


def test_it_has_one_delete_template():
    templates = sorted(
        p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*delete*.html")
    )
    assert templates == ["generic/object_delete.html"]


@pytest.mark.django_db
def test_it_searches_any_of_the_fields_and_ignores_a_blank_box():
    vcenter = make_vcenter()
    web = make_vm(vcenter, "web-01", dns_name="shop.example.com")
    db = make_vm(vcenter, "db-01", primary_ip="10.0.0.5")
    search = SearchFilter("name", "dns_name", "primary_ip__startswith")
    everything = VirtualMachine.objects.filter(pk__in=[web.pk, db.pk])
    assert set(search.filter(everything, "SHOP")) == {web}
    assert set(search.filter(everything, "10.0.")) == {db}
    assert set(search.filter(everything, ".0.5")) == set()  # an IP matches from its start only
    assert set(search.filter(everything, "  ")) == {web, db}
    assert set(search.filter(everything, None)) == {web, db}


@pytest.mark.django_db
def test_it_says_on_one_page_what_each_delete_takes_with_it(client_for, planner, engineer, admin_user):
    site = make_link_site("Rotterdam")
    cluster = make_target_cluster(site)
    wave = make_wave("Wave 7")
    group = make_group("Shop")
    hook = Webhook.objects.create(name="Teams", url="https://hooks.example.com/x", events=[])
    pages = [
        (
            engineer,
            f"/hcx/plans/{site.pk}/delete/",
            "Delete the HCX plan Rotterdam?",
            "Nothing deployed is touched.",
        ),
        (
            planner,
            f"/plan/targets/{cluster.pk}/delete/",
            "Delete the target cluster Cluster-1?",
            "nothing in AVS is touched",
        ),
        (
            planner,
            f"/plan/waves/{wave.pk}/delete/",
            "Delete the wave Wave 7?",
            "its 0 VMs go back to being unplanned",
        ),
        (planner, f"/plan/groups/{group.pk}/delete/", "Delete the group Shop?", "Its 0 VMs become ungrouped"),
        (
            admin_user,
            f"/notifications/webhooks/{hook.pk}/delete/",
            "Delete the webhook Teams?",
            "Its 0 entries in the delivery log",
        ),
    ]
    for user, url, question, consequence in pages:
        response = client_for(user).get(url)
        assert response.status_code == 200, url
        assert [t.name for t in response.templates][0] == "generic/object_delete.html"
        page = response.content.decode()
        assert question in page and consequence in page, url
        assert 'name="csrfmiddlewaretoken"' in page and ">Delete</button>" in page


@pytest.mark.django_db
def test_it_says_what_protects_an_object_and_offers_no_delete(client_for, planner):
    site = make_link_site("Rotterdam")
    cluster = make_target_cluster(site)
    make_wave("Wave 1", target_cluster=cluster)
    approved = make_wave("Wave 2", status=WaveStatus.APPROVED)
    client = client_for(planner)
    for url, protection in [
        (f"/plan/targets/{cluster.pk}/delete/", "1 wave targets this cluster: point it elsewhere first."),
        (
            f"/plan/waves/{approved.pk}/delete/",
            "Wave 2 is approved: only draft or rejected waves can be deleted.",
        ),
    ]:
        page = client.get(url).content.decode()
        assert protection in page and ">Delete</button>" not in page, url


@pytest.mark.django_db
def test_it_deletes_through_the_action_with_a_message_and_an_audit_row(client_for, planner):
    group = make_group("Shop")
    response = client_for(planner).post(f"/plan/groups/{group.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/plan/groups/"
    assert "Group Shop deleted; its VMs are ungrouped, nothing else changed." in response.content.decode()
    assert not DependencyGroup.objects.filter(pk=group.pk).exists()
    assert AuditEntry.objects.filter(object_repr="Shop").exists()


@pytest.mark.django_db
def test_it_refuses_a_delete_the_action_refuses_and_keeps_the_object(client_for, planner):
    cluster = make_target_cluster(make_link_site("Rotterdam"))
    make_wave("Wave 1", target_cluster=cluster)
    response = client_for(planner).post(f"/plan/targets/{cluster.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == cluster.get_absolute_url()
    assert TargetCluster.objects.filter(pk=cluster.pk).exists()
    assert Wave.objects.count() == 1 and HcxPlan.objects.count() == 1


@pytest.mark.django_db
def test_it_checks_the_role_before_the_page(client_for, stakeholder, outsider, client):
    group = make_group("Shop")
    for url in [f"/plan/groups/{group.pk}/delete/", f"/plan/groups/{group.pk}/edit/", "/plan/groups/add/"]:
        assert client_for(stakeholder).get(url).status_code == 403
        assert client_for(stakeholder).post(url).status_code == 403
        assert client_for(outsider).get(url).status_code == 403
    client.logout()
    assert client.get(f"/plan/groups/{group.pk}/delete/").status_code == 302
    assert DependencyGroup.objects.filter(pk=group.pk).exists()
