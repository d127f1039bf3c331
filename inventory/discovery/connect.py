"""Connecting to a vCenter with pyvmomi, from a URL as a user types it, with failures a user can act on."""

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from core.jobs import JobError

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


def connect(url: str, username: str, password: str, *, verify_tls: bool = True):
    """Log in and return the ServiceInstance. Every failure becomes a JobError that says what to do."""
    endpoint = parse_url(url)
    # pyvmomi skips certificate checks for localhost unless given a context, so always give one.
    context = ssl.create_default_context() if verify_tls else ssl._create_unverified_context()  # noqa: S323
    try:
        return SmartConnect(
            host=endpoint.host,
            port=endpoint.port,
            path=endpoint.path,
            user=username,
            pwd=password,
            sslContext=context,
            httpConnectionTimeout=timeout_seconds(),
        )
    except vim.fault.InvalidLogin:
        raise JobError(f"vCenter {endpoint} refused the user name or password of {username!r}") from None
    except ssl.SSLCertVerificationError as exc:
        raise JobError(
            f"The TLS certificate of {endpoint} is not trusted ({exc.verify_message}). "
            "If you trust this vCenter, use --insecure / untick verify TLS."
        ) from None
    except ssl.SSLError as exc:
        raise JobError(f"TLS connection to {endpoint} failed: {exc.reason or exc}") from None
    except socket.gaierror:
        raise JobError(f"Cannot reach vCenter {endpoint}: the host name {endpoint.host!r} is not known (DNS)") from None
    except TimeoutError:
        raise JobError(f"Cannot reach vCenter {endpoint}: no answer within {timeout_seconds():g} seconds") from None
    except ConnectionRefusedError:
        raise JobError(f"Cannot reach vCenter {endpoint}: connection refused (is the address and port right?)") from None
    except (OSError, http.client.HTTPException) as exc:
        raise JobError(f"Cannot reach vCenter {endpoint}: {exc}") from None
    except vmodl.MethodFault as exc:
        raise JobError(f"vCenter {endpoint} refused the login: {exc.msg or type(exc).__name__}") from None
    except Exception as exc:  # noqa: BLE001 - pyvmomi raises bare Exceptions for non-vSphere endpoints
        raise JobError(f"{endpoint} does not answer like a vCenter: {exc}") from None


def disconnect(si):
    try:
        Disconnect(si)
    except Exception:  # noqa: BLE001 - logging out of a vCenter that went away is not a failure
        pass
