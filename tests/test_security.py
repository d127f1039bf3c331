"""The security pass (docs/security.md): CSRF on every state-changing URL, secrets never in an answer
and never stored in clear, uploads over the limit refused, TLS verification on by default.

The URL walks are table-driven over the URL map, as tests/test_url_access.py does for roles, so a
page or endpoint added later is covered without naming it here. Anonymous and per-role access,
login throttling and `check --deploy` are tested in test_url_access.py and test_core_access.py.
"""

import base64
import inspect
import os
import re
import select
import socket
import subprocess
import sys
import tempfile

import pytest
import requests
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import get_resolver

from core.models import SignInFailure
from hcx.client.appliance import HcxAppliance
from hcx.client.avs import AvsClient
from hcx.client.service import HcxService
from hcx.client.transport import Transport
from hcx.models import HcxConnection
from inventory.discovery.connect import connect
from inventory.models import VCenter
from tests.factories import make_link_site
from tests.peers.asgi import asgi_server  # noqa: F401 (fixture)
from tests.test_url_access import walk

ALL_ROUTES = sorted({(route, name) for route, name in walk(get_resolver().url_patterns)})


def fill(route: str, value) -> str | None:
    """`route` with every parameter set to `value`; None for format-suffix variants (`.json`)."""
    if "(?P<format>" in route or re.search(r"<(\w+:)?format>", route):
        return None
    path = re.sub(r"\(\?P<\w+>[^)]*\)", str(value), route)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".")
    path = re.sub(r"<(?:int|str|slug|path):\w+>", str(value), path)
    path = re.sub(r"<\w+>", str(value), path)
    return "/" + path


CSRF_ROUTES = sorted({route for route, _ in ALL_ROUTES if fill(route, 1)})


# --- CSRF ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", CSRF_ROUTES)
def test_a_post_without_a_csrf_token_is_refused_everywhere(admin_user, route):
    """Signed in as an admin (no role check stands in the way), a POST without the token is refused by
    the CSRF check on every page and, through session authentication, on every API endpoint. Ids are
    those of an existing site: a view that checks CSRF after finding its object (the streamed OVA
    upload) must refuse too."""
    site = make_link_site("CSRF site")
    path = fill(route, site.pk)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(path, {"name": "x"})
    assert response.status_code == 403, (path, response.status_code)
    if not path.startswith("/api/"):  # DRF words its refusal per renderer (the Swagger page: HTML)
        assert b"CSRF verification failed" in response.content, (path, response.content[:200])


@pytest.mark.django_db
def test_a_post_with_the_token_gets_past_the_check(admin_user):
    """The other side of the test above: the refusal is the missing token, not the URL."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    client.get("/inventory/vcenters/add/")
    token = client.cookies["csrftoken"].value
    response = client.post("/inventory/vcenters/add/", {"csrfmiddlewaretoken": token, "name": ""})
    assert response.status_code in (200, 400) and b"CSRF verification failed" not in response.content
    response = client.post(
        "/api/waves/", {"name": "Wave csrf"}, headers={"X-CSRFToken": token}, content_type="application/json"
    )
    assert response.status_code == 201, response.content


# --- secrets ------------------------------------------------------------------------------------

SECRETS = {
    "vcenter password": "vc-Pa55word-4f1d2c",
    "hcx password": "hcx-Pa55word-8a7e3b",
    "hcx admin password": "hcx-admin-Pa55-91c0",
    "hcx root password": "hcx-root-Pa55-5d2e",
    "azure client secret": "azure-Cl1ent-Secret-77ab",
    "activation key": "ACTIV-KEY0-1234-5678-9ABC",
    "cloudadmin password": "cloud-Pa55word-c3d4",
}
HCX_SECRET_FIELDS = {
    "password": "hcx password",
    "admin_password": "hcx admin password",
    "root_password": "hcx root password",
    "avs_client_secret": "azure client secret",
    "activation_key": "activation key",
    "cloud_password": "cloudadmin password",
}


@pytest.fixture
def connections(db):
    vcenter = VCenter.objects.create(
        name="vc-secret.example.com",
        url="vc-secret.example.com",
        username="svc",
        password=SECRETS["vcenter password"],
    )
    plan = make_link_site("Secret site")
    hcx = HcxConnection.objects.create(
        plan=plan,
        connector_url="https://hcx-connector.example.com",
        username="administrator@vsphere.local",
        avs_subscription_id="00000000-0000-0000-0000-000000000001",
        avs_resource_group="rg",
        avs_private_cloud="pc",
        avs_tenant_id="t",
        avs_client_id="c",
        cloud_url="https://hcx-cloud.example.com",
        cloud_username="cloudadmin@vsphere.local",
        **{field: SECRETS[label] for field, label in HCX_SECRET_FIELDS.items()},
    )
    return vcenter, plan, hcx


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.django_db
def test_no_page_or_api_answer_shows_a_stored_secret(client_for, admin_user, connections):
    """Every GET in the URL map, with the ids of the vCenter, the site and the connection (and 1), as an
    admin: lists, details, edit forms, exports, the audit log and the API."""
    vcenter, plan, hcx = connections
    client = client_for(admin_user)
    # Edit forms write the audit log too; they must not copy the secret there either.
    client.post(
        f"/inventory/vcenters/{vcenter.pk}/edit/",
        {"name": vcenter.name, "url": vcenter.url, "username": "svc2", "password": "", "verify_tls": "on"},
    )
    paths = sorted(
        {
            p
            for route, _ in ALL_ROUTES
            for pk in {1, vcenter.pk, plan.pk, hcx.pk}
            if (p := fill(route, pk)) and not p.startswith(("/logout", "/admin/logout"))
        }
    )
    answered = 0
    for path in paths:
        response = client.get(path)
        if response.status_code != 200:
            continue
        answered += 1
        content = body(response)
        for label, secret in SECRETS.items():
            assert secret.encode() not in content, f"{label} shown at {path}"
    assert answered > 40  # the walk reached the pages, not only 404s


@pytest.mark.django_db
def test_hcx_and_azure_secrets_are_encrypted_at_rest(connections):
    """The vCenter password is checked in test_core_access.py; here every secret of an HCX connection."""
    _, _, hcx = connections
    columns = ", ".join(HCX_SECRET_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {HcxConnection._meta.db_table} WHERE id = %s", [hcx.pk])
        stored = dict(zip(HCX_SECRET_FIELDS, cursor.fetchone(), strict=True))
    for field, label in HCX_SECRET_FIELDS.items():
        assert stored[field] and SECRETS[label] not in stored[field], field
    reloaded = HcxConnection.objects.get(pk=hcx.pk)
    assert {f: getattr(reloaded, f) for f in HCX_SECRET_FIELDS} == {
        f: SECRETS[lbl] for f, lbl in HCX_SECRET_FIELDS.items()
    }


@pytest.mark.django_db
def test_the_audit_log_holds_no_secret(client_for, engineer):
    client = client_for(engineer)
    client.post(
        "/inventory/vcenters/add/",
        {
            "name": "vc-audit.example.com",
            "url": "vc-audit.example.com",
            "username": "svc",
            "password": SECRETS["vcenter password"],
            "verify_tls": "on",
        },
    )
    assert VCenter.objects.filter(name="vc-audit.example.com").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_auditentry")
        rows = repr(cursor.fetchall())
    assert SECRETS["vcenter password"] not in rows


# --- uploads ------------------------------------------------------------------------------------
# The RVTools page, the dependency import and the OVA upload have their size tests (test_rvtools_pages,
# test_dependencies_import, test_hcx_deploy_page); the wave plan was missing on the page and the API.


@pytest.mark.django_db
def test_a_wave_plan_over_the_size_limit_is_refused_on_the_page_and_the_api(client_for, admin_user, settings):
    settings.MAX_UPLOAD_MB = 0  # every non-empty file is over it
    client = client_for(admin_user)
    plan = b"VM,VM ID,vCenter,Group,Wave,Migration type\n"
    page = client.post("/plan/waves/plan/import/", {"file": SimpleUploadedFile("plan.csv", plan)})
    assert page.status_code in (200, 400) and "the largest accepted upload is 0 MB" in page.content.decode()
    api = client.post("/api/waves/plan-import/", {"file": SimpleUploadedFile("plan.csv", plan)})
    assert api.status_code == 400 and "larger than 0 MB" in api.json()["file"][0]


# --- TLS ----------------------------------------------------------------------------------------


def default(func, name):
    return inspect.signature(func).parameters[name].default


def test_tls_verification_is_on_unless_switched_off():
    """The models and every client verify certificates unless told otherwise; the switch is the
    connection's `verify_tls` (a checkbox on the vCenter and HCX connection forms)."""
    assert VCenter._meta.get_field("verify_tls").default is True
    assert HcxConnection._meta.get_field("verify_tls").default is True
    assert default(connect, "verify_tls") is True
    assert default(HcxService.__init__, "verify") is True
    assert default(HcxAppliance.__init__, "verify") is True
    assert default(AvsClient.__init__, "verify") is True
    assert default(Transport.__init__, "verify") is True


@pytest.mark.django_db
def test_the_connection_forms_offer_the_tls_switch_checked(client_for, admin_user):
    page = client_for(admin_user).get("/inventory/vcenters/add/").content.decode()
    assert re.search(r'<input[^>]*name="verify_tls"[^>]*checked', page)


# --- login throttling ---------------------------------------------------------------------------
# Through the real ASGI server (tests/peers/asgi.py), as the portal runs: the address counted is the one
# uvicorn and avsportal/asgi.py hand to Django, so a forged X-Forwarded-For is tried where it would work.

PASSWORD = "correct horse battery"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def page_login(
    session: requests.Session, url: str, username: str, password: str, forwarded_for: str, **headers
):
    form = session.get(f"{url}/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    # The cookie is Secure (DEBUG is off); requests would keep it from plain HTTP, a browser not on 127.0.0.1.
    session.cookies.set(django_settings.CSRF_COOKIE_NAME, form.cookies[django_settings.CSRF_COOKIE_NAME])
    return session.post(
        f"{url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"X-Forwarded-For": forwarded_for, **headers},
        allow_redirects=False,
    )


@pytest.mark.django_db(transaction=True)
def test_a_rotating_x_forwarded_for_does_not_escape_the_page_throttle(asgi_server, planner):  # noqa: F811
    session = requests.Session()
    for n in range(40):
        page_login(session, asgi_server.url, planner.username, "wrong", f"203.0.113.{n}")
    answer = page_login(session, asgi_server.url, planner.username, PASSWORD, "198.51.100.7")
    assert answer.status_code == 429 and "Too many failed sign-in attempts" in answer.text


@pytest.mark.django_db(transaction=True)
def test_a_rotating_x_forwarded_for_does_not_escape_the_api_throttle(asgi_server, planner):  # noqa: F811
    def call(password, n):
        return requests.get(
            f"{asgi_server.url}/api/vms/",
            headers={"Authorization": basic(planner.username, password), "X-Forwarded-For": f"203.0.113.{n}"},
        )

    assert call(PASSWORD, 0).status_code == 200
    for n in range(40):
        call("wrong", n)
    answer = call(PASSWORD, 99)
    assert answer.status_code == 429 and "Too many failed sign-in attempts" in answer.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_one_address_guessing_many_accounts_is_throttled_by_its_address(asgi_server, planner, settings):  # noqa: F811
    """Without a trusted proxy the address is the peer's, whatever X-Forwarded-For says: its failures
    add up across user names."""
    session = requests.Session()
    for n in range(settings.LOGIN_THROTTLE["PER_ADDRESS"]):
        page_login(session, asgi_server.url, f"guess-{n}", "wrong", f"203.0.113.{n}")
    answer = page_login(session, asgi_server.url, planner.username, PASSWORD, "198.51.100.7")
    assert answer.status_code == 429


@pytest.mark.django_db(transaction=True)
def test_x_forwarded_proto_from_a_client_is_not_believed(asgi_server, planner):  # noqa: F811
    """Believed, it would make the request HTTPS, and Django's CSRF check would then demand a Referer."""
    answer = page_login(
        requests.Session(),
        asgi_server.url,
        planner.username,
        PASSWORD,
        "198.51.100.7",
        **{"X-Forwarded-Proto": "https"},
    )
    assert answer.status_code == 302, answer.text[:300]


@pytest.fixture
def proxied_server(transactional_db, tmp_path):
    """The portal in its own uvicorn process, as the Dockerfile runs it, with 127.0.0.1 a trusted proxy."""
    from tests.peers.worker import ROOT, database_url

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TRUSTED_PROXIES": "127.0.0.1",
        "DATABASE_URL": database_url(connection.settings_dict),
    }
    log = open(tmp_path / "uvicorn.log", "wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "avsportal.asgi:application",
            "--port",
            str(port),
            "--no-proxy-headers",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{url}/login/", timeout=10)
                break
            except requests.RequestException:
                assert server.poll() is None, (tmp_path / "uvicorn.log").read_text()
                select.select([], [], [], 0.1)
        yield url
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def test_a_trusted_proxy_s_forwarded_headers_are_believed(proxied_server, planner):
    """TRUSTED_PROXIES reaches the server: the address counted is the forwarded one, and the scheme too
    (HTTPS: the CSRF check now wants a Referer)."""
    session = requests.Session()
    page_login(session, proxied_server, "guess", "wrong", "203.0.113.5", Referer=f"{proxied_server}/login/")
    assert SignInFailure.objects.filter(key="address:203.0.113.5").exists()
    assert not SignInFailure.objects.filter(key="address:127.0.0.1").exists()
    answer = page_login(
        session, proxied_server, planner.username, PASSWORD, "203.0.113.6", **{"X-Forwarded-Proto": "https"}
    )
    assert answer.status_code == 403 and "CSRF verification failed" in answer.text


@pytest.mark.django_db
def test_the_account_limit_holds_across_addresses(client, planner, settings):
    for n in range(settings.LOGIN_THROTTLE["PER_ACCOUNT"]):
        client.post(
            "/login/", {"username": planner.username, "password": "wrong"}, REMOTE_ADDR=f"192.0.2.{n}"
        )
    answer = client.post(
        "/login/", {"username": planner.username, "password": PASSWORD}, REMOTE_ADDR="192.0.2.200"
    )
    assert answer.status_code == 429
    api = Client().get(
        "/api/vms/", HTTP_AUTHORIZATION=basic(planner.username, PASSWORD), REMOTE_ADDR="192.0.2.201"
    )
    assert api.status_code == 429


@pytest.mark.django_db
def test_a_good_sign_in_clears_the_account_count_not_the_address_count(client, planner, settings):
    """Signing in to one's own account between guesses must not reset what the address has spent."""
    limit = settings.LOGIN_THROTTLE["PER_ADDRESS"]
    for n in range(limit - 1):
        client.post("/login/", {"username": f"guess-{n}", "password": "wrong"})
    assert client.post("/login/", {"username": planner.username, "password": PASSWORD}).status_code == 302
    client.logout()
    client.post("/login/", {"username": "guess-last", "password": "wrong"})
    assert client.post("/login/", {"username": planner.username, "password": PASSWORD}).status_code == 429


SECOND_PROCESS = """
import django, sys
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
for n in range(int(sys.argv[2])):
    client.post("/login/", {"username": sys.argv[1], "password": "wrong"}, REMOTE_ADDR=f"192.0.2.{n}")
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_share_one_count(client, planner, settings):
    """As two uvicorn workers would: the failures of one count in the other."""
    from tests.peers.worker import ROOT, database_url

    limit = settings.LOGIN_THROTTLE["PER_ACCOUNT"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
    }
    subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, planner.username, str(limit - 2)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    for n in range(2):
        client.post(
            "/login/", {"username": planner.username, "password": "wrong"}, REMOTE_ADDR=f"198.51.100.{n}"
        )
    answer = client.post(
        "/login/", {"username": planner.username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.9"
    )
    assert answer.status_code == 429


# --- request bodies -----------------------------------------------------------------------------
# Django's ASGI handler reads a whole body (to a temporary file past 5 MB) before routing or sign-in:
# avsportal/body_limit.py refuses an oversized one first, against the real server.


def raw_request(url: str, head: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(head.encode())
    return sock


def answer_of(sock: socket.socket) -> str:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
        if b"\r\n\r\n" in received and len(received) > received.index(b"\r\n\r\n") + 4:
            break
    return received.decode("latin1")


@pytest.mark.django_db(transaction=True)
def test_a_body_declared_too_large_is_refused_before_it_is_sent(asgi_server, settings):  # noqa: F811
    """A gigabyte announced, a few bytes sent: the answer comes at once, without waiting for the rest."""
    sock = raw_request(
        asgi_server.url,
        "POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Length: {2**30}\r\nContent-Type: text/plain\r\n\r\nxxxx",
    )
    with sock:
        answer = answer_of(sock)
    assert answer.startswith("HTTP/1.1 413") and "Request body too large" in answer, answer[:300]


def spooled_bytes(before: set[str]) -> int:
    """Bytes in temporary files the server (this process) opened since `before` (a listing of
    /proc/self/fd): Django spools a body past FILE_UPLOAD_MAX_MEMORY_SIZE to an unnamed file there."""
    total = 0
    for fd in set(os.listdir("/proc/self/fd")) - before:
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(tempfile.gettempdir()):
                total += os.stat(f"/proc/self/fd/{fd}").st_size
        except OSError:
            pass  # closed meanwhile
    return total


@pytest.mark.django_db(transaction=True)
def test_a_streamed_body_is_cut_at_the_limit(asgi_server, settings):  # noqa: F811
    """Chunked, no length given: the server counts what arrives and answers 413 before the end, and the
    temporary folder does not grow (the limit is under Django's 5 MB in memory)."""
    settings.REQUEST_MAX_MB = 1
    chunk, total = b"x" * 65536, 32 * 2**20
    open_before = set(os.listdir("/proc/self/fd"))
    sock = raw_request(
        asgi_server.url,
        "POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n",
    )
    sent, spooled = 0, 0
    with sock:
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                spooled = max(spooled, spooled_bytes(open_before))
            if sent == total:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = answer_of(sock)
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert sent < total, "the server read the whole body"
    assert spooled == 0, f"{spooled} bytes written to the temporary folder"


@pytest.mark.django_db(transaction=True)
def test_the_ova_upload_route_has_the_larger_limit(asgi_server, settings):  # noqa: F811
    """Over REQUEST_MAX_MB but under HCX_OVA_MAX_MB: the body reaches the view (which refuses an
    anonymous caller), elsewhere it does not. Refusals are asked for with headers alone (a client still
    sending when the server closes may see a reset instead of the answer)."""
    settings.REQUEST_MAX_MB, settings.HCX_OVA_MAX_MB = 1, 4

    def announce(path, size):
        with raw_request(
            asgi_server.url, f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n\r\n"
        ) as sock:
            return answer_of(sock)

    ova = requests.post(
        f"{asgi_server.url}/hcx/plans/1/deploy/ova/", data="x" * (3 * 2**20), allow_redirects=False
    )
    assert ova.status_code in (302, 403), ova.status_code
    assert announce("/login/", 3 * 2**20).startswith("HTTP/1.1 413")
    assert announce("/hcx/plans/1/deploy/ova/", 6 * 2**20).startswith("HTTP/1.1 413")
