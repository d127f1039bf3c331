"""An integer beyond what a 64-bit column holds, in a filter, a lookup or a body, is the client's mistake
(400 on the API, the field's error on a page), never a 500 from the database driver (core/filters.py).
And a meta-test: every FilterSet's integer filters are the range-checked ones, so a new one cannot
bring the 500 back."""

import importlib
import pkgutil

import django_filters
import pytest
from django.urls import reverse

from core.filters import BIGINT_MAX, IntegerFilter, ModelMultipleChoiceFilter
from tests.factories import make_estate, make_group, make_link_site

pytestmark = pytest.mark.django_db
HUGE = "9" * 25  # beyond 2**63: SQLite's driver cannot bind it


def _filtersets():
    for package in ("core", "inventory", "migrations_app", "hcx"):
        for module in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
            if ".migrations" not in module.name and "simulator" not in module.name:
                importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return {
        fs for fs in subclasses(django_filters.FilterSet) if not fs.__module__.startswith("django_filters")
    }


def test_every_integer_filter_checks_the_range():
    unchecked = [
        f"{fs.__module__}.{fs.__name__}.{name}"
        for fs in _filtersets()
        for name, flt in fs.base_filters.items()
        if isinstance(flt, django_filters.NumberFilter)
        and not isinstance(flt, IntegerFilter)
        or isinstance(flt, django_filters.ModelMultipleChoiceFilter)
        and not isinstance(flt, ModelMultipleChoiceFilter)
    ]
    assert len(_filtersets()) > 10  # the walk found the project's filtersets
    assert unchecked == [], "use core.filters.IntegerFilter / ModelMultipleChoiceFilter"


@pytest.fixture
def estate(db):
    estate = make_estate(vms=3)
    group = make_group("web", vms=estate.vms[:1])
    return estate, group


@pytest.mark.parametrize(
    "url",
    [
        f"/api/hcx-plans/?vcenter_id={HUGE}",
        f"/api/groups/?vm_id={HUGE}",
        f"/api/group-members/?vm_id={HUGE}",
        f"/api/dependencies/?vm_id={HUGE}",
        f"/api/dependency-graph/?group={HUGE}",
        f"/api/vms/?host_id={HUGE}",
        f"/api/jobs/?object_id={HUGE}",
    ],
)
def test_the_api_answers_400_for_a_filter_out_of_range(client_for, admin_user, estate, url):
    response = client_for(admin_user).get(url)
    assert response.status_code == 400
    [field] = response.json()
    assert field in url


def test_the_largest_id_a_column_holds_is_merely_not_found(client_for, admin_user, estate):
    client = client_for(admin_user)
    assert client.get(f"/api/groups/?vm_id={BIGINT_MAX}").json()["count"] == 0
    assert client.get(f"/api/hcx-plans/?vcenter_id={BIGINT_MAX}").status_code == 400  # no such vCenter
    e, group = estate
    assert client.get(f"/api/groups/?vm_id={e.vms[0].pk}").json()["count"] == 1


def test_a_filter_out_of_range_on_a_detail_action_is_a_400(client_for, planner, estate):
    e, group = estate
    response = client_for(planner).post(
        f"/api/groups/{group.pk}/add-members/?vm_id={HUGE}",
        {"vms": [e.vms[1].pk]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "vm_id" in response.json()
    assert group.members.count() == 1


@pytest.mark.parametrize("step", ["add-members", "remove-members"])
def test_a_body_id_out_of_range_is_a_400(client_for, planner, estate, step):
    e, group = estate
    response = client_for(planner).post(
        f"/api/groups/{group.pk}/{step}/", {"vms": [int(HUGE)]}, content_type="application/json"
    )
    assert response.status_code == 400 and "vms" in response.json()


def test_the_pages_show_the_error_instead_of_failing(client_for, planner, estate):
    site = make_link_site()
    client = client_for(planner)
    page = client.get(reverse("hcx:hcxplan_list"), {"vcenter_id": HUGE})
    assert page.status_code == 200 and site.name not in page.content.decode()  # a bad filter lists nothing
    assert site.name in client.get(reverse("hcx:hcxplan_list")).content.decode()
    graph = client.get(reverse("migrations_app:dependency_graph"), {"group": HUGE})
    assert graph.status_code == 200 and "is not one of the available choices" in graph.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/notifications/", "/api/audit/"])
def test_a_time_with_an_offset_the_database_cannot_hold_is_still_answered(client_for, admin_user, url):
    """Python takes +22:10, PostgreSQL refuses it: the filter hands the time on in UTC."""
    client = client_for(admin_user)
    assert client.get(url, {"after": "5989-01-26T00:08:49+22:10"}).status_code == 200
    assert client.get(url, {"before": "0001-01-01T00:00:00+23:00"}).status_code == 400
