"""The demo estate: St Mary's Health, a hospital group with one vCenter and ~300 VMs.

`build_estate()` makes the rows (pure, seeded, no database); `load()` writes them through
`inventory.estate.write_estate` like discovery and imports do, so loading twice writes nothing.

The estate is made to exercise the readiness rules: old hardware versions, VMware Tools
missing or stopped, mounted ISOs, snapshots, physical RDMs and shared disks of SQL
clusters, independent disks, powered-off VMs, templates, FT, USB and passthrough devices,
networks on standard vSwitches and on VLAN 0, a cluster of AMD hosts, a >10 TB archive.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction

from .choices import DiskMode, PowerState, RdmMode, SourceKind, SwitchType, ToolsStatus
from .estate import DEMO, SECTIONS, Estate, write_estate
from .models import VCenter

VCENTER_NAME = "vcenter.stmarys-health.local"
DOMAIN = "stmarys-health.local"
SEED = 20250115
# Snapshot dates count back from a fixed day, not from today, so that a reload compares equal.
EPOCH = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
GIB = 1024
TIB = 1024 * 1024

# name, datacenter, hosts, cpu vendor, cpu model, sockets, cores/socket, MHz, memory GiB, ESXi, server
CLUSTERS = [
    (
        "PROD-CL01",
        "SMH-Main",
        4,
        "intel",
        "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
        2,
        32,
        2000,
        1024,
        "VMware ESXi 7.0.3 build-21930508",
        ("Dell Inc.", "PowerEdge R750"),
    ),
    (
        "PROD-CL02",
        "SMH-Main",
        4,
        "intel",
        "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz",
        2,
        24,
        3000,
        768,
        "VMware ESXi 7.0.3 build-21930508",
        ("HPE", "ProLiant DL380 Gen10"),
    ),
    (
        "DMZ-CL01",
        "SMH-Main",
        2,
        "intel",
        "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz",
        2,
        16,
        2400,
        384,
        "VMware ESXi 7.0.3 build-21930508",
        ("Dell Inc.", "PowerEdge R650"),
    ),
    # AMD sources can only cold-migrate into AVS: the readiness rule needs a cluster like this.
    (
        "LEGACY-CL01",
        "SMH-Annex",
        2,
        "amd",
        "AMD EPYC 7302 16-Core Processor",
        2,
        16,
        3000,
        512,
        "VMware ESXi 6.7.0 build-17700523",
        ("Supermicro", "AS-2024US-TRT"),
    ),
]

# name, type, capacity TiB, the clusters that use it
DATASTORES = [
    ("PROD-CL01-vsanDatastore", "vsan", 80, ("PROD-CL01",)),
    ("PROD-CL02-VMFS-01", "VMFS", 24, ("PROD-CL02",)),
    ("PROD-CL02-VMFS-02", "VMFS", 24, ("PROD-CL02",)),
    ("PACS-NFS-01", "NFS", 160, ("PROD-CL01", "PROD-CL02")),
    ("DMZ-VMFS-01", "VMFS", 8, ("DMZ-CL01",)),
    ("LEGACY-NFS-01", "NFS", 24, ("LEGACY-CL01",)),
    ("ISO-LIBRARY", "NFS", 2, ()),
]

# name, switch, switch type, VLAN
NETWORKS = [
    ("dvpg-mgmt-vlan5", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "5"),
    ("dvpg-infra-vlan10", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "10"),
    ("dvpg-ehr-web-vlan110", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "110"),
    ("dvpg-ehr-app-vlan111", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "111"),
    ("dvpg-ehr-db-vlan112", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "112"),
    ("dvpg-pacs-vlan130", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "130"),
    ("dvpg-lab-vlan140", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "140"),
    ("dvpg-sql-vlan150", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "150"),
    ("dvpg-sql-heartbeat-vlan151", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "151"),
    ("dvpg-files-vlan160", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "160"),
    ("dvpg-vdi-vlan300", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "300"),
    ("dvpg-dev-vlan400", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "400"),
    ("dvpg-test-vlan410", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "410"),
    ("dvpg-trunk-monitoring", "dvs-SMH-Prod", SwitchType.DISTRIBUTED, "0-4094"),
    # Standard vSwitch port groups cannot be extended by HCX; VLAN 0 cannot either.
    ("DMZ-Web", "vSwitch1", SwitchType.STANDARD, "210"),
    ("Legacy-LAN", "vSwitch0", SwitchType.STANDARD, "50"),
    ("VM Network", "vSwitch0", SwitchType.STANDARD, "0"),
]

OS = {
    "w2022": ("Microsoft Windows Server 2022 (64-bit)", "windows"),
    "w2019": ("Microsoft Windows Server 2019 (64-bit)", "windows"),
    "w2016": ("Microsoft Windows Server 2016 or later (64-bit)", "windows"),
    "w2012": ("Microsoft Windows Server 2012 (64-bit)", "windows"),
    "w2008": ("Microsoft Windows Server 2008 R2 (64-bit)", "windows"),
    "w10": ("Microsoft Windows 10 (64-bit)", "windows"),
    "rhel8": ("Red Hat Enterprise Linux 8 (64-bit)", "linux"),
    "rhel7": ("Red Hat Enterprise Linux 7 (64-bit)", "linux"),
    "ubuntu": ("Ubuntu Linux (64-bit)", "linux"),
    "centos7": ("CentOS 7 (64-bit)", "linux"),
    "sles12": ("SUSE Linux Enterprise 12 (64-bit)", "linux"),
    "appliance": ("Other 3.x or later Linux (64-bit)", "linux"),
}


@dataclass
class Tier:
    """A group of VMs of one application: `count` VMs named `prefix01`, `prefix02`..."""

    prefix: str
    count: int
    app: str
    env: str
    owner: str
    cluster: str
    network: str
    os: tuple[str, ...]
    cpu: int
    mem_gib: int
    disks_gib: tuple[int, ...]
    datastore: str | None = None  # default: the cluster's first datastore
    backup: str = "Silver"
    traits: dict = field(default_factory=dict)  # per-VM overrides by index (1-based) or "all"


TIERS = [
    Tier(
        "ehr-web",
        8,
        "EHR",
        "Production",
        "Clinical Systems",
        "PROD-CL01",
        "dvpg-ehr-web-vlan110",
        ("w2019",),
        4,
        16,
        (100,),
        backup="Gold",
    ),
    Tier(
        "ehr-app",
        16,
        "EHR",
        "Production",
        "Clinical Systems",
        "PROD-CL01",
        "dvpg-ehr-app-vlan111",
        ("w2019", "w2022"),
        8,
        32,
        (100, 200),
        backup="Gold",
    ),
    Tier(
        "ehr-db",
        2,
        "EHR",
        "Production",
        "Clinical Systems",
        "PROD-CL01",
        "dvpg-ehr-db-vlan112",
        ("rhel8",),
        32,
        512,
        (200, 4096, 1024),
        backup="Gold",
        traits={1: {"log_disk_independent": True}},
    ),
    Tier(
        "ehr-iface",
        4,
        "EHR Interfaces",
        "Production",
        "Integration Team",
        "PROD-CL01",
        "dvpg-ehr-app-vlan111",
        ("w2019",),
        4,
        16,
        (100, 100),
        backup="Gold",
        traits={1: {"direct_path_nic": True}},
    ),
    Tier(
        "ehr-print",
        4,
        "EHR",
        "Production",
        "Clinical Systems",
        "PROD-CL02",
        "dvpg-ehr-app-vlan111",
        ("w2016",),
        2,
        8,
        (80,),
    ),
    Tier(
        "pacs-img",
        6,
        "PACS",
        "Production",
        "Radiology IT",
        "PROD-CL02",
        "dvpg-pacs-vlan130",
        ("w2019",),
        8,
        64,
        (150, 4096, 4096),
        datastore="PACS-NFS-01",
        backup="Gold",
    ),
    Tier(
        "pacs-web",
        3,
        "PACS",
        "Production",
        "Radiology IT",
        "PROD-CL02",
        "dvpg-pacs-vlan130",
        ("w2019",),
        4,
        16,
        (100,),
    ),
    Tier(
        "pacs-db",
        2,
        "PACS",
        "Production",
        "Radiology IT",
        "PROD-CL02",
        "dvpg-pacs-vlan130",
        ("w2019",),
        16,
        128,
        (150, 2048, 512),
        backup="Gold",
    ),
    # A >10 TB archive: the "very large VM" rule.
    Tier(
        "pacs-arch",
        1,
        "PACS",
        "Production",
        "Radiology IT",
        "PROD-CL02",
        "dvpg-pacs-vlan130",
        ("rhel7",),
        8,
        64,
        (100, 8192, 8192),
        datastore="PACS-NFS-01",
        backup="Gold",
        traits={1: {"independent_data": True}},
    ),
    Tier(
        "pacs-gpu",
        1,
        "PACS 3D Reconstruction",
        "Production",
        "Radiology IT",
        "PROD-CL02",
        "dvpg-pacs-vlan130",
        ("w2019",),
        16,
        128,
        (200, 1024),
        traits={1: {"passthrough": 1}},
    ),
    Tier(
        "lis-app",
        4,
        "LIS",
        "Production",
        "Pathology IT",
        "PROD-CL02",
        "dvpg-lab-vlan140",
        ("w2016",),
        4,
        16,
        (100, 200),
        backup="Gold",
    ),
    Tier(
        "lis-db",
        2,
        "LIS",
        "Production",
        "Pathology IT",
        "PROD-CL02",
        "dvpg-lab-vlan140",
        ("w2016",),
        8,
        64,
        (100, 1024),
        backup="Gold",
    ),
    # One VM with Fault Tolerance: the analyser interface must never stop.
    Tier(
        "lis-iface",
        2,
        "LIS",
        "Production",
        "Pathology IT",
        "PROD-CL02",
        "dvpg-lab-vlan140",
        ("w2012",),
        2,
        8,
        (80,),
        backup="Gold",
        traits={1: {"ft": True}},
    ),
    Tier(
        "lab-analyzer-gw",
        2,
        "LIS",
        "Production",
        "Pathology IT",
        "LEGACY-CL01",
        "Legacy-LAN",
        ("w2008",),
        2,
        4,
        (60,),
        traits={1: {"usb": 1}},
    ),
    Tier(
        "dc",
        4,
        "Active Directory",
        "Production",
        "Infrastructure",
        "PROD-CL01",
        "dvpg-infra-vlan10",
        ("w2022",),
        4,
        16,
        (100,),
        backup="Gold",
    ),
    Tier(
        "dns",
        2,
        "DNS/DHCP",
        "Production",
        "Infrastructure",
        "PROD-CL02",
        "dvpg-infra-vlan10",
        ("rhel8",),
        2,
        4,
        (40,),
    ),
    Tier(
        "fs",
        6,
        "File Services",
        "Production",
        "Infrastructure",
        "PROD-CL02",
        "dvpg-files-vlan160",
        ("w2019",),
        4,
        16,
        (100, 2048),
        datastore="PROD-CL02-VMFS-02",
    ),
    Tier(
        "print",
        4,
        "Print",
        "Production",
        "Infrastructure",
        "PROD-CL02",
        "dvpg-infra-vlan10",
        ("w2016",),
        2,
        8,
        (80,),
    ),
    Tier(
        "bkp-proxy",
        2,
        "Backup",
        "Production",
        "Infrastructure",
        "PROD-CL02",
        "dvpg-mgmt-vlan5",
        ("w2019",),
        8,
        32,
        (100,),
        traits={1: {"usb": 1}},
    ),  # licence dongle on a USB port
    Tier(
        "mon-zabbix",
        2,
        "Monitoring",
        "Production",
        "Infrastructure",
        "PROD-CL01",
        "dvpg-mgmt-vlan5",
        ("rhel8",),
        4,
        16,
        (100, 500),
    ),
    Tier(
        "mon-elk",
        3,
        "Monitoring",
        "Production",
        "Infrastructure",
        "PROD-CL01",
        "dvpg-trunk-monitoring",
        ("ubuntu",),
        8,
        64,
        (100, 2048),
        traits={"all": {"independent_data": True}},
    ),
    Tier(
        "mon-grafana",
        1,
        "Monitoring",
        "Production",
        "Infrastructure",
        "PROD-CL01",
        "dvpg-mgmt-vlan5",
        ("ubuntu",),
        2,
        8,
        (60,),
    ),
    Tier(
        "vdi-cs",
        4,
        "VDI",
        "Production",
        "End User Computing",
        "PROD-CL01",
        "dvpg-vdi-vlan300",
        ("w2019",),
        4,
        16,
        (100,),
    ),
    Tier(
        "vdi-uag",
        2,
        "VDI",
        "Production",
        "End User Computing",
        "DMZ-CL01",
        "DMZ-Web",
        ("appliance",),
        4,
        16,
        (40,),
    ),
    Tier(
        "web-portal",
        10,
        "Patient Portal",
        "Production",
        "Digital",
        "DMZ-CL01",
        "DMZ-Web",
        ("ubuntu", "rhel8"),
        2,
        8,
        (60,),
    ),
    Tier(
        "sftp-dmz",
        2,
        "Partner File Exchange",
        "Production",
        "Digital",
        "DMZ-CL01",
        "DMZ-Web",
        ("rhel7",),
        2,
        4,
        (200,),
    ),
    Tier(
        "legacy-hr",
        6,
        "Legacy HR/Payroll",
        "Production",
        "Corporate IT",
        "LEGACY-CL01",
        "Legacy-LAN",
        ("w2008", "w2012"),
        2,
        8,
        (80, 200),
    ),
    Tier(
        "legacy-fin",
        6,
        "Legacy Finance",
        "Production",
        "Corporate IT",
        "LEGACY-CL01",
        "VM Network",
        ("w2008", "sles12"),
        4,
        16,
        (80, 300),
    ),
    Tier(
        "legacy-app",
        8,
        "Legacy Apps",
        "Production",
        "Corporate IT",
        "LEGACY-CL01",
        "VM Network",
        ("centos7", "w2012", "w2008"),
        2,
        4,
        (60,),
    ),
]
SQL_CLUSTERS = 3  # two-node WSFC/RAC pairs, added by _sql_cluster()
DEV_TEST_VMS = 171  # the long tail that brings the estate to about 300
TEMPLATES = [
    ("tpl-win2019", "w2019"),
    ("tpl-win2022", "w2022"),
    ("tpl-rhel8", "rhel8"),
    ("tpl-ubuntu2204", "ubuntu"),
]

PARTS = ("disks", "nics", "cdroms", "snapshots")
# what `load()` reports, in the order `load_demo` prints it: written kind -> name shown
REPORTED = {**{kind: kind for kind in SECTIONS if kind != "tags"}, "vm_tags": "vm tags", "tags": "tags"}

# Hardware versions by cluster: the legacy estate still has 7s and 8s.
HW_VERSIONS = {
    "PROD-CL01": (14, 15, 17, 19, 19, 19, 20, 21),
    "PROD-CL02": (11, 13, 14, 15, 17, 19, 19),
    "DMZ-CL01": (13, 15, 19, 19),
    "LEGACY-CL01": (7, 7, 8, 8, 9, 10, 11),
}


class _Builder:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.estate = Estate(
            clusters=[],
            hosts=[],
            datastores=[],
            networks=[],
            vms=[],
            disks=[],
            nics=[],
            cdroms=[],
            snapshots=[],
            tags=[],
        )
        self.vms: list[dict] = []  # with their "disks", "nics", "cdroms", "snapshots" and "tags" until built
        self.hosts_by_cluster: dict[str, list[str]] = {}
        self.datastores_by_cluster: dict[str, list[str]] = {}
        self.ip_next: dict[str, int] = {}
        self.vm_index = 0

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def build(self) -> Estate:
        self._infrastructure()
        for tier in TIERS:
            for i in range(1, tier.count + 1):
                traits = {**tier.traits.get("all", {}), **tier.traits.get(i, {})}
                self._vm(f"{tier.prefix}{i:02d}", tier, traits)
        for n in range(1, SQL_CLUSTERS + 1):
            self._sql_cluster(n)
        self._dev_test()
        for name, os_key in TEMPLATES:
            tier = Tier(
                name,
                1,
                "Templates",
                "Build",
                "Infrastructure",
                "PROD-CL02",
                "dvpg-infra-vlan10",
                (os_key,),
                2,
                4,
                (60,),
            )
            self._vm(name, tier, {"template": True})
        self._datastore_usage()
        for vm in self.vms:
            self._add(vm)
        return self.estate

    def _add(self, vm: dict):
        """The VM into the estate, its parts and tags each into their own list, naming the VM."""
        for part in PARTS:
            getattr(self.estate, part).extend({**row, "vm_moid": vm["moid"]} for row in vm.pop(part))
        self.estate.tags.extend((vm["moid"], tag) for tag in vm.pop("tags"))
        self.estate.vms.append(vm)

    def _infrastructure(self):
        host_no = 0
        for c_no, (
            name,
            dc,
            n_hosts,
            vendor,
            cpu,
            sockets,
            cores,
            mhz,
            mem,
            esx,
            (hw_vendor, hw_model),
        ) in enumerate(CLUSTERS, start=1):
            moid = f"domain-c{1000 + c_no}"
            self.estate.clusters.append(
                {
                    "moid": moid,
                    "name": name,
                    "datacenter": dc,
                    "num_hosts": n_hosts,
                    "num_cpu_cores": n_hosts * sockets * cores,
                    "total_cpu_mhz": n_hosts * sockets * cores * mhz,
                    "total_memory_mib": n_hosts * mem * GIB,
                    "ha_enabled": True,
                    "drs_enabled": name != "LEGACY-CL01",
                }
            )
            self.hosts_by_cluster[name] = []
            for h in range(1, n_hosts + 1):
                host_no += 1
                host_moid = f"host-{2000 + host_no}"
                self.hosts_by_cluster[name].append(host_moid)
                self.estate.hosts.append(
                    {
                        "moid": host_moid,
                        "name": f"esx-{name.lower()}-{h:02d}.{DOMAIN}",
                        "cluster_moid": moid,
                        "datacenter": dc,
                        "cpu_model": cpu,
                        "cpu_vendor": vendor,
                        "num_cpu_sockets": sockets,
                        "num_cpu_cores": sockets * cores,
                        "cpu_mhz": mhz,
                        "memory_mib": mem * GIB,
                        "esx_version": esx,
                        "vendor": hw_vendor,
                        "model": hw_model,
                        # one host patched last night and still in maintenance mode
                        "in_maintenance": name == "PROD-CL02" and h == n_hosts,
                    }
                )
        for d_no, (name, kind, tib, clusters) in enumerate(DATASTORES, start=1):
            moid = f"datastore-{3000 + d_no}"
            self.estate.datastores.append(
                {
                    "moid": moid,
                    "name": name,
                    "type": kind,
                    "capacity_mib": tib * TIB,
                    "url": f"ds:///vmfs/volumes/{uuid.UUID(int=d_no)}/",
                }
            )
            for cluster in clusters:
                self.datastores_by_cluster.setdefault(cluster, []).append(name)
        for n_no, (name, switch, kind, vlan) in enumerate(NETWORKS, start=1):
            prefix = "dvportgroup" if kind == SwitchType.DISTRIBUTED else "network"
            self.estate.networks.append(
                {
                    "name": name,
                    "moid": f"{prefix}-{4000 + n_no}",
                    "switch_name": switch,
                    "switch_type": kind,
                    "vlan": vlan,
                    "vlan_id": int(vlan) if vlan.isdigit() else None,
                }
            )
        self.datastore_moids = {d["name"]: d["moid"] for d in self.estate.datastores}
        self.cluster_dc = {c["name"]: c["datacenter"] for c in self.estate.clusters}
        self.cluster_moids = {c["name"]: c["moid"] for c in self.estate.clusters}
        self.vlans = {n[0]: n[3] for n in NETWORKS}

    def _ip(self, network: str) -> str | None:
        vlan = self.vlans[network]
        if not vlan.isdigit():
            return None
        n = self.ip_next.get(network, 10)
        self.ip_next[network] = n + 1
        third = int(vlan) % 256 if vlan != "0" else 1
        return f"10.{20 + n // 250}.{third}.{n % 250 + 1}"

    def _vm(self, name: str, tier: Tier, traits: dict) -> dict:
        rng = self.rng
        self.vm_index += 1
        idx = self.vm_index
        cluster = tier.cluster
        os_name, family = OS[rng.choice(tier.os)]
        template = traits.get("template", False)
        legacy = cluster == "LEGACY-CL01"
        dev = tier.env in ("Development", "Test")

        if template or traits.get("powered_off"):
            power = PowerState.OFF
        elif dev and rng.random() < 0.3:
            power = PowerState.OFF
        elif rng.random() < 0.01:
            power = PowerState.SUSPENDED
        else:
            power = PowerState.ON
        hw = traits.get("hw") or rng.choice(HW_VERSIONS[cluster])

        roll = rng.random()
        if template:
            tools, tools_version = ToolsStatus.NOT_RUNNING, "12325"
        elif legacy and roll < 0.25 or roll < 0.03:
            tools, tools_version = ToolsStatus.NOT_INSTALLED, ""
        elif legacy and roll < 0.6 or roll < 0.12:
            tools, tools_version = ToolsStatus.OLD, rng.choice(("10346", "10338", "11269"))
        elif power != PowerState.ON or roll < 0.16:
            tools, tools_version = ToolsStatus.NOT_RUNNING, "12352"
        else:
            tools, tools_version = ToolsStatus.OK, "12416"

        datastore = (
            tier.datastore
            or self.datastores_by_cluster[cluster][idx % len(self.datastores_by_cluster[cluster])]
        )
        system_ds = self.datastores_by_cluster[cluster][idx % len(self.datastores_by_cluster[cluster])]
        disks = []
        for d_no, gib in enumerate(tier.disks_gib, start=1):
            independent = d_no > 1 and (
                traits.get("independent_data")
                or (traits.get("log_disk_independent") and d_no == len(tier.disks_gib))
            )
            ds = system_ds if d_no == 1 else datastore
            disks.append(
                {
                    "label": f"Hard disk {d_no}",
                    "key": 2000 + d_no - 1,
                    "capacity_mib": gib * GIB,
                    "datastore_name": ds,
                    "path": f"[{ds}] {name}/{name}{'' if d_no == 1 else f'_{d_no - 1}'}.vmdk",
                    "thin": ds.endswith("NFS-01") or rng.random() < 0.5,
                    "mode": DiskMode.INDEPENDENT_PERSISTENT if independent else DiskMode.PERSISTENT,
                    "sharing": "sharingNone",
                    "rdm_mode": RdmMode.NONE,
                    "controller": f"SCSI controller {0 if d_no < 3 else 1}",
                    "controller_type": "VMware paravirtual SCSI" if not legacy else "LSI Logic SAS",
                    "bus_sharing": "noSharing",
                }
            )
        provisioned = sum(d["capacity_mib"] for d in disks) + tier.mem_gib * GIB
        used = int(sum(d["capacity_mib"] * (rng.uniform(0.2, 0.85) if d["thin"] else 1.0) for d in disks))

        ip = None if power != PowerState.ON or template else self._ip(tier.network)
        nics = [
            {
                # A DirectPath NIC is an SR-IOV adapter (as discovery names it): a VMXNET3's DirectPath flag is
                # only its UPT option, which readiness rightly ignores.
                "label": "Network adapter 1",
                "adapter": "sriov"
                if traits.get("direct_path_nic")
                else "E1000"
                if legacy and hw < 9
                else "VMXNET3",
                "network_name": tier.network,
                "mac_address": f"00:50:56:{(idx >> 8) & 0xFF:02x}:{idx & 0xFF:02x}:{rng.randrange(256):02x}",
                "connected": power == PowerState.ON,
                "start_connected": True,
                "ip_addresses": [ip] if ip else [],
                "direct_path_io": bool(traits.get("direct_path_nic")),
            }
        ]
        for extra_no, extra in enumerate(traits.get("extra_networks", ()), start=2):
            extra_ip = self._ip(extra) if ip else None
            nics.append(
                {
                    **nics[0],
                    "label": f"Network adapter {extra_no}",
                    "network_name": extra,
                    "mac_address": f"00:50:56:{(idx >> 8) & 0xFF:02x}:{idx & 0xFF:02x}:{extra_no:02x}",
                    "ip_addresses": [extra_ip] if extra_ip else [],
                    "direct_path_io": False,
                }
            )

        cdroms = [
            {
                "label": "CD/DVD drive 1",
                "connected": False,
                "start_connected": False,
                "device_type": "Client Device",
                "iso_path": "",
            }
        ]
        if not template and rng.random() < (0.15 if legacy or dev else 0.05):
            iso = rng.choice(
                (
                    "en_windows_server_2019_x64.iso",
                    "VMware-tools-windows-12.4.0.iso",
                    "rhel-8.8-x86_64-dvd.iso",
                    "SQLServer2019-x64-ENU.iso",
                    "ubuntu-22.04.3-live-server.iso",
                )
            )
            cdroms[0].update(
                connected=power == PowerState.ON,
                start_connected=True,
                device_type="ISO image",
                iso_path=f"[ISO-LIBRARY] ISO/{iso}",
            )

        snapshots = []
        if not template and rng.random() < (0.25 if dev else 0.08):
            for s_no in range(1, rng.choice((1, 1, 2, 3)) + 1):
                taken = EPOCH - timedelta(days=rng.randrange(3, 400), hours=rng.randrange(24))
                snapshots.append(
                    {
                        "name": rng.choice(
                            (
                                "Before patching",
                                "pre-upgrade",
                                "VEEAM BACKUP TEMPORARY SNAPSHOT",
                                "before app update",
                                "clean install",
                            )
                        )
                        + f" {s_no}",
                        "description": "",
                        "created_at": taken,
                        "size_mib": float(rng.randrange(512, 60 * GIB)),
                        "quiesced": rng.random() < 0.5,
                        "state": PowerState.ON if power == PowerState.ON else PowerState.OFF,
                    }
                )

        tags = [f"Application:{tier.app}", f"Environment:{tier.env}", f"Backup:{tier.backup}"]
        if tier.env == "Production" and tier.app not in ("Print", "Monitoring", "Templates"):
            tags.append("Compliance:HIPAA")
        hosts = self.hosts_by_cluster[cluster]
        folder_app = tier.app.split(" ")[0]
        vm = {
            "moid": f"vm-{10000 + idx}",
            "name": name,
            "instance_uuid": self.uuid(),
            "bios_uuid": self.uuid(),
            "power_state": power,
            "is_template": template,
            "cluster_moid": self.cluster_moids[cluster],
            "host_moid": hosts[idx % len(hosts)],
            "datacenter": self.cluster_dc[cluster],
            "folder": f"/{self.cluster_dc[cluster]}/vm/{'Templates' if template else tier.env}/{folder_app}",
            "resource_pool": f"/{self.cluster_dc[cluster]}/host/{cluster}/Resources",
            "guest_os": os_name,
            "guest_os_tools": os_name if tools in (ToolsStatus.OK, ToolsStatus.OLD) else "",
            "guest_family": family,
            "num_cpu": tier.cpu,
            "memory_mib": tier.mem_gib * GIB,
            "provisioned_mib": provisioned,
            "used_mib": used,
            "hw_version": hw,
            "firmware": "efi" if hw >= 14 and family == "windows" else "bios",
            "tools_status": tools,
            "tools_version": tools_version,
            "primary_ip": ip,
            "dns_name": f"{name}.{DOMAIN}" if ip else "",
            "annotation": f"{tier.app} ({tier.env}). Owner: {tier.owner}.",
            "cbt_enabled": not legacy and tier.env == "Production",
            "ft_enabled": bool(traits.get("ft")),
            "usb_devices": traits.get("usb", 0),
            "passthrough_devices": traits.get("passthrough", 0),
            "attributes": {"Owner": tier.owner, "Application": tier.app, "Environment": tier.env},
            "disks": disks,
            "nics": nics,
            "cdroms": cdroms,
            "snapshots": snapshots,
            "tags": tags,
        }
        self.vms.append(vm)
        return vm

    def _sql_cluster(self, n: int):
        """A two-node SQL cluster: shared quorum as a physical RDM with SCSI bus sharing (WSFC),
        and for the third one shared multi-writer VMDKs (Oracle RAC style)."""
        app = ("EHR Reporting SQL", "Corporate SQL", "LIS Oracle RAC")[n - 1]
        os_key = "rhel7" if n == 3 else "w2019"
        tier = Tier(
            f"sqlclu{n:02d}-n",
            2,
            app,
            "Production",
            "Database Team",
            "PROD-CL02",
            "dvpg-sql-vlan150",
            (os_key,),
            16,
            128,
            (150, 1024, 512),
            datastore="PROD-CL02-VMFS-01",
            backup="Gold",
        )
        shared_path = f"[PROD-CL02-VMFS-01] sqlclu{n:02d}-shared/sqlclu{n:02d}-shared.vmdk"
        for node in (1, 2):
            vm = self._vm(f"sqlclu{n:02d}-n{node}", tier, {"extra_networks": ("dvpg-sql-heartbeat-vlan151",)})
            if n < 3:
                vm["disks"].append(
                    {
                        **vm["disks"][0],
                        "label": f"Hard disk {len(vm['disks']) + 1}",
                        "key": 2016,
                        "capacity_mib": 1 * GIB,
                        "path": f"[PROD-CL02-VMFS-01] sqlclu{n:02d}-n1/sqlclu{n:02d}-quorum-rdmp.vmdk",
                        "datastore_name": "PROD-CL02-VMFS-01",
                        "thin": False,
                        "rdm_mode": RdmMode.PHYSICAL,
                        "mode": DiskMode.INDEPENDENT_PERSISTENT,
                        "controller": "SCSI controller 1",
                        "controller_type": "LSI Logic SAS",
                        "bus_sharing": "physicalSharing",
                    }
                )
            else:
                vm["disks"].append(
                    {
                        **vm["disks"][0],
                        "label": f"Hard disk {len(vm['disks']) + 1}",
                        "key": 2016,
                        "capacity_mib": 2048 * GIB,
                        "path": shared_path,
                        "datastore_name": "PROD-CL02-VMFS-01",
                        "thin": False,
                        "sharing": "sharingMultiWriter",
                        "mode": DiskMode.INDEPENDENT_PERSISTENT,
                        "controller": "SCSI controller 1",
                    }
                )

    def _dev_test(self):
        rng = self.rng
        apps = [
            ("ehr", "EHR", "Clinical Systems"),
            ("pacs", "PACS", "Radiology IT"),
            ("lis", "LIS", "Pathology IT"),
            ("web", "Patient Portal", "Digital"),
            ("int", "EHR Interfaces", "Integration Team"),
            ("bi", "Business Intelligence", "Data Team"),
            ("sql", "Corporate SQL", "Database Team"),
        ]
        roles = [
            ("app", 4, 16, (80, 100)),
            ("web", 2, 8, (60,)),
            ("db", 8, 32, (100, 500)),
            ("build", 4, 8, (200,)),
        ]
        counters: dict[str, int] = {}
        for i in range(DEV_TEST_VMS):
            short, app, owner = apps[i % len(apps)]
            role, cpu, mem, disks = rng.choice(roles)
            env = "Test" if i % 3 == 0 else "Development"
            prefix = f"{'tst' if env == 'Test' else 'dev'}-{short}-{role}"
            counters[prefix] = counters.get(prefix, 0) + 1
            network = "dvpg-test-vlan410" if env == "Test" else "dvpg-dev-vlan400"
            if i % 23 == 0:
                network = "VM Network"  # someone's quick test box on the default VLAN 0 port group
            cluster = "PROD-CL02" if i % 4 else "PROD-CL01"
            tier = Tier(
                prefix,
                1,
                app,
                env,
                owner,
                cluster,
                network,
                rng.choice((("w2019",), ("w2022",), ("rhel8",), ("ubuntu",), ("w2016",), ("w10",))),
                cpu,
                mem,
                disks,
                backup="Bronze",
            )
            self._vm(f"{prefix}{counters[prefix]:02d}", tier, {"hw": 10 if i % 31 == 0 else None})

    def _datastore_usage(self):
        provisioned: dict[str, int] = {}
        used: dict[str, int] = {}
        for vm in self.vms:
            for disk in vm["disks"]:
                datastore = disk["datastore_name"]
                provisioned[datastore] = provisioned.get(datastore, 0) + disk["capacity_mib"]
                share = disk["capacity_mib"] if not disk["thin"] else disk["capacity_mib"] // 2
                used[datastore] = used.get(datastore, 0) + share
        for ds in self.estate.datastores:
            ds["provisioned_mib"] = provisioned.get(ds["name"], 0)
            # Overcommitted thin disks can exceed capacity: keep 5% free as vCenter would alarm first.
            ds["free_mib"] = max(ds["capacity_mib"] - used.get(ds["name"], 0), ds["capacity_mib"] // 20)


def build_estate(seed: int = SEED) -> Estate:
    """The demo estate as plain rows; the same seed gives the same estate."""
    return _Builder(seed).build()


@transaction.atomic
def load(estate: Estate | None = None) -> dict[str, dict]:
    """Write the demo estate; returns what changed per kind of object (all zero on a reload)."""
    estate = estate or build_estate()
    vc, created = VCenter.objects.get_or_create(
        name=VCENTER_NAME,
        defaults={
            "origin": SourceKind.DEMO,
            "version": "VMware vCenter Server 7.0.3 build-22357613",
            "instance_uuid": "5c1d2c7e-8a41-4c38-9c53-5d0e5a9d0001",
        },
    )
    results = write_estate(vc, estate, options=DEMO)
    report = {"vcenter": {"created": int(created), "updated": 0, "removed": 0, "unchanged": int(not created)}}
    report.update({shown: results[kind].as_dict() for kind, shown in REPORTED.items()})
    return report
