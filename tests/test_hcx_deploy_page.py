"""The deploy page and API of a plan: who may use them, the OVA folder and its uploads, starting
the deployment job. No vCenter is contacted here: starting only checks and queues (the job
itself is tested against the simulator in test_hcx_deploy_job.py)."""

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from core.choices import JobStatus
from core.models import AuditEntry, Job
from hcx.deploy.jobs import KIND
from hcx.models import HcxConnection, HcxPlan
from inventory.models import Cluster, VCenter
from tests.factories import make_cluster, make_datastore, make_network
from tests.ova import build_ova, descriptor
from tests.test_hcx_plan_checks import make_plan

pytestmark = pytest.mark.django_db
ADMIN_PASSWORD, ROOT_PASSWORD = "Adm1n-Page-Secret!", "R00t-Page-Secret!"


@pytest.fixture
def ova_dir(settings, tmp_path):
    settings.HCX_OVA_DIR = tmp_path / "ova"
    settings.HCX_OVA_DIR.mkdir()
    build_ova(settings.HCX_OVA_DIR)
    return settings.HCX_OVA_DIR


@pytest.fixture
def plan(ova_dir):
    """A plan whose vCenter the portal can reach and has discovered: two clusters, datastores, port groups."""
    vcenter = VCenter.objects.create(
        name="vc01.example.com",
        url="https://vc01.example.com/sdk",
        username="administrator@vsphere.local",
        password="VMware1!",
    )
    plan = make_plan(
        "Main datacenter", networks=0, vcenter=vcenter, connector_hostname="hcx01.corp.example.com"
    )
    make_cluster(vcenter, "CL-Prod", datacenter="DC-Main")
    make_cluster(vcenter, "CL-Mgmt", datacenter="DC-Main")
    make_datastore(vcenter, "vsanDatastore")
    make_datastore(vcenter, "nfs-01")
    for name in ("HCX-Mgmt", "App-VLAN101", "VM Network"):
        make_network(vcenter, name)
    HcxConnection.objects.create(plan=plan, admin_password=ADMIN_PASSWORD, root_password=ROOT_PASSWORD)
    return plan


def url(plan, suffix=""):
    return f"/hcx/plans/{plan.pk}/deploy/{suffix}"


def deploy_data(plan, **changes):
    cluster = Cluster.objects.get(vcenter=plan.vcenter, name="CL-Mgmt")
    return {
        "ova": "hcx-connector.ova",
        "cluster": str(cluster.pk),
        "datastore": "vsanDatastore",
        "network": "HCX-Mgmt",
        "folder": "",
        "resource_pool": "",
        **changes,
    }


def upload(client, plan, name, content: bytes):
    file = io.BytesIO(content)
    file.name = name
    return client.post(url(plan, "ova/"), {"ova_file": file})


def folder_files(ova_dir) -> list[str]:
    return sorted(p.name for p in ova_dir.iterdir())


def test_an_engineer_sees_what_will_be_deployed_and_never_a_password(
    client_for, engineer, plan, django_assert_max_num_queries
):
    for number in range(30):
        make_network(
            plan.vcenter, f"Extra-{number:02d}"
        )  # the choices come in one query, whatever their number
    client = client_for(engineer)

    with django_assert_max_num_queries(20):
        response = client.get(url(plan))

    page = response.content.decode()
    assert response.status_code == 200
    for shown in (
        "hcx01",
        "hcx01.corp.example.com",
        "192.168.10.9/24 via 192.168.10.1",
        "192.168.1.53",
        "pool.ntp.org",
        "corp.example.com",
        "HCX-Mgmt",
        "vc01.example.com",
        "https://192.168.10.9:9443/",
        "hcx-connector.ova",
        "DC-Main / CL-Prod",
        "nfs-01",
        "Extra-29",
    ):
        assert shown in page, shown
    assert page.count(">stored<") == 2 and ADMIN_PASSWORD not in page and ROOT_PASSWORD not in page
    assert f'href="/hcx/plans/{plan.pk}/connection/"' in page


def test_it_says_when_the_passwords_are_not_set_and_where_to_set_them(client_for, engineer, plan):
    HcxConnection.objects.filter(plan=plan).update(root_password="")

    page = client_for(engineer).get(url(plan)).content.decode()

    assert page.count(">stored<") == 1 and page.count(">not set<") == 1
    assert "set them there" in page and f"/hcx/plans/{plan.pk}/connection/" in page


@pytest.mark.parametrize("role", ["planner", "stakeholder", "outsider"])
def test_only_engineers_and_admins_may_deploy(client_for, plan, ova_dir, tmp_path, role, request):
    client = client_for(request.getfixturevalue(role))

    assert client.get(url(plan)).status_code == 403
    assert client.post(url(plan), deploy_data(plan)).status_code == 403
    assert upload(client, plan, "x.ova", build_ova(tmp_path, name="x.ova").read_bytes()).status_code == 403
    assert (
        client.post(
            f"/api/hcx-plans/{plan.pk}/deploy/", {"ova": "hcx-connector.ova"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert not Job.objects.exists() and folder_files(ova_dir) == ["hcx-connector.ova"]


def test_anonymous_users_are_sent_to_sign_in(client, plan):
    for response in (client.get(url(plan)), client.post(url(plan, "ova/"))):
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_admin_may_open_the_page(client_for, admin_user, plan):
    assert client_for(admin_user).get(url(plan)).status_code == 200


def test_an_engineer_starts_the_deployment_and_lands_on_the_setup_page(client_for, engineer, plan):
    response = client_for(engineer).post(url(plan), deploy_data(plan, ssh_enabled="on"))

    job = Job.objects.get(kind=KIND)
    assert response.status_code == 302 and response["Location"] == f"/hcx/plans/{plan.pk}/setup/"
    assert job.object == plan and job.user == engineer and job.status == JobStatus.PENDING
    assert job.params["ova"] == "hcx-connector.ova"
    spec = job.params["spec"]
    assert (spec["vm_name"], spec["hostname"], spec["ip"], spec["prefix"], spec["gateway"]) == (
        "hcx01",
        "hcx01.corp.example.com",
        "192.168.10.9",
        24,
        "192.168.10.1",
    )
    assert (spec["datacenter"], spec["cluster"], spec["datastore"], spec["network"], spec["ssh_enabled"]) == (
        "DC-Main",
        "CL-Mgmt",
        "vsanDatastore",
        "HCX-Mgmt",
        True,
    )
    assert ADMIN_PASSWORD not in repr(job.params) and ROOT_PASSWORD not in repr(job.params)
    audit = AuditEntry.objects.get(action="hcx_connector.deploy")
    assert audit.user == engineer and audit.object_id == plan.pk and audit.detail["job"] == job.pk


def test_a_deployment_is_refused_while_a_setup_job_runs(client_for, engineer, plan):
    running = Job.objects.create(
        kind="hcx.setup",
        name="HCX set-up of Main datacenter",
        status=JobStatus.RUNNING,
        object_type=ContentType.objects.get_for_model(HcxPlan),
        object_id=plan.pk,
    )
    client = client_for(engineer)

    response = client.post(url(plan), deploy_data(plan))

    assert response.status_code == 409
    assert (
        f"A set-up job is already running for Main datacenter: HCX set-up of Main datacenter (#{running.pk})"
        in (response.content.decode())
    )
    assert not Job.objects.filter(kind=KIND).exists()
    api = client.post(
        f"/api/hcx-plans/{plan.pk}/deploy/",
        {"ova": "hcx-connector.ova", "cluster": "CL-Prod"},
        content_type="application/json",
    )
    assert api.status_code == 409 and api.json()["job"] == running.pk
    assert 'data-testid="deploy-busy"' in client.get(url(plan)).content.decode()


def test_choices_not_offered_are_refused_and_nothing_starts(client_for, engineer, plan):
    client = client_for(engineer)

    for changes, expected in (
        ({"ova": "../hcx-connector.ova"}, "Select a valid choice"),
        ({"datastore": "someone-elses-ds"}, "Select a valid choice"),
        ({"cluster": ""}, "vc01.example.com has 2 clusters: choose the one the Connector runs in."),
    ):
        response = client.post(url(plan), deploy_data(plan, **changes))
        assert response.status_code == 400 and expected in response.content.decode(), changes
    assert not Job.objects.exists() and not AuditEntry.objects.exists()


def test_a_plan_without_a_reachable_vcenter_is_refused_with_the_reason(client_for, engineer, plan):
    VCenter.objects.filter(pk=plan.vcenter_id).update(url="")

    response = client_for(engineer).post(url(plan), deploy_data(plan))

    assert response.status_code == 400
    assert "vCenter vc01.example.com has no URL and user name to connect with" in response.content.decode()
    assert not Job.objects.exists()


def test_an_uploaded_ova_is_checked_named_safely_and_offered(client_for, engineer, plan, ova_dir, tmp_path):
    content = build_ova(tmp_path, name="source.ova").read_bytes()
    client = client_for(engineer)

    response = upload(client, plan, "VMware-HCX-Connector 4.10 (build 1).ova", content)

    stored = "VMware-HCX-Connector_4.10_build_1.ova"
    assert response.status_code == 302 and response["Location"] == f"{url(plan)}?ova={stored}"
    assert folder_files(ova_dir) == sorted([stored, "hcx-connector.ova"])
    assert (ova_dir / stored).read_bytes() == content
    assert AuditEntry.objects.filter(action="hcx_ova.upload", detail__ova=stored, user=engineer).exists()
    page = client.get(response["Location"]).content.decode()
    assert f'<option value="{stored}" selected>' in page


def test_an_uploaded_ova_with_properties_the_portal_does_not_know_lists_them(
    client_for, engineer, plan, tmp_path
):
    from tests.ova import HCX_PROPERTIES

    newer = descriptor(properties={**HCX_PROPERTIES, "mgr_telemetry": ("boolean", False, "True")})
    client = client_for(engineer)

    response = upload(client, plan, "newer.ova", build_ova(tmp_path, name="src.ova", ovf=newer).read_bytes())
    page = client.get(response["Location"]).content.decode()

    listed = (
        "newer.ova declares 1 property the portal does not set; it keeps its default: "
        "mgr_telemetry = &#x27;True&#x27;"
    )
    assert page.count(listed) == 2  # the upload's message, and beside the deploy form while it is chosen
    assert listed not in client.get(url(plan)).content.decode()  # the folder's plain Connector OVA


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "connector.ova",
            b"MZ\x90\x00 an executable, not an OVA",
            "connector.ova is not an OVA: an OVA is a tar archive",
        ),
        ("connector.ova", None, "contains no OVF descriptor (.ovf)"),
        ("other.ova", "other-appliance", "does not declare the HCX Connector properties"),
        ("connector.exe", b"MZ", "connector.exe is not named like an OVA"),
        ("hcx-connector.ova", "valid", "An OVA named hcx-connector.ova is already in the folder"),
    ],
)
def test_an_upload_that_is_not_a_connector_ova_is_refused_and_nothing_is_kept(
    client_for, engineer, plan, ova_dir, tmp_path, name, content, expected
):
    before = (ova_dir / "hcx-connector.ova").read_bytes()
    if content is None:
        content = build_ova(tmp_path, name="x.ova", include_ovf=False).read_bytes()
    elif content == "other-appliance":
        content = build_ova(
            tmp_path, name="x.ova", ovf=descriptor(properties={"hostname": ("string", False)})
        ).read_bytes()
    elif content == "valid":
        content = build_ova(tmp_path, name="x.ova").read_bytes() + b"\0" * 1024

    response = upload(client_for(engineer), plan, name, content)

    assert response.status_code == 400 and expected in response.content.decode()
    assert folder_files(ova_dir) == ["hcx-connector.ova"], "no partial or refused file is left"
    assert (ova_dir / "hcx-connector.ova").read_bytes() == before


def test_an_upload_over_the_size_limit_stops_and_keeps_nothing(
    client_for, engineer, plan, ova_dir, tmp_path, settings
):
    settings.HCX_OVA_MAX_MB = 0

    response = upload(client_for(engineer), plan, "big.ova", build_ova(tmp_path, name="big.ova").read_bytes())

    assert (
        response.status_code == 400
        and "is larger than the 0 MB an OVA upload may be" in response.content.decode()
    )
    assert folder_files(ova_dir) == ["hcx-connector.ova"]


def test_an_upload_cannot_leave_the_folder(client_for, engineer, plan, ova_dir, tmp_path):
    response = upload(
        client_for(engineer), plan, "../../escaped.ova", build_ova(tmp_path, name="s.ova").read_bytes()
    )

    assert response.status_code == 302
    assert "escaped.ova" in folder_files(ova_dir)
    assert (
        not (ova_dir.parent / "escaped.ova").exists() and not (ova_dir.parent.parent / "escaped.ova").exists()
    )


def test_the_upload_keeps_its_csrf_check(engineer, plan, ova_dir, tmp_path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer)
    file = io.BytesIO(build_ova(tmp_path, name="s.ova").read_bytes())
    file.name = "forged.ova"

    response = client.post(url(plan, "ova/"), {"ova_file": file})

    assert response.status_code == 403
    assert folder_files(ova_dir) == ["hcx-connector.ova"], "a forged request keeps no file"


def test_the_api_starts_the_deployment(client_for, engineer, plan):
    response = client_for(engineer).post(
        f"/api/hcx-plans/{plan.pk}/deploy/",
        {"ova": "hcx-connector.ova", "datacenter": "DC-Main", "cluster": "CL-Prod", "datastore": "nfs-01"},
        content_type="application/json",
    )

    assert response.status_code == 202, response.json()
    job = Job.objects.get(kind=KIND)
    assert response.json()["id"] == job.pk and job.object == plan
    assert job.params["spec"]["cluster"] == "CL-Prod" and job.params["spec"]["network"] == "HCX-Mgmt"
    assert ADMIN_PASSWORD not in response.content.decode()


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [
        ({"ova": "../outside.ova"}, "ova", "is outside the OVA folder"),
        ({"ova": "/etc/passwd"}, "ova", "is outside the OVA folder"),
        ({"ova": "missing.ova"}, "ova", "There is no OVA named missing.ova"),
        (
            {"ova": "hcx-connector.ova", "cluster": "CL-Nope"},
            "cluster",
            "has no cluster 'CL-Nope'; it has: CL-Mgmt, CL-Prod",
        ),
        (
            {"ova": "hcx-connector.ova", "cluster": "CL-Prod", "network": "Nope"},
            "network",
            "has no port group 'Nope'",
        ),
    ],
)
def test_the_api_refuses_a_bad_request_and_starts_nothing(
    client_for, engineer, plan, ova_dir, body, field, expected
):
    build_ova(ova_dir.parent, name="outside.ova")

    response = client_for(engineer).post(
        f"/api/hcx-plans/{plan.pk}/deploy/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert any(expected in message for message in response.json()[field]), response.json()
    assert not Job.objects.exists()
