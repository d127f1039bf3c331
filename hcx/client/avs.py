"""The AVS side through Azure Resource Manager (hcx-wire.md §7): the private cloud and its
endpoints, the HCX add-on, HCX enterprise sites (whose `activationKey` activates a Connector) and
the cloudadmin credentials.

Why plain `requests` and not `azure-mgmt-avs` (which exists and covers these calls): we need a base
URL for ARM *and* for the Entra ID token endpoint so that the HCX simulator can answer both in tests
and in the demo, no azure-identity dependency, and the same timeouts, retries and typed errors as
the HCX clients. The calls are few and their shapes are read from that SDK's models.

A portal user who pastes an activation key by hand needs no Azure access at all: this client is
only used when a service principal is configured.
"""

import logging
from dataclasses import dataclass, field

from .errors import AvsAuthError, AvsError
from .transport import DEFAULT_RETRY, DEFAULT_TIMEOUT, AvsErrors, Retry, Transport

logger = logging.getLogger(__name__)
ARM_URL = "https://management.azure.com"
LOGIN_URL = "https://login.microsoftonline.com"
ARM_SCOPE = "https://management.azure.com/.default"
# Microsoft's own AVS automation (ESA) calls ARM with this version; the SDK's newer default also works.
API_VERSION = "2023-09-01"
HCX_ADDON = "hcx"
HCX_ENTERPRISE_OFFER = "VMware MaaS Cloud Provider (Enterprise)"


@dataclass(frozen=True)
class PrivateCloud:
    name: str
    id: str
    location: str | None
    provisioning_state: str | None
    endpoints: dict  # hcxCloudManager, vcsa, nsxtManager (+ their IPs)

    @property
    def hcx_cloud_manager(self) -> str | None:
        return self.endpoints.get("hcxCloudManager")


@dataclass(frozen=True)
class ActivationKey:
    """An HCX enterprise site: its name, the key, and Available / Consumed / Deactivated / Deleted."""

    name: str
    status: str | None
    key: str = field(repr=False)


@dataclass(frozen=True)
class AdminCredentials:
    vcenter_username: str
    nsxt_username: str
    vcenter_password: str = field(repr=False)
    nsxt_password: str = field(repr=False)


class AvsClient:
    """ARM calls about one AVS private cloud, with a service principal (client credentials)."""

    def __init__(
        self,
        *,
        subscription_id: str,
        resource_group: str,
        private_cloud: str,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        arm_url: str = ARM_URL,
        login_url: str = LOGIN_URL,
        api_version: str = API_VERSION,
        scope: str = ARM_SCOPE,
        verify: bool | str = True,
        timeout=DEFAULT_TIMEOUT,
        retry: Retry = DEFAULT_RETRY,
    ):
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = f"{login_url.rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
        self.scope = scope
        self.api_version = api_version
        self.cloud_path = (
            f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.AVS/privateClouds/{private_cloud}"
        )
        kwargs = {"errors": AvsErrors(), "verify": verify, "timeout": timeout, "retry": retry}
        self.transport = Transport(arm_url, name="Azure Resource Manager", **kwargs)
        self.login = Transport(login_url, name="Entra ID sign-in", **kwargs)
        self._token = None

    def __repr__(self):
        return f"<AvsClient {self.cloud_path} as {self.client_id}>"

    def close(self):
        self.transport.close()
        self.login.close()

    def _authenticate(self):
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "scope": self.scope,
        }
        try:
            # Asking for a token changes nothing, so it may be repeated.
            answer = self.login.request("POST", "", url=self.token_url, safe=True, data=form).json()
        except AvsAuthError as exc:
            raise AvsAuthError(
                f"Entra ID at {self.token_url} refused client id {self.client_id} or its secret"
                + (f": {exc.azure_message}" if exc.azure_message else ""),
                status=exc.status,
                code=exc.code,
                azure_message=exc.azure_message,
                url=self.token_url,
            ) from None
        self._token = answer.get("access_token")
        if not self._token:
            raise AvsAuthError(
                f"Entra ID at {self.token_url} answered without an access token", url=self.token_url
            )
        self.transport.session.headers["Authorization"] = f"Bearer {self._token}"

    def _call(self, method: str, path: str = "", *, safe: bool, json=None):
        if not self._token:
            self._authenticate()
        url_path = f"{self.cloud_path}{path}"
        params = {"api-version": self.api_version}
        try:
            response = self.transport.request(method, url_path, safe=safe, json=json, params=params)
        except AvsAuthError as exc:
            if exc.status != 401:
                raise
            self._authenticate()  # the token expired: one more time with a fresh one
            response = self.transport.request(method, url_path, safe=safe, json=json, params=params)
        return response.json() if response.content else {}

    # --- calls ----------------------------------------------------------------------------------

    def private_cloud(self) -> PrivateCloud:
        body = self._call("GET", safe=True)
        props = body.get("properties") or {}
        return PrivateCloud(
            name=body.get("name"),
            id=body.get("id"),
            location=body.get("location"),
            provisioning_state=props.get("provisioningState"),
            endpoints=props.get("endpoints") or {},
        )

    def admin_credentials(self) -> AdminCredentials:
        """`POST .../listAdminCredentials` (reads only, so it may be repeated)."""
        body = self._call("POST", "/listAdminCredentials", safe=True)
        return AdminCredentials(
            vcenter_username=body.get("vcenterUsername"),
            nsxt_username=body.get("nsxtUsername"),
            vcenter_password=body.get("vcenterPassword"),
            nsxt_password=body.get("nsxtPassword"),
        )

    def hcx_addon(self) -> dict | None:
        """The HCX add-on (`properties.provisioningState`, `offer`), or None when it is not installed."""
        try:
            return self._call("GET", f"/addons/{HCX_ADDON}", safe=True)
        except AvsError as exc:
            if exc.status == 404:
                return None
            raise

    def install_hcx_addon(self, offer: str = HCX_ENTERPRISE_OFFER) -> dict:
        """PUT the HCX add-on (long-running in ARM: poll `hcx_addon()` until Succeeded). A PUT of the
        same resource is idempotent, so it may be repeated."""
        return self._call(
            "PUT",
            f"/addons/{HCX_ADDON}",
            safe=True,
            json={"properties": {"addonType": "HCX", "offer": offer}},
        )

    def activation_keys(self) -> list[ActivationKey]:
        """`GET .../hcxEnterpriseSites`."""
        return [_key(site) for site in self._call("GET", "/hcxEnterpriseSites", safe=True).get("value") or []]

    def activation_key(self, name: str) -> ActivationKey:
        return _key(self._call("GET", f"/hcxEnterpriseSites/{name}", safe=True))

    def create_activation_key(self, name: str) -> ActivationKey:
        """PUT an HCX enterprise site (synchronous): one key per on-premises Connector. Repeating
        the PUT returns the same site, so it is safe to retry."""
        return _key(self._call("PUT", f"/hcxEnterpriseSites/{name}", safe=True, json={}))


def _key(site: dict) -> ActivationKey:
    props = site.get("properties") or {}
    return ActivationKey(name=site.get("name"), status=props.get("status"), key=props.get("activationKey"))
