"""Outbound calls refuse loopback, link-local and cloud metadata addresses unless OUTBOUND_ALLOW names
them (core/outbound.py). The test settings allow loopback for the simulators; these tests switch the
allow-list off, as shipped, and point real clients at the real simulators."""

import socket

import pytest

from core.choices import DeliveryStatus
from core.jobs import JobError
from core.models import Notification, Webhook
from core.notifications import delivery
from core.outbound import OutboundRefused, check_address, check_url
from hcx.client.errors import HcxError
from hcx.client.service import HcxService
from hcx.client.transport import Retry
from inventory.discovery.discover import discover
from inventory.models import VCenter, VirtualMachine

SHIPPED = []  # OUTBOUND_ALLOW as shipped: nothing


@pytest.fixture
def shipped(settings):
    settings.OUTBOUND_ALLOW = SHIPPED
    return settings


@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("168.63.129.16", "cloud metadata"),
    ],
)
def test_it_refuses_loopback_link_local_and_metadata_addresses(shipped, address, reason):
    with pytest.raises(OutboundRefused, match=f"it is a {reason} address.*OUTBOUND_ALLOW"):
        check_address(address, address)


@pytest.mark.parametrize("address", ["10.0.0.5", "192.168.1.10", "172.16.4.4", "203.0.113.7", "fd12::5"])
def test_it_lets_private_and_public_addresses_through(shipped, address):
    check_address(address, address)  # vCenter and HCX live on private networks


def test_names_are_checked_on_what_they_resolve_to_and_metadata_names_by_name(shipped):
    with pytest.raises(OutboundRefused, match="localhost .*loopback"):
        check_url("https://localhost:8443/sdk")
    with pytest.raises(OutboundRefused, match="metadata.google.internal.*cloud metadata"):
        check_url("http://metadata.google.internal/computeMetadata/v1/")


def test_the_allow_list_takes_networks_and_names(settings):
    settings.OUTBOUND_ALLOW = ["127.0.0.0/8", "metadata.google.internal"]
    check_url("https://127.0.0.1:9/")
    check_url("http://metadata.google.internal/")
    with pytest.raises(OutboundRefused):
        check_url("https://[::1]:9/")


@pytest.mark.django_db
def test_a_vcenter_on_loopback_is_refused_with_a_clear_message(vcsim, shipped):
    sim = vcsim(dc=1, cluster=1, host=1, vm=1)
    vc = VCenter.objects.create(
        name="local", url=sim.url, username=sim.username, password=sim.password, verify_tls=False
    )
    with pytest.raises(
        JobError, match=r"does not call 127\.0\.0\.1: it is a loopback address.*OUTBOUND_ALLOW"
    ):
        discover(vc)
    assert not VirtualMachine.objects.filter(vcenter=vc).exists()


def test_hcx_on_loopback_is_refused_before_the_password_is_sent(hcxsim, shipped):
    hcx = HcxService(hcxsim.service_url, hcxsim.username, hcxsim.password, retry=Retry(attempts=0), timeout=5)
    with pytest.raises(HcxError, match=r"does not call 127\.0\.0\.1: it is a loopback address") as caught:
        hcx.login()
    assert hcxsim.password not in str(caught.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
        ("http://127.0.0.1:9/hook", "loopback"),
    ],
)
def test_a_webhook_to_an_internal_address_fails_with_a_clear_message(shipped, url, reason):
    shipped.NOTIFICATIONS = {**shipped.NOTIFICATIONS, "MAX_ATTEMPTS": 1}
    hook = Webhook.objects.create(name="Inside", url=url, events=["wave.approved"])
    n = Notification.objects.create(webhook=hook, event="wave.approved", subject="Wave W approved")
    delivery.deliver(n.pk)
    n.refresh_from_db()
    assert n.status == DeliveryStatus.FAILED and f"{reason} address" in n.last_error


def test_a_resolved_name_is_checked_at_each_call_not_once(shipped, monkeypatch):
    """DNS rebinding: a name that resolved to a public address when saved answers loopback later."""
    answers = iter(["203.0.113.7", "127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "vc.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    check_url("https://vc.example.test/sdk")
    with pytest.raises(OutboundRefused, match=r"vc\.example\.test \(127\.0\.0\.1\)"):
        check_url("https://vc.example.test/sdk")


def test_an_hcx_port_that_refuses_reads_as_unreachable_without_saying_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hcx = HcxService(f"https://127.0.0.1:{port}", "u", "p", retry=Retry(attempts=0), timeout=5)
    with pytest.raises(HcxError) as caught:
        hcx.login()
    assert str(caught.value) == (
        f"HCX at https://127.0.0.1:{port} could not be reached (refused, timed out or no "
        "route) to POST /hybridity/api/sessions"
    )
