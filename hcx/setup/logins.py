"""Never lock the HCX SSO account: the login guard every HCX client of the portal logs in through.

vSphere SSO locks an account after a few failed logins (HCX then answers 401 "Account locked due to
failed login attempts", hcx-wire.md section 1), and a locked account stops every migration of the
site. A wrong stored password must therefore not be tried by every reconciler cycle, job and page
view. The count of failed logins in a row lives on the site's HcxConnection row, shared by every
worker process: after a failure the next try waits (HCX_LOGIN["BACKOFF_SECONDS"], doubled each
time), and after HCX_LOGIN["MAX_FAILURES"] nothing logs in again until an engineer saves a new
password (or user) on the set-up page. A successful login clears the count.
"""

import hashlib
import threading
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from hcx.client import HcxAuthError
from hcx.models import HcxConnection

LOCKED = "locked"  # in HCX's 401 text for a locked account: no point trying again


def refused_text(connection: HcxConnection, failures: int, said: str) -> str:
    return (
        f"HCX refuses the stored password of {connection.username} ({failures} failed login"
        f"{'s' if failures != 1 else ''} in a row" + (f"; HCX said: {said}" if said else "") + "). "
        "The portal stopped logging in so that the SSO account is not locked: save the right password "
        "in the HCX connection on the plan's set-up page."
    )


class StoredPasswordGuard:
    """The `login_guard` of hcx.client.HcxService for one connection (see the module docstring)."""

    def __init__(self, connection: HcxConnection):
        self.connection = connection

    def _row(self) -> dict | None:
        return (
            HcxConnection.objects.filter(pk=self.connection.pk)
            .values("login_failures", "login_failed_at", "login_refusal")
            .first()
        )

    def allow(self):
        row = self._row() if self.connection.pk else None
        if not row or not row["login_failures"]:
            return
        failures, limit = row["login_failures"], settings.HCX_LOGIN["MAX_FAILURES"]
        if failures >= limit:
            raise HcxAuthError(
                refused_text(self.connection, failures, row["login_refusal"]),
                status=401,
                url=self.connection.connector_url,
            )
        pause = settings.HCX_LOGIN["BACKOFF_SECONDS"] * 2 ** (failures - 1)
        retry_at = (row["login_failed_at"] or timezone.now()) + timedelta(seconds=pause)
        if timezone.now() < retry_at:
            raise HcxAuthError(
                f"HCX refused the stored password of {self.connection.username} "
                f"{failures} time{'s' if failures != 1 else ''} in a row; the portal tries again after "
                f"{timezone.localtime(retry_at):%H:%M:%S} (HCX locks the SSO account after a few failed logins). "
                "If the password changed, save the new one on the plan's set-up page.",
                status=401,
                url=self.connection.connector_url,
            )

    def failed(self, exc: HcxAuthError):
        if not self.connection.pk:
            return
        said = (exc.hcx_message or "")[:300]
        failures = settings.HCX_LOGIN["MAX_FAILURES"] if LOCKED in said.lower() else F("login_failures") + 1
        HcxConnection.objects.filter(pk=self.connection.pk).update(
            login_failures=failures, login_failed_at=timezone.now(), login_refusal=said
        )

    def succeeded(self):
        if self.connection.pk:
            HcxConnection.objects.filter(pk=self.connection.pk, login_failures__gt=0).update(
                login_failures=0, login_failed_at=None, login_refusal=""
            )


class SharedSession:
    """The `session_store` of hcx.client.HcxService: one HCX session per connection (URL, user and
    password) in this worker process, so that the reconciler, launch jobs and the engineer's actions
    do not each log in. A new password is a new key: it is logged in with, and so checked, at once."""

    _sessions: dict = {}
    _lock = threading.Lock()

    def __init__(self, connection: HcxConnection):
        secret = hashlib.sha256((connection.password or "").encode()).hexdigest()
        self.key = (
            (connection.pk, connection.connector_url, connection.username, secret) if connection.pk else None
        )

    def get(self):
        with self._lock:
            return self._sessions.get(self.key) if self.key else None

    def put(self, token: str, info):
        if self.key:
            with self._lock:
                self._sessions[self.key] = (token, info)

    def forget(self):
        with self._lock:
            self._sessions.pop(self.key, None)


def forget_failures(connection: HcxConnection):
    """A new password or user was saved: it gets tried again."""
    connection.login_failures, connection.login_failed_at, connection.login_refusal = 0, None, ""


def login_problem(plan) -> str:
    """What the set-up and launch pages say when HCX refused the stored password ('' when it did not)."""
    connection = (
        HcxConnection.objects.filter(plan=plan).only("username", "login_failures", "login_refusal").first()
    )
    if connection is None or not connection.login_failures:
        return ""
    if connection.login_refused:
        return refused_text(connection, connection.login_failures, connection.login_refusal)
    return (
        f"HCX refuses the stored password of {connection.username} ({connection.login_failures} failed "
        f"login{'s' if connection.login_failures != 1 else ''} in a row"
        + (f"; HCX said: {connection.login_refusal}" if connection.login_refusal else "")
        + "). The portal waits between tries so that the SSO account is not locked: if the password "
        "changed, save the new one in the HCX connection on the plan's set-up page."
    )
