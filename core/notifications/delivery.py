"""Sending one outbox row, in a worker: claim it, send it, record the outcome.

- **Once**: a row is claimed by a conditional UPDATE (pending and due -> due later, one more
  attempt); of two workers that pick the same row, one wins and the other does nothing. A worker
  killed mid-send leaves the row pending, due again when the claim runs out (CLAIM_SECONDS).
- **Retried**: a failure leaves the row pending with `next_attempt` pushed back (doubling), until
  MAX_ATTEMPTS: then FAILED with the last error.
- **Secret URLs**: a webhook URL never reaches `last_error` or a log line; see `scrub()`.
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from core.choices import DeliveryStatus
from core.models import Notification
from core.outbound import OutboundRefused, guarded_session

logger = logging.getLogger(__name__)

ERROR_MAX = Notification._meta.get_field("last_error").max_length
HIDDEN = "[webhook URL]"
SECRET_PART = 6  # path segments and query values at least this long are treated as secret


def conf() -> dict:
    return settings.NOTIFICATIONS


class DeliveryError(Exception):
    """A send that did not go; the message is safe to store and show."""


@dataclass
class Outcome:
    status: str
    retry_in: float | None = None  # seconds until the next attempt, when one is due


def claim(pk: int) -> Notification | None:
    now = timezone.now()
    taken = Notification.objects.filter(pk=pk, status=DeliveryStatus.PENDING, next_attempt__lte=now).update(
        next_attempt=now + timedelta(seconds=conf()["CLAIM_SECONDS"]), attempts=F("attempts") + 1
    )
    if not taken:
        return None
    return Notification.objects.select_related("user", "webhook").get(pk=pk)


def deliver(pk: int) -> Outcome | None:
    """Send row `pk` if it is pending and due; None when there was nothing to do (sent, failed,
    not yet due, or taken by another worker)."""
    notification = claim(pk)
    if notification is None:
        return None
    try:
        if notification.webhook_id:
            post_webhook(notification)
        else:
            send_email(notification)
    except DeliveryError as exc:
        return _failed(notification, str(exc))
    except Exception as exc:  # anything else a mail server or the network throws
        secret = notification.webhook.url if notification.webhook_id else ""
        return _failed(notification, scrub(f"{type(exc).__name__}: {exc}", secret))
    Notification.objects.filter(pk=pk).update(status=DeliveryStatus.SENT, sent=timezone.now(), last_error="")
    return Outcome(DeliveryStatus.SENT)


def _failed(notification: Notification, error: str) -> Outcome:
    error = error[:ERROR_MAX]
    attempts = notification.attempts
    if attempts >= conf()["MAX_ATTEMPTS"]:
        Notification.objects.filter(pk=notification.pk).update(status=DeliveryStatus.FAILED, last_error=error)
        logger.warning("notification %s failed after %d attempts: %s", notification.pk, attempts, error)
        return Outcome(DeliveryStatus.FAILED)
    wait = min(conf()["RETRY_SECONDS"] * 2 ** (attempts - 1), conf()["RETRY_MAX_SECONDS"])
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt=timezone.now() + timedelta(seconds=wait), last_error=error
    )
    logger.info(
        "notification %s attempt %d failed, retry in %.1fs: %s", notification.pk, attempts, wait, error
    )
    return Outcome(DeliveryStatus.PENDING, retry_in=wait)


# --- Email ---


def send_email(notification: Notification) -> None:
    address = notification.user.email if notification.user_id else ""
    if not address:
        raise DeliveryError(f"{notification.user} has no email address in their profile.")
    send_mail(
        notification.subject, notification.body or notification.subject, None, [address], fail_silently=False
    )


# --- Webhooks ---


def payload(notification: Notification) -> dict:
    """`text` is what Teams and Slack incoming webhooks show; the rest is for other receivers."""
    text = notification.subject if not notification.body else f"{notification.subject}\n{notification.body}"
    return {
        "text": text,
        "event": notification.event,
        "subject": notification.subject,
        "data": notification.data,
    }


def post_webhook(notification: Notification) -> None:
    webhook = notification.webhook
    if not webhook.active:
        raise DeliveryError(f"The webhook {webhook.name} is switched off.")
    url = webhook.url
    try:
        with guarded_session() as session:
            response = session.post(
                url,
                json=payload(notification),
                timeout=conf()["WEBHOOK_TIMEOUT"],
                verify=conf()["WEBHOOK_CA_BUNDLE"] or True,
                allow_redirects=False,  # a redirect is an answer, not a delivery
            )
    except OutboundRefused as exc:
        raise DeliveryError(scrub(f"The webhook {webhook.name}: {exc}", url)) from None
    except requests.RequestException as exc:
        # One message for refused, timed out, no route and TLS failures: which one it was would tell
        # whoever reads the delivery log which ports are open on the webhook's host.
        logger.info("Webhook %s: %s", webhook.pk, scrub(f"{type(exc).__name__}: {exc}", url))
        raise DeliveryError(
            f"Could not reach the webhook {webhook.name}: no answer (refused, timed out, "
            "no route or TLS failed)"
        ) from None
    if not 200 <= response.status_code < 300:
        # The answer's body stays in the server log: the delivery log is read by more people than
        # the admin who set the webhook up, and a body can say anything.
        answer = " ".join(response.text.split())[:200]
        logger.info("Webhook %s answered HTTP %s: %s", webhook.pk, response.status_code, scrub(answer, url))
        raise DeliveryError(f"The webhook {webhook.name} answered HTTP {response.status_code}")


def secret_parts(url: str) -> list[str]:
    """The pieces of `url` that could give it away: the whole URL, its host, its path and query,
    and every long path segment or query value (Slack and Teams keep their tokens there)."""
    if not url:
        return []
    parts = urlsplit(url)
    pieces = {url, parts.netloc, parts.hostname or "", parts.path, parts.query}
    pieces |= {s for s in parts.path.split("/") if len(s) >= SECRET_PART}
    pieces |= {v for _, v in parse_qsl(parts.query) if len(v) >= SECRET_PART}
    pieces |= {unquote(p) for p in pieces}
    return sorted((p for p in pieces if len(p) >= 3 and p != "/"), key=len, reverse=True)


def scrub(message: str, url: str) -> str:
    for piece in secret_parts(url):
        message = re.sub(re.escape(piece), HIDDEN, message, flags=re.IGNORECASE)
    return message
