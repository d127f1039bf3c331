"""The HCX service API ("hybridity", `https://<hcx>/hybridity/api`, hcx-wire.md §1, §3, §4, §5).

`HcxService` logs in with a vSphere SSO user, keeps the `x-hm-authorization` token, logs in again
once when HCX says the session is gone (401), and offers one method per call the portal makes:
site pairing (with the certificate prompt), inventory lookups, network and compute profiles,
service meshes, appliances, network extensions, and following jobs and interconnect tasks.
Creates return `Started`; `wait()` follows it to the end. Migrations and mobility groups come from
`MigrationsMixin` (migrations.py).
"""

import logging
from dataclasses import dataclass, field

from . import polling
from .errors import HcxAuthError, HcxCertificateUntrusted, HcxError, HcxJobFailed, HcxNotFound, HcxUnavailable
from .migrations import HcxErrorsWithBody, MigrationsMixin
from .polling import PollTimeout, Waiter
from .transport import DEFAULT_RETRY, DEFAULT_TIMEOUT, Retry, Transport

logger = logging.getLogger(__name__)
API = "/hybridity/api"
NETWORK_PROFILE_CREATE = "/admin/hybridity/api/networks"  # really under /admin/ (hcx-wire.md §5, §13.2)
# The states real HCX shows (hcx-wire.md §5): a working service mesh is COMMITTED, a usable compute
# profile VALID. Anything else is read tolerantly: a state ending in FAILED (UPDATE_FAILED) is a failure.
MESH_WORKING, PROFILE_VALID = "COMMITTED", "VALID"
# What a login answers while HCX starts (after a boot, or the app-engine restart that follows a
# vCenter/SSO registration): hcx-wire.md section 1.
STARTING_TEXT = "Trusted root certificates"
TASK_SUCCESS, TASK_FAILED = "SUCCESS", "FAILED"
# Network extension appliances: TF asks for HCX-NET-EXT; what EDGE meshes (HCX 9.x) call theirs is not
# known, so any type naming NET-EXT or L2C is taken (hcx-wire.md §5).
NE_APPLIANCE = "HCX-NET-EXT"
NE_TYPE_MARKS = ("NET-EXT", "L2C")


def failed_state(state) -> bool:
    return isinstance(state, str) and state.upper().endswith("FAILED")


def last_task_id(obj: dict) -> str | None:
    """The task a mesh's `lastTaskDetails` names, if it names one. Only the id is used: its status can
    still say RUNNING long after the task ended (hcx-wire.md §5)."""
    details = obj.get("lastTaskDetails") or {}
    return details.get("interconnectTaskId") or details.get("taskId") or None


def is_extension_appliance(appliance: dict) -> bool:
    kind = (appliance.get("applianceType") or "").upper()
    return any(mark in kind for mark in NE_TYPE_MARKS)


@dataclass(frozen=True)
class Started:
    """An asynchronous operation HCX accepted. `object_id` is what it concerns (a network profile,
    compute profile or mesh id) when HCX said; follow it with `job_id` or `task_id`. `recovered`: the
    answer to the create was lost and the object was found by name, so there is nothing to follow."""

    object_id: str | None = None
    job_id: str | None = None
    task_id: str | None = None
    recovered: bool = False


@dataclass(frozen=True)
class Job:
    """`GET /hybridity/api/jobs/{id}`."""

    id: str
    done: bool
    failed: bool
    percent: int
    message: str | None
    data: dict = field(default_factory=dict)

    @classmethod
    def from_api(cls, body: dict) -> "Job":
        return cls(
            id=body.get("jobId"),
            done=bool(body.get("isDone")),
            failed=bool(body.get("didFail")),
            percent=int(body.get("percentComplete") or 0),
            message=body.get("errorMessage") or body.get("message"),
            data=body.get("jobData") or {},
        )


@dataclass(frozen=True)
class Task:
    """`GET /hybridity/api/interconnect/tasks/{id}`: QUEUED, RUNNING, SUCCESS or FAILED."""

    id: str
    status: str
    progress: int
    message: str | None
    error: str | None

    @property
    def done(self) -> bool:
        return self.status in (TASK_SUCCESS, TASK_FAILED)

    @classmethod
    def from_api(cls, body: dict) -> "Task":
        return cls(
            id=body.get("interconnectTaskId"),
            status=body.get("status", ""),
            progress=int(body.get("progress") or 0),
            message=body.get("message"),
            error=body.get("errorMessage"),
        )


@dataclass(frozen=True)
class SessionInfo:
    username: str
    endpoint_id: str | None
    endpoint_name: str | None


INVENTORY_KINDS = ("virtualmachines", "containers", "datastores", "storageProfiles")
INVENTORY_PAGE = 1000
# entityType of inventory containers, whichever way HCX spells it (hcx-wire.md §4, inventory_type_names).
CONTAINER_KINDS = {
    "datacenter": "Datacenter",
    "clustercomputeresource": "ClusterComputeResource",
    "cluster": "ClusterComputeResource",
    "computeresource": "ClusterComputeResource",
    "resourcepool": "ResourcePool",
    "folder": "Folder",
}


@dataclass(frozen=True)
class InventoryItem:
    """One item of `service/inventory/*`: its id (`entity_id`, AYA; `id`, ADL), name, entityType as
    HCX sent it, `kind` (the vSphere type name of a container, else the entityType) and the site it
    belongs to (`_origin.endpointId`; None when the item does not say)."""

    id: str
    name: str
    entity_type: str
    kind: str
    endpoint_id: str | None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, body: dict) -> "InventoryItem":
        origin = body.get("_origin") if isinstance(body.get("_origin"), dict) else {}
        endpoint = body.get("endpoint") if isinstance(body.get("endpoint"), dict) else {}
        entity_type = str(body.get("entityType") or body.get("entity_type") or body.get("type") or "")
        item_id = body.get("entity_id") or body.get("id") or body.get("entityId") or ""
        return cls(
            id=str(item_id),
            name=str(body.get("name") or body.get("displayName") or item_id),
            entity_type=entity_type,
            kind=CONTAINER_KINDS.get(entity_type.lower(), entity_type),
            endpoint_id=origin.get("endpointId") or endpoint.get("endpointId") or body.get("endpointId"),
            raw=body,
        )

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "entityType": self.entity_type, "kind": self.kind}


def items(body) -> list:
    """List calls answer `data.items`, top-level `items`, or a bare array (hcx-wire.md §1, §5)."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            return data["items"]
        if isinstance(body.get("items"), list):
            return body["items"]
    return []


def same_url(a: str, b: str) -> bool:
    return (a or "").strip().lower().rstrip("/") == (b or "").strip().lower().rstrip("/")


class HcxService(MigrationsMixin):
    """A client for one HCX Manager's service API. Not thread-safe: one per job or request."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        verify: bool | str = True,
        timeout=DEFAULT_TIMEOUT,
        retry: Retry = DEFAULT_RETRY,
        waiter: Waiter = polling.REAL_TIME,
        login_guard=None,
        session_store=None,
        startup_wait: float = 0.0,
        startup_interval: float = 10.0,
    ):
        """`login_guard` (optional) is asked before each login and told how it went, so that a
        stored password HCX refuses is not tried again and again until the SSO account locks:
        `allow()` raises HcxAuthError to refuse, `failed(HcxAuthError)`, `succeeded()`.
        `session_store` (optional) shares the session between clients of the same user: `get()` ->
        (token, SessionInfo) or None, `put(token, SessionInfo)`, `forget()`; a shared token HCX no
        longer knows costs one 401 and a login.
        `startup_wait`: how long a login keeps retrying, every `startup_interval` seconds, while HCX
        answers that it is still starting (0: fail at once with HcxUnavailable)."""
        self.url = url.rstrip("/")
        self.username = username
        self._password = password
        self.waiter = waiter
        self.login_guard = login_guard
        self.startup_wait = startup_wait
        self.startup_interval = startup_interval
        self.transport = Transport(
            self.url, name="HCX", errors=HcxErrorsWithBody(), verify=verify, timeout=timeout, retry=retry
        )
        self.transport.session.headers["Content-Type"] = "application/json"
        self.session_info: SessionInfo | None = None
        self.session_store = session_store
        saved = session_store.get() if session_store is not None else None
        if saved:
            token, self.session_info = saved
            self.transport.session.headers["x-hm-authorization"] = token

    def __repr__(self):
        return f"<HcxService {self.url} as {self.username}>"

    def close(self):
        self.transport.close()

    # --- session ----------------------------------------------------------------------------

    def login(self) -> SessionInfo:
        """`POST /hybridity/api/sessions`; the token comes back in the `x-hm-authorization` header
        (hcx-wire.md section 1). A refused password is reported to the login guard; HCX's "still
        starting" answer is not a refusal, and is waited out for `startup_wait` seconds."""
        self.transport.session.headers.pop("x-hm-authorization", None)
        if self.session_store is not None:
            self.session_store.forget()  # absent, or just refused by HCX
        if self.login_guard is not None:
            self.login_guard.allow()
        deadline = None
        while True:
            try:
                # Safe to repeat: a login creates nothing but a session, and HCX answers 5xx while it starts.
                response = self.transport.request(
                    "POST",
                    f"{API}/sessions",
                    safe=True,
                    json={"username": self.username, "password": self._password},
                )
                break
            except HcxError as exc:
                if STARTING_TEXT.lower() not in (exc.hcx_message or "").lower():
                    self._refused(exc)
                    raise
                now = self.waiter.clock()
                deadline = now + self.startup_wait if deadline is None else deadline
                if now >= deadline:
                    waited = f" after {self.startup_wait:g} s" if self.startup_wait else ""
                    raise HcxUnavailable(
                        f"HCX at {self.url} is still starting{waited} (it answers the login with "
                        f"'{STARTING_TEXT}' value should not be empty): try again in a few "
                        "minutes",
                        status=exc.status,
                        hcx_message=exc.hcx_message,
                        url=self.url,
                    ) from None
                logger.info(
                    "HCX at %s is still starting (%s); logging in again in %g s",
                    self.url,
                    STARTING_TEXT,
                    self.startup_interval,
                )
                self.waiter.sleep(min(self.startup_interval, deadline - now))
        if self.login_guard is not None:
            self.login_guard.succeeded()
        token = response.headers.get("x-hm-authorization")
        if not token:
            raise HcxError(
                f"HCX at {self.url} accepted the login of {self.username} but sent no "
                "x-hm-authorization token",
                status=response.status_code,
                url=self.url,
            )
        self.transport.session.headers["x-hm-authorization"] = token
        data = (self._json(response).get("data") or {}) if response.content else {}
        endpoint = data.get("endpointInfo") or {}
        self.session_info = SessionInfo(self.username, endpoint.get("uuid"), endpoint.get("name"))
        if self.session_store is not None:
            self.session_store.put(token, self.session_info)
        return self.session_info

    def _refused(self, exc: HcxError):
        """A login HCX refused: a 401 is a failed login the guard counts (SSO locks accounts after a
        few, hcx-wire.md section 1); raised as HcxAuthError naming the user."""
        if not isinstance(exc, HcxAuthError):
            return
        refused = HcxAuthError(
            f"HCX at {self.url} refused the user name or password for {self.username}"
            + (f": {exc.hcx_message}" if exc.hcx_message else ""),
            status=exc.status,
            hcx_message=exc.hcx_message,
            url=self.url,
        )
        if exc.status == 401 and self.login_guard is not None:
            self.login_guard.failed(refused)
        raise refused from None

    def _call(self, method: str, path: str, *, safe: bool = False, json=None, params=None):
        """One authenticated call; logs in first if needed and once more if the session expired."""
        if "x-hm-authorization" not in self.transport.session.headers:
            self.login()
        try:
            return self.transport.request(method, path, safe=safe, json=json, params=params)
        except HcxAuthError as exc:
            if exc.status != 401:
                raise
            # HCX rejects an expired token before doing anything, so sending the call again is safe.
            logger.info("HCX at %s: session expired, logging in again", self.url)
            self.login()
            return self.transport.request(method, path, safe=safe, json=json, params=params)

    def _get(self, path: str, params=None):
        return self._json(self._call("GET", f"{API}{path}", safe=True, params=params))

    def _query(self, path: str, body: dict | None = None, params=None):
        return self._json(self._call("POST", f"{API}{path}", safe=True, json=body or {}, params=params))

    def _post(self, path: str, body: dict):
        return self._json(self._call("POST", f"{API}{path}", json=body))

    def _delete(self, path: str, params=None):
        return self._json(self._call("DELETE", f"{API}{path}", params=params))

    def _json(self, response):
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise HcxError(
                f"HCX at {self.url} answered {response.request.method} {response.request.path_url} "
                f"with something that is not JSON",
                status=response.status_code,
                url=self.url,
            ) from None

    def _envelope_data(self, body: dict, call: str) -> dict:
        """The `data` of an envelope answer; `success: false` (sent with HTTP 200) becomes an error."""
        if isinstance(body, dict) and body.get("success") is False:
            first = (body.get("errors") or [{}])[0]
            said = first.get("text") or first.get("error") or "no reason given"
            raise HcxError(f"HCX at {self.url} refused {call}: {said}", hcx_message=said, url=self.url)
        return (body or {}).get("data") or {}

    # --- jobs and tasks ---------------------------------------------------------------------

    def job(self, job_id: str) -> Job:
        return Job.from_api(self._get(f"/jobs/{job_id}"))

    def task(self, task_id: str) -> Task:
        return Task.from_api(self._get(f"/interconnect/tasks/{task_id}"))

    def wait_for_job(self, job_id: str, *, timeout: float, what: str = "the HCX job") -> Job:
        def check():
            job = self.job(job_id)
            if job.done and job.failed:
                raise HcxJobFailed(
                    f"HCX at {self.url}: {what} failed: {job.message or 'no reason given'}",
                    job_id=job_id,
                    hcx_message=job.message,
                    url=self.url,
                )
            return job if job.done else None

        return self._poll(check, timeout, f"{what} (job {job_id})", job_id)

    def wait_for_task(self, task_id: str, *, timeout: float, what: str = "the HCX task") -> Task:
        def check():
            task = self.task(task_id)
            if task.status == TASK_FAILED:
                said = task.error or task.message or "no reason given"
                raise HcxJobFailed(
                    f"HCX at {self.url}: {what} failed: {said}",
                    job_id=task_id,
                    hcx_message=said,
                    url=self.url,
                )
            return task if task.done else None

        return self._poll(check, timeout, f"{what} (task {task_id})", task_id)

    def wait(self, started: Started, *, timeout: float, what: str = "the HCX operation"):
        """Follow a Started to its end: its job, its task, or nothing when it was recovered by name."""
        if started.job_id:
            return self.wait_for_job(started.job_id, timeout=timeout, what=what)
        if started.task_id:
            return self.wait_for_task(started.task_id, timeout=timeout, what=what)
        return None

    def follow(
        self, started: Started, read, *, done_state: str, timeout: float, what: str
    ) -> tuple[dict, object]:
        """Follow what a create started as TF and ESA do (hcx-wire.md §1, §5): its job or interconnect
        task to the end (HcxJobFailed when it failed), then `read()` the object. A create recovered by
        name has nothing to follow: unless the object already shows `done_state`, the task its
        `lastTaskDetails` names (if any) is followed instead. Returns (object, Job/Task followed or
        None); an object whose state ends in FAILED (UPDATE_FAILED) is HcxJobFailed. The caller judges
        an object still being built with nothing followed (HCX then shows no way to wait for it)."""
        followed = self.wait(started, timeout=timeout, what=what)
        found = read()
        state = found.get("state")
        if followed is None and state != done_state and not failed_state(state) and last_task_id(found):
            try:
                followed = self.wait_for_task(last_task_id(found), timeout=timeout, what=what)
            except HcxNotFound:
                followed = None  # HCX forgets old tasks: the object's own state is all there is
            found = read()
        if failed_state(found.get("state")):
            said = found.get("errorMessage") or "no reason given"
            raise HcxJobFailed(
                f"HCX at {self.url}: {what} is {found.get('state')}: {said}", hcx_message=said, url=self.url
            )
        return found, followed

    def _poll(self, check, timeout, what, job_id=None):
        try:
            return polling.poll(check, timeout=timeout, what=what, waiter=self.waiter)
        except PollTimeout as exc:
            raise HcxJobFailed(f"HCX at {self.url}: {exc}", job_id=job_id, url=self.url) from None

    # --- site pairing -----------------------------------------------------------------------

    def list_pairings(self) -> list[dict]:
        """`GET /hybridity/api/cloudConfigs`: url, endpointId, cloudType, username, name, version."""
        return items(self._get("/cloudConfigs"))

    def pair_site(self, remote_url: str, username: str, password: str, *, trust_certificate=False) -> Started:
        """`POST /hybridity/api/cloudConfigs`. When HCX asks whether to trust the remote site's
        certificate, `trust_certificate` decides: True, or a callable `(pem, remote_url) -> bool`.
        Without that, HcxCertificateUntrusted carries the PEM so a person can look at it first."""
        body = {"remote": {"url": remote_url, "username": username, "password": password}}

        def find():
            found = next((p for p in self.list_pairings() if same_url(p.get("url"), remote_url)), None)
            return {"recovered": found} if found else None

        for _ in range(2):  # at most once more, after trusting the certificate
            answer = self.transport.create(
                lambda: self._post("/cloudConfigs", body), find, f"the site pairing with {remote_url}"
            )[0]
            if "recovered" in answer:
                return Started(object_id=answer["recovered"].get("endpointId"), recovered=True)
            if answer.get("success") is not False:
                return Started(job_id=self._envelope_data(answer, "the site pairing").get("jobId"))
            first = (answer.get("errors") or [{}])[0]
            said = first.get("text") or first.get("error") or "no reason given"
            pem = next(
                (
                    d.get("certificate")
                    for d in first.get("data") or []
                    if isinstance(d, dict) and d.get("certificate")
                ),
                None,
            )
            if first.get("error") == "Login failure":
                raise HcxAuthError(
                    f"The HCX at {remote_url} refused the user name or password for {username} "
                    f"(site pairing from {self.url}): {said}",
                    hcx_message=said,
                    url=self.url,
                )
            if not pem:
                raise HcxError(
                    f"HCX at {self.url} could not pair with {remote_url}: {said}",
                    hcx_message=said,
                    url=self.url,
                )
            trusted = trust_certificate(pem, remote_url) if callable(trust_certificate) else trust_certificate
            if not trusted:
                raise HcxCertificateUntrusted(
                    f"HCX at {self.url} asks whether to trust the certificate of {remote_url} before pairing: "
                    "look at it and accept it to go on",
                    pem=pem,
                    remote_url=remote_url,
                    hcx_message=said,
                    url=self.url,
                )
            self.trust_certificate(pem)
        raise HcxError(
            f"HCX at {self.url} still does not trust {remote_url} after importing its certificate",
            url=self.url,
        )

    def trust_certificate(self, pem: str) -> None:
        """`POST /hybridity/api/admin/certificates` (port 443, with the session token)."""
        self._post("/admin/certificates", {"certificate": pem})

    def delete_pairing(self, endpoint_id: str) -> Started:
        """`DELETE /hybridity/api/endpointPairing/{endpointId}`."""
        data = self._envelope_data(
            self._delete(f"/endpointPairing/{endpoint_id}"), "deleting the site pairing"
        )
        return Started(object_id=endpoint_id, job_id=data.get("jobId"))

    # --- inventory --------------------------------------------------------------------------

    def clouds(self, *, local: bool = False, remote: bool = False) -> list[dict]:
        """`POST .../service/inventory/cloud/list`: endpointId, name, url, endpointType."""
        flt = {k: True for k, v in (("local", local), ("remote", remote)) if v}
        return items(self._query("/service/inventory/cloud/list", {"filter": flt}))

    def resource_containers(self, *, local: bool = True, remote: bool = False) -> list[dict]:
        """`POST .../service/inventory/resourcecontainer/list`: the vCenters of each site."""
        body = {"filter": {"cloud": {"local": local, "remote": remote}}}
        return items(self._query("/service/inventory/resourcecontainer/list", body))

    def vcenters(self) -> list[dict]:
        """`POST .../service/inventory/vc/list`: the vCenter tree (datacenters, clusters)."""
        return items(self._query("/service/inventory/vc/list", {}))

    def datastores(self, vcenter_id: str, cluster_ids: list[str]) -> list[dict]:
        return items(
            self._query("/service/inventory/vc/datastores/query", _compute_filter(vcenter_id, cluster_ids))
        )

    def switches(self, vcenter_id: str, cluster_ids: list[str]) -> list[dict]:
        return items(self._query("/service/inventory/vc/dvs/query", _compute_filter(vcenter_id, cluster_ids)))

    def networks(self, endpoint_id: str | None = None) -> list[dict]:
        """`POST .../service/inventory/networks`: entity_id, name, entityType of a site's networks."""
        flt = {"cloud": {"endpointId": endpoint_id}} if endpoint_id else {}
        return items(self._query("/service/inventory/networks", {"filter": flt}))

    def remote_inventory(self, kind: str, endpoint_id: str | None = None) -> list[InventoryItem]:
        """`POST .../service/inventory/{kind}` with `{"filter":{"cloud":{"remote":true}}}`: the paired
        sites' `virtualmachines`, `containers` (datacenters, clusters, resource pools, folders),
        `datastores` or `storageProfiles` (hcx-wire.md §4). With `endpoint_id`, only the items whose
        `_origin.endpointId` is that site's; an item that names no origin is taken as the paired site's,
        as it was asked for the remote side only."""
        found = self._inventory(kind, {"remote": True}, endpoint_id)
        local = self.session_info.endpoint_id if self.session_info else None
        # An HCX that lists every site whatever the filter still marks each item's origin (AYA checks it).
        return [i for i in found if not local or i.endpoint_id != local]

    def local_inventory(self, kind: str, endpoint_id: str | None = None) -> list[InventoryItem]:
        """The same lists for this Manager's own site (`{"local": true}`)."""
        return self._inventory(kind, {"local": True}, endpoint_id)

    def _inventory(self, kind: str, cloud: dict, endpoint_id: str | None) -> list[InventoryItem]:
        if kind not in INVENTORY_KINDS:
            raise ValueError(f"kind must be one of {', '.join(INVENTORY_KINDS)}, not {kind!r}")
        body = {"filter": {"cloud": cloud}}
        if kind == "virtualmachines":
            found, skip = [], 0
            while True:  # AYA pages VMs 1000 at a time; a short page is the last
                body["paging"] = {"skipCount": skip, "pageSize": INVENTORY_PAGE}
                page = items(self._query(f"/service/inventory/{kind}", body))
                found += page
                if len(page) < INVENTORY_PAGE:
                    break
                skip += len(page)
        else:
            found = items(self._query(f"/service/inventory/{kind}", body))
        result = [InventoryItem.from_api(i) for i in found if isinstance(i, dict)]
        if endpoint_id:
            result = [i for i in result if i.endpoint_id in (endpoint_id, None)]
        return result

    # --- network profiles -------------------------------------------------------------------

    def list_network_profiles(self) -> list[dict]:
        """`GET /hybridity/api/networks`."""
        return items(self._get("/networks"))

    def get_network_profile(self, object_id: str) -> dict:
        """One profile, read from the list (ESA lists; no source reads one by id, hcx-wire.md §5)."""
        return self._one(self.list_network_profiles(), "objectId", object_id, "network profile")

    def find_network_profile(self, name: str) -> dict | None:
        return next((p for p in self.list_network_profiles() if p.get("name") == name), None)

    def create_network_profile(self, body: dict) -> Started:
        """`POST /admin/hybridity/api/networks`; build `body` with `bodies.network_profile()`."""

        def send():
            data = self._envelope_data(
                self._json(self._call("POST", NETWORK_PROFILE_CREATE, json=body)),
                f"network profile {body['name']!r}",
            )
            return Started(object_id=data.get("objectId"), job_id=data.get("jobId"))

        def find():
            found = self.find_network_profile(body["name"])
            return Started(object_id=found.get("objectId"), recovered=True) if found else None

        return self.transport.create(send, find, f"network profile {body['name']!r}")[0]

    def delete_network_profile(self, object_id: str) -> Started:
        data = self._envelope_data(self._delete(f"/networks/{object_id}"), "deleting the network profile")
        return Started(object_id=object_id, job_id=data.get("jobId"))

    # --- compute profiles -------------------------------------------------------------------

    def list_compute_profiles(self, endpoint_id: str | None = None) -> list[dict]:
        """`GET /hybridity/api/interconnect/computeProfiles[?endpointId=]`."""
        return items(
            self._get("/interconnect/computeProfiles", {"endpointId": endpoint_id} if endpoint_id else None)
        )

    def get_compute_profile(self, profile_id: str) -> dict:
        """One profile, read from the list as TF and ESA do (hcx-wire.md §5)."""
        return self._one(self.list_compute_profiles(), "computeProfileId", profile_id, "compute profile")

    def create_compute_profile(self, body: dict) -> Started:
        def send():
            data = self._envelope_data(
                self._post("/interconnect/computeProfiles", body), f"compute profile {body['name']!r}"
            )
            return Started(object_id=data.get("computeProfileId"), task_id=data.get("interconnectTaskId"))

        def find():
            local = self.session_info.endpoint_id if self.session_info else None
            found = next(
                (p for p in self.list_compute_profiles(local) if p.get("name") == body["name"]), None
            )
            return Started(object_id=found["computeProfileId"], recovered=True) if found else None

        return self.transport.create(send, find, f"compute profile {body['name']!r}")[0]

    def delete_compute_profile(self, profile_id: str) -> Started:
        data = self._envelope_data(
            self._delete(f"/interconnect/computeProfiles/{profile_id}"), "deleting the compute profile"
        )
        return Started(object_id=profile_id, task_id=data.get("interconnectTaskId"))

    # --- service mesh and appliances ----------------------------------------------------------

    def list_service_meshes(self) -> list[dict]:
        """`GET /hybridity/api/interconnect/serviceMesh`: serviceMeshId, name, state, services,
        computeProfiles (endpointId, isInitiator), lastTaskDetails, backingApplianceType."""
        return items(self._get("/interconnect/serviceMesh"))

    def get_service_mesh(self, mesh_id: str) -> dict:
        """One mesh, read from the list as ESA does (hcx-wire.md §5)."""
        return self._one(self.list_service_meshes(), "serviceMeshId", mesh_id, "service mesh")

    def _one(self, listed: list[dict], key: str, wanted: str, what: str) -> dict:
        found = next((item for item in listed if item.get(key) == wanted), None)
        if found is None:
            raise HcxNotFound(f"HCX at {self.url} lists no {what} {wanted}", status=404, url=self.url)
        return found

    def create_service_mesh(self, body: dict) -> Started:
        """`POST /hybridity/api/interconnect/serviceMesh`; build `body` with `bodies.service_mesh()`."""

        def send():
            data = self._envelope_data(
                self._post("/interconnect/serviceMesh", body), f"service mesh {body['name']!r}"
            )
            return Started(object_id=data.get("serviceMeshId"), task_id=data.get("interconnectTaskId"))

        def find():
            found = next((m for m in self.list_service_meshes() if m.get("name") == body["name"]), None)
            return Started(object_id=found["serviceMeshId"], recovered=True) if found else None

        return self.transport.create(send, find, f"service mesh {body['name']!r}")[0]

    def wait_for_service_mesh(
        self, started: Started, *, timeout: float, what: str = "the service mesh"
    ) -> tuple[dict, "Task | None"]:
        """`follow()` for a mesh create: (mesh, task followed or None); a working mesh is COMMITTED."""
        return self.follow(
            started,
            lambda: self.get_service_mesh(started.object_id),
            done_state=MESH_WORKING,
            timeout=timeout,
            what=what,
        )

    def delete_service_mesh(self, mesh_id: str, *, force: bool = False) -> Started:
        data = self._envelope_data(
            self._delete(f"/interconnect/serviceMesh/{mesh_id}", {"force": "true" if force else "false"}),
            "deleting the service mesh",
        )
        return Started(object_id=mesh_id, task_id=data.get("interconnectTaskId"))

    def list_appliances(self) -> list[dict]:
        """`GET /hybridity/api/interconnect/appliances`."""
        return items(self._get("/interconnect/appliances"))

    def query_appliances(
        self,
        *,
        appliance_type: str | None = None,
        endpoint_id: str | None = None,
        service_mesh_id: str | None = None,
    ) -> list[dict]:
        """`POST .../interconnect/appliances/query`, e.g. `appliance_type="HCX-NET-EXT"` for extenders."""
        flt = {
            k: v
            for k, v in (
                ("applianceType", appliance_type),
                ("endpointId", endpoint_id),
                ("serviceMeshId", service_mesh_id),
            )
            if v
        }
        return items(self._query("/interconnect/appliances/query", {"filter": flt}))

    def extension_appliances(self, service_mesh_id: str, endpoint_id: str) -> list[dict]:
        """The mesh's network extension appliances at `endpoint_id` (this site's: an extension starts
        from a local appliance), as TF's GetAppliance asks for them. HCX 9.x EDGE meshes may name
        their type otherwise, so when the HCX-NET-EXT query finds none, every appliance of the mesh at
        that endpoint is read and those whose type names NET-EXT or L2C are taken (hcx-wire.md §5)."""
        found = self.query_appliances(
            appliance_type=NE_APPLIANCE, endpoint_id=endpoint_id, service_mesh_id=service_mesh_id
        )
        if not found:
            found = [
                a
                for a in self.query_appliances(endpoint_id=endpoint_id, service_mesh_id=service_mesh_id)
                if is_extension_appliance(a)
            ]
        # The filter is asked for, and checked again: an appliance of the other end cannot extend from here.
        return [
            a
            for a in found
            if a.get("serviceMeshId", service_mesh_id) == service_mesh_id
            and a.get("endpointId", endpoint_id) == endpoint_id
        ]

    # --- network extensions ---------------------------------------------------------------------

    def list_l2_extensions(self) -> list[dict]:
        """`GET /hybridity/api/l2Extensions`: stretchId, operationStatus{state}, sourceNetwork. Which
        states HCX shows is not known (hcx-wire.md §5): the job of the create is what tells."""
        return items(self._get("/l2Extensions"))

    def create_l2_extension(self, body: dict) -> Started:
        """`POST /hybridity/api/l2Extensions` (answers `{"id": <jobId>}`); `bodies.l2_extension()`."""
        network_id = body["sourceNetwork"]["networkId"]

        def send():
            answer = self._post("/l2Extensions", body)
            self._envelope_data(answer, f"extending network {network_id}")
            return Started(job_id=answer.get("id") or (answer.get("data") or {}).get("jobId"))

        def find():
            found = next(
                (
                    e
                    for e in self.list_l2_extensions()
                    if (e.get("sourceNetwork") or {}).get("networkId") == network_id
                    and not failed_state((e.get("operationStatus") or {}).get("state"))
                ),
                None,
            )
            return Started(object_id=found["stretchId"], recovered=True) if found else None

        return self.transport.create(send, find, f"the extension of network {network_id}")[0]

    def delete_l2_extension(self, stretch_id: str) -> Started:
        answer = self._delete(f"/l2Extensions/{stretch_id}")
        return Started(object_id=stretch_id, job_id=answer.get("id"))


def _compute_filter(vcenter_id: str, cluster_ids: list[str]) -> dict:
    return {
        "filter": {
            "computeType": "ClusterComputeResource",
            "vcenter_instanceId": vcenter_id,
            "computeIds": list(cluster_ids),
        }
    }
