"""Connecting to a vCenter with pyvmomi, from a URL as a user types it, with failures a user can act on."""

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from core.jobs import JobError
from core.outbound import OutboundRefused, check_host

TIMEOUT_SECONDS = 30


def timeout_seconds() -> float:
    """How long to wait for any one answer of vCenter, at login and while reading."""
    return float(getattr(settings, "VCENTER_TIMEOUT_SECONDS", TIMEOUT_SECONDS))


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    path: str

    def __str__(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}{self.path}"


def parse_url(url: str) -> Endpoint:
    """`vcenter.example.com`, `https://vcenter.example.com`, `host:8443`, `https://host:port/sdk`."""
    text = (url or "").strip()
    if not text:
        raise JobError("No vCenter URL given")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() != "https":
        raise JobError(f"vCenter URL {url!r}: only https is supported, not {parts.scheme}")
    try:
        port = parts.port or 443
    except ValueError:
        raise JobError(f"vCenter URL {url!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise JobError(f"vCenter URL {url!r}: no host name")
    path = parts.path.rstrip("/") or "/sdk"
    return Endpoint(host=parts.hostname, port=port, path=path)


class _DeadlineContext(ssl.SSLContext):
    """Gives every socket it wraps a timeout before the TLS handshake. pyvmomi opens its first
    connection (the API version probe) without any timeout: a port that accepts but never completes
    TLS would hold the worker for ever."""

    deadline: float = TIMEOUT_SECONDS

    def wrap_socket(self, sock, *args, **kwargs):
        if sock.gettimeout() is None:
            sock.settimeout(self.deadline)
        return super().wrap_socket(sock, *args, **kwargs)


def tls_context(verify_tls: bool) -> ssl.SSLContext:
    context = _DeadlineContext(ssl.PROTOCOL_TLS_CLIENT)
    context.deadline = timeout_seconds()
    if verify_tls:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def unreachable(endpoint: Endpoint) -> JobError:
    """One message for refused, timed out, no route and a failed TLS handshake: telling them apart
    would let whoever types a URL map which ports are open on the portal's network."""
    return JobError(
        f"Could not reach vCenter {endpoint}: no vCenter answered there (refused, timed out, no route "
        f"or TLS failed within {timeout_seconds():g} seconds). Check the address and port."
    )


def connect(url: str, username: str, password: str, *, verify_tls: bool = True):
    """Log in and return the ServiceInstance. Every failure becomes a JobError that says what to do."""
    endpoint = parse_url(url)
    try:
        check_host(endpoint.host)
        # The first socket pyvmomi opens has no connect timeout of its own: open one with ours first.
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout_seconds()):
            pass
        # pyvmomi skips certificate checks for localhost unless given a context, so always give one.
        return SmartConnect(
            host=endpoint.host,
            port=endpoint.port,
            path=endpoint.path,
            user=username,
            pwd=password,
            sslContext=tls_context(verify_tls),
            httpConnectionTimeout=timeout_seconds(),
        )
    except OutboundRefused as exc:
        raise JobError(str(exc)) from None
    except vim.fault.InvalidLogin:
        raise JobError(f"vCenter {endpoint} refused the user name or password of {username!r}") from None
    except ssl.SSLCertVerificationError as exc:
        raise JobError(
            f"The TLS certificate of {endpoint} is not trusted ({exc.verify_message}). "
            "If you trust this vCenter, use --insecure / untick verify TLS."
        ) from None
    except socket.gaierror:
        raise JobError(
            f"Cannot reach vCenter {endpoint}: the host name {endpoint.host!r} is not known (DNS)"
        ) from None
    except (OSError, http.client.HTTPException):
        raise unreachable(endpoint) from None
    except vmodl.MethodFault as exc:
        raise JobError(f"vCenter {endpoint} refused the login: {exc.msg or type(exc).__name__}") from None
    except SoftTimeLimitExceeded:
        raise  # the job's time is up: not a vCenter that cannot be reached
    except Exception:  # noqa: BLE001 - pyvmomi raises bare Exceptions for non-vSphere endpoints
        raise unreachable(endpoint) from None


def disconnect(si):
    try:
        Disconnect(si)
    except Exception:  # noqa: BLE001 - logging out of a vCenter that went away is not a failure
        pass
