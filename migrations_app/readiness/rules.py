"""The readiness rules (product.md §5): small named rules, each reading a VM's facts for one
migration type, or the wave as a whole, and saying what is wrong and how to fix it.

A VM rule declares its severity per migration type (a dict, or a function of the wave's options for
the rules that an option such as "remove ISOs" switches off); a type missing from the dict is one the
rule does not concern. The check returns a Problem (a reason the user can act on, and a fix) or None.
Limits come from settings.READINESS and settings.HCX_LIMITS, never from literals here.

Decisions where hcx-wire.md §11 leaves room ([D] = VMware documentation, [T] = third party):

- VMware Tools (Bulk only): Bulk's switchover shuts the guest down gracefully unless "force power-off"
  is set, and fails if it cannot (§11.1); the graceful shutdown goes through Tools, and §11.4 lists Tools
  as a Bulk requirement. So: a blocker while the wave asks for a graceful shutdown, a warning when
  the wave forces the power-off. vMotion, RAV and Cold never shut the guest down: no finding.
- Mounted media: vMotion and Cold [D] refuse attached ISOs; Bulk [T] too "unless removed". Blocker
  for vMotion and Cold, warning for Bulk and RAV; none when the wave removes ISOs.
- Physical RDM: Bulk refuses it [T]; for vMotion and Cold only virtual-mode RDMs are documented as
  migratable [D], and a physical RDM's LUN is not reachable from AVS. Blocker for every type.
- Shared VMDK, multi-writer, SCSI bus sharing, vNVMe: blockers for every type (§11.2 [D/T], §11.4 [T]).
- Independent disks: not named by hcx-wire.md §11. They are left out of snapshots, which vSphere
  Replication (Bulk, RAV) and HCX's validation rely on, so a warning for every type.
- DirectPath (PCI passthrough or DirectPath NICs): the device does not exist on AVS hosts, vMotion
  cannot move it, and Bulk requires its removal [T]. Blocker for every type. A VMXNET3 adapter's
  "DirectPath I/O" flag (RVTools' column) is UPT, allowed by default and not a device: not counted.
- USB devices: vMotion moves them only when enabled for vMotion and the device exists at the target,
  which AVS does not have: blocker for vMotion and RAV (whose switchover is a vMotion); the VM
  arrives without them with Bulk and Cold: warning.
- Fault Tolerance: vMotion cannot move an FT pair [T] and vSphere Replication does not protect FT
  VMs; blocker for every type (turn FT off first).
- Power state: Cold takes powered-off VMs only (a powered-on VM is a warning: it must be off at
  launch); vMotion, RAV and Bulk need a powered-on VM (blocker, "switch to Cold").
- Host CPU vendor: AVS hosts are Intel (settings.READINESS["TARGET_CPU_VENDORS"]); a live or
  replicated move needs the same vendor class, so only Cold is left (product.md §5).
- A VM that vanished from vCenter gets one blocker and no other finding.
- Network mappings (migrations_app/waves/network_targets.py, which says why): another VLAN's
  extension, or a target neither extended by the site nor listed by its AVS inventory, blocks every
  type; a target nothing can check yet, a segment that is not the network's extension (HCX keeps the
  VMs' addresses) and VM addresses outside the extension's gateway subnet are warnings.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from hcx.choices import MigrationType
from inventory.choices import DiskMode, PowerState, RdmMode, SwitchType, ToolsStatus
from migrations_app.choices import FindingSeverity, MappingTarget
from migrations_app.models import Wave
from migrations_app.waves.network_targets import RULE_SUBNET, RULE_TARGET, Source, target_issues

from .facts import Vm, WaveFacts

BLOCKER, WARNING = FindingSeverity.BLOCKER, FindingSeverity.WARNING
BULK, VMOTION, COLD, RAV = MigrationType.BULK, MigrationType.VMOTION, MigrationType.COLD, MigrationType.RAV
TYPES = tuple(MigrationType.values)
MIB_PER_TB = 1024 * 1024
SHOWN = 3  # names listed in one message before "and N more"


@dataclass(frozen=True)
class Problem:
    message: str
    fix: str = ""
    severity: str | None = None  # overrides the rule's severity for this type (for example "unknown")


@dataclass(frozen=True)
class Hit:
    """One finding before it is saved: the rule, its severity for the VM's type, and what to do."""

    rule: str
    severity: str
    message: str
    fix: str


Severity = dict[str, str] | Callable[[Wave, str], str | None]


@dataclass(frozen=True)
class VmRule:
    name: str
    title: str
    severity: Severity
    check: Callable[[Vm, WaveFacts, str], Problem | None]
    final: bool = False  # when it fires, no other rule is asked about the VM

    @property
    def description(self) -> str:
        return inspect.getdoc(self.check) or ""

    def severity_for(self, wave: Wave, migration_type: str) -> str | None:
        if callable(self.severity):
            return self.severity(wave, migration_type)
        return self.severity.get(migration_type)

    def __call__(self, vm: Vm, facts: WaveFacts, migration_type: str) -> Hit | None:
        severity = self.severity_for(facts.wave, migration_type)
        if severity is None:
            return None
        problem = self.check(vm, facts, migration_type)
        if problem is None:
            return None
        return Hit(self.name, problem.severity or severity, problem.message[:500], problem.fix[:500])


@dataclass(frozen=True)
class WaveRule:
    name: str
    title: str
    check: Callable[[WaveFacts, int], list[Hit]]

    @property
    def description(self) -> str:
        return inspect.getdoc(self.check) or ""


VM_RULES: list[VmRule] = []
WAVE_RULES: list[WaveRule] = []


def vm_rule(name: str, title: str, severity: Severity, final: bool = False):
    def register(check):
        VM_RULES.append(VmRule(name, title, severity, check, final))
        return check

    return register


def wave_rule(name: str, title: str):
    def register(check):
        WAVE_RULES.append(WaveRule(name, title, check))
        return check

    return register


def every(severity: str) -> dict[str, str]:
    return dict.fromkeys(TYPES, severity)


def label(migration_type: str) -> str:
    return str(MigrationType(migration_type).label)


def listed(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return f"{shown} and {len(names) - SHOWN} more" if len(names) > SHOWN else shown


# --- the VM itself ---------------------------------------------------------------------------


@vm_rule("vm-vanished", "VM vanished from vCenter", every(BLOCKER), final=True)
def vm_vanished(vm: Vm, facts: WaveFacts, migration_type: str):
    """The VM is still in the inventory's vCenter (the last discovery found it)."""
    if vm.removed:
        return Problem(
            f"{vm.name} was not found by the discovery of {vm.removed:%Y-%m-%d}: there is nothing to migrate.",
            "Remove it from the wave, or discover again if it was only renamed or moved.",
        )


@vm_rule("hardware-version", "VM hardware version", every(BLOCKER))
def hardware_version(vm: Vm, facts: WaveFacts, migration_type: str):
    """The VM's hardware version is at least the one the migration type needs (Bulk 7, the others 9)."""
    minimum = settings.READINESS["MIN_HW_VERSION"][migration_type]
    if vm.hw_version is None:
        return Problem(
            f"The hardware version is unknown; {label(migration_type)} needs version {minimum} or later.",
            "Discover the vCenter again or check the VM's compatibility setting in vSphere.",
            severity=WARNING,
        )
    if vm.hw_version < minimum:
        return Problem(
            f"Hardware version {vm.hw_version} is below {minimum}, the lowest {label(migration_type)} takes.",
            f"Upgrade the VM's compatibility to version {minimum} or later (needs a power cycle).",
        )


def _tools_severity(wave: Wave, migration_type: str) -> str | None:
    if migration_type != BULK:
        return None
    return WARNING if wave.force_power_off else BLOCKER


@vm_rule("vmware-tools", "VMware Tools", _tools_severity)
def vmware_tools(vm: Vm, facts: WaveFacts, migration_type: str):
    """VMware Tools are installed and running, so that Bulk's switchover can shut the guest down cleanly."""
    if not vm.powered_on or vm.tools_status not in (ToolsStatus.NOT_INSTALLED, ToolsStatus.NOT_RUNNING):
        return None
    state = "not installed" if vm.tools_status == ToolsStatus.NOT_INSTALLED else "not running"
    if facts.wave.force_power_off:
        return Problem(
            f"VMware Tools are {state}: with the wave's force power-off, Bulk's switchover will power the guest off without a clean shutdown.",
            "Install or start VMware Tools for a clean shutdown, or accept the hard power-off.",
        )
    return Problem(
        f"VMware Tools are {state}: Bulk's switchover shuts the guest down through Tools and fails without them.",
        "Install and start VMware Tools, or set force power-off on the wave.",
    )


def _media_severity(wave: Wave, migration_type: str) -> str | None:
    if wave.remove_isos:
        return None
    return BLOCKER if migration_type in (VMOTION, COLD) else WARNING


@vm_rule("mounted-media", "Mounted ISO or connected CD-ROM", _media_severity)
def mounted_media(vm: Vm, facts: WaveFacts, migration_type: str):
    """No ISO is mounted and no CD-ROM is connected, unless the wave removes ISOs."""
    drives = [c.label + (f" ({c.iso_path})" if c.iso_path else "") for c in vm.cdroms if c.has_media]
    if drives:
        return Problem(
            f"Attached media: {listed(drives)}. {label(migration_type)} does not migrate a VM with attached media.",
            "Set remove ISOs on the wave, or disconnect the media in vSphere.",
        )


def _snapshot_severity(wave: Wave, migration_type: str) -> str | None:
    # Bulk always removes snapshots (hcx-wire.md §11.1): nothing to say.
    if migration_type == BULK or wave.remove_snapshots:
        return None
    return WARNING


@vm_rule("snapshots", "Snapshots", _snapshot_severity)
def snapshots(vm: Vm, facts: WaveFacts, migration_type: str):
    """The VM has no snapshots, unless the wave removes them (Bulk always does)."""
    if vm.snapshots:
        return Problem(
            f"{vm.snapshots} snapshot{'s' if vm.snapshots != 1 else ''}: HCX validation warns and {label(migration_type)} may fail with them.",
            "Set remove snapshots on the wave, or consolidate the snapshots before the window.",
        )


# --- disks -----------------------------------------------------------------------------------


def disk_rule(name: str, title: str, severity: Severity, doc: str, matches: Callable, said: str, fix: str):
    """Register a rule that names the VM's disks `matches(disk, vm, facts)` picks; `said` is its message,
    with `{disks}` for their labels. The disk rules differ only in these, so they are a table."""

    def check(vm: Vm, facts: WaveFacts, migration_type: str):
        disks = [d.label for d in vm.disks if matches(d, vm, facts)]
        if disks:
            return Problem(said.format(disks=listed(disks)), fix)

    check.__doc__, check.__name__ = doc, name.replace("-", "_")
    return vm_rule(name, title, severity)(check)


INDEPENDENT = (DiskMode.INDEPENDENT_PERSISTENT, DiskMode.INDEPENDENT_NONPERSISTENT)

disk_rule(
    "physical-rdm",
    "Physical-mode RDM",
    every(BLOCKER),
    "No disk is a raw device mapping in physical compatibility mode.",
    lambda d, vm, facts: d.rdm_mode == RdmMode.PHYSICAL,
    "Physical-mode RDM: {disks}. HCX cannot migrate it; its LUN is not reachable from AVS.",
    "Copy the LUN's data to a virtual disk (or switch the RDM to virtual mode) before the migration.",
)
disk_rule(
    "shared-vmdk",
    "Shared VMDK",
    every(BLOCKER),
    "No disk file is also used by another VM.",
    lambda d, vm, facts: d.path and (vm.vcenter_id, d.path) in facts.shared_paths,
    "Disk file shared with another VM: {disks}. HCX does not migrate shared VMDKs.",
    "Detach the shared disk (clusters: move the shared data another way) before the migration.",
)
disk_rule(
    "multi-writer",
    "Multi-writer disk",
    every(BLOCKER),
    "No disk has multi-writer sharing.",
    lambda d, vm, facts: "multiwriter" in d.sharing.lower(),
    "Multi-writer sharing on {disks}: HCX does not migrate multi-writer disks.",
    "Turn multi-writer sharing off (after stopping the cluster that needs it) before the migration.",
)
disk_rule(
    "scsi-bus-sharing",
    "SCSI bus sharing",
    every(BLOCKER),
    "No disk controller shares its SCSI bus (virtual or physical).",
    lambda d, vm, facts: d.bus_sharing and d.bus_sharing.lower() not in ("nosharing", "none"),
    "SCSI bus sharing on the controller of {disks}: HCX does not migrate it.",
    "Set the controller's bus sharing to None before the migration.",
)
disk_rule(
    "vnvme",
    "vNVMe controller",
    every(BLOCKER),
    "No disk sits on a virtual NVMe controller.",
    lambda d, vm, facts: "nvme" in d.controller_type.lower(),
    "Virtual NVMe controller for {disks}: HCX does not migrate vNVMe disks.",
    "Move the disks to a SCSI (ParaVirtual or LSI) controller before the migration.",
)
disk_rule(
    "independent-disk",
    "Independent disk",
    every(WARNING),
    "No disk is in independent mode (independent disks are left out of snapshots).",
    lambda d, vm, facts: d.mode in INDEPENDENT,
    "Independent disk: {disks}. Snapshots leave it out, so HCX validation may refuse it.",
    "Switch the disk to dependent mode before the migration, or check HCX's validation result.",
)


# --- devices and features --------------------------------------------------------------------


@vm_rule("directpath", "DirectPath device", every(BLOCKER))
def directpath(vm: Vm, facts: WaveFacts, migration_type: str):
    """No PCI passthrough device and no DirectPath network adapter."""
    devices = (
        [f"{vm.passthrough_devices} PCI passthrough device{'s' if vm.passthrough_devices != 1 else ''}"]
        if vm.passthrough_devices
        else []
    )
    # RVTools' "Direct Path IO" of a VMXNET3 adapter is its UPT (DirectPath Gen2) option, on by default
    # and no passthrough device: only other adapters (SR-IOV, as discovery records it) count.
    devices += [
        f"{n.label} (DirectPath I/O)"
        for n in vm.nics
        if n.direct_path_io and "vmxnet3" not in n.adapter.lower()
    ]
    if devices:
        return Problem(
            f"{listed(devices)}: the hardware does not exist on AVS hosts and HCX cannot move it.",
            "Remove the passthrough devices (or turn DirectPath I/O off) before the migration.",
        )


@vm_rule("usb-devices", "USB devices", {VMOTION: BLOCKER, RAV: BLOCKER, BULK: WARNING, COLD: WARNING})
def usb_devices(vm: Vm, facts: WaveFacts, migration_type: str):
    """No USB device is connected (AVS hosts have none to offer)."""
    if vm.usb_devices:
        if migration_type in (VMOTION, RAV):
            return Problem(
                f"{vm.usb_devices} USB device(s) connected: {label(migration_type)} cannot move a VM with a host USB device.",
                "Disconnect the USB devices, or switch the VM to Bulk or Cold (it arrives without them).",
            )
        return Problem(
            f"{vm.usb_devices} USB device(s) connected: the VM arrives in AVS without them.",
            "Disconnect the USB devices, or make sure the workload does without them.",
        )


@vm_rule("fault-tolerance", "Fault Tolerance", every(BLOCKER))
def fault_tolerance(vm: Vm, facts: WaveFacts, migration_type: str):
    """vSphere Fault Tolerance is off."""
    if vm.ft_enabled:
        return Problem(
            "Fault Tolerance is on: HCX cannot migrate an FT-protected VM.",
            "Turn Fault Tolerance off before the migration (and on again in AVS if needed).",
        )


@vm_rule("power-state", "Power state", {BULK: BLOCKER, VMOTION: BLOCKER, RAV: BLOCKER, COLD: WARNING})
def power_state(vm: Vm, facts: WaveFacts, migration_type: str):
    """vMotion, RAV and Bulk move powered-on VMs; Cold moves powered-off ones."""
    state = (
        str(PowerState(vm.power_state).label).lower()
        if vm.power_state in PowerState.values
        else "in an unknown power state"
    )
    if migration_type == COLD:
        if vm.powered_on:
            return Problem(
                "The VM is powered on: Cold migration moves powered-off VMs.",
                "Power it off before the launch, or switch it to Bulk or HCX vMotion to keep it running.",
            )
        return None
    if not vm.powered_on:
        return Problem(
            f"The VM is {state}: {label(migration_type)} only moves powered-on VMs.",
            "Switch it to Cold, or power it on before the launch.",
        )


@vm_rule("cpu-vendor", "Source host CPU vendor", {BULK: BLOCKER, VMOTION: BLOCKER, RAV: BLOCKER})
def cpu_vendor(vm: Vm, facts: WaveFacts, migration_type: str):
    """The source host's CPU is of the AVS hosts' vendor; otherwise only Cold migration is possible."""
    text = (vm.host_cpu_vendor or vm.host_cpu_model).lower()
    targets = settings.READINESS["TARGET_CPU_VENDORS"]
    if not text or any(vendor in text for vendor in targets):
        return None  # an unknown vendor is not held against the VM
    return Problem(
        f"Host {vm.host_name or '?'} has a {vm.host_cpu_vendor or vm.host_cpu_model} CPU; AVS hosts are {'/'.join(targets)}: "
        f"{label(migration_type)} cannot cross CPU vendors.",
        "Switch the VM to Cold.",
    )


@vm_rule("large-vm", "Very large VM", every(WARNING))
def large_vm(vm: Vm, facts: WaveFacts, migration_type: str):
    """The VM's provisioned storage is below the very-large threshold (settings.READINESS["LARGE_VM_TB"])."""
    limit = settings.READINESS["LARGE_VM_TB"]
    size = vm.provisioned_mib / MIB_PER_TB
    if size > limit:
        return Problem(
            f"{size:,.1f} TB provisioned, above {limit:g} TB: the transfer takes long and may not fit the window.",
            "Start its replication early (Bulk or RAV with a scheduled switchover), or give it a wave of its own.",
        )


# --- networks --------------------------------------------------------------------------------


@vm_rule("network-unmapped", "Network not mapped", every(BLOCKER))
def network_unmapped(vm: Vm, facts: WaveFacts, migration_type: str):
    """Every network of the VM is mapped for the wave, or extended by the wave's site plan."""
    unknown = sorted({nic.name for nic in vm.nics if nic.network_id is None and nic.network_name})
    missing = sorted(
        {nic.name for nic in vm.nics if nic.network_id is not None and not facts.lands(nic).mapped}
    )
    if not unknown and not missing:
        return None
    reasons, fixes = [], []
    if missing:
        where = (
            "the wave's site plan does not extend it"
            if facts.wave.site_id
            else "the wave has no site pair, so nothing is extended"
        )
        reasons.append(f"Network {listed(missing)} has no mapping in this wave and {where}.")
        fixes.append(
            "Map the network to an extended network or an AVS segment on the wave, or extend it in the site's HCX plan."
        )
    if unknown:
        reasons.append(
            f"Network {listed(unknown)} is not among the inventory's networks, so it cannot be mapped."
        )
        fixes.append(
            "Discover the vCenter (or import an RVTools export with its port groups), then map the network."
        )
    return Problem(" ".join(reasons), " ".join(fixes))


def _target_problem(vm: Vm, facts: WaveFacts, rule: str) -> Problem | None:
    """The `rule` issues of where each of the VM's networks lands (network_targets.target_issues), in one
    finding: the messages and fixes of its networks, the worst severity."""
    issues = []
    for nic in vm.nics:
        if nic.network_id is None:
            continue
        source = Source(nic.network_id, nic.network_name, nic.vlan_id)
        for issue in target_issues(source, facts.lands(nic), facts.targets, nic.ip_addresses, vm.name):
            if issue.rule == rule and issue not in issues:
                issues.append(issue)
    if not issues:
        return None
    severity = BLOCKER if any(i.severity == BLOCKER for i in issues) else WARNING
    fixes = list(dict.fromkeys(i.fix for i in issues))
    return Problem(" ".join(i.message for i in issues), " ".join(fixes), severity=severity)


@vm_rule(RULE_TARGET, "Network mapping target", every(BLOCKER))
def network_target(vm: Vm, facts: WaveFacts, migration_type: str):
    """Each network lands on what the wave's site offers: an extended network of the same VLAN, or a segment of
    the AVS inventory read from HCX. Another VLAN's extension, or a target that is neither, blocks; a segment
    typed before the AVS inventory was read (or a wave without a site) is a warning: nothing can check it."""
    return _target_problem(vm, facts, RULE_TARGET)


@vm_rule(RULE_SUBNET, "Network lands on another subnet", every(WARNING))
def network_subnet(vm: Vm, facts: WaveFacts, migration_type: str):
    """The VMs keep their IP addresses (HCX does not re-address them): the network they land on carries their
    subnet. A segment that is not an extension of the network, or an extension whose gateway (HCX plan) does
    not hold the VM's addresses, is a warning."""
    return _target_problem(vm, facts, RULE_SUBNET)


@vm_rule("standard-vswitch", "Network on a standard vSwitch", every(BLOCKER))
def standard_vswitch(vm: Vm, facts: WaveFacts, migration_type: str):
    """A network that is not mapped to an AVS segment is on a distributed switch (HCX cannot extend a standard vSwitch port group)."""
    names = sorted(
        {
            nic.name
            for nic in vm.nics
            if nic.switch_type == SwitchType.STANDARD
            and facts.lands(nic).target_kind != MappingTarget.SEGMENT
        }
    )
    if names:
        return Problem(
            f"Network {listed(names)} is on a standard vSwitch: HCX Network Extension cannot extend it.",
            "Map it to an AVS segment (the VM gets a new IP there), or move the port group to a distributed switch.",
        )


@vm_rule("vlan-untagged", "Network without a VLAN", every(BLOCKER))
def vlan_untagged(vm: Vm, facts: WaveFacts, migration_type: str):
    """A port group that is not mapped to an AVS segment has one VLAN id other than 0 (HCX extends one VLAN per network)."""
    names = sorted(
        {
            f"{nic.name} (VLAN {nic.vlan or 'none'})"
            for nic in vm.nics
            if nic.network_id is not None
            and nic.switch_type != SwitchType.NSX  # NSX segments are extended without a VLAN
            and not nic.vlan_id
            and facts.lands(nic).target_kind != MappingTarget.SEGMENT
        }
    )
    if names:
        return Problem(
            f"Network {listed(names)}: HCX cannot extend an untagged (VLAN 0), trunk or VLAN-less port group.",
            "Map it to an AVS segment, or give the port group a single VLAN.",
        )


# --- the wave as a whole ---------------------------------------------------------------------


@wave_rule("empty-wave", "Wave without VMs")
def empty_wave(facts: WaveFacts, vm_count: int) -> list[Hit]:
    """The wave has VMs to migrate."""
    if vm_count:
        return []
    return [
        Hit(
            "empty-wave",
            BLOCKER,
            "The wave has no VMs: there is nothing to approve.",
            "Add groups or VMs to the wave.",
        )
    ]


@wave_rule("target-capacity", "Target cluster capacity")
def target_capacity(facts: WaveFacts, vm_count: int) -> list[Hit]:
    """The target cluster's usable vCPUs, memory and vSAN capacity (after HA and failures-to-tolerate) hold
    this wave and the waves into it that move before or with it (running and completed ones always count)."""
    from migrations_app.waves.capacity import fit_for_wave

    wave = facts.wave
    if wave.target_cluster_id is None:
        return [
            Hit(
                "target-capacity",
                WARNING,
                "No target cluster: the wave's capacity is not checked.",
                "Choose the AVS cluster the wave migrates into.",
            )
        ]
    try:
        fit = fit_for_wave(wave)
    except ValueError as exc:  # a host type without figures in settings.AVS_HOST_TYPES
        return [
            Hit(
                "target-capacity",
                WARNING,
                f"Capacity not checked: {exc}.",
                "Add the host type's figures to AVS_HOST_TYPES.",
            )
        ]
    if fit.fits:
        return []
    return [
        Hit(
            "target-capacity",
            BLOCKER,
            f"The wave does not fit {wave.target_cluster.name}: {'; '.join(fit.problems)}."[:500],
            "Add hosts to the cluster, move VMs to a later wave, or choose another target cluster.",
        )
    ]


@wave_rule("wave-caps", "Wave caps")
def wave_caps(facts: WaveFacts, vm_count: int) -> list[Hit]:
    """The wave stays within its own VM and TB caps."""
    from migrations_app.waves.capacity import cap_warnings, wave_totals

    wave = facts.wave
    if wave.max_vms is None and wave.max_tb is None:
        return []
    return [
        Hit("wave-caps", WARNING, f"{warning}.", "Move VMs to another wave, or raise the cap.")
        for warning in cap_warnings(wave, wave_totals(wave))
    ]


RULES_BY_NAME: dict[str, VmRule | WaveRule] = {r.name: r for r in [*VM_RULES, *WAVE_RULES]}


def title(rule_name: str) -> str:
    rule = RULES_BY_NAME.get(rule_name)
    return rule.title if rule else rule_name
