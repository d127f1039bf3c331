"""Notifications in one process: who gets a row for which event, nothing before commit, the delivery
rules (claimed once, retried with backoff, failed after N without the URL), and the pages and API by
role. The worker-driven journeys are in test_notifications_worker.py."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.choices import DeliveryStatus, NotificationEvent
from core.models import AuditEntry, Notification, NotificationPreference, Webhook
from core.notifications import delivery
from core.notifications.delivery import scrub
from core.roles import ENGINEER, PLANNER, STAKEHOLDER
from migrations_app.choices import MigrationState
from migrations_app.models import VmMigration
from migrations_app.notifications import migrations_failed, wave_event
from migrations_app.readiness.approval import do_approve, do_reject, do_submit
from tests.conftest import make_user
from tests.factories import make_batch
from tests.test_readiness_rules import add_vm, make_scene

SUBMITTED, APPROVED, REJECTED = (
    NotificationEvent.WAVE_SUBMITTED,
    NotificationEvent.WAVE_APPROVED,
    NotificationEvent.WAVE_REJECTED,
)
SECRET = "T0SECRET/B0TOKEN/xoxb-very-secret-token"


class Receiver:
    """A webhook receiver on loopback: records each POST's path and JSON body; answers from `plan`
    (path -> status codes to give, in order), then 200."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.plan: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.posts.append((self.path, json.loads(body or b"null")))
                    codes = receiver.plan.get(self.path) or []
                    code = codes.pop(0) if codes else 200
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else f"no: {self.path}".encode())

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def bodies(self, path: str) -> list[dict]:
        with self.lock:
            return [body for p, body in self.posts if p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def scene(db):
    """A wave whose one VM is ready for Bulk (as in test_approval_workflow)."""
    s = make_scene()
    add_vm(s, "web01")
    return s


def person(role, name, email=None, events=()):
    user = make_user(role, name)
    user.email = f"{name}@example.com" if email is None else email
    user.save(update_fields=["email"])
    NotificationPreference.objects.bulk_create([NotificationPreference(user=user, event=e) for e in events])
    return user


def rows(event):
    return Notification.objects.filter(event=event).select_related("user", "webhook")


# --- Who gets a row ---


@pytest.mark.django_db
def test_submit_approve_and_reject_write_rows_for_opted_in_users_only(scene, receiver):
    planner = person(PLANNER, "paula", events=[APPROVED, REJECTED])
    engineer = person(ENGINEER, "erik", events=[SUBMITTED])
    person(STAKEHOLDER, "sam", events=[APPROVED])
    person(STAKEHOLDER, "noemail", email="", events=[SUBMITTED, APPROVED])  # nowhere to write to
    person(None, "outsider", events=[SUBMITTED])  # no role any more: no mail
    person(ENGINEER, "quiet")  # opted in to nothing
    hook = Webhook.objects.create(name="Teams", url=receiver.url("/hook"), events=[SUBMITTED])
    Webhook.objects.create(name="Off", url=receiver.url("/off"), events=[SUBMITTED], active=False)

    do_submit(scene.wave, acting_user=planner)
    submitted = list(rows(SUBMITTED))
    assert sorted((n.user.username if n.user else n.webhook.name) for n in submitted) == ["Teams", "erik"]
    assert all(n.status == DeliveryStatus.PENDING and n.attempts == 0 for n in submitted)
    email = next(n for n in submitted if n.user_id)
    assert email.subject == f"Wave {scene.wave.name} was submitted for approval by paula"
    assert email.data["wave"]["id"] == scene.wave.pk and email.data["by"] == "paula"
    assert email.data["url"] == scene.wave.get_absolute_url() and email.data["url"] in email.body
    assert next(n for n in submitted if n.webhook_id).webhook == hook

    do_approve(scene.wave, acting_user=engineer, change_ticket="CHG0042")
    approved = list(rows(APPROVED))
    assert sorted(n.user.username for n in approved) == ["paula", "sam"]
    assert "CHG0042" in approved[0].body and approved[0].data["change_ticket"] == "CHG0042"
    assert not rows(REJECTED).exists()


@pytest.mark.django_db
def test_a_rejection_tells_who_asked_with_the_comment(scene):
    planner = person(PLANNER, "paula", events=[REJECTED])
    engineer = person(ENGINEER, "erik")
    do_submit(scene.wave, acting_user=planner)
    do_reject(scene.wave, acting_user=engineer, comment="Window clashes with the freeze")
    [n] = rows(REJECTED)
    assert n.user == planner and "rejected by erik" in n.subject
    assert "Window clashes with the freeze" in n.body


@pytest.mark.django_db
def test_failed_migrations_are_told_once_per_wave_naming_each_vm_and_why(scene):
    person(ENGINEER, "erik", events=[NotificationEvent.MIGRATION_FAILED, NotificationEvent.WAVE_LAUNCHED])
    add_vm(scene, "db01")
    batch = make_batch(scene.wave)
    VmMigration.objects.filter(batch=batch).update(state=MigrationState.FAILED, message="Disk busy")
    assert migrations_failed([]) == []
    [n] = migrations_failed(list(VmMigration.objects.filter(batch=batch)))
    assert n.subject == f"Wave {scene.wave.name}: 2 migrations failed"
    assert "- db01: Disk busy\n- web01: Disk busy" in n.body and n.data["count"] == 2

    [launched] = wave_event(NotificationEvent.WAVE_LAUNCHED, scene.wave, user=n.user, batch=batch.name)
    assert launched.subject == f"Wave {scene.wave.name}: {batch.name} was launched by erik"


@pytest.mark.django_db
def test_nothing_goes_before_commit_and_a_rolled_back_event_leaves_nothing(
    scene, receiver, django_capture_on_commit_callbacks
):
    planner = person(PLANNER, "paula")
    person(ENGINEER, "erik", events=[SUBMITTED])
    Webhook.objects.create(name="Teams", url=receiver.url("/hook"), events=[SUBMITTED])

    class Undo(Exception):
        pass

    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(Undo), transaction.atomic():
            wave_event(SUBMITTED, scene.wave, user=planner)
            assert Notification.objects.count() == 2  # written with the event...
            raise Undo
    assert Notification.objects.count() == 0 and callbacks == []  # ...and gone with it: nobody is told

    with django_capture_on_commit_callbacks() as callbacks:  # not executed: the commit never comes here
        do_submit(scene.wave, acting_user=planner)
    assert Notification.objects.filter(status=DeliveryStatus.PENDING).count() == 2
    assert len(callbacks) == 1 and receiver.posts == [] and mail.outbox == []


# --- Delivery (in this process; the worker runs the same function) ---


@pytest.fixture
def fast(settings):
    settings.NOTIFICATIONS = {
        **settings.NOTIFICATIONS,
        "MAX_ATTEMPTS": 3,
        "RETRY_SECONDS": 10,
        "RETRY_MAX_SECONDS": 15,
        "WEBHOOK_TIMEOUT": 5,
    }
    return settings.NOTIFICATIONS


def due(notification):
    Notification.objects.filter(pk=notification.pk).update(next_attempt=timezone.now())


@pytest.mark.django_db
def test_an_email_goes_to_the_address_in_the_profile_once(fast):
    user = person(STAKEHOLDER, "sam", events=[APPROVED])
    [n] = wave_event(APPROVED, make_scene().wave, user=None, change_ticket="CHG1")
    assert delivery.deliver(n.pk).status == DeliveryStatus.SENT
    assert delivery.deliver(n.pk) is None  # a second worker with the same row does nothing
    [message] = mail.outbox
    assert message.to == [user.email] and message.subject == n.subject and "CHG1" in message.body
    n.refresh_from_db()
    assert n.status == DeliveryStatus.SENT and n.sent and n.attempts == 1


@pytest.mark.django_db
def test_a_webhook_gets_json_that_teams_and_slack_show_and_is_retried_with_growing_waits(fast, receiver):
    path = f"/services/{SECRET}"
    receiver.plan[path] = [500, 503]
    Webhook.objects.create(name="Slack", url=receiver.url(path), events=[APPROVED])
    scene = make_scene()
    [n] = wave_event(APPROVED, scene.wave, change_ticket="CHG7")

    before = timezone.now()
    first = delivery.deliver(n.pk)
    assert first.status == DeliveryStatus.PENDING and first.retry_in == 10
    n.refresh_from_db()
    assert n.next_attempt >= before + timedelta(seconds=10) and "HTTP 500" in n.last_error
    assert delivery.deliver(n.pk) is None  # not due yet
    due(n)
    assert delivery.deliver(n.pk).retry_in == 15  # doubled, then capped by RETRY_MAX_SECONDS
    due(n)
    assert delivery.deliver(n.pk).status == DeliveryStatus.SENT
    bodies = receiver.bodies(path)
    assert len(bodies) == 3
    body = bodies[-1]
    assert body["event"] == "wave.approved" and body["data"]["change_ticket"] == "CHG7"
    assert body["text"].startswith(f"Wave {scene.wave.name} was approved") and "CHG7" in body["text"]
    n.refresh_from_db()
    assert n.status == DeliveryStatus.SENT and n.attempts == 3 and n.last_error == ""


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["answers 500", "refuses connections"])
def test_a_webhook_that_keeps_failing_ends_failed_without_its_url_in_the_error(fast, receiver, where, caplog):
    path = f"/hooks/{SECRET}?sig=s3cr3t-signature"
    if where == "answers 500":
        receiver.plan["/hooks/" + SECRET + "?sig=s3cr3t-signature"] = [500] * 5
        url = receiver.url(path)
    else:
        url = f"http://127.0.0.1:9{path}"  # nothing listens on port 9
    Webhook.objects.create(name="Broken", url=url, events=[APPROVED])
    [n] = wave_event(APPROVED, make_scene().wave)
    for _ in range(3):
        due(n)
        delivery.deliver(n.pk)
    n.refresh_from_db()
    assert n.status == DeliveryStatus.FAILED and n.attempts == 3 and n.last_error
    for secret in (url, SECRET, "T0SECRET", "xoxb-very-secret-token", "s3cr3t-signature", "127.0.0.1"):
        assert secret not in n.last_error and secret not in caplog.text
    assert ("HTTP 500" if where == "answers 500" else "Could not reach the webhook Broken") in n.last_error
    due(n)
    assert delivery.deliver(n.pk) is None  # failed is final


def test_scrub_hides_every_part_that_could_give_the_url_away():
    url = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc123def/triggers/manual?sig=QWERTYsecret%2B"
    message = f"POST {url} failed; host prod-12.westeurope.logic.azure.com path /workflows/abc123def sig QWERTYsecret+"
    clean = scrub(message, url)
    for piece in ("abc123def", "QWERTYsecret", "logic.azure.com", "/workflows/"):
        assert piece not in clean
    assert clean.startswith("POST [webhook URL] failed")


# --- Pages ---


@pytest.mark.django_db
def test_my_notifications_shows_my_address_and_saves_only_my_own(client_for, db):
    me = person(STAKEHOLDER, "sam", events=[APPROVED])
    other = person(PLANNER, "paula", events=[SUBMITTED])
    client = client_for(me)
    page = client.get("/notifications/mine/")
    assert page.status_code == 200
    assert "sam@example.com" in page.content.decode() and page.context["form"].initial["events"] == [APPROVED]
    response = client.post(
        "/notifications/mine/", {"events": [SUBMITTED, NotificationEvent.MIGRATION_FAILED]}
    )
    assert response.status_code == 302
    assert set(me.notification_preferences.values_list("event", flat=True)) == {SUBMITTED, "migration.failed"}
    assert list(other.notification_preferences.values_list("event", flat=True)) == [SUBMITTED]  # untouched
    assert AuditEntry.objects.filter(action="notifications.set", user=me).exists()
    client.post("/notifications/mine/", {})
    assert not me.notification_preferences.exists()


@pytest.mark.django_db
def test_my_notifications_warns_when_my_profile_has_no_address(client_for):
    me = person(ENGINEER, "erik", email="")
    response = client_for(me).post("/notifications/mine/", {"events": [SUBMITTED]}, follow=True)
    assert "has no email address" in response.content.decode()


@pytest.mark.django_db
def test_a_user_without_a_role_has_no_notifications_page(client_for, outsider):
    assert client_for(outsider).get("/notifications/mine/").status_code == 403
    assert client_for(outsider).post("/notifications/mine/", {"events": [SUBMITTED]}).status_code == 403
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
def test_forms_need_the_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    hook = Webhook.objects.create(name="Teams", url="https://example.com/x", events=[])
    assert client.post("/notifications/mine/", {"events": [SUBMITTED]}).status_code == 403
    assert (
        client.post("/notifications/webhooks/add/", {"name": "X", "url": "https://e.com/a"}).status_code
        == 403
    )
    assert client.post(f"/notifications/webhooks/{hook.pk}/test/").status_code == 403
    assert client.post(f"/notifications/webhooks/{hook.pk}/delete/").status_code == 403
    assert Webhook.objects.count() == 1 and not Notification.objects.exists()
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [PLANNER, ENGINEER, STAKEHOLDER])
def test_only_admins_manage_webhooks(client_for, role):
    client = client_for(make_user(role))
    hook = Webhook.objects.create(name="Teams", url="https://example.com/hook", events=[SUBMITTED])
    assert client.get("/notifications/webhooks/").status_code == 403
    assert (
        client.post(
            "/notifications/webhooks/add/", {"name": "Mine", "url": "https://evil.example/x"}
        ).status_code
        == 403
    )
    assert client.post(f"/notifications/webhooks/{hook.pk}/edit/", {"name": "Renamed"}).status_code == 403
    assert client.post(f"/notifications/webhooks/{hook.pk}/test/").status_code == 403
    assert client.post(f"/notifications/webhooks/{hook.pk}/delete/").status_code == 403
    assert (
        list(Webhook.objects.values_list("name", flat=True)) == ["Teams"]
        and not Notification.objects.exists()
    )
    api = client.get("/api/webhooks/")
    assert api.status_code == 403


@pytest.mark.django_db
def test_an_admin_adds_edits_tests_and_deletes_a_webhook_whose_url_is_never_shown(client_for, admin_user):
    client = client_for(admin_user)
    url = f"https://hooks.slack.com/services/{SECRET}"
    created = client.post(
        "/notifications/webhooks/add/", {"name": "Slack", "url": url, "events": [APPROVED], "active": "on"}
    )
    assert created.status_code == 302
    hook = Webhook.objects.get()
    assert hook.url == url and hook.events == [APPROVED] and hook.created_by == admin_user
    for page in ("/notifications/webhooks/", f"/notifications/webhooks/{hook.pk}/edit/"):
        body = client.get(page).content.decode()
        assert "Slack" in body and SECRET not in body and "hooks.slack.com" not in body

    # An edit with the URL left blank keeps it; a new one replaces it.
    client.post(
        f"/notifications/webhooks/{hook.pk}/edit/",
        {"name": "Slack ops", "url": "", "events": [APPROVED, REJECTED], "active": "on"},
    )
    hook.refresh_from_db()
    assert (hook.name, hook.url, hook.events) == ("Slack ops", url, [APPROVED, REJECTED])
    client.post(
        f"/notifications/webhooks/{hook.pk}/edit/", {"name": "Slack ops", "url": "https://example.com/new"}
    )
    hook.refresh_from_db()
    assert hook.url == "https://example.com/new" and hook.active is False and hook.events == []
    audit = AuditEntry.objects.filter(action="webhook.save").order_by("id")
    assert [e.detail["changed"] for e in audit][1:] == [["events", "name"], ["active", "events", "url"]]
    assert not any(url in json.dumps(e.detail) or "example.com/new" in json.dumps(e.detail) for e in audit)

    tested = client.post(f"/notifications/webhooks/{hook.pk}/test/")
    assert tested.status_code == 302 and tested["Location"].endswith(f"?webhook_id={hook.pk}")
    [n] = Notification.objects.all()
    assert n.webhook == hook and n.status == DeliveryStatus.PENDING and n.data["test"] is True

    assert "Delete the webhook" in client.get(f"/notifications/webhooks/{hook.pk}/delete/").content.decode()
    assert client.post(f"/notifications/webhooks/{hook.pk}/delete/").status_code == 302
    assert not Webhook.objects.exists()


@pytest.mark.django_db
def test_a_new_webhook_needs_an_http_url(client_for, admin_user):
    client = client_for(admin_user)
    for bad in ("", "ftp://example.com/x", "javascript:alert(1)"):
        response = client.post("/notifications/webhooks/add/", {"name": "X", "url": bad})
        assert response.status_code == 200 and response.context["form"].errors["url"]
    assert not Webhook.objects.exists()


@pytest.fixture
def log(db):
    hook = Webhook.objects.create(name="Teams", url=f"https://example.com/{SECRET}", events=[SUBMITTED])
    user = person(STAKEHOLDER, "sam")
    common = {"event": SUBMITTED, "subject": "Wave W was submitted"}
    Notification.objects.create(
        webhook=hook,
        status=DeliveryStatus.FAILED,
        attempts=5,
        last_error="The webhook Teams answered HTTP 500",
        **common,
    )
    Notification.objects.create(user=user, status=DeliveryStatus.SENT, sent=timezone.now(), **common)
    return hook, user


def test_the_delivery_log_is_for_engineers_and_admins_filtered_in_the_url(
    client_for, engineer, admin_user, planner, stakeholder, log
):
    hook, user = log
    for who in (engineer, admin_user):
        page = client_for(who).get("/notifications/log/?status=failed")
        assert page.status_code == 200
        body = page.content.decode()
        assert "answered HTTP 500" in body and "email to sam" not in body and SECRET not in body
    emails = client_for(engineer).get("/notifications/log/?channel=email").content.decode()
    assert "email to sam" in emails and "answered HTTP 500" not in emails
    for who in (planner, stakeholder):
        assert client_for(who).get("/notifications/log/").status_code == 403
        assert client_for(who).get("/api/notifications/").status_code == 403


def test_the_delivery_log_query_count_does_not_grow(client_for, engineer, log):
    hook, user = log
    client = client_for(engineer)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/notifications/log/").status_code == 200
        return len(queries)

    few = count()
    Notification.objects.bulk_create(
        [
            Notification(event=APPROVED, subject=f"s{i}", **({"webhook": hook} if i % 2 else {"user": user}))
            for i in range(30)
        ]
    )
    assert count() == few


# --- API ---


def test_the_preferences_api_answers_for_the_caller_only(client_for, db):
    me = person(ENGINEER, "erik", events=[SUBMITTED])
    other = person(PLANNER, "paula", events=[APPROVED])
    api = client_for(me)
    assert api.get("/api/notification-preferences/").json() == [
        {"id": me.notification_preferences.get().pk, "event": SUBMITTED}
    ]
    created = api.post("/api/notification-preferences/", {"event": REJECTED}, content_type="application/json")
    assert created.status_code == 201 and created.json()["event"] == REJECTED
    again = api.post("/api/notification-preferences/", {"event": REJECTED}, content_type="application/json")
    assert again.status_code == 400
    assert (
        api.post(
            "/api/notification-preferences/", {"event": "nope"}, content_type="application/json"
        ).status_code
        == 400
    )
    theirs = other.notification_preferences.get()
    assert api.get(f"/api/notification-preferences/{theirs.pk}/").status_code == 404
    assert api.delete(f"/api/notification-preferences/{theirs.pk}/").status_code == 404
    assert other.notification_preferences.exists()
    mine = me.notification_preferences.get(event=SUBMITTED)
    assert api.delete(f"/api/notification-preferences/{mine.pk}/").status_code == 204
    assert list(me.notification_preferences.values_list("event", flat=True)) == [REJECTED]


def test_the_preferences_api_refuses_users_without_a_role(client_for, outsider):
    api = client_for(outsider)
    assert api.get("/api/notification-preferences/").status_code == 403
    assert (
        api.post(
            "/api/notification-preferences/", {"event": SUBMITTED}, content_type="application/json"
        ).status_code
        == 403
    )


def test_the_webhooks_api_takes_the_url_and_never_returns_it(client_for, admin_user):
    api = client_for(admin_user)
    url = f"https://hooks.slack.com/services/{SECRET}"
    created = api.post(
        "/api/webhooks/", {"name": "Slack", "url": url, "events": [APPROVED]}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert "url" not in data and data["events"] == [APPROVED] and data["active"] is True
    assert api.post("/api/webhooks/", {"name": "No URL"}, content_type="application/json").status_code == 400
    pk = data["id"]
    patched = api.patch(f"/api/webhooks/{pk}/", {"active": False}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert Webhook.objects.get(pk=pk).url == url  # kept
    listed = api.get("/api/webhooks/").content.decode()
    assert SECRET not in listed and "hooks.slack.com" not in listed
    assert api.post(f"/api/webhooks/{pk}/test/").status_code == 202
    notes = api.get(f"/api/notifications/?webhook_id={pk}").json()["results"]
    assert [(n["channel"], n["webhook"]["name"], n["status"]) for n in notes] == [
        ("webhook", "Slack", "pending")
    ]
    assert api.delete(f"/api/webhooks/{pk}/").status_code == 204 and not Webhook.objects.exists()


def test_engineers_read_the_delivery_log_through_the_api(client_for, engineer, log):
    api = client_for(engineer)
    failed = api.get("/api/notifications/?status=failed").json()["results"]
    assert [(n["channel"], n["attempts"]) for n in failed] == [("webhook", 5)]
    assert SECRET not in json.dumps(failed)
    assert api.get("/api/notifications/?channel=email").json()["results"][0]["user"] == "sam"
    assert api.delete(f"/api/notifications/{failed[0]['id']}/").status_code in (403, 405)
    assert Notification.objects.filter(pk=failed[0]["id"]).exists()
