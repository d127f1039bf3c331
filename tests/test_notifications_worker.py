"""Notifications through the real Celery worker: after commit the worker emails the people who opted
in and posts the JSON to webhooks, retries a receiver that fails, gives up on one that always fails
(without the URL in the error), and the sweep sends what a broker outage left behind."""

from pathlib import Path

import pytest
from kombu.exceptions import OperationalError

from core.choices import DeliveryStatus, NotificationEvent
from core.models import Notification, Webhook
from core.notifications import tasks
from core.roles import ENGINEER, PLANNER, STAKEHOLDER
from migrations_app.notifications import wave_event
from migrations_app.readiness.approval import do_approve, do_submit
from tests.peers.worker import wait_for
from tests.test_notifications import SECRET, Receiver, person
from tests.test_readiness_rules import add_vm, make_scene

pytestmark = pytest.mark.django_db(transaction=True)

SUBMITTED, APPROVED = NotificationEvent.WAVE_SUBMITTED, NotificationEvent.WAVE_APPROVED


@pytest.fixture(scope="module")
def mail_dir(celery_worker, tmp_path_factory):
    """The shared worker, restarted to write mail to files (the test's locmem outbox is in another
    process) and to retry after fractions of a second. Its settings are put back for its next start;
    until then the rest of the session only finds mail in files and quicker retries."""
    folder = tmp_path_factory.mktemp("mail")
    saved = dict(celery_worker.env)

    celery_worker.stop()
    # start() waits for " ready." in the log: begin a new one, keeping the old beside it.
    Path(celery_worker.log_path).rename(f"{celery_worker.log_path}.before-notifications")
    celery_worker.env = {
        **saved,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(folder),
        "NOTIFY_RETRY_SECONDS": "0.2",
        "NOTIFY_MAX_ATTEMPTS": "3",
        "NOTIFY_WEBHOOK_TIMEOUT": "5",
    }
    celery_worker.start()
    yield folder
    celery_worker.env = saved


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def settled(*notifications):
    """Wait until the worker has finished with these rows; return them fresh."""
    pks = [n.pk for n in notifications]
    wait_for(
        lambda: not Notification.objects.filter(pk__in=pks, status=DeliveryStatus.PENDING).exists(),
        timeout=60,
        message="the worker to send or give up on the notifications",
    )
    return list(Notification.objects.filter(pk__in=pks).order_by("pk"))


def mails(folder: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(folder.iterdir()))


def test_the_worker_emails_who_opted_in_and_posts_json_to_the_webhook(mail_dir, receiver):
    scene = make_scene()
    add_vm(scene, "web01")
    planner = person(PLANNER, "paula", events=[APPROVED])
    engineer = person(ENGINEER, "erik", events=[SUBMITTED])
    person(STAKEHOLDER, "sam")  # opted in to nothing
    Webhook.objects.create(name="Teams", url=receiver.url("/teams"), events=[APPROVED])

    do_submit(scene.wave, acting_user=planner)
    # SQLite: an approval (a transaction that reads, then writes) fails at once with "database is
    # locked" while the worker writes; wait for the worker, as a person would take a moment to approve.
    settled(*Notification.objects.all())
    do_approve(scene.wave, acting_user=engineer, change_ticket="CHG0099")

    done = settled(*Notification.objects.all())
    assert [(n.status, n.attempts) for n in done] == [(DeliveryStatus.SENT, 1)] * 3, [
        n.last_error for n in done
    ]
    sent = mails(mail_dir)
    assert "To: erik@example.com" in sent and f"Subject: Wave {scene.wave.name} was submitted" in sent
    assert "To: paula@example.com" in sent and "CHG0099" in sent
    assert "sam@example.com" not in sent
    [body] = receiver.bodies("/teams")
    assert body["event"] == "wave.approved" and body["data"]["change_ticket"] == "CHG0099"
    assert body["text"].startswith(f"Wave {scene.wave.name} was approved by erik")


def test_a_receiver_failing_twice_gets_the_message_on_the_third_attempt(mail_dir, receiver):
    receiver.plan["/flaky"] = [500, 500]
    Webhook.objects.create(name="Flaky", url=receiver.url("/flaky"), events=[APPROVED])
    scene = make_scene()
    [n] = wave_event(APPROVED, scene.wave, change_ticket="CHG1")  # autocommit: handed over at once
    [n] = settled(n)
    assert n.status == DeliveryStatus.SENT and n.attempts == 3 and n.last_error == ""
    assert len(receiver.bodies("/flaky")) == 3


def test_a_receiver_that_always_fails_ends_failed_without_the_url_in_the_error(mail_dir, receiver):
    path = f"/services/{SECRET}"
    receiver.plan[path] = [500] * 10
    Webhook.objects.create(name="Broken", url=receiver.url(path), events=[APPROVED])
    [n] = wave_event(APPROVED, make_scene().wave)
    [n] = settled(n)
    assert n.status == DeliveryStatus.FAILED and n.attempts == 3 and len(receiver.bodies(path)) == 3
    assert "HTTP 500" in n.last_error
    assert (
        SECRET not in n.last_error and "T0SECRET" not in n.last_error and receiver.url("") not in n.last_error
    )


def test_a_broker_outage_loses_nothing_the_sweep_sends_it(mail_dir, receiver, monkeypatch):
    scene = make_scene()
    add_vm(scene, "web01")
    planner = person(PLANNER, "paula")
    person(ENGINEER, "erik", events=[SUBMITTED])
    Webhook.objects.create(name="Teams", url=receiver.url("/teams"), events=[SUBMITTED])

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    with monkeypatch.context() as patched:
        patched.setattr(tasks.deliver, "apply_async", down)
        do_submit(scene.wave, acting_user=planner)  # the event still happens
    pending = list(Notification.objects.all())
    assert len(pending) == 2 and all(n.status == DeliveryStatus.PENDING and n.attempts == 0 for n in pending)

    tasks.sweep.delay()  # what Celery beat runs every NOTIFICATIONS["SWEEP_SECONDS"]
    done = settled(*pending)
    assert all(n.status == DeliveryStatus.SENT for n in done)
    assert len(receiver.bodies("/teams")) == 1 and "To: erik@example.com" in mails(mail_dir)
