"""Everything the simulated HCX Connector, its AVS cloud peer and the ARM resources hold, plus the
engine for asynchronous work (HCX jobs and interconnect tasks).

Asynchronous work is evaluated lazily against the simulated clock: every request first calls
`Simulator.tick()`, which moves running work forward and applies the effects of work whose time is
up. Nothing runs in the background, so advancing the clock and reading state is deterministic.
"""

import datetime
import secrets
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from . import migrations, service, variants
from .clock import SimClock
from .faults import FaultRegistry
from .migration_engine import MigrationEngine, Settings
from .server import ArmError, SimError

# How long each kind of asynchronous work takes, in simulated seconds. The service mesh and the
# add-on follow the "20-45 min" the AVS scripts report; the rest are plausible guesses.
DURATIONS = {
    "activation": 20,
    "sitePairing": 30,
    "sitePairingDelete": 10,
    "networkProfile": 10,
    "networkProfileDelete": 5,
    "computeProfile": 60,
    "computeProfileDelete": 30,
    "serviceMesh": 1200,
    "serviceMeshUpdate": 300,
    "serviceMeshDelete": 300,
    "l2Extension": 300,
    "l2ExtensionDelete": 120,
    "hcxAddon": 1800,
}
QUEUED_FRACTION = 0.05  # the first 5% of a task is spent QUEUED, as a busy HCX shows it
SESSION_IDLE_SECONDS = 30 * 60  # [U] HCX's real idle timeout is not documented; 30 min chosen
LOCKED_TEXT = "Account locked due to failed login attempts"  # BRC's 401 text (hcx-wire.md section 1)
ARM_TOKEN_SECONDS = 3600


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 0
    admin_port: int = 0
    username: str = "administrator@vsphere.local"
    password: str = "VMware1!"
    time_scale: float = 1.0
    tls: bool = False
    client_id: str = "hcxsim-client"
    client_secret: str = "hcxsim-secret"
    subscription: str = "00000000-0000-0000-0000-000000000000"
    resource_group: str = "avs-rg"
    private_cloud: str = "avs-sim"
    cloud_username: str = "cloudadmin@vsphere.local"
    cloud_password: str = "CloudAdmin1!"
    hcx_cloud_url: str = "https://10.0.0.9/"
    verbose: bool = False
    link_mbps: float = 1000.0  # what the migrations of one service mesh share (migration_engine.py)
    lockout_after: int = 5  # failed logins in a row that lock the SSO account (--lockout-after)
    variants: dict = field(default_factory=dict)  # --variant name=value (variants.py)


@dataclass
class Work:
    """One HCX job (`/hybridity/api/jobs/{id}`) or interconnect task (`/interconnect/tasks/{id}`)."""

    id: str
    kind: str  # "job" or "task"
    operation: str
    username: str
    started: float
    duration: float
    failure: str | None = None
    on_progress: object = None  # callable(fraction)
    on_success: object = None  # callable() -> dict merged into jobData
    on_failure: object = None  # callable(message)
    job_data: dict = field(default_factory=dict)
    finished: bool = False
    ended: float | None = None
    phases: list = field(default_factory=list)  # [(fraction, message)]

    def fraction(self, now: float) -> float:
        if self.finished:
            return 1.0
        return min(1.0, max(0.0, (now - self.started) / self.duration)) if self.duration else 1.0

    def message(self, now: float) -> str:
        if self.finished:
            return self.failure or (self.phases[-1][1] if self.phases else "Completed")
        current = "Queued"
        for threshold, text in self.phases:
            if self.fraction(now) >= threshold:
                current = text
        return current

    def as_job(self, now: float) -> dict:
        frac = self.fraction(now)
        return {
            "jobId": self.id,
            "jobType": self.operation,
            "enterprise": "HCX",
            "organization": "DEFAULT",
            "username": self.username,
            "isQueued": frac < QUEUED_FRACTION and not self.finished,
            "isCancelled": False,
            "isRolledBack": False,
            "createTimeEpoch": int(self.started * 1000),
            "absoluteExpireTimeEpoch": int((self.started + 86400) * 1000),
            "startTime": int(self.started * 1000),
            "endTime": int(self.ended * 1000) if self.ended else None,
            "percentComplete": int(frac * 100),
            "isDone": self.finished,
            "didFail": self.finished and self.failure is not None,
            "timeToExecute": int(self.duration * 1000),
            "errorMessage": self.failure if self.finished else None,
            "jobData": self.job_data,
        }

    def as_task(self, now: float) -> dict:
        frac = self.fraction(now)
        if self.finished:
            status = "FAILED" if self.failure else "SUCCESS"
        else:
            status = "QUEUED" if frac < QUEUED_FRACTION else "RUNNING"
        return {
            "interconnectTaskId": self.id,
            "type": self.operation,
            "status": status,
            "progress": int(frac * 100),
            "message": self.message(now),
            "errorMessage": self.failure if self.finished else None,
            "startTime": int(self.started * 1000),
            "endTime": int(self.ended * 1000) if self.ended else None,
        }


class Sessions:
    """Session tokens, and the SSO account's lock-out: `lockout_after` failed logins in a row lock it,
    and then even the right password is refused until `POST /__sim__/unlock`, as vSphere SSO does."""

    def __init__(self, sim):
        self.sim = sim
        self.tokens = {}
        self.attempts = 0
        self.failures = 0  # in a row
        self.locked = False

    def login(self, username, password) -> None:
        """Raise the 401 HCX answers for a refused login; count it."""
        self.attempts += 1
        if self.locked:
            raise SimError(401, LOCKED_TEXT, error="Login failure")
        if username != self.sim.config.username or password != self.sim.config.password:
            self.failures += 1
            if self.failures >= self.sim.config.lockout_after:
                self.locked = True
            raise SimError(401, "Invalid username or password", error="Login failure")
        self.failures = 0

    def unlock(self):
        self.failures, self.locked = 0, False

    def public(self) -> dict:
        return {"attempts": self.attempts, "failures": self.failures, "locked": self.locked}

    def open(self, username: str) -> str:
        token = secrets.token_urlsafe(32)
        self.tokens[token] = {"username": username, "lastUsed": self.sim.clock.now()}
        return token

    def check(self, token: str | None) -> str:
        if not token:
            raise SimError(401, "Missing x-hm-authorization header: log in with POST /hybridity/api/sessions")
        session = self.tokens.get(token)
        now = self.sim.clock.now()
        if session and now - session["lastUsed"] > SESSION_IDLE_SECONDS:
            del self.tokens[token]
            session = None
        if not session:
            raise SimError(401, "Session token is invalid or has expired: log in again")
        session["lastUsed"] = now
        return session["username"]

    def expire_all(self):
        self.tokens.clear()


class ArmTokens:
    def __init__(self, sim):
        self.sim = sim
        self.tokens = {}

    def issue(self) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.sim.clock.now() + ARM_TOKEN_SECONDS
        return token, ARM_TOKEN_SECONDS

    def check(self, header: str):
        if not header.lower().startswith("bearer "):
            raise ArmError(
                401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        expires = self.tokens.get(header[7:].strip())
        if expires is None or expires < self.sim.clock.now():
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid or has expired.")


def self_signed_certificate(common_name: str):
    """(cert PEM, key PEM): the AVS cloud manager's certificate in the pairing prompt, and --tls."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(common_name),
                    x509.DNSName("localhost"),
                    x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


class State:
    """The mutable world. Reset wipes it; presets rebuild common starting points for tests."""

    def __init__(self):
        self.activation = None
        self.license_jobs = {}
        self.vcenter = None
        self.sso = None
        self.nsx = None
        self.location = None
        self.role_mappings = []
        self.proxy = None
        self.trusted_certificates = []
        self.components = {"appengine": True, "web": True, "planengine": True}
        self.appengine_started = None  # simulated time the app engine last started after a stop
        self.appengine_restarts = 0
        self.pairings = {}
        self.network_profiles = {}
        self.compute_profiles = {}
        self.service_meshes = {}
        self.appliances = {}
        self.l2_extensions = {}
        self.works = {}
        self.mobility_groups = {}  # migrationGroupId -> group (migrations.py)
        self.migrations = {}  # migrationId -> migration_engine.Migration, in creation order
        # ARM / AVS side
        self.addons = {}
        self.enterprise_sites = {}


class Simulator:
    def __init__(self, config: Config):
        self.config = config
        self.lock = threading.RLock()
        self.faults = FaultRegistry()
        # A creation timestamp and a uuid, as real endpoint ids look (hcx-wire.md §5).
        self.local_endpoint_id = (
            f"{datetime.datetime.now(datetime.UTC):%Y%m%d%H%M%S%f}"[:17] + f"-{uuid.uuid4()}"
        )
        self.cloud_cert_pem, _ = self_signed_certificate("hcx-cloud.avs.sim")
        self.host_certs = {}  # host -> the self-signed PEM a vCenter at that host presents (kept across resets)
        self.reset()

    def reset(self, chosen_variants: dict | None = None, *, behind: float = 0.0):
        """Wipe everything; variants go back to those given at start, then `chosen_variants` apply.
        The clock starts again at the real now (`behind` seconds before it, for a preset to skip
        through): time skipped ahead before a reset would leave every time it reports in the future of
        whoever reads it."""
        self.clock = SimClock(self.config.time_scale, behind=behind)
        self.variants = variants.resolved({**self.config.variants, **(chosen_variants or {})})
        self.state = State()
        self.sessions = Sessions(self)
        self.arm_tokens = ArmTokens(self)
        self.faults.clear()
        self.migration_engine = MigrationEngine(
            self.state.migrations, Settings(link_mbps=self.config.link_mbps), self.clock.now()
        )
        self.vm_facts = {}  # VM id or "name:<name>" -> facts registered with POST /__sim__/vms

    def server_certificate(self, url: str) -> str:
        """The certificate the server at `url` (a vCenter, its lookup service) presents, as HCX sees it
        when it connects: the real one when something answers TLS there, else one made up for the host
        (kept across resets, so a test can trust it once)."""
        parts = urlsplit(url or "")
        host, port = (parts.hostname or "vcenter").lower(), parts.port or 443
        if (host, port) not in self.host_certs:
            try:
                self.host_certs[host, port] = ssl.get_server_certificate((host, port), timeout=2)
            except (OSError, ValueError):
                self.host_certs[host, port], _ = self_signed_certificate(host)
        return self.host_certs[host, port]

    def variant(self, name: str) -> str:
        """The value of a switch of variants.py, for code that answers in one of several real shapes."""
        return self.variants[name]

    # --- asynchronous work -------------------------------------------------------------------
    def start_work(
        self,
        kind: str,
        operation: str,
        username: str,
        *,
        on_success=None,
        on_failure=None,
        on_progress=None,
        job_data=None,
        phases=None,
        failure=None,
    ) -> Work:
        work = Work(
            id=str(uuid.uuid4()),
            kind=kind,
            operation=operation,
            username=username or "admin",
            started=self.clock.now(),
            duration=DURATIONS[operation],
            failure=failure or self.faults.take_job_failure(operation),
            on_success=on_success,
            on_failure=on_failure,
            on_progress=on_progress,
            job_data=dict(job_data or {}),
            phases=phases or [],
        )
        self.state.works[work.id] = work
        return work

    def tick(self):
        now = self.clock.now()
        service.appear_default_mesh(self)
        for work in list(self.state.works.values()):
            if work.finished:
                continue
            if now >= work.started + work.duration:
                work.finished, work.ended = True, work.started + work.duration
                if work.failure:
                    if work.on_failure:
                        work.on_failure(work.failure)
                elif work.on_success:
                    try:
                        work.job_data.update(work.on_success() or {})
                    except SimError as exc:
                        # The world changed while the work ran (e.g. the key was used elsewhere).
                        work.failure = exc.text
                        if work.on_failure:
                            work.on_failure(work.failure)
            elif work.on_progress:
                work.on_progress(work.fraction(now))
        self.migration_engine.tick(now)

    def work(self, kind: str, work_id: str) -> Work:
        work = self.state.works.get(work_id)
        if not work or work.kind != kind:
            label = "Job" if kind == "job" else "Interconnect task"
            raise SimError(404, f"{label} {work_id} not found")
        return work

    # --- the AVS private cloud ---------------------------------------------------------------
    def private_cloud_id(self) -> str:
        c = self.config
        return (
            f"/subscriptions/{c.subscription}/resourceGroups/{c.resource_group}"
            f"/providers/Microsoft.AVS/privateClouds/{c.private_cloud}"
        )

    def hcx_addon_ready(self) -> bool:
        addon = self.state.addons.get("hcx")
        return bool(addon and addon["properties"]["provisioningState"] == "Succeeded")

    def dump(self) -> dict:
        """`GET /__sim__/state`: everything, for tests. Secrets are stored as received (tests only)."""
        now = self.clock.now()
        s = self.state
        return {
            "now": now,
            "localEndpointId": self.local_endpoint_id,
            "activation": s.activation,
            "vcenter": s.vcenter,
            "sso": s.sso,
            "nsx": s.nsx,
            "location": s.location,
            "roleMappings": s.role_mappings,
            "components": s.components,
            "appEngineRestarts": s.appengine_restarts,
            "trustedCertificates": len(s.trusted_certificates),
            "pairings": list(s.pairings.values()),
            "networkProfiles": list(s.network_profiles.values()),
            "computeProfiles": list(s.compute_profiles.values()),
            "serviceMeshes": list(s.service_meshes.values()),
            "appliances": list(s.appliances.values()),
            "l2Extensions": list(s.l2_extensions.values()),
            "jobs": [w.as_job(now) for w in s.works.values() if w.kind == "job"],
            "tasks": [w.as_task(now) for w in s.works.values() if w.kind == "task"],
            "sessions": len(self.sessions.tokens),
            "logins": self.sessions.public(),
            "faults": self.faults.describe(),
            "addons": list(s.addons.values()),
            "hcxEnterpriseSites": list(s.enterprise_sites.values()),
            "migrations": [migrations.render(self, m) for m in s.migrations.values()],
            "mobilityGroups": [migrations.render_group(self, g) for g in s.mobility_groups.values()],
            "migrationQueries": self.migration_engine.queries,
            "migrationSettings": self.migration_engine.settings.public(),
            "variants": dict(self.variants),
        }
