"""Roles, navigation, login, settings hardening, secrets at rest."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from inventory.models import VCenter


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/inventory/vms/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/api/jobs/").status_code in (401, 403)


@pytest.mark.django_db
def test_a_user_in_no_role_sees_no_inventory(client_for, outsider):
    client = client_for(outsider)
    assert client.get("/inventory/vms/").status_code == 403
    assert client.get("/api/jobs/").status_code == 403
    page = client.get("/").content.decode()
    assert "Virtual machines" not in page
    assert "My notifications" not in page  # preferences are for members of a role: the page would refuse
    assert client.get("/notifications/mine/").status_code == 403


@pytest.mark.django_db
def test_stakeholders_see_no_links_to_what_they_cannot_do(client_for, stakeholder):
    page = client_for(stakeholder).get("/").content.decode()
    assert "Virtual machines" in page
    assert "Import RVTools" not in page
    assert client_for(stakeholder).get("/inventory/import/").status_code == 403
    assert (
        "My notifications" in page and client_for(stakeholder).get("/notifications/mine/").status_code == 200
    )


@pytest.mark.django_db
def test_planners_may_import_but_not_add_connections(client_for, planner):
    client = client_for(planner)
    page = client.get("/").content.decode()
    assert "Import RVTools" in page
    assert client.get("/inventory/vcenters/add/").status_code == 403


@pytest.mark.django_db
def test_login_is_throttled_after_repeated_failures(client, planner):
    for _ in range(10):
        client.post("/login/", {"username": planner.username, "password": "wrong"})
    response = client.post("/login/", {"username": planner.username, "password": "correct horse battery"})
    assert response.status_code == 429


@pytest.mark.django_db
def test_api_basic_sign_in_is_throttled_too(client, planner):
    import base64

    def basic(password):
        token = base64.b64encode(f"{planner.username}:{password}".encode()).decode()
        return client.get("/api/vms/", HTTP_AUTHORIZATION=f"Basic {token}")

    assert basic("correct horse battery").status_code == 200
    for _ in range(10):
        assert basic("wrong").status_code in (401, 403)
    response = basic("correct horse battery")
    assert response.status_code == 429 and "Too many failed sign-in attempts" in response.json()["detail"]


@pytest.mark.django_db
def test_login_with_the_right_password_works(client, planner):
    response = client.post("/login/", {"username": planner.username, "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_passwords_are_encrypted_at_rest():
    vc = VCenter.objects.create(name="vc1", url="vc1.example.com", username="u", password="S3cret-pass!")
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM inventory_vcenter WHERE id = %s", [vc.pk])
        stored = cursor.fetchone()[0]
    assert "S3cret-pass!" not in stored
    assert VCenter.objects.get(pk=vc.pk).password == "S3cret-pass!"


def production_env(**extra):
    """The environment of a production start: no test-only settings inherited."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(DJANGO_SETTINGS_MODULE="avsportal.settings", **extra)
    return env


def test_production_settings_pass_check_deploy():
    env = production_env()
    env.update(
        DEBUG="false",
        SECRET_KEY="a-long-random-production-secret-key-with-enough-entropy-0123456789-abcdefghij",
        FIELD_ENCRYPTION_KEY="Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMta2V5LTAxMjM=",
        ALLOWED_HOSTS="portal.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env(DEBUG="false")
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
