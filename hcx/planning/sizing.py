"""What the service mesh will deploy for a plan, the addresses each profile needs for it, and the
AVS HCX Cloud Manager size for the estate (hcx-wire.md §12.3, §12.4)."""

import math
from dataclasses import dataclass

from django.conf import settings

from ..choices import ManagerSize, ProfileKind


@dataclass(frozen=True)
class Appliances:
    interconnect: int
    network_extension: int
    wan_opt: int
    extended_networks: int
    networks_per_ne: int

    @property
    def total(self) -> int:
        return self.interconnect + self.network_extension + self.wan_opt

    def explain_total(self) -> str:
        """The count, in words a reader can check: `1 Interconnect + 3 Network Extension (17 extended
        networks, up to 8 per appliance) + 1 WAN Optimization = 5 appliances`."""
        parts = [f"{self.interconnect} Interconnect"]
        parts.append(
            f"{self.network_extension} Network Extension ({self.extended_networks} extended "
            f"network{'s' if self.extended_networks != 1 else ''}, up to {self.networks_per_ne} per appliance)"
        )
        if self.wan_opt:
            parts.append(f"{self.wan_opt} WAN Optimization")
        return " + ".join(parts) + f" = {self.total} appliance{'s' if self.total != 1 else ''}"


def appliances(extended_networks: int, wan_opt: bool) -> Appliances:
    per_ne = settings.HCX_LIMITS["NETWORKS_PER_NE_APPLIANCE"]
    return Appliances(
        interconnect=1,
        network_extension=math.ceil(extended_networks / per_ne),
        wan_opt=1 if wan_opt else 0,
        extended_networks=extended_networks,
        networks_per_ne=per_ne,
    )


def addresses_needed(kind: str, mesh: Appliances) -> tuple[int, str]:
    """(count, arithmetic): every appliance has a management and an uplink interface; only the IX
    moves VMs, so only it has vMotion and replication interfaces."""
    if kind in (ProfileKind.MANAGEMENT, ProfileKind.UPLINK):
        return mesh.total, f"one per appliance: {mesh.explain_total()}"
    return mesh.interconnect, f"one per Interconnect appliance: {mesh.interconnect}"


def manager_size(vm_count: int) -> str:
    limits = settings.HCX_LIMITS
    if vm_count > limits["MANAGER_LARGE_ABOVE_VMS"]:
        return ManagerSize.LARGE
    if vm_count >= limits["MANAGER_MEDIUM_FROM_VMS"]:
        return ManagerSize.MEDIUM
    return ManagerSize.SMALL
