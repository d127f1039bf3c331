"""Typed errors of the HCX and AVS clients.

Every message names the system and the address that answered, so an engineer reading it in a job
log knows where to look, and carries HCX's (or Azure's) own words when it sent any. Passwords,
tokens and keys are never put into a message: callers pass only user names and URLs.
"""

import json


class HcxError(Exception):
    """HCX answered with an error, or could not be used. `hcx_message` is HCX's own text (from
    `errors[0].text`, `errors[0].error` or `error`); `status` is the HTTP status when there was one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        hcx_message: str | None = None,
        url: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.hcx_message = hcx_message
        self.url = url

    def __str__(self):
        return self.message


class HcxAuthError(HcxError):
    """HCX refused the user name or password (or the appliance's admin password)."""


class HcxNotFound(HcxError):
    """The object (or the path) does not exist on this HCX."""


class HcxConflict(HcxError):
    """An object with that name (or for that network or site) already exists."""


class HcxUnavailable(HcxError):
    """HCX could not be reached, timed out or kept answering 5xx after the retry budget.

    `outcome_unknown` is set when the request may have reached HCX (a timeout, a dropped connection
    or a 5xx): a create that failed this way may have created its object."""

    def __init__(self, message: str, *, outcome_unknown: bool = False, **kwargs):
        super().__init__(message, **kwargs)
        self.outcome_unknown = outcome_unknown


class HcxCertificateUntrusted(HcxError):
    """A certificate has to be trusted before going on: the remote site's in a pairing, or the
    HCX Manager's own TLS certificate. `pem` holds it so the UI can show it and ask."""

    def __init__(self, message: str, *, pem: str | None, remote_url: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.pem = pem
        self.remote_url = remote_url


class HcxJobFailed(HcxError):
    """An HCX job, interconnect task or activation ended failed (or did not end in time)."""

    def __init__(self, message: str, *, job_id: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.job_id = job_id


class HcxActivationRefused(HcxError):
    """HCX refused the activation key (unknown, already consumed, or the Manager is activated)."""


class AvsError(Exception):
    """Azure Resource Manager answered with an error about the AVS private cloud, or could not be
    reached. `code` is ARM's `error.code` when it sent one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        azure_message: str | None = None,
        url: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.azure_message = azure_message
        self.url = url

    def __str__(self):
        return self.message


class AvsAuthError(AvsError):
    """Entra ID refused the service principal, or ARM refused its token."""


def remote_message(response) -> str | None:
    """The most useful text in an error answer: HCX's `errors[0].text`/`.error`, ARM's
    `error.message`, a token endpoint's `error_description`, or the start of a non-JSON body."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        text = (response.text or "").strip()
        return text[:300] or None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return first.get("text") or first.get("message") or first.get("error")
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("message") or error.get("code")
        if body.get("error_description"):
            return body["error_description"]
        if isinstance(error, str):
            return error
        if isinstance(body.get("message"), str):
            return body["message"]
    return None
