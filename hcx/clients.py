"""The HCX and AVS clients of a site, built from its stored (encrypted) connection, for every part of
the portal that talks to HCX: the set-up steps (hcx/setup/steps.Context), the launch and the
reconciler (migrations_app/launch/site.py), the AVS inventory. TLS is verified unless the connection
says not, against the connection's extra CA certificates when it has some; timeouts and retries are
HCX_SETUP's; every HCX login goes through the connection's login guard (hcx/setup/logins.py).
"""

import hashlib

from django.conf import settings

from core.jobs import JobError

from .client import AvsClient, HcxAppliance, HcxService, Retry, Waiter
from .models import HcxConnection, HcxPlan
from .setup.logins import SharedSession, StoredPasswordGuard


def connection_of(site: HcxPlan) -> HcxConnection:
    """The site's connection, or an empty one (every `require` then names what is missing)."""
    return getattr(site, "connection", None) or HcxConnection(plan=site)


def require(site: HcxPlan, connection: HcxConnection, *fields: str):
    """Stop with a clear message naming the connection fields that are empty."""
    missing = [HcxConnection._meta.get_field(f).verbose_name for f in fields if not getattr(connection, f)]
    if missing:
        raise JobError(
            f"The HCX connection of {site} is missing: {', '.join(str(m) for m in missing)}. "
            "Fill it in on the plan's set-up page."
        )


def verify(connection: HcxConnection) -> bool | str:
    if not connection.verify_tls:
        return False
    if connection.ca_certificates.strip():
        return ca_bundle(connection.ca_certificates)
    return True


def ca_bundle(pem: str) -> str:
    """requests verifies against a file: write the PEM once per content under VAR_DIR."""
    folder = settings.VAR_DIR / "ca"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(pem.encode()).hexdigest()[:16]}.pem"
    if not path.exists():
        path.write_text(pem)
    return str(path)


def retry() -> Retry:
    return Retry(attempts=settings.HCX_SETUP["RETRY_ATTEMPTS"], backoff=settings.HCX_SETUP["RETRY_BACKOFF"])


def timeout() -> float:
    return settings.HCX_SETUP["HTTP_TIMEOUT"]


def default_waiter() -> Waiter:
    return Waiter(interval=settings.HCX_SETUP["POLL_SECONDS"])


def hcx_service(
    site: HcxPlan,
    connection: HcxConnection | None = None,
    *,
    waiter: Waiter | None = None,
    startup_wait: float = 0,
) -> HcxService:
    """A client for the site's HCX Connector (the caller closes it). JobError when the connection
    lacks what it needs. `startup_wait`: how long to wait for an HCX that is still starting (a
    set-up job waits; the reconciler tries again next cycle)."""
    c = connection or connection_of(site)
    require(site, c, "connector_url", "username", "password")
    return HcxService(
        c.connector_url,
        c.username,
        c.password,
        verify=verify(c),
        timeout=timeout(),
        retry=retry(),
        waiter=waiter or default_waiter(),
        login_guard=StoredPasswordGuard(c),
        session_store=SharedSession(c),
        startup_wait=startup_wait,
        startup_interval=settings.HCX_SETUP["STARTUP_RETRY_SECONDS"],
    )


def hcx_appliance(
    site: HcxPlan, connection: HcxConnection | None = None, *, waiter: Waiter | None = None
) -> HcxAppliance:
    """A client for the Connector's appliance management (port 9443)."""
    c = connection or connection_of(site)
    require(site, c, "connector_url", "admin_password")
    return HcxAppliance(
        c.effective_appliance_url,
        c.admin_password,
        verify=verify(c),
        timeout=timeout(),
        retry=retry(),
        waiter=waiter or default_waiter(),
    )


def avs_client(site: HcxPlan, connection: HcxConnection | None = None) -> AvsClient:
    """A client for the site's AVS private cloud in Azure Resource Manager."""
    c = connection or connection_of(site)
    require(
        site,
        c,
        "avs_subscription_id",
        "avs_resource_group",
        "avs_private_cloud",
        "avs_tenant_id",
        "avs_client_id",
        "avs_client_secret",
    )
    urls = {k: v for k, v in (("arm_url", c.arm_url), ("login_url", c.login_url)) if v}
    return AvsClient(
        subscription_id=c.avs_subscription_id,
        resource_group=c.avs_resource_group,
        private_cloud=c.avs_private_cloud,
        tenant_id=c.avs_tenant_id,
        client_id=c.avs_client_id,
        client_secret=c.avs_client_secret,
        timeout=timeout(),
        retry=retry(),
        **urls,
    )
