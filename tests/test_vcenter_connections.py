"""The vCenter connection pages, and "Discover now" run by the real Celery worker."""

import pytest
from django.db import connection
from django.urls import reverse

from core.choices import JobStatus
from core.models import AuditEntry, Job
from inventory.models import VCenter, VirtualMachine
from tests.peers.vcsim import read_vms
from tests.peers.worker import wait_for

SIZE = {"dc": 1, "cluster": 1, "host": 2, "vm": 3}


def form_data(sim, **overrides):
    return {
        "name": "lab vCenter",
        "url": sim.url,
        "username": sim.username,
        "password": sim.password,
        **overrides,
    }


@pytest.mark.django_db(transaction=True)
def test_an_engineer_adds_a_vcenter_and_discovers_it_in_the_worker(
    vcsim, engineer, client_for, celery_worker
):
    sim = vcsim(**SIZE)
    client = client_for(engineer)

    response = client.post(reverse("inventory:vcenter_add"), form_data(sim))  # verify TLS left unticked

    vc = VCenter.objects.get(name="lab vCenter")
    assert response.status_code == 302 and response.url == vc.get_absolute_url()
    assert vc.password == sim.password and vc.verify_tls is False
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM inventory_vcenter WHERE id = %s", [vc.pk])
        stored = cursor.fetchone()[0]
    assert stored and sim.password not in stored, "stored encrypted"
    edit_page = client.get(reverse("inventory:vcenter_edit", args=[vc.pk])).content.decode()
    assert sim.password not in edit_page and stored not in edit_page
    assert "A password is stored" in edit_page
    assert "Discover now" in client.get(reverse("inventory:vcenter_list")).content.decode()

    response = client.post(reverse("inventory:vcenter_discover", args=[vc.pk]))

    job = Job.objects.get(kind="inventory.discover_vcenter")
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert job.params == {"vcenter_id": vc.pk} and job.user == engineer and job.object == vc
    wait_for(lambda: Job.objects.get(pk=job.pk).is_terminal, timeout=90, message="the discovery job to end")
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error
    total = len(read_vms(sim.connect()))
    assert job.data["vms"]["found"] == total == VirtualMachine.objects.filter(vcenter=vc).count()
    log = " ".join(job.events.values_list("message", flat=True))
    assert "Connecting to" in log and f"{total} VMs" in log
    assert sim.password not in log and sim.password not in str(job.params)
    page = client.get(reverse("inventory:vcenter", args=[vc.pk])).content.decode()
    assert job.get_absolute_url() in page


@pytest.mark.django_db
def test_a_blank_password_keeps_the_stored_one(vcsim, engineer, client_for):
    vc = VCenter.objects.create(name="vc1", url="vc1.example.com", username="u", password="s3cret!")
    client = client_for(engineer)

    response = client.post(
        reverse("inventory:vcenter_edit", args=[vc.pk]),
        {
            "name": "vc1",
            "url": "vc1.example.com",
            "username": "svc-discovery",
            "password": "",
            "verify_tls": "on",
        },
    )

    assert response.status_code == 302
    vc.refresh_from_db()
    assert vc.password == "s3cret!" and vc.username == "svc-discovery" and vc.verify_tls
    audit = AuditEntry.objects.get(action="vcenter.change")
    assert audit.detail == {"fields": ["username"]}


@pytest.mark.django_db
def test_a_changed_url_needs_the_password_again_before_it_is_used(engineer, client_for):
    """Else whoever may edit connections could send the stored password to a server of their choosing."""
    vc = VCenter.objects.create(name="vc1", url="vc1.example.com", username="u", password="s3cret!")
    client = client_for(engineer)
    url = reverse("inventory:vcenter_edit", args=[vc.pk])
    moved = {"name": "vc1", "url": "collector.example.net", "username": "u", "verify_tls": "on"}

    response = client.post(url, {**moved, "password": ""})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "password": ["The URL changed: give the password again to send it there."]
    }
    vc.refresh_from_db()
    assert vc.url == "vc1.example.com" and vc.password == "s3cret!"
    assert not AuditEntry.objects.filter(action="vcenter.change").exists()

    assert client.post(url, {**moved, "password": "n3w-s3cret"}).status_code == 302
    vc.refresh_from_db()
    assert vc.url == "collector.example.net" and vc.password == "n3w-s3cret"


@pytest.mark.django_db
def test_a_new_connection_needs_a_password_and_a_usable_url(engineer, client_for):
    response = client_for(engineer).post(
        reverse("inventory:vcenter_add"), {"name": "x", "url": "http://vc.example.com", "username": "u"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"url", "password"}
    assert "only https" in response.content.decode()
    assert not VCenter.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["planner", "stakeholder", "outsider"])
def test_only_engineers_and_admins_manage_connections(request, persona, client_for):
    vc = VCenter.objects.create(name="vc1", url="vc1.example.com", username="u", password="p")
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("inventory:vcenter_add")).status_code == 403
    assert (
        client.post(
            reverse("inventory:vcenter_add"), {"name": "x", "url": "x", "username": "u", "password": "p"}
        ).status_code
        == 403
    )
    assert client.get(reverse("inventory:vcenter_edit", args=[vc.pk])).status_code == 403
    assert VCenter.objects.count() == 1


@pytest.mark.django_db
def test_a_stakeholder_reads_connections_but_cannot_discover(stakeholder, client_for):
    vc = VCenter.objects.create(name="vc1", url="vc1.example.com", username="u", password="p")
    client = client_for(stakeholder)
    page = client.get(reverse("inventory:vcenter_list")).content.decode()
    assert "vc1" in page and "Discover now" not in page and "Add vCenter" not in page
    assert client.post(reverse("inventory:vcenter_discover", args=[vc.pk])).status_code == 403
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_planner_may_start_a_discovery(planner, client_for):
    vc = VCenter.objects.create(name="vc1", url="vc1.example.com", username="u", password="p")
    response = client_for(planner).post(reverse("inventory:vcenter_discover", args=[vc.pk]))
    job = Job.objects.get()
    assert response.url == job.get_absolute_url() and job.params == {"vcenter_id": vc.pk}


@pytest.mark.django_db
def test_the_list_counts_vms_without_a_query_per_row(engineer, client_for, django_assert_max_num_queries):
    for i in range(5):
        vc = VCenter.objects.create(name=f"vc{i}", url=f"vc{i}.example.com", username="u", password="p")
        VirtualMachine.objects.create(vcenter=vc, moid=f"vm-{i}", name=f"vm{i}")
    client = client_for(engineer)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("inventory:vcenter_list")).content.decode()
    assert page.count("Discover now") == 5
