"""Which addresses the portal may call out to: one check used by every outbound connection.

An engineer types the URLs of vCenter, HCX and webhooks; without this check the portal would call
whatever they name, its own loopback services and the cloud's metadata endpoint (which hands out the
machine's credentials) included. Loopback, link-local and the metadata addresses are refused unless
`OUTBOUND_ALLOW` names them. The check runs on the addresses a name resolves to at the moment of each
call, not when a URL is saved, so a name that later resolves elsewhere (DNS rebinding) is caught too;
requests made through `guarded_session()` check the address each socket actually connected to.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

BLOCKED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this host": connects to loopback on Linux
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, with AWS/Azure/GCP/OpenStack metadata at 169.254.169.254
        "168.63.129.16/32",  # Azure's host endpoint (WireServer)
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "::/128",
        "::1/128",
        "fe80::/10",
        "fd00:ec2::254/128",  # AWS metadata over IPv6
    )
]
BLOCKED_NAMES = {"metadata.google.internal", "metadata.goog", "metadata", "instance-data"}


class OutboundRefused(Exception):
    """The portal will not call this address; the message says why and how to allow it."""


def allowed() -> tuple[set[str], list]:
    """`OUTBOUND_ALLOW`, split into host names and networks."""
    names, networks = set(), []
    for item in getattr(settings, "OUTBOUND_ALLOW", []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.add(item.lower().rstrip("."))
    return names, networks


METADATA = {
    ipaddress.ip_address(a) for a in ("169.254.169.254", "168.63.129.16", "100.100.100.200", "fd00:ec2::254")
}


def _reason(address) -> str | None:
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not any(address in network for network in BLOCKED_NETWORKS):
        return None
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    return "a loopback address"


def check_address(host: str, address: str) -> None:
    """Refuse `address` (an IP that `host` resolved or connected to) unless it is allowed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    names, networks = allowed()
    if host.lower().rstrip(".") in names or any(ip in network for network in networks):
        return
    reason = _reason(ip)
    if reason:
        shown = host if host == address else f"{host} ({address})"
        raise OutboundRefused(
            f"The portal does not call {shown}: it is {reason}. "
            "An administrator can allow it with the OUTBOUND_ALLOW setting."
        )


def check_host(host: str) -> None:
    """Refuse `host` when its name is a metadata name or any address it resolves to is refused.
    A name that does not resolve passes: the call itself then fails with the usual message."""
    if not host:
        return
    bare = host.strip("[]").lower().rstrip(".")
    names, _ = allowed()
    if bare in names:
        return
    if bare in BLOCKED_NAMES:
        raise OutboundRefused(
            f"The portal does not call {host}: it is a cloud metadata address. "
            "An administrator can allow it with the OUTBOUND_ALLOW setting."
        )
    try:
        infos = socket.getaddrinfo(bare, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return
    for *_, sockaddr in infos:
        check_address(bare, sockaddr[0])


def check_url(url: str) -> None:
    """`check_host` for the host of `url`."""
    check_host(urlsplit(url if "://" in url else f"https://{url}").hostname or "")


def _check_peer(conn):
    peer = conn.sock.getpeername()[0] if conn.sock is not None else None
    if peer is not None:
        try:
            check_address(conn.host, peer)
        except OutboundRefused:
            conn.close()
            raise


class _GuardedHTTPConnection(HTTPConnection):
    def connect(self):
        super().connect()
        _check_peer(self)


class _GuardedHTTPSConnection(HTTPSConnection):
    def connect(self):
        super().connect()
        _check_peer(self)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """Checks the host before each request and the address each new socket connected to."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def send(self, request, *args, **kwargs):
        check_url(request.url)
        return super().send(request, *args, **kwargs)


def guarded_session() -> requests.Session:
    """A `requests.Session` that refuses the addresses above (raising `OutboundRefused`)."""
    session = requests.Session()
    adapter = GuardedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
