"""Refusals and missing pages in the portal's own layout: a 403 says which roles the page is for and
logs one line without a traceback; a 404 is the styled page also with DEBUG on, as scripts/demo runs
the portal; the portal has an icon."""

import logging

import pytest

from core.access import refusal
from core.roles import roles_holding, roles_text
from migrations_app.choices import WaveStatus
from tests.factories import make_link_site, make_vcenter, make_vm, make_wave

pytestmark = pytest.mark.django_db


def test_the_roles_holding_a_permission_are_named_as_people():
    assert roles_holding("inventory.add_vcenter") == ["engineer", "admin"]
    assert roles_text(roles_holding("inventory.add_vcenter")) == "engineers and admins"
    assert (
        roles_text(roles_holding("inventory.view_virtualmachine"))
        == "planners, engineers, stakeholders and admins"
    )
    assert refusal("core.view_webhook") == "This page is for admins."
    assert roles_holding("migrations_app.change_wave", "hcx.change_hcxplan") == [
        "planner",
        "engineer",
        "admin",
    ]
    assert refusal("migrations_app.approve_wave", "POST") == "This action is for engineers and admins."


def test_a_403_names_the_roles_the_page_is_for_in_the_portal_layout(client_for, stakeholder):
    response = client_for(stakeholder).get("/inventory/vcenters/add/")
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-testid="error-403"' in body
    assert "This page is for engineers and admins." in body
    assert "You are signed in as <strong>stakeholder-user</strong>, stakeholder." in body
    # The layout: the navigation of what a stakeholder may open, and the way home.
    assert 'class="navbar-brand"' in body and "Programme dashboard" in body and 'href="/"' in body


def test_an_action_refused_says_whom_it_is_for(client_for, planner):
    wave = make_wave("Wave 1", status=WaveStatus.SUBMITTED)
    response = client_for(planner).post(f"/plan/waves/{wave.pk}/approve/", {"revision": wave.revision})
    assert response.status_code == 403
    assert "This action is for engineers and admins." in response.content.decode()


def test_refusals_outside_the_page_mixin_name_the_roles_too(client_for, stakeholder, planner):
    site = make_link_site()
    inventory = client_for(stakeholder).post(f"/hcx/plans/{site.pk}/avs-inventory/read/")
    assert inventory.status_code == 403
    assert "Reading the AVS inventory is for planners, engineers and admins." in inventory.content.decode()
    trust = client_for(planner).post(f"/hcx/plans/{site.pk}/setup/trust/")
    assert trust.status_code == 403 and "This action is for engineers and admins." in trust.content.decode()


def test_someone_in_no_role_is_told_so(client_for, outsider):
    body = client_for(outsider).get("/inventory/vms/").content.decode()
    assert "This page is for planners, engineers, stakeholders and admins." in body
    assert "in no role" in body


def test_a_403_logs_one_warning_without_a_traceback(client_for, stakeholder, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client_for(stakeholder).get("/inventory/vcenters/add/").status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.WARNING and "Forbidden" in record.getMessage()
    assert record.exc_info is None and "Traceback" not in caplog.text


def test_other_errors_keep_their_traceback(caplog):
    """The filter drops a refusal's traceback only."""
    from core.log_filters import NoPermissionDeniedTraceback

    try:
        raise ValueError("a real fault")
    except ValueError:
        import sys

        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    assert NoPermissionDeniedTraceback().filter(record) and record.exc_info is not None


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on, as the demo runs", "DEBUG off"])
def test_an_unknown_address_gets_the_styled_404(client_for, planner, settings, debug):
    settings.DEBUG = debug
    client = client_for(planner)
    for url in ("/no-such-page/", f"/inventory/vms/{make_vm(make_vcenter(), 'gone').pk + 1000}/"):
        response = client.get(url)
        assert response.status_code == 404, url
        body = response.content.decode()
        assert 'data-testid="error-404"' in body and 'class="navbar-brand"' in body, url
        assert "URLconf" not in body and "Raised by" not in body, url  # not Django's technical page
    assert "<code>/no-such-page/</code>" in client.get("/no-such-page/").content.decode()


def test_a_missing_address_without_its_slash_is_still_redirected(client_for, planner, settings):
    settings.DEBUG = True
    response = client_for(planner).get("/inventory/vms")
    assert response.status_code == 301 and response["Location"] == "/inventory/vms/"


def test_the_api_keeps_its_json_404(client_for, planner, settings):
    settings.DEBUG = True
    response = client_for(planner).get("/api/vms/999999/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


def test_the_portal_has_an_icon(client, client_for, planner):
    body = client.get("/login/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in body
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)
    # Browsers that ask for /favicon.ico (an API answer has no <link>) are sent to it, signed in or not.
    for c in (client, client_for(planner)):
        response = c.get("/favicon.ico")
        assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"
