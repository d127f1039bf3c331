"""HTTP for the HCX and AVS clients: one `requests.Session` per client, a timeout on every call,
retries with exponential backoff for safe calls only, and "look before you re-send" for creates.

A call is *safe* when repeating it cannot change anything: GET, and the POST queries that only
read (`.../list`, `.../query`, `?action=queryIpUsage`), which the clients mark with `safe=True`.
Safe calls are retried on connection errors, timeouts, 429 and 5xx. Any other call is sent once:
if its answer is lost (timeout, dropped connection, 5xx), `create()` first looks the object up by
name and re-sends only when it is not there, so a flaky network never makes two service meshes.
"""

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import requests

from core.outbound import OutboundRefused, check_url, guarded_session
from core.remote import quoted

from .errors import (
    AvsAuthError,
    AvsError,
    HcxAuthError,
    HcxCertificateUntrusted,
    HcxConflict,
    HcxError,
    HcxNotFound,
    HcxUnavailable,
    remote_message,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_STATUSES = {429, 500, 502, 503, 504}
DEFAULT_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds
# Refused and timed out read the same: telling them apart would map which ports are open.
UNREACHABLE = "could not be reached (refused, timed out or no route)"


class HcxErrors:
    """How HCX's error answers become typed exceptions."""

    unavailable = HcxUnavailable
    conflict = HcxConflict
    speaker = "HCX"

    def for_response(self, response: requests.Response, where: str, call: str) -> Exception:
        status, said = response.status_code, remote_message(response)
        detail = quoted("HCX", said)
        kwargs = {"status": status, "hcx_message": said, "url": response.url}
        if status == 401:
            return HcxAuthError(f"{where} refused the credentials for {call}{detail}", **kwargs)
        if status == 403:
            return HcxAuthError(f"{where} does not allow {call} for this user{detail}", **kwargs)
        if status == 404:
            return HcxNotFound(f"{where} has no such object for {call}{detail}", **kwargs)
        if status == 409 or (status == 400 and said and "already" in said.lower()):
            return HcxConflict(f"{where} refused {call}, it already exists{detail}", **kwargs)
        return HcxError(f"{where} refused {call} (HTTP {status}){detail}", **kwargs)

    def unavailable_error(self, message: str, outcome_unknown: bool, status=None, said=None) -> Exception:
        return HcxUnavailable(message, outcome_unknown=outcome_unknown, status=status, hcx_message=said)

    def untrusted(self, where: str, pem: str | None, url: str) -> Exception:
        return HcxCertificateUntrusted(
            f"{where} presented a TLS certificate this portal does not trust: trust it (or give the CA "
            "certificate) to go on",
            pem=pem,
            url=url,
        )


class AvsErrors:
    """How ARM's and Entra ID's error answers become typed exceptions."""

    unavailable = AvsError
    conflict = AvsError
    speaker = "Azure"

    def for_response(self, response: requests.Response, where: str, call: str) -> Exception:
        status, said = response.status_code, remote_message(response)
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        code = error.get("code") if isinstance(error, dict) else error if isinstance(error, str) else None
        detail = quoted("Azure", said)
        kwargs = {"status": status, "code": code, "azure_message": said, "url": response.url}
        if status in (400, 401) and code in ("invalid_client", "unauthorized_client", "invalid_request"):
            return AvsAuthError(
                f"{where} refused the service principal's client id or secret{detail}", **kwargs
            )
        if status in (401, 403):
            return AvsAuthError(
                f"{where} refused {call}: the service principal lacks access{detail}", **kwargs
            )
        return AvsError(f"{where} refused {call} (HTTP {status}){detail}", **kwargs)

    def unavailable_error(self, message: str, outcome_unknown: bool, status=None, said=None) -> Exception:
        return AvsError(message, status=status, azure_message=said)

    def untrusted(self, where: str, pem: str | None, url: str) -> Exception:
        return AvsError(f"{where} presented a TLS certificate this portal does not trust", url=url)


@dataclass(frozen=True)
class Retry:
    """How many times a safe call is repeated, and the first pause (doubled each time)."""

    attempts: int = 3
    backoff: float = 1.0


DEFAULT_RETRY = Retry()


class Transport:
    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        errors,
        verify: bool | str = True,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: Retry = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        auth=None,
    ):
        self.base_url = base_url.rstrip("/")
        self.where = f"{name} at {self.base_url}"
        self.errors = errors
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        # Passed on every call: requests lets REQUESTS_CA_BUNDLE override a Session's own `verify`.
        self.verify = verify
        self.session = guarded_session()  # refuses loopback, link-local and metadata addresses
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json"})

    def close(self):
        self.session.close()

    def _pause(self, attempt: int):
        self.sleep(self.retry.backoff * (2**attempt))

    def request(
        self,
        method: str,
        path: str,
        *,
        safe: bool,
        json=None,
        params=None,
        data=None,
        headers=None,
        url: str | None = None,
    ) -> requests.Response:
        """Send one call (repeated when `safe`) and return the 2xx answer, or raise a typed error."""
        target = url or f"{self.base_url}{path}"
        call = f"{method} {urlsplit(target).path}"
        attempts = 1 + (self.retry.attempts if safe else 0)
        problem, status, said, outcome_unknown = "", None, None, False
        for attempt in range(attempts):
            if attempt:
                self._pause(attempt - 1)
            logger.debug("%s %s (attempt %d/%d)", method, target, attempt + 1, attempts)
            try:
                response = self.session.request(
                    method,
                    target,
                    json=json,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                    verify=self.verify,
                )
            except OutboundRefused as exc:
                raise self.errors.unavailable_error(f"{self.where}: {exc}", False) from None
            except requests.exceptions.SSLError:
                raise self.errors.untrusted(self.where, server_certificate(target), target) from None
            except requests.exceptions.ConnectTimeout:
                problem, outcome_unknown = UNREACHABLE, False
                continue
            except requests.exceptions.Timeout:
                problem, outcome_unknown = f"did not answer within {self._read_timeout():g} s", True
                continue
            except requests.exceptions.ConnectionError as exc:
                refused = "NewConnectionError" in repr(exc)
                problem = UNREACHABLE if refused else "closed the connection without an answer"
                outcome_unknown = not refused
                continue
            if response.status_code in RETRY_STATUSES:
                status, said = response.status_code, remote_message(response)
                problem = f"answered HTTP {status}" + quoted(self.errors.speaker, said)
                outcome_unknown = True
                continue
            if response.status_code >= 400:
                raise self.errors.for_response(response, self.where, call)
            return response
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        raise self.errors.unavailable_error(
            f"{self.where} {problem} to {call}{tries}", outcome_unknown, status=status, said=said
        )

    def create(self, send: Callable[[], T], find: Callable[[], T | None], what: str) -> tuple[T, bool]:
        """Run a create that must not be duplicated: `send()` posts it, `find()` looks it up (by name,
        with safe calls). Returns (result, recovered); recovered means the object was found after its
        answer was lost, so the result is what `find()` returned."""
        try:
            return send(), False
        except self.errors.unavailable as exc:
            if not getattr(exc, "outcome_unknown", True):
                raise
            last = exc
        for attempt in range(self.retry.attempts):
            self._pause(attempt)
            existing = find()
            if existing is not None:
                logger.info(
                    "%s: the answer to creating %s was lost; found it, not sending again", self.where, what
                )
                return existing, True
            try:
                return send(), False
            except self.errors.conflict:
                # The first request got through after all, while we were looking.
                existing = find()
                if existing is None:
                    raise
                return existing, True
            except self.errors.unavailable as exc:
                if not getattr(exc, "outcome_unknown", True):
                    raise
                last = exc
        raise last

    def _connect_timeout(self) -> float:
        return self.timeout[0] if isinstance(self.timeout, tuple) else self.timeout

    def _read_timeout(self) -> float:
        return self.timeout[1] if isinstance(self.timeout, tuple) else self.timeout


def server_certificate(url: str) -> str | None:
    """The PEM a TLS server presents, fetched without verifying it, so the UI can show it and ask."""
    parts = urlsplit(url)
    try:
        check_url(url)
        return ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=10)
    except (OSError, ValueError, OutboundRefused):
        return None
