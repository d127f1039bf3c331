"""Deploying the HCX Connector OVA into a vCenter, then waiting for the appliance to answer.

Steps (hcx-wire.md §8, §12.1): OvfManager.CreateImportSpec with the OVF property values and the
`VSMgmt` network mapping, ResourcePool.ImportVApp, the HttpNfcLease upload of each disk,
power on, then poll `https://<ip>:9443` until it answers. Idempotent: a VM of that name
already in vCenter is not imported again; it is powered on if needed and waited for.
"""

import http.client
import logging
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pyVmomi import vim, vmodl

from core.jobs import JobError
from core.outbound import OutboundRefused, check_url

from .ova import OvfPackage
from .spec import ConnectorSpec, describe_unknown

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
LEASE_READY_SECONDS = 300
DEFAULT_WAIT_SECONDS = 900  # the Connector takes 10-15 minutes to boot (hcx-wire.md §12.1)
DEFAULT_POLL_SECONDS = 10
PROBE_TIMEOUT_SECONDS = 5

# Progress ranges of the phases, in percent of the whole deployment.
UPLOAD_START, UPLOAD_END = 10, 85


def _nothing(*args, **kwargs):
    return None


@dataclass
class Target:
    datacenter: vim.Datacenter
    pool: vim.ResourcePool
    datastore: vim.Datastore
    network: vim.Network
    folder: vim.Folder


def url_answers(url: str) -> bool:
    """True once anything answers HTTP at `url`, even 401 or 503: the appliance is up.

    Certificates are not checked: a freshly deployed appliance has a self-signed one, and
    nothing secret is sent.
    """
    try:
        check_url(url)
    except OutboundRefused as exc:
        raise JobError(str(exc)) from None
    context = ssl._create_unverified_context()  # noqa: S323
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_SECONDS, context=context):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, http.client.HTTPException):
        return False


def deploy_connector(
    si,
    package: OvfPackage,
    spec: ConnectorSpec,
    *,
    nfc_host: str,
    verify_tls: bool = True,
    passwords: Callable[[], tuple[str, str]] | None = None,
    answer_check: Callable[[], bool] | str | None = None,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    report: Callable[[float, str], None] = _nothing,
    warn: Callable[[str], None] = _nothing,
    check_cancelled: Callable[[], None] = _nothing,
) -> dict:
    """Deploy (or find) the Connector VM, power it on and wait until its appliance API answers.

    `nfc_host` (host[:port]) replaces the `*` in lease URLs. `passwords()` is called only when
    an import is needed, so a re-run for an existing VM needs no secrets. `answer_check` is a URL
    or a callable; by default `https://<ip>:9443/`.
    """
    content = si.RetrieveContent()
    report(0, f"Looking for VM {spec.vm_name} in vCenter")
    vm = find_vm(content, spec.vm_name)
    imported = vm is None
    if vm is not None:
        report(UPLOAD_END, f"VM {spec.vm_name} already exists ({vm._moId}); not importing it again")
    else:
        spec.check_against(package)
        unknown = describe_unknown(package)
        if unknown:
            warn(unknown)
        target = resolve_target(content, spec)
        if passwords is not None:
            spec = spec.with_passwords(*passwords())
        spec.validate()
        check_cancelled()
        report(
            5,
            f"Creating the import spec for {package} (network {spec.network}, datastore {target.datastore.name})",
        )
        result = create_import_spec(content, package, spec, target, warn=warn)
        check_cancelled()
        report(UPLOAD_START, f"Importing {spec.vm_name} into {target.pool.name}")
        vm = import_and_upload(
            content,
            package,
            result,
            target,
            nfc_host=nfc_host,
            verify_tls=verify_tls,
            report=report,
            check_cancelled=check_cancelled,
        )
    power_on(vm, report=report)
    check = answer_check if answer_check is not None else f"https://{spec.ip}:9443/"
    wait_until_answering(
        check,
        spec,
        wait_seconds=wait_seconds,
        poll_seconds=poll_seconds,
        report=report,
        check_cancelled=check_cancelled,
    )
    report(100, f"HCX Connector {spec.vm_name} is up")
    return {
        "vm": vm._moId,
        "vm_name": spec.vm_name,
        "imported": imported,
        "url": check if isinstance(check, str) else f"https://{spec.ip}:9443/",
    }


# --- finding things -------------------------------------------------------------------------


def _objects(content, root, vimtype, properties=("name",)) -> list[tuple]:
    """(object, {property: value}) for every object of a type under `root`, in one retrieval."""
    view = content.viewManager.CreateContainerView(root, [vimtype], True)
    try:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[
                vmodl.query.PropertyCollector.ObjectSpec(
                    obj=view,
                    skip=True,
                    selectSet=[
                        vmodl.query.PropertyCollector.TraversalSpec(type=vim.view.ContainerView, path="view")
                    ],
                )
            ],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vimtype, pathSet=list(properties))],
        )
        found = content.propertyCollector.RetrieveContents([spec])
    finally:
        view.Destroy()
    return [(item.obj, {p.name: p.val for p in item.propSet}) for item in found]


def find_vm(content, name: str):
    matches = [
        obj
        for obj, props in _objects(content, content.rootFolder, vim.VirtualMachine)
        if props.get("name") == name
    ]
    if len(matches) > 1:
        raise JobError(
            f"vCenter has {len(matches)} VMs named {name!r}; rename or remove the extra ones first"
        )
    return matches[0] if matches else None


def _listing(names) -> str:
    names = sorted(set(names))
    return ", ".join(names) if names else "none"


def resolve_target(content, spec: ConnectorSpec) -> Target:
    """Datacenter, cluster, pool, datastore, port group and folder by name; a name not found is
    reported with those that exist."""
    scope, where = content.rootFolder, "vCenter"
    if spec.datacenter:
        datacenters = _objects(content, content.rootFolder, vim.Datacenter)
        matches = [obj for obj, props in datacenters if props.get("name") == spec.datacenter]
        if not matches:
            raise JobError(
                f"Datacenter {spec.datacenter!r} not found in vCenter; it has: "
                f"{_listing(p.get('name') for _, p in datacenters)}"
            )
        scope, where = matches[0].hostFolder, f"datacenter {spec.datacenter}"
    computes = _objects(content, scope, vim.ComputeResource)
    if spec.cluster:
        chosen = [obj for obj, props in computes if props.get("name") == spec.cluster]
        if not chosen:
            raise JobError(
                f"Cluster {spec.cluster!r} not found in {where}; it has: "
                f"{_listing(p.get('name') for _, p in computes)}"
            )
    elif len(computes) == 1:
        chosen = [computes[0][0]]
    else:
        raise JobError(
            f"{where[0].upper() + where[1:]} has {len(computes)} clusters/hosts; choose one of: "
            f"{_listing(p.get('name') for _, p in computes)}"
        )
    compute = chosen[0]

    datacenter = compute.parent
    while not isinstance(datacenter, vim.Datacenter):
        datacenter = datacenter.parent

    pool = compute.resourcePool
    if spec.resource_pool:
        pools = [(obj, props) for obj, props in _objects(content, compute.resourcePool, vim.ResourcePool)]
        matches = [obj for obj, props in pools if props.get("name") == spec.resource_pool]
        if not matches:
            raise JobError(
                f"Resource pool {spec.resource_pool!r} not found in {compute.name}; it has: "
                f"{_listing(p.get('name') for _, p in pools)}"
            )
        pool = matches[0]

    datastores = {ds.name: ds for ds in compute.datastore}
    if spec.datastore:
        if spec.datastore not in datastores:
            raise JobError(
                f"Datastore {spec.datastore!r} not found on {compute.name}; it has: {_listing(datastores)}"
            )
        datastore = datastores[spec.datastore]
    elif len(datastores) == 1:
        datastore = next(iter(datastores.values()))
    else:
        raise JobError(
            f"{compute.name} has {len(datastores)} datastores; choose one of: {_listing(datastores)}"
        )

    networks = {net.name: net for net in compute.network}
    if spec.network not in networks:
        raise JobError(
            f"Port group {spec.network!r} not found on {compute.name}; it has: {_listing(networks)}"
        )

    folder = datacenter.vmFolder
    if spec.folder:
        folders = _objects(content, datacenter.vmFolder, vim.Folder)
        matches = [obj for obj, props in folders if props.get("name") == spec.folder]
        if not matches:
            raise JobError(
                f"VM folder {spec.folder!r} not found in {datacenter.name}; it has: "
                f"{_listing(p.get('name') for _, p in folders)}"
            )
        folder = matches[0]
    return Target(
        datacenter=datacenter, pool=pool, datastore=datastore, network=networks[spec.network], folder=folder
    )


# --- import -----------------------------------------------------------------------------------


def _fault_text(fault) -> str:
    return (
        getattr(fault, "localizedMessage", None)
        or getattr(getattr(fault, "fault", None), "msg", None)
        or str(fault)
    )


def create_import_spec(content, package: OvfPackage, spec: ConnectorSpec, target: Target, *, warn=_nothing):
    values = spec.ovf_properties(declared=package.properties)
    params = vim.OvfManager.CreateImportSpecParams(
        entityName=spec.vm_name,
        diskProvisioning="thin",
        propertyMapping=[vim.KeyValue(key=key, value=value) for key, value in values.items()],
        networkMapping=[
            vim.OvfManager.NetworkMapping(name=name, network=target.network)
            for name in spec.network_mapping()
        ],
    )
    try:
        result = content.ovfManager.CreateImportSpec(
            package.descriptor, target.pool, target.datastore, params
        )
    except vmodl.MethodFault as exc:
        raise JobError(
            f"vCenter refused the OVF descriptor of {package}: {exc.msg or type(exc).__name__}"
        ) from None
    for warning in result.warning or []:
        warn(f"vCenter warns about {package}: {_fault_text(warning)}")
    if result.error:
        raise JobError(f"vCenter cannot import {package}: " + "; ".join(_fault_text(e) for e in result.error))
    _ensure_vapp_properties(result.importSpec.configSpec, package, values)
    return result


def _ensure_vapp_properties(config, package: OvfPackage, values: dict[str, str]):
    """vCenter puts the OVF properties and their values into the spec's vAppConfig. govmomi's
    simulator does not (it copies them to extraConfig), so fill them in when they are missing;
    the appliance reads them from its OVF environment at first boot."""
    existing = {p.info.id for p in (getattr(config.vAppConfig, "property", None) or []) if p.info}
    if set(values) <= existing:
        return
    vapp = config.vAppConfig or vim.vApp.VmConfigSpec()
    vapp.ovfEnvironmentTransport = vapp.ovfEnvironmentTransport or ["com.vmware.guestInfo"]
    props = list(vapp.property or [])
    for index, (key, declared) in enumerate(package.properties.items()):
        if key in existing:
            continue
        props.append(
            vim.vApp.PropertySpec(
                operation="add",
                info=vim.vApp.PropertyInfo(
                    key=index,
                    id=key,
                    type=declared.type,
                    userConfigurable=declared.user_configurable,
                    defaultValue=declared.default,
                    value=values.get(key, declared.default),
                    label=declared.label or None,
                ),
            )
        )
    vapp.property = props
    config.vAppConfig = vapp


def import_and_upload(
    content,
    package: OvfPackage,
    result,
    target: Target,
    *,
    nfc_host: str,
    verify_tls: bool,
    report=_nothing,
    check_cancelled=_nothing,
):
    try:
        lease = target.pool.ImportVApp(result.importSpec, target.folder)
    except vmodl.MethodFault as exc:
        raise JobError(f"vCenter refused to import {package}: {exc.msg or type(exc).__name__}") from None
    vm = None
    try:
        _wait_lease_ready(lease)
        info = lease.info
        vm = info.entity
        _upload_disks(
            lease,
            info,
            package,
            result.fileItem or [],
            nfc_host=nfc_host,
            verify_tls=verify_tls,
            report=report,
            check_cancelled=check_cancelled,
        )
        lease.HttpNfcLeaseProgress(100)
        lease.HttpNfcLeaseComplete()
    except BaseException as exc:
        _abort(lease, vm, exc)
        raise
    return vm


def _wait_lease_ready(lease):
    deadline = time.monotonic() + LEASE_READY_SECONDS
    while True:
        state = lease.state
        if state == vim.HttpNfcLease.State.ready:
            return
        if state == vim.HttpNfcLease.State.error:
            raise JobError(f"vCenter could not prepare the import: {_fault_text(lease.error)}")
        if time.monotonic() > deadline:
            raise JobError(f"vCenter did not get the import ready within {LEASE_READY_SECONDS} seconds")
        time.sleep(1)


def _device_url(url: str, nfc_host: str) -> str:
    """vCenter writes `*` for "the host you are talking to" in lease URLs."""
    parts = urlsplit(url)
    if parts.hostname in ("*", None) or parts.netloc == "*":
        return parts._replace(netloc=nfc_host).geturl()
    return url


def _upload_disks(lease, info, package, file_items, *, nfc_host, verify_tls, report, check_cancelled):
    urls = {device.importKey: device.url for device in info.deviceUrl or []}
    sizes = {f.href: f.size for f in package.files}
    total = sum(sizes.get(item.path, 0) or item.size or 0 for item in file_items) or 1
    context = ssl.create_default_context() if verify_tls else ssl._create_unverified_context()  # noqa: S323
    state = {"sent": 0, "told": -1}

    def sent(count):
        state["sent"] += count
        percent = min(100, int(state["sent"] * 100 / total))
        # Progress also keeps the lease alive; every 5% is plenty.
        if percent // 5 != state["told"] // 5:
            state["told"] = percent
            lease.HttpNfcLeaseProgress(percent)
            report(UPLOAD_START + (UPLOAD_END - UPLOAD_START) * percent / 100, f"Uploading disks: {percent}%")

    for item in file_items:
        check_cancelled()
        url = urls.get(item.deviceId)
        if url is None:
            raise JobError(f"vCenter gave no upload URL for {item.path} ({item.deviceId})")
        with package.open_file(item.path) as (stream, size):
            _put(
                _device_url(url, nfc_host),
                stream,
                size,
                create=bool(item.create),
                context=context,
                on_sent=sent,
                name=item.path,
            )


def _put(url, stream, size, *, create, context, on_sent, name):
    parts = urlsplit(url)
    try:
        check_url(url)
    except OutboundRefused as exc:
        raise JobError(f"Uploading {name}: {exc}") from None
    conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443, context=context, timeout=60)
    try:
        # govmomi's lease upload: new files are PUT, streamOptimized disks are POSTed.
        conn.putrequest("PUT" if create else "POST", parts.path + (f"?{parts.query}" if parts.query else ""))
        conn.putheader("Content-Length", str(size))
        conn.putheader(
            "Content-Type", "application/octet-stream" if create else "application/x-vnd.vmware-streamVmdk"
        )
        conn.putheader("Connection", "close")
        conn.endheaders()
        while chunk := stream.read(CHUNK_BYTES):
            conn.send(chunk)
            on_sent(len(chunk))
        response = conn.getresponse()
        body = response.read(500).decode(errors="replace")
        if response.status >= 300:
            raise JobError(
                f"Uploading {name} failed: HTTP {response.status} {response.reason} {body}".strip()
            )
    except ssl.SSLCertVerificationError as exc:
        raise JobError(
            f"Uploading {name}: the TLS certificate of {parts.hostname} is not trusted ({exc.verify_message})"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise JobError(f"Uploading {name} to {parts.hostname} failed: {exc}") from None
    finally:
        conn.close()


def _abort(lease, vm, exc):
    """Leave nothing half-imported: vCenter drops the VM on abort; remove it if it did not."""
    try:
        fault = vmodl.MethodFault(msg=str(exc)[:500] or type(exc).__name__)
        lease.HttpNfcLeaseAbort(fault)
    except Exception:  # noqa: BLE001 - the original failure is the one to report
        logger.warning("aborting the import lease failed", exc_info=True)
    if vm is None:
        return
    try:
        from pyVim.task import WaitForTask

        WaitForTask(vm.Destroy_Task())
    except vmodl.fault.ManagedObjectNotFound:
        pass
    except Exception:  # noqa: BLE001
        logger.warning("removing the half-imported VM %s failed", vm, exc_info=True)


# --- power on and wait ----------------------------------------------------------------------


def power_on(vm, *, report=_nothing):
    from pyVim.task import WaitForTask

    if vm.runtime.powerState == vim.VirtualMachine.PowerState.poweredOn:
        report(90, f"VM {vm.name} is already powered on")
        return
    report(88, f"Powering on {vm.name}")
    try:
        WaitForTask(vm.PowerOnVM_Task())
    except vmodl.MethodFault as exc:
        raise JobError(f"vCenter could not power on {vm.name}: {exc.msg or type(exc).__name__}") from None
    report(90, f"VM {vm.name} powered on")


def wait_until_answering(
    check, spec: ConnectorSpec, *, wait_seconds, poll_seconds, report=_nothing, check_cancelled=_nothing
):
    url = check if isinstance(check, str) else f"https://{spec.ip}:9443/"
    probe = (lambda: url_answers(check)) if isinstance(check, str) else check
    report(92, f"Waiting for the appliance API at {url}")
    deadline = time.monotonic() + wait_seconds
    while True:
        check_cancelled()
        if probe():
            report(98, f"The appliance API at {url} answers")
            return
        if time.monotonic() >= deadline:
            raise JobError(
                f"VM {spec.vm_name} is powered on, but the appliance API at {url} did not answer within "
                f"{wait_seconds:g} seconds. Check that {spec.ip}/{spec.prefix} (gateway {spec.gateway}) is "
                f"reachable on port group {spec.network}, then run the deployment again: it will not re-import."
            )
        time.sleep(min(poll_seconds, max(0.0, deadline - time.monotonic())) or 0.05)
