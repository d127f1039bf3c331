"""Which RVTools columns the importer reads, under every name RVTools versions have given them.

Headers match case-insensitively and ignoring spaces and punctuation ("In Use MiB", "in use mib",
"InUse MiB"). Older RVTools say MB where newer say MiB; both are mebibytes (RVTools always
divided by 1024), so "MB" headers are read as the MiB ones.
"""

import re

_UNIT = re.compile(r"\b([kmgt])b\b")


def normalize(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _UNIT.sub(r"\1ib", str(header).lower()))


# field -> header names, first the current one. Fields listed in REQUIRED must be present.
COLUMNS = {
    "vinfo": {
        "vm": ("VM",),
        "vm_id": ("VM ID",),
        "vm_uuid": ("VM UUID",),
        "bios_uuid": ("SMBIOS UUID",),
        "power": ("Powerstate", "Power state"),
        "template": ("Template",),
        "dns_name": ("DNS Name",),
        "cpus": ("CPUs",),
        "memory": ("Memory",),
        "cbt": ("CBT",),
        "primary_ip": ("Primary IP Address",),
        "resource_pool": ("Resource pool",),
        "folder": ("Folder",),
        "ft_state": ("FT State",),
        "provisioned": ("Provisioned MiB",),
        "in_use": ("In Use MiB",),
        "firmware": ("Firmware",),
        "hw_version": ("HW version",),
        "annotation": ("Annotation",),
        "datacenter": ("Datacenter",),
        "cluster": ("Cluster",),
        "host": ("Host",),
        "guest_os": ("OS according to the configuration file", "OS"),
        "guest_os_tools": ("OS according to the VMware Tools",),
        "server": ("VI SDK Server",),
        "server_uuid": ("VI SDK UUID",),
    },
    "vtools": {
        "vm": ("VM",),
        "vm_id": ("VM ID",),
        "tools": ("Tools",),
        "tools_version": ("Tools Version",),
        "hw_version": ("VM Version",),
        "folder": ("Folder",),
        "server": ("VI SDK Server",),
    },
    "vdisk": {
        "vm": ("VM",),
        "vm_id": ("VM ID",),
        "label": ("Disk",),
        "key": ("Disk Key",),
        "capacity": ("Capacity MiB",),
        "raw": ("Raw",),
        "mode": ("Disk Mode",),
        "sharing": ("Sharing mode",),
        "thin": ("Thin",),
        "controller_type": ("Controller",),
        "controller": ("Label",),
        "bus_sharing": ("Shared Bus",),
        "path": ("Path",),
        "raw_mode": ("Raw Comp. Mode",),
        "server": ("VI SDK Server",),
    },
    "vnetwork": {
        "vm": ("VM",),
        "vm_id": ("VM ID",),
        "label": ("NIC label", "NIC"),
        "adapter": ("Adapter",),
        "network": ("Network", "Portgroup"),
        "connected": ("Connected",),
        "start_connected": ("Starts Connected",),
        "mac": ("Mac Address",),
        "ipv4": ("IPv4 Address", "IP Address"),
        "ipv6": ("IPv6 Address",),
        "direct_path_io": ("Direct Path IO",),
        "server": ("VI SDK Server",),
    },
    "vcd": {
        "vm": ("VM",),
        "vm_id": ("VM ID",),
        "label": ("Device Node",),
        "connected": ("Connected",),
        "start_connected": ("Starts Connected",),
        "device_type": ("Device Type",),
        "server": ("VI SDK Server",),
    },
    "vsnapshot": {
        "vm": ("VM",),
        "vm_id": ("VM ID",),
        "name": ("Name",),
        "description": ("Description",),
        "created_at": ("Date / time", "Date time"),
        "size": ("Size MiB (total)",),
        "size_vmsn": ("Size MiB (vmsn)", "Size MiB"),
        "quiesced": ("Quiesced",),
        "state": ("State",),
        "server": ("VI SDK Server",),
    },
    "vusb": {
        "vm": ("VM",),
        "vm_id": ("VM ID",),
        "server": ("VI SDK Server",),
    },
    "vhost": {
        "name": ("Host",),
        "moid": ("Object ID",),
        "datacenter": ("Datacenter",),
        "cluster": ("Cluster",),
        "in_maintenance": ("in Maintenance Mode",),
        "cpu_model": ("CPU Model",),
        "cpu_mhz": ("Speed",),
        "sockets": ("# CPU",),
        "cores": ("# Cores",),
        "memory": ("# Memory",),
        "esx_version": ("ESX Version",),
        "vendor": ("Vendor",),
        "model": ("Model",),
        "server": ("VI SDK Server",),
    },
    "vcluster": {
        "name": ("Name",),
        "moid": ("Object ID",),
        "num_hosts": ("NumHosts",),
        "cores": ("NumCpuCores",),
        "cpu_mhz": ("TotalCpu",),
        "memory": ("TotalMemory",),
        "ha_enabled": ("HA enabled",),
        "drs_enabled": ("DRS enabled",),
        "server": ("VI SDK Server",),
    },
    "vdatastore": {
        "name": ("Name",),
        "moid": ("Object ID",),
        "type": ("Type",),
        "capacity": ("Capacity MiB",),
        "free": ("Free MiB",),
        "provisioned": ("Provisioned MiB",),
        "url": ("URL",),
        "server": ("VI SDK Server",),
    },
    "vport": {
        "name": ("Port Group",),
        "switch": ("Switch",),
        "vlan": ("VLAN",),
        "server": ("VI SDK Server",),
    },
    "dvport": {
        "name": ("Port",),
        "switch": ("Switch",),
        "vlan": ("VLAN",),
        "moid": ("Object ID",),
        "server": ("VI SDK Server",),
    },
    "vmetadata": {
        "server": ("Server",),
    },
    "vsource": {
        "version": ("Version",),
        "build": ("Build",),
        "server": ("VI SDK Server",),
        "server_uuid": ("VI SDK UUID",),
    },
}

# A VM's rows in the device sheets are found by "VM ID"; exports without it fall back to the VM name.
REQUIRED = {
    "vinfo": ("vm", "power"),  # without "VI SDK Server" or "VM ID": see map_sheets
    "vtools": ("vm",),
    "vdisk": ("vm", "label"),
    "vnetwork": ("vm", "label"),
    "vcd": ("vm", "label"),
    "vsnapshot": ("vm", "name"),
    "vusb": ("vm",),
    "vhost": ("name",),
    "vcluster": ("name",),
    "vdatastore": ("name",),
    "vport": ("name",),
    "dvport": ("name",),
    "vsource": (),
    "vmetadata": (),
}

# The columns read as numbers: what a CSV writes in them tells which decimal mark its locale uses.
NUMBERS = {
    "vinfo": ("cpus", "memory", "provisioned", "in_use"),
    "vdisk": ("key", "capacity"),
    "vsnapshot": ("size", "size_vmsn"),
    "vhost": ("sockets", "cores", "cpu_mhz", "memory"),
    "vcluster": ("num_hosts", "cores", "cpu_mhz", "memory"),
    "vdatastore": ("capacity", "free", "provisioned"),
}

# Every column RVTools itself writes on vInfo (4.x and the 3.x names that differ). Any other
# column is a vCenter custom attribute ("Backup status", "Last backup"...) and is kept on the VM.
# fmt: off
STANDARD_VINFO = {
    normalize(h)
    for h in (
        "VM", "Powerstate", "Template", "SRM Placeholder", "Config status", "DNS Name", "Connection state",
        "Guest state", "Heartbeat", "Consolidation Needed", "PowerOn", "Suspended To Memory", "Suspend time",
        "Suspend Interval", "Creation date", "Change Version", "CPUs", "Overall Cpu Readiness", "Memory",
        "Active Memory", "NICs", "Disks", "Total disk capacity MiB", "Fixed Passthru HotPlug",
        "min Required EVC Mode Key", "Latency Sensitivity", "Op Notification Timeout", "EnableUUID", "CBT",
        "Primary IP Address", "Network #1", "Network #2", "Network #3", "Network #4", "Network #5",
        "Network #6", "Network #7", "Network #8", "Num Monitors", "Video Ram KiB", "Resource pool",
        "Folder ID", "Folder", "vApp", "DAS protection", "FT State", "FT Role", "FT Latency", "FT Bandwidth",
        "FT Sec. Latency", "Vm Failover In Progress", "Provisioned MiB", "In Use MiB", "Unshared MiB",
        "HA Restart Priority", "HA Isolation Response", "HA VM Monitoring", "Cluster rule(s)",
        "Cluster rule name(s)", "Boot Required", "Boot delay", "Boot retry delay", "Boot retry enabled",
        "Boot BIOS setup", "Reboot PowerOff", "EFI Secure boot", "Firmware", "HW version", "HW upgrade status",
        "HW upgrade policy", "HW target", "Path", "Log directory", "Snapshot directory", "Suspend directory",
        "Annotation", "Datacenter", "Cluster", "Host", "OS according to the configuration file",
        "OS according to the VMware Tools", "Customization Info", "Guest Detailed Data", "VM ID", "SMBIOS UUID",
        "VM UUID", "VI SDK Server type", "VI SDK API Version", "VI SDK Server", "VI SDK UUID",
        # older RVTools
        "OS", "Power state", "Tools", "Tools Version", "VM Version", "NIC", "Unshared", "Object ID",
        "Network", "Dns Name", "Cluster rule", "Suspended",
    )
}
# fmt: on


def resolve(headers: list[str], sheet_key: str) -> dict[str, int]:
    """Map each known field of the sheet to its column index in `headers`; absent fields are left out."""
    positions = {}
    for index, header in enumerate(headers):
        positions.setdefault(normalize(header), index)
    found = {}
    for field, names in COLUMNS[sheet_key].items():
        for name in names:
            if normalize(name) in positions:
                found[field] = positions[normalize(name)]
                break
    return found
