"""The HCX appliance management API (`https://<hcx>:9443/api/admin/...`, HTTP Basic as `admin`,
hcx-api.md sections 1.1, 1.3 and 2.3): activation, vCenter and SSO registration, certificates,
location, role mappings and the app-engine component, used to set up a freshly deployed Connector.
"""

import base64
import logging

from . import polling
from .errors import HcxActivationRefused, HcxAuthError, HcxError, HcxJobFailed, HcxNotFound, HcxUnavailable
from .polling import PollTimeout, Waiter
from .transport import DEFAULT_RETRY, DEFAULT_TIMEOUT, HcxErrors, Retry, Transport

logger = logging.getLogger(__name__)
HCX_CONNECT_URL = "https://connect.hcx.vmware.com"
ADMIN = "/api/admin"
CONFIG = f"{ADMIN}/global/config"


def config_body(**config) -> dict:
    """The `{"data":{"items":[{"config":{...}}]}}` wrapper every global-config POST takes."""
    return {"data": {"items": [{"config": config}]}}


def configs(body) -> list[dict]:
    return [item.get("config") or {} for item in ((body or {}).get("data") or {}).get("items") or []]


class HcxAppliance:
    """A client for one HCX Manager's appliance API (the 9443 port)."""

    def __init__(self, url: str, password: str, *, username: str = "admin", verify: bool | str = True,
                 timeout=DEFAULT_TIMEOUT, retry: Retry = DEFAULT_RETRY, waiter: Waiter = polling.REAL_TIME):
        self.url = url.rstrip("/")
        self.waiter = waiter
        self.transport = Transport(self.url, name="HCX appliance management", errors=HcxErrors(), verify=verify,
                                   timeout=timeout, retry=retry,
                                   auth=(username, password))
        self.username = username

    def __repr__(self):
        return f"<HcxAppliance {self.url} as {self.username}>"

    def close(self):
        self.transport.close()

    def _call(self, method, path, *, safe=False, json=None, params=None):
        try:
            response = self.transport.request(method, path, safe=safe, json=json, params=params)
        except HcxAuthError as exc:
            if exc.status != 401:
                raise
            raise HcxAuthError(f"HCX appliance management at {self.url} refused the user name or password "
                               f"for {self.username}", status=401, hcx_message=exc.hcx_message, url=self.url) from None
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise HcxError(f"HCX appliance management at {self.url} answered {method} {path} with something "
                           "that is not JSON", status=response.status_code, url=self.url) from None

    # --- up, components -----------------------------------------------------------------------

    def component_status(self, name: str = "appengine") -> str:
        """`GET /components/{name}/status` -> "RUNNING" or "STOPPED"."""
        return self._call("GET", f"/components/{name}/status", safe=True).get("result", "")

    def set_component(self, name: str, running: bool) -> str:
        return self._call("POST", f"/components/{name}", params={"action": "start" if running else "stop"}).get("result", "")

    def wait_until_up(self, timeout: float) -> None:
        """Until the appliance API answers and the app engine runs (after power-on, or a restart)."""
        def check():
            try:
                return True if self.component_status("appengine") == "RUNNING" else None
            except HcxUnavailable:
                return None

        try:
            polling.poll(check, timeout=timeout, what="the appliance to come up", waiter=self.waiter)
        except PollTimeout:
            raise HcxUnavailable(f"HCX appliance management at {self.url} was not up with a running app engine "
                                 f"after {timeout:g} s") from None

    # --- activation -----------------------------------------------------------------------------

    def activation(self) -> dict | None:
        """The current licence (`GET /api/admin/licenses`), or the older global config, or None."""
        try:
            licenses = self._call("GET", f"{ADMIN}/licenses", safe=True).get("licenses") or []
            return licenses[0] if licenses else None
        except HcxNotFound:
            found = configs(self._call("GET", f"{CONFIG}/hcx", safe=True))
            return found[0] if found else None

    def activate(self, key: str, *, url: str = HCX_CONNECT_URL, timeout: float = 600) -> dict:
        """Activate with an AVS key. Current builds: `POST /api/admin/licenses/activation`, then poll
        `/api/admin/licenses/status/{jobId}`; older builds answer 404 there and take
        `POST /api/admin/global/config/hcx` instead. A refused key raises HcxActivationRefused."""
        try:
            started = self._activate_current(key, url)
        except HcxNotFound:
            return self._activate_legacy(key, url)
        if started.get("recovered"):
            return started["license"]
        job_id = started.get("jobId")
        if not job_id:
            raise HcxError(f"HCX appliance management at {self.url} accepted the activation but sent no job id",
                           url=self.url)

        def check():
            status = self._call("GET", f"{ADMIN}/licenses/status/{job_id}", safe=True)
            if status.get("status") == "FAILED":
                said = status.get("message") or "no reason given"
                raise HcxActivationRefused(f"HCX at {self.url} refused the activation key: {said}",
                                           hcx_message=said, url=self.url)
            return status if status.get("status") == "COMPLETED" else None

        try:
            polling.poll(check, timeout=timeout, what=f"activation job {job_id}", waiter=self.waiter)
        except PollTimeout as exc:
            raise HcxJobFailed(f"HCX at {self.url}: {exc}", job_id=job_id, url=self.url) from None
        return self.activation() or {}

    def _activate_current(self, key: str, url: str) -> dict:
        def send():
            return self._call("POST", f"{ADMIN}/licenses/activation", json={"url": url, "licenseKey": key})

        def find():
            current = self.activation()
            return {"recovered": True, "license": current} if current and current.get("licenseKey") == key else None

        return self.transport.create(send, find, "the activation")[0]

    def _activate_legacy(self, key: str, url: str) -> dict:
        def send():
            try:
                return configs(self._call("POST", f"{CONFIG}/hcx", json=config_body(url=url, activationKey=key)))[0]
            except HcxError as exc:
                if exc.status != 400 or isinstance(exc, HcxUnavailable):
                    raise
                raise HcxActivationRefused(f"HCX at {self.url} refused the activation key: {exc.hcx_message}",
                                           status=400, hcx_message=exc.hcx_message, url=self.url) from None

        def find():
            current = self.activation()
            return current if current and current.get("activationKey") == key else None

        return self.transport.create(send, find, "the activation")[0]

    # --- vCenter, certificates, SSO --------------------------------------------------------------

    def vcenters(self) -> list[dict]:
        return configs(self._call("GET", f"{CONFIG}/vcenter", safe=True))

    def register_vcenter(self, url: str, username: str, password: str) -> dict:
        """`POST /api/admin/global/config/vcenter`; the password travels base64-encoded, as HCX wants."""
        encoded = base64.b64encode(password.encode()).decode()

        def send():
            return configs(self._call("POST", f"{CONFIG}/vcenter",
                                      json=config_body(url=url, userName=username, password=encoded)))[0]

        def find():
            return next((vc for vc in self.vcenters() if vc.get("url", "").rstrip("/") == url.rstrip("/")), None)

        return self.transport.create(send, find, f"vCenter {url}")[0]

    def delete_vcenter(self, uuid: str) -> None:
        self._call("DELETE", f"{CONFIG}/vcenter/{uuid}")

    def import_certificate(self, pem: str) -> None:
        """`POST /api/admin/certificates`: trust a certificate (e.g. vCenter's) before registering it."""
        self._call("POST", f"{ADMIN}/certificates", json={"certificate": pem})

    def lookup_service(self) -> dict | None:
        found = configs(self._call("GET", f"{CONFIG}/lookupservice", safe=True))
        return found[0] if found else None

    def set_lookup_service(self, lookup_service_url: str, provider_type: str = "PSC") -> dict:
        """Register the SSO lookup service, or update the registered one (same UUID)."""
        current = self.lookup_service()
        body = config_body(lookupServiceUrl=lookup_service_url, providerType=provider_type)
        path = f"{CONFIG}/lookupservice" + (f"/{current['UUID']}" if current and current.get("UUID") else "")
        # Setting the same URL twice changes nothing, so a lost answer may be sent again.
        return configs(self._call("POST", path, json=body))[0]

    # --- location, role mappings ------------------------------------------------------------------

    def search_cities(self, text: str) -> list[dict]:
        return self._call("GET", f"{CONFIG}/searchCities", safe=True, params={"searchString": text}).get("items") or []

    def set_location(self, city: dict) -> None:
        """`PUT /api/admin/global/config/location` with an item of `search_cities()`."""
        body = {"city": city["city"], "country": city["country"], "cityAscii": city.get("cityAscii", city["city"]),
                "province": city.get("province", ""), "latitude": city["latitude"], "longitude": city["longitude"]}
        self._call("PUT", f"{CONFIG}/location", json=body)

    def location(self) -> dict:
        return self._call("GET", f"{CONFIG}/location", safe=True)

    def role_mappings(self) -> list[dict]:
        return self._call("GET", f"{CONFIG}/roleMappings", safe=True) or []

    def set_role_mappings(self, mappings: dict[str, list[str]]) -> None:
        """`{"System Administrator": ["DOMAIN\\\\group"], ...}` -> `PUT .../roleMappings` (an array)."""
        body = [{"role": role, "userGroups": list(groups)} for role, groups in mappings.items()]
        answer = self._call("PUT", f"{CONFIG}/roleMappings", json=body)
        if isinstance(answer, dict) and answer.get("isSuccess") is False:
            raise HcxError(f"HCX appliance management at {self.url} refused the role mappings: {answer.get('message')}",
                           hcx_message=answer.get("message"), url=self.url)
