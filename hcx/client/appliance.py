"""The HCX appliance management API (`https://<hcx>:9443/api/admin/...`, HTTP Basic as `admin`,
docs/hcx-wire.md section 2): activation, vCenter and SSO registration, certificates, location,
role mappings and the app-engine component, used to set up a freshly deployed Connector.
"""

import base64
import contextlib
import logging
from dataclasses import dataclass

from . import polling
from .errors import (
    HcxActivationRefused,
    HcxAuthError,
    HcxCertificateUntrusted,
    HcxError,
    HcxJobFailed,
    HcxNotFound,
    HcxUnavailable,
)
from .polling import PollTimeout, Waiter
from .transport import DEFAULT_RETRY, DEFAULT_TIMEOUT, HcxErrors, Retry, Transport, server_certificate

logger = logging.getLogger(__name__)
HCX_CONNECT_URL = "https://connect.hcx.vmware.com"
ADMIN = "/api/admin"
CONFIG = f"{ADMIN}/global/config"
LOOKUP_SERVICE_PATH = "/lookupservice/sdk"  # hcx-wire.md section 2: the documented lookupServiceUrl form
ROLES = ("System Administrator", "Enterprise Administrator")
EVALUATION, VCF, KEY, NONE = "evaluation", "vcf", "key", "none"
LICENCE_LABELS = {
    EVALUATION: "Evaluation mode",
    VCF: "a VCF licence from vCenter",
    KEY: "an activation key",
    NONE: "no licence",
}


def find_certificate(body, depth: int = 0) -> str | None:
    """The PEM an answer carries, wherever it is: `data[0].certificate` (field notes),
    `errors[0].data[0].certificate` (the 443 envelope) or any other `certificate` field (hcx-wire.md §2)."""
    if depth > 6:
        return None
    if isinstance(body, dict):
        for key, value in body.items():
            if (
                key.lower() in ("certificate", "pem", "cert")
                and isinstance(value, str)
                and "BEGIN CERTIFICATE" in value
            ):
                return value
        values = body.values()
    elif isinstance(body, list):
        values = body
    else:
        return None
    for value in values:
        found = find_certificate(value, depth + 1)
        if found:
            return found
    return None


class ApplianceErrors(HcxErrors):
    """As HcxErrors, plus: a refusal because HCX does not trust a server's certificate (registering a
    vCenter or lookup service) becomes HcxCertificateUntrusted with the certificate HCX sent."""

    def for_response(self, response, where: str, call: str) -> Exception:
        exc = super().for_response(response, where, call)
        if not 400 <= response.status_code < 500 or response.status_code in (401, 404):
            return exc
        try:
            pem = find_certificate(response.json())
        except ValueError:
            pem = None
        said = (exc.hcx_message or "").lower()
        if pem or "untrusted" in said or ("ssl" in said and "trust" in said):
            return HcxCertificateUntrusted(
                f"{where} does not trust the certificate of the server it was given "
                f"({exc.hcx_message or 'no reason given'})",
                pem=pem,
                status=response.status_code,
                hcx_message=exc.hcx_message,
                url=response.url,
            )
        return exc


@dataclass(frozen=True)
class Licence:
    """What `GET /api/admin/licenses` shows: activated with a key, in Evaluation mode, on a VCF licence
    taken from vCenter, or nothing (hcx-wire.md section 2). `item` is the licence HCX listed."""

    kind: str
    item: dict | None = None

    @property
    def label(self) -> str:
        return LICENCE_LABELS[self.kind]

    @property
    def activated_with_key(self) -> bool:
        return self.kind == KEY


def licence_kind(item: dict) -> str:
    """[U] The list's item shape is not documented: names seen are EVALUATION_MODE and VCF, so any
    field saying so classifies it; any other licence is an activation key's (as Microsoft's scripts
    take every listed licence to be), with or without the key in it."""
    words = " ".join(str(v) for v in item.values() if isinstance(v, str | int | bool)).upper()
    if "EVAL" in words:
        return EVALUATION
    if "VCF" in words or str(item.get("source", "")).lower() == "vcenter":
        return VCF
    return KEY


def lookup_service_url(vcenter_url: str) -> str:
    """`https://<vc>/lookupservice/sdk` for the vCenter's own SSO (hcx-wire.md section 2)."""
    return vcenter_url.rstrip("/") + LOOKUP_SERVICE_PATH


def config_body(**config) -> dict:
    """The `{"data":{"items":[{"config":{...}}]}}` wrapper every global-config POST takes."""
    return {"data": {"items": [{"config": config}]}}


def configs(body) -> list[dict]:
    return [item.get("config") or {} for item in ((body or {}).get("data") or {}).get("items") or []]


class HcxAppliance:
    """A client for one HCX Manager's appliance API (the 9443 port)."""

    def __init__(
        self,
        url: str,
        password: str,
        *,
        username: str = "admin",
        verify: bool | str = True,
        timeout=DEFAULT_TIMEOUT,
        retry: Retry = DEFAULT_RETRY,
        waiter: Waiter = polling.REAL_TIME,
    ):
        self.url = url.rstrip("/")
        self.waiter = waiter
        self.transport = Transport(
            self.url,
            name="HCX appliance management",
            errors=ApplianceErrors(),
            verify=verify,
            timeout=timeout,
            retry=retry,
            auth=(username, password),
        )
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
            raise HcxAuthError(
                f"HCX appliance management at {self.url} refused the user name or password "
                f"for {self.username}",
                status=401,
                hcx_message=exc.hcx_message,
                url=self.url,
            ) from None
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise HcxError(
                f"HCX appliance management at {self.url} answered {method} {path} with something "
                "that is not JSON",
                status=response.status_code,
                url=self.url,
            ) from None

    # --- up, components -----------------------------------------------------------------------

    def component_status(self, name: str = "appengine") -> str:
        """`GET /components/{name}/status` -> "RUNNING" or "STOPPED"."""
        return self._call("GET", f"/components/{name}/status", safe=True).get("result", "")

    def set_component(self, name: str, running: bool) -> str:
        return self._call(
            "POST", f"/components/{name}", params={"action": "start" if running else "stop"}
        ).get("result", "")

    def wait_for_component(self, name: str, wanted: str, timeout: float) -> None:
        def check():
            try:
                return True if self.component_status(name) == wanted else None
            except HcxUnavailable:
                return None

        try:
            polling.poll(check, timeout=timeout, what=f"the {name} to be {wanted}", waiter=self.waiter)
        except PollTimeout:
            raise HcxUnavailable(
                f"HCX appliance management at {self.url}: the {name} was not {wanted} after {timeout:g} s"
            ) from None

    def restart_app_engine(self, *, timeout: float, settle: float) -> None:
        """Stop the app engine, wait for STOPPED, start it, wait for RUNNING, then let it settle
        (Terraform waits 60 s: HCX reads a new vCenter or SSO only after this; hcx-wire.md section 2)."""
        self.set_component("appengine", running=False)
        self.wait_for_component("appengine", "STOPPED", timeout)
        self.set_component("appengine", running=True)
        self.wait_for_component("appengine", "RUNNING", timeout)
        if settle > 0:
            self.waiter.sleep(settle)

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
            raise HcxUnavailable(
                f"HCX appliance management at {self.url} was not up with a running app engine "
                f"after {timeout:g} s"
            ) from None

    # --- activation -----------------------------------------------------------------------------

    def licences(self) -> list[dict]:
        """Every licence HCX lists (`GET /api/admin/licenses`), or the older global config's activation."""
        try:
            listed = self._call("GET", f"{ADMIN}/licenses", safe=True)
        except HcxNotFound:
            return [c for c in configs(self._call("GET", f"{CONFIG}/hcx", safe=True)) if c]
        found = listed.get("licenses") if isinstance(listed, dict) else listed
        return [item for item in found or [] if isinstance(item, dict)]

    def licence(self) -> Licence:
        """How the Connector is licensed: a key's licence wins over Evaluation mode or VCF, which HCX
        4.9+ lists before any key is entered (hcx-wire.md section 2)."""
        kinds = [(licence_kind(item), item) for item in self.licences()]
        for wanted in (KEY, VCF, EVALUATION):
            found = next((item for kind, item in kinds if kind == wanted), None)
            if found is not None:
                return Licence(wanted, found)
        return Licence(NONE, kinds[0][1] if kinds else None)

    def activation(self) -> dict | None:
        """The licence of the activation key, or None (Evaluation mode or VCF are not an activation)."""
        current = self.licence()
        return current.item if current.activated_with_key else None

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
            raise HcxError(
                f"HCX appliance management at {self.url} accepted the activation but sent no job id",
                url=self.url,
            )

        def check():
            status = self._call("GET", f"{ADMIN}/licenses/status/{job_id}", safe=True)
            if status.get("status") == "FAILED":
                said = status.get("message") or "no reason given"
                raise HcxActivationRefused(
                    f"HCX at {self.url} refused the activation key: {said}", hcx_message=said, url=self.url
                )
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
            return (
                {"recovered": True, "license": current}
                if current and current.get("licenseKey") == key
                else None
            )

        return self.transport.create(send, find, "the activation")[0]

    def _activate_legacy(self, key: str, url: str) -> dict:
        def send():
            try:
                return configs(
                    self._call("POST", f"{CONFIG}/hcx", json=config_body(url=url, activationKey=key))
                )[0]
            except HcxError as exc:
                if exc.status != 400 or isinstance(exc, HcxUnavailable):
                    raise
                raise HcxActivationRefused(
                    f"HCX at {self.url} refused the activation key: {exc.hcx_message}",
                    status=400,
                    hcx_message=exc.hcx_message,
                    url=self.url,
                ) from None

        def find():
            current = self.activation()
            return current if current and current.get("activationKey") == key else None

        return self.transport.create(send, find, "the activation")[0]

    # --- vCenter, certificates, SSO --------------------------------------------------------------

    def vcenters(self) -> list[dict]:
        return configs(self._call("GET", f"{CONFIG}/vcenter", safe=True))

    def register_vcenter(self, url: str, username: str, password: str) -> dict:
        """`POST /api/admin/global/config/vcenter`; the password travels base64-encoded, as HCX wants.
        HcxCertificateUntrusted (with the PEM) when HCX does not trust the vCenter's certificate:
        `import_certificate()` it, then call again."""
        encoded = base64.b64encode(password.encode()).decode()

        def send():
            return configs(
                self._call(
                    "POST",
                    f"{CONFIG}/vcenter",
                    json=config_body(url=url, userName=username, password=encoded),
                )
            )[0]

        def find():
            return next(
                (vc for vc in self.vcenters() if vc.get("url", "").rstrip("/") == url.rstrip("/")), None
            )

        with self._untrusted_names(url, "vCenter"):
            return self.transport.create(send, find, f"vCenter {url}")[0]

    @contextlib.contextmanager
    def _untrusted_names(self, server_url: str, what: str):
        """Turn HCX's "untrusted" refusal into an HcxCertificateUntrusted naming the server, with its
        certificate: the one HCX sent, else the one the server presents (as Microsoft's scripts fetch it)."""
        try:
            yield
        except HcxCertificateUntrusted as exc:
            if exc.remote_url:
                raise
            raise HcxCertificateUntrusted(
                f"HCX appliance management at {self.url} does not trust the certificate of {what} {server_url}"
                + (f" ({exc.hcx_message})" if exc.hcx_message else ""),
                pem=exc.pem or server_certificate(server_url),
                remote_url=server_url,
                status=exc.status,
                hcx_message=exc.hcx_message,
                url=self.url,
            ) from None

    def delete_vcenter(self, uuid: str) -> None:
        self._call("DELETE", f"{CONFIG}/vcenter/{uuid}")

    def import_certificate(self, pem: str) -> None:
        """`POST /api/admin/certificates`: trust a certificate (e.g. vCenter's) before registering it."""
        self._call("POST", f"{ADMIN}/certificates", json={"certificate": pem})

    def lookup_service(self) -> dict | None:
        found = configs(self._call("GET", f"{CONFIG}/lookupservice", safe=True))
        return found[0] if found else None

    def set_lookup_service(self, lookup_service_url: str, provider_type: str = "PSC") -> dict:
        """Register the SSO lookup service, or update the registered one (same UUID).
        HcxCertificateUntrusted as `register_vcenter()`."""
        current = self.lookup_service()
        body = config_body(lookupServiceUrl=lookup_service_url, providerType=provider_type)
        path = f"{CONFIG}/lookupservice" + (f"/{current['UUID']}" if current and current.get("UUID") else "")
        # Setting the same URL twice changes nothing, so a lost answer may be sent again.
        with self._untrusted_names(lookup_service_url, "the SSO lookup service"):
            return configs(self._call("POST", path, json=body))[0]

    # --- location, role mappings ------------------------------------------------------------------

    def search_cities(self, text: str) -> list[dict]:
        return (
            self._call("GET", f"{CONFIG}/searchCities", safe=True, params={"searchString": text}).get("items")
            or []
        )

    def set_location(self, city: dict) -> None:
        """`PUT /api/admin/global/config/location` with an item of `search_cities()`."""
        body = {
            "city": city["city"],
            "country": city["country"],
            "cityAscii": city.get("cityAscii", city["city"]),
            "province": city.get("province", ""),
            "latitude": city["latitude"],
            "longitude": city["longitude"],
        }
        self._call("PUT", f"{CONFIG}/location", json=body)

    def location(self) -> dict:
        return self._call("GET", f"{CONFIG}/location", safe=True)

    def role_mappings(self) -> list[dict]:
        found = self._call("GET", f"{CONFIG}/roleMappings", safe=True) or []
        if isinstance(found, dict):  # tolerate the global-config wrapper as well as the documented array
            found = found.get("items") or configs(found)
        return [m for m in found if isinstance(m, dict)]

    def mapped_groups(self) -> dict[str, list[str]]:
        """{role: [groups]} for the roles that have at least one group."""
        return {
            m.get("role"): list(m.get("userGroups") or [])
            for m in self.role_mappings()
            if m.get("userGroups")
        }

    def set_role_mappings(self, mappings: dict[str, list[str]]) -> None:
        """`{"System Administrator": ["DOMAIN\\\\group"], ...}` -> `PUT .../roleMappings` (an array)."""
        body = [{"role": role, "userGroups": list(groups)} for role, groups in mappings.items()]
        answer = self._call("PUT", f"{CONFIG}/roleMappings", json=body)
        if isinstance(answer, dict) and answer.get("isSuccess") is False:
            raise HcxError(
                f"HCX appliance management at {self.url} refused the role mappings: {answer.get('message')}",
                hcx_message=answer.get("message"),
                url=self.url,
            )
