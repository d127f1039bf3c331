"""The "connect" steps of the set-up (product.md §2): register the AVS private cloud,
activate the Connector, register vCenter/SSO/location, pair with the AVS HCX Cloud Manager.

Each step reads HCX (or Azure) first and creates only what is missing, so a re-run of a finished
step finds everything in place and is done again without changing anything. Secrets (cloudadmin
password, activation keys) go to the encrypted connection fields and to HCX, never to a log line,
a step's data or a message.
"""

from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.utils.text import slugify

from core.jobs import JobError
from hcx.choices import SetupStepKey
from hcx.client import HcxActivationRefused, HcxCertificateUntrusted
from hcx.client.appliance import NONE, ROLES, lookup_service_url
from hcx.client.polling import PollTimeout, poll
from hcx.client.service import same_url
from inventory.discovery.connect import parse_url  # a vCenter URL means here what it means to discovery

from .steps import Context, Outcome, StepNeedsInput, step

ADDON_READY, ADDON_FAILED = "Succeeded", "Failed"
KEY_USABLE = "Available"
MAX_KEY_NAMES = 10  # the plan's key name and up to nine suffixed ones (see activation_key_name)
# Who gets HCX's roles when the connection names no groups (Terraform's default; hcx-wire.md §2).
DEFAULT_ADMIN_GROUP = "vsphere.local\\Administrators"


def waiting(ctx: Context, text: str):
    """Say what the job waits for without moving its percentage (the runner sets that per step)."""
    ctx.progress(getattr(ctx.job, "progress", 0) or 0, text)


# --- 1. AVS -------------------------------------------------------------------------------------


@step(SetupStepKey.AVS)
def register_avs(ctx: Context) -> Outcome:
    c = ctx.connection
    if not c.uses_azure:
        try:
            ctx.require("activation_key", "cloud_url", "cloud_username", "cloud_password")
        except JobError as exc:
            raise JobError(
                f"No Azure service principal is set, so the activation key and the HCX Cloud Manager "
                f"details have to be entered by hand (from the Azure portal). {exc}"
            ) from None
        ctx.log(
            "No Azure service principal: using the activation key and Cloud Manager details entered by hand"
        )
        return Outcome(
            "Using the activation key and Cloud Manager details entered by hand",
            {"source": "manual", "cloud_url": c.cloud_url},
        )

    avs = ctx.avs
    cloud = avs.private_cloud()
    ctx.log(f"Read private cloud {cloud.name} ({cloud.location or 'no region'}, {cloud.provisioning_state})")
    addon = ensure_hcx_addon(ctx, cloud.name)
    if not cloud.hcx_cloud_manager:  # Azure fills the endpoint in once the add-on is there
        cloud = avs.private_cloud()
    if not cloud.hcx_cloud_manager:
        raise JobError(
            f"Azure shows no HCX Cloud Manager endpoint for private cloud {cloud.name} although the "
            "HCX add-on is installed: look at the private cloud in the Azure portal, then run this again."
        )
    credentials = avs.admin_credentials()
    if not credentials.vcenter_username or not credentials.vcenter_password:
        raise JobError(
            f"Azure returned no cloudadmin credentials for private cloud {cloud.name}: the service "
            "principal needs the right to list the admin credentials (listAdminCredentials)."
        )
    changed = [
        name
        for name, value in (
            ("cloud_url", cloud.hcx_cloud_manager),
            ("cloud_username", credentials.vcenter_username),
            ("cloud_password", credentials.vcenter_password),
        )
        if getattr(c, name) != value
    ]
    if changed:
        c.cloud_url = cloud.hcx_cloud_manager
        c.cloud_username = credentials.vcenter_username
        c.cloud_password = credentials.vcenter_password  # an encrypted field
        c.save(update_fields=[*changed, "last_updated"])
        ctx.log(
            f"Stored the HCX Cloud Manager URL {c.cloud_url} and the credentials of {c.cloud_username} "
            "(the password encrypted)"
        )
    else:
        ctx.log(f"The stored Cloud Manager URL and {c.cloud_username} credentials are current")
    return Outcome(
        f"Private cloud {cloud.name}: HCX add-on {addon['properties'].get('provisioningState')}, "
        f"Cloud Manager {cloud.hcx_cloud_manager}",
        {
            "source": "azure",
            "private_cloud": cloud.name,
            "private_cloud_id": cloud.id,
            "location": cloud.location,
            "addon": addon.get("name"),
            "offer": addon["properties"].get("offer"),
            "cloud_url": cloud.hcx_cloud_manager,
            "cloud_username": credentials.vcenter_username,
        },
    )


def ensure_hcx_addon(ctx: Context, cloud_name: str) -> dict:
    """The HCX add-on, installed if missing and waited for until Azure says Succeeded."""
    avs = ctx.avs
    addon = avs.hcx_addon()
    if addon is None:
        ctx.log(f"The HCX add-on is not installed on {cloud_name}: installing it (Azure takes 20-45 minutes)")
        addon = avs.install_hcx_addon()
    state = (addon.get("properties") or {}).get("provisioningState")
    if state == ADDON_READY:
        ctx.log(f"The HCX add-on is installed ({addon['properties'].get('offer')})")
        return addon
    check_addon_not_failed(state, cloud_name)
    ctx.log(f"Waiting for the HCX add-on to be {ADDON_READY} (now {state})")
    waiting(ctx, f"Waiting for the HCX add-on of {cloud_name} ({state})")
    seen = {"state": state}

    def check():
        ctx.check_cancelled()
        current = avs.hcx_addon()
        if current is None:
            raise JobError(
                f"The HCX add-on of {cloud_name} disappeared while it was being installed: "
                "someone removed it in Azure. Run this step again to install it."
            )
        seen["state"] = now = current["properties"].get("provisioningState")
        check_addon_not_failed(now, cloud_name)
        return current if now == ADDON_READY else None

    timeout = ctx.wait_seconds("avs_addon")
    try:
        addon = poll(check, timeout=timeout, what="the HCX add-on", waiter=ctx.waiter)
    except PollTimeout:
        raise JobError(
            f"The HCX add-on of {cloud_name} is still {seen['state']} after {timeout:g} s. Azure "
            "keeps installing it: run this step again later to go on waiting."
        ) from None
    ctx.log(f"The HCX add-on is installed ({addon['properties'].get('offer')})")
    return addon


def check_addon_not_failed(state: str | None, cloud_name: str):
    if state == ADDON_FAILED:
        raise JobError(
            f"The HCX add-on of private cloud {cloud_name} is in state Failed in Azure. Look at it in "
            "the Azure portal (Manage > Add-ons > Migration using HCX), remove it or ask Microsoft "
            "support, then run this step again."
        )


# --- 2. activation -----------------------------------------------------------------------------


@step(SetupStepKey.ACTIVATE, needs=(SetupStepKey.AVS,))
def activate(ctx: Context) -> Outcome:
    appliance = ctx.appliance
    licence = appliance.licence()
    known = {
        k: v for k, v in ctx.step_data(SetupStepKey.ACTIVATE).items() if k in ("key_name", "licence_before")
    }
    if licence.activated_with_key:
        current = licence.item
        said = ", ".join(str(v) for v in (current.get("status"), current.get("url")) if v)
        ctx.log(f"The Connector is already activated with an activation key{f' ({said})' if said else ''}")
        return Outcome(
            f"Already activated with an activation key{f' ({said})' if said else ''}",
            {"activated": True, "licence": licence.kind, **known},
        )
    if licence.kind != NONE:
        # HCX 4.9+ runs in Evaluation mode or on vCenter's VCF licence before any key is entered:
        # that is not the AVS activation the migration services to AVS need (hcx-wire.md section 2).
        ctx.log(
            f"The Connector runs on {licence.label}, not on an activation key: activating it with the AVS key"
        )

    # A key the engineer pasted is used as given, even with a service principal: they chose it.
    pasted = bool(ctx.connection.activation_key)
    if pasted or not ctx.connection.uses_azure:
        ctx.require("activation_key")
        name, key, what = (
            "entered by hand",
            ctx.connection.activation_key,
            "the activation key entered by hand",
        )
    else:
        name, key = azure_activation_key(ctx)
        what = f"AVS activation key {name}"
    ctx.log(f"Activating the Connector with {what}")
    waiting(ctx, "Activating the Connector")
    try:
        license_ = appliance.activate(key, timeout=ctx.wait_seconds("default"))
    except HcxActivationRefused as exc:
        advice = (
            "Create a new key in the Azure portal (Manage > Add-ons > Migration using HCX), paste it on "
            "the set-up page and run this step again."
            if pasted
            else "Run this step again to issue a new key (AVS gives one key per Connector)."
        )
        raise JobError(f"{exc}. {advice}") from None
    status = (license_ or {}).get("status")
    before = f"; before, it ran on {licence.label}" if licence.kind != NONE else ""
    ctx.log(f"Activated with {what}" + (f": licence {status}" if status else "") + before)
    return Outcome(
        f"Activated with {what}" + (f" (licence {status})" if status else "") + before,
        {"activated": True, "key_name": name, "licence": "key", "licence_before": licence.kind},
    )


def activation_key_name(plan, attempt: int) -> str:
    """The AVS key (HCX enterprise site) name for the plan's Connector: the plan name's slug, so that
    a re-run finds the key it issued before. ARM names take letters, digits and hyphens."""
    base = (slugify(plan.name) or f"plan-{plan.pk}")[:60]
    return base if attempt == 1 else f"{base}-{attempt}"


def azure_activation_key(ctx: Context) -> tuple[str, str]:
    """(name, key): the plan's key if it is still Available, else a new one.

    A key under the plan's name that is Consumed (or Deactivated) while this Connector is not activated
    belongs to a Connector that is gone (redeployed) or was taken by another one; it can never
    activate again. AVS issues keys freely, one per Connector, so rather than stop we issue a fresh
    key under the next suffixed name (`amsterdam-2`, ...) and say so in the log. Re-runs walk the
    same names, so they pick up the key issued before instead of issuing another."""
    avs = ctx.avs
    keys = {k.name: k for k in avs.activation_keys()}
    for attempt in range(1, MAX_KEY_NAMES + 1):
        name = activation_key_name(ctx.plan, attempt)
        existing = keys.get(name)
        if existing is None:
            ctx.log(f"Issuing AVS activation key {name}")
            created = avs.create_activation_key(name)
            if created.status not in (None, KEY_USABLE) or not created.key:
                raise JobError(
                    f"Azure issued activation key {name} but shows it as {created.status or 'empty'}: "
                    "look at the HCX add-on's activation keys in the Azure portal."
                )
            return name, created.key
        if existing.status == KEY_USABLE and existing.key:
            ctx.log(f"Using AVS activation key {name}, issued before and still {KEY_USABLE}")
            return name, existing.key
        ctx.warn(
            f"AVS activation key {name} is {existing.status}: it cannot activate this Connector, "
            "trying the next name"
        )
    raise JobError(
        f"The AVS activation keys {activation_key_name(ctx.plan, 1)} to "
        f"{activation_key_name(ctx.plan, MAX_KEY_NAMES)} are all used: delete the ones no Connector "
        "needs any more in the Azure portal, then run this step again."
    )


# --- 3. vCenter, SSO, location -------------------------------------------------------------------


@step(SetupStepKey.REGISTER, needs=(SetupStepKey.ACTIVATE,))
def register(ctx: Context) -> Outcome:
    appliance = ctx.appliance
    vcenter_url, username, password = vcenter_details(ctx)
    changed = False

    accepted = ctx.step_data(SetupStepKey.REGISTER).get("trusted_certificates") or []
    registered = appliance.vcenters()
    vcenter = next((v for v in registered if same_url(v.get("url"), vcenter_url)), None)
    if vcenter:
        ctx.log(f"vCenter {vcenter_url} is already registered")
    elif registered:
        others = ", ".join(v.get("url", "?") for v in registered)
        raise JobError(
            f"This Connector already has vCenter {others} registered, not {vcenter_url} of the plan. "
            "HCX takes one vCenter per Connector: fix the plan's vCenter, or remove the other "
            "registration in the appliance management (port 9443), then run this step again."
        )
    else:
        ctx.log(f"Registering vCenter {vcenter_url} as {username}")
        vcenter = trusting(
            ctx, accepted, "vCenter", lambda: appliance.register_vcenter(vcenter_url, username, password)
        )
        changed = True

    sso_url = lookup_service_url(vcenter_url)
    sso = appliance.lookup_service()
    if sso and same_host(sso.get("lookupServiceUrl"), vcenter_url):
        ctx.log(f"The SSO lookup service {sso.get('lookupServiceUrl')} is already registered")
    else:
        if sso:
            ctx.warn(f"Changing the SSO lookup service from {sso.get('lookupServiceUrl')} to {sso_url}")
        else:
            ctx.log(f"Registering the SSO lookup service {sso_url}")
        sso = trusting(ctx, accepted, "the SSO lookup service", lambda: appliance.set_lookup_service(sso_url))
        changed = True

    roles = ensure_role_mappings(ctx)
    location = ensure_location(ctx)
    ensure_app_engine(ctx, restart=changed)
    where = ", ".join(v for v in (location.get("city"), location.get("country")) if v)
    name = " ".join(v for v in (vcenter.get("name"), vcenter.get("version")) if v)
    return Outcome(
        f"vCenter {vcenter_url}{f' ({name})' if name else ''}, SSO {sso.get('lookupServiceUrl')}, location {where}",
        {
            "vcenter_url": vcenter_url,
            "vcenter_uuid": vcenter.get("UUID") or vcenter.get("uuid"),
            "vcenter_instance_uuid": vcenter.get("vcuuid"),
            "sso_url": sso.get("lookupServiceUrl"),
            "sso_uuid": sso.get("UUID"),
            "role_mappings": roles,
            "location": {"city": location.get("city"), "country": location.get("country")},
        },
    )


def same_host(url: str | None, other: str | None) -> bool:
    """The lookup service of this vCenter, registered as `https://vc` (Terraform, Microsoft's scripts)
    or `https://vc/lookupservice/sdk` (the appliance API reference)."""
    a, b = urlsplit(url or ""), urlsplit(other or "")
    return bool(a.hostname) and (a.hostname, a.port or 443) == (b.hostname, b.port or 443)


def trusting(ctx: Context, accepted: list[str], what: str, call):
    """`call()` (a vCenter or lookup-service registration); when HCX does not trust that server's
    certificate, import it if an engineer accepted it on the set-up page and call again, else stop
    and ask them (hcx-wire.md section 2: HCX answers "Untrusted SSL connection")."""
    try:
        return call()
    except HcxCertificateUntrusted as exc:
        if not exc.pem:
            raise JobError(
                f"HCX does not trust the certificate of {what} {exc.remote_url}, and neither HCX nor "
                "the portal could read it. Import it in the appliance management (port 9443, "
                "Administration > Trusted CA Certificate), then run this step again."
            ) from None
        if not any(same_pem(exc.pem, pem) for pem in accepted):
            raise certificate_prompt(exc.pem, exc.remote_url, changed=bool(accepted), server=what) from None
        ctx.log(
            f"Importing the certificate of {what} {exc.remote_url} into HCX, as accepted on the set-up page"
        )
        ctx.appliance.import_certificate(exc.pem)
    try:
        return call()
    except HcxCertificateUntrusted as exc:
        raise JobError(
            f"HCX still does not trust {what} {exc.remote_url} after importing the certificate accepted "
            "on the set-up page: it may need the issuing CA instead (for vCenter's VMCA, the root in "
            f"https://{urlsplit(exc.remote_url).netloc}/certs/download.zip). Import that in the appliance management "
            "(port 9443, Administration > Trusted CA Certificate), then run this step again."
        ) from None


def ensure_role_mappings(ctx: Context) -> dict:
    """Give HCX's two roles to the connection's groups (default vsphere.local\\Administrators), unless
    HCX already maps some: an engineer's own mapping is never replaced (hcx-wire.md section 2)."""
    appliance = ctx.appliance
    mapped = appliance.mapped_groups()
    if mapped:
        listed = "; ".join(f"{role}: {', '.join(groups)}" for role, groups in mapped.items())
        ctx.log(f"HCX roles are already mapped ({listed}); leaving them as they are")
        return mapped
    groups = [g.strip() for g in (ctx.connection.admin_groups or "").split(",") if g.strip()] or [
        DEFAULT_ADMIN_GROUP
    ]
    ctx.log(f"Giving the HCX roles {' and '.join(ROLES)} to {', '.join(groups)}")
    wanted = dict.fromkeys(ROLES, groups)
    appliance.set_role_mappings(wanted)
    return wanted


def vcenter_details(ctx: Context) -> tuple[str, str, str]:
    """The plan's vCenter as HCX registers it: `https://host[:port]` (no /sdk), user and password."""
    vc = ctx.plan.vcenter
    if vc is None:
        raise JobError(
            f"The plan {ctx.plan} names no on-premises vCenter: choose it on the plan, then run this "
            "step again."
        )
    missing = [
        label
        for label, value in (("URL", vc.url), ("user name", vc.username), ("password", vc.password))
        if not value
    ]
    if missing:
        raise JobError(
            f"vCenter {vc.name} has no {', '.join(missing)}: HCX needs them to register it. Fill them "
            "in under Sources > vCenter connections, then run this step again."
        )
    endpoint = parse_url(vc.url)
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    return f"https://{host}" + (f":{endpoint.port}" if endpoint.port != 443 else ""), vc.username, vc.password


def ensure_location(ctx: Context) -> dict:
    """Set the Connector's location from `location_city` ("Paris" or "Paris, France") unless it is set."""
    ctx.require("location_city")
    wanted = ctx.connection.location_city.strip()
    city, _, country = (part.strip() for part in wanted.partition(","))
    appliance = ctx.appliance
    current = appliance.location() or {}
    if same_city(current, city, country):
        ctx.log(f"The location is already {current.get('city')}, {current.get('country')}")
        return current
    found = appliance.search_cities(city)
    exact = [c for c in found if same_city(c, city, country)]
    if not exact:
        suggestions = found or (appliance.search_cities(city[:3]) if len(city) > 3 else [])
        listed = "; ".join(f"{c.get('city')}, {c.get('country')}" for c in suggestions[:10])
        raise JobError(
            f"HCX knows no city called {wanted!r}"
            + (f"; it suggests: {listed}." if listed else " and suggests none.")
            + " Enter the nearest city HCX knows as the location on the set-up page, then run this "
            "step again."
        )
    choice = exact[0]
    ctx.log(f"Setting the location to {choice['city']}, {choice['country']}")
    appliance.set_location(choice)
    return choice


def same_city(item: dict, city: str, country: str = "") -> bool:
    names = {(item.get(k) or "").strip().lower() for k in ("city", "cityAscii")}
    return city.lower() in names and (
        not country or (item.get("country") or "").strip().lower() == country.lower()
    )


def ensure_app_engine(ctx: Context, *, restart: bool):
    """HCX reads a new vCenter or SSO only after its app engine restarts (the manual steps end with
    "Restart"; Terraform's provider stops and starts it too). Also starts an app engine a previous,
    interrupted run left stopped."""
    appliance = ctx.appliance
    if restart:
        ctx.log("Restarting the HCX app engine so that it uses the new vCenter and SSO registration")
        waiting(ctx, "Restarting the HCX app engine")
        appliance.restart_app_engine(
            timeout=ctx.wait_seconds("default"), settle=settings.HCX_SETUP["APPENGINE_SETTLE_SECONDS"]
        )
        ctx.log("The HCX app engine is running again")
        return
    if appliance.component_status("appengine") == "RUNNING":
        return
    appliance.set_component("appengine", running=True)
    waiting(ctx, "Waiting for the HCX app engine")
    appliance.wait_until_up(timeout=ctx.wait_seconds("default"))
    ctx.log("The HCX app engine is running")


# --- 4. site pairing ---------------------------------------------------------------------------


@step(SetupStepKey.PAIR, needs=(SetupStepKey.REGISTER,))
def pair(ctx: Context) -> Outcome:
    ctx.require("cloud_url", "cloud_username", "cloud_password")
    c = ctx.connection
    hcx = ctx.hcx
    pairing = find_pairing(hcx, c.cloud_url)
    if pairing:
        ctx.log(f"Already paired with {c.cloud_url}")
        keep_avs_inventory(ctx)
        return paired(pairing, c.cloud_url)

    def trust_certificate(pem: str, remote_url: str) -> bool:
        if c.trusted_cloud_certificate and same_pem(pem, c.trusted_cloud_certificate):
            ctx.log(f"Trusting the certificate of {remote_url}, as accepted on the set-up page")
            return True
        raise certificate_prompt(pem, remote_url, changed=bool(c.trusted_cloud_certificate))

    ctx.log(f"Pairing with {c.cloud_url} as {c.cloud_username}")
    started = hcx.pair_site(
        c.cloud_url, c.cloud_username, c.cloud_password, trust_certificate=trust_certificate
    )
    if started.job_id:
        waiting(ctx, f"Waiting for the site pairing with {c.cloud_url}")
        hcx.wait(started, timeout=ctx.wait_seconds("default"), what="the site pairing")
    pairing = find_pairing(hcx, c.cloud_url)
    if pairing is None:
        raise JobError(
            f"HCX finished the site pairing with {c.cloud_url} but does not list it: look at "
            "Site Pairing in the HCX Connector, then run this step again."
        )
    keep_avs_inventory(ctx)
    return paired(pairing, c.cloud_url)


def keep_avs_inventory(ctx: Context):
    """Now that the sites are paired, keep what the AVS side offers for the wave form to offer
    (hcx/avs_inventory.py). A failure only warns: the planner can read it again from the wave form."""
    from hcx.avs_inventory import AvsInventoryError, read_avs_inventory  # it uses this package's lookups

    try:
        inventory = read_avs_inventory(ctx.plan, ctx=ctx)
    except AvsInventoryError as exc:
        ctx.warn(str(exc))
    else:
        ctx.log(
            f"Read the AVS inventory: {len(inventory.items['datastores'])} datastores, "
            f"{len(inventory.items['folders'])} folders, {len(inventory.items['networks'])} networks"
        )


def find_pairing(hcx, url: str) -> dict | None:
    return next((p for p in hcx.list_pairings() if same_url(p.get("url"), url)), None)


def paired(pairing: dict, url: str) -> Outcome:
    remote = " ".join(
        v for v in (pairing.get("name") or pairing.get("cloudName"), pairing.get("version")) if v
    )
    return Outcome(
        f"Paired with {url}" + (f" ({remote})" if remote else ""),
        {
            "endpoint_id": pairing.get("endpointId"),
            "remote_url": pairing.get("url") or url,
            "remote_name": pairing.get("name") or pairing.get("cloudName"),
        },
    )


def same_pem(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def certificate_prompt(
    pem: str, remote_url: str, *, changed: bool, server: str = "the Cloud Manager"
) -> StepNeedsInput:
    """HCX's question "trust this certificate?", for a person to answer on the set-up page. `server`
    names whose it is: the AVS Cloud Manager (pairing), vCenter or its lookup service (registration)."""
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return StepNeedsInput(
            f"HCX asks whether to trust the certificate of {remote_url}, but what it sent is not "
            f"a readable PEM certificate: look at the certificate of {server} in a browser.",
            data={"certificate": pem, "remote_url": remote_url, "server": server},
        )
    fingerprint = cert.fingerprint(hashes.SHA256()).hex(":").upper()
    host = urlsplit(remote_url).hostname or remote_url
    before = (
        f" It differs from the certificate accepted before, so the certificate of {server} has changed."
        if changed
        else ""
    )
    return StepNeedsInput(
        f"HCX asks whether to trust the certificate of {remote_url}: check its fingerprint (SHA-256 {fingerprint}) "
        f"against the certificate {host} shows in a browser, and accept it on the set-up page.{before}",
        data={
            "certificate": pem,
            "sha256": fingerprint,
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "remote_url": remote_url,
            "server": server,
        },
    )
