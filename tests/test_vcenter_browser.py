"""The vCenter connection form in a real browser (headless Chromium)."""

import pytest
from playwright.sync_api import expect

from inventory.models import VCenter
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # what make_user gives every persona


def test_an_engineer_who_moves_a_vcenter_to_another_url_is_asked_for_the_password_again(sign_in):
    vc = VCenter.objects.create(name="vc1", url="vc1.example.com", username="u", password="s3cret!")
    page = sign_in(make_user("engineer"), PASSWORD)
    page.goto(f"/inventory/vcenters/{vc.pk}/edit/")
    expect(page.get_by_text("unless you change the URL")).to_be_visible()
    page.get_by_label("URL").fill("collector.example.net")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("The URL changed: give the password again to send it there.")).to_be_visible()
    expect(page.get_by_label("URL")).to_have_value("collector.example.net")  # what was typed is kept
    vc.refresh_from_db()
    assert vc.url == "vc1.example.com" and vc.password == "s3cret!"

    page.get_by_label("Password").fill("n3w-s3cret")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("vCenter vc1 saved.")).to_be_visible()
    vc.refresh_from_db()
    assert vc.url == "collector.example.net" and vc.password == "n3w-s3cret"
