"""Which inventory VM a connection endpoint is: by name, short name, DNS name or IP address.

The whole inventory is read once, in three queries, into dictionaries; each endpoint of each row
is then a dictionary lookup (and each distinct endpoint is looked up only once, see `match`).

Order of matching, first hit wins:
1. the endpoint's name equals a VM's name or DNS name (ignoring case);
2. the endpoint's IP is one of a VM's addresses (its NICs' addresses and its primary IP);
3. the endpoint's short name (before the first dot) equals a VM's short name or short DNS name.
A name shared by several VMs (the same VM in two vCenters, say) is settled by the IP when one of
them has it, else the VM with the lowest id is taken and a warning says so.
Vanished VMs (`removed`) are never matched: a connection to one is to something no longer there.
"""

from collections import defaultdict

from inventory.models import VirtualMachine, VirtualNic
from inventory.rvtools.values import normalize_ip


def short(name: str) -> str:
    return name.split(".", 1)[0]


class VmMatcher:
    def __init__(self):
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.by_short: dict[str, list[int]] = defaultdict(list)
        self.by_ip: dict[str, int] = {}
        self.names: dict[int, str] = {}
        self.warnings: list[str] = []
        self._cache: dict[tuple, int | None] = {}
        self._load()

    def _load(self):
        vms = VirtualMachine.objects.filter(removed__isnull=True).order_by("pk")
        for pk, name, dns_name, primary_ip in vms.values_list("pk", "name", "dns_name", "primary_ip"):
            self.names[pk] = name
            for value in {name.strip().lower(), dns_name.strip().lower()} - {""}:
                self.by_name[value].append(pk)
                if pk not in self.by_short[short(value)]:
                    self.by_short[short(value)].append(pk)
            if primary_ip:
                self.by_ip.setdefault(primary_ip, pk)
        nics = (
            VirtualNic.objects.filter(vm__removed__isnull=True)
            .order_by("vm_id")
            .values_list("vm_id", "ip_addresses")
        )
        for vm_id, addresses in nics:
            for address in addresses or ():
                if ip := normalize_ip(str(address)):
                    self.by_ip.setdefault(ip, vm_id)

    def match(self, name: str, ip: str | None) -> int | None:
        """The id of the VM this endpoint is, or None for something outside the inventory."""
        key = (name.lower(), ip)
        if key not in self._cache:
            self._cache[key] = self._match(*key)
        return self._cache[key]

    def _match(self, name: str, ip: str | None) -> int | None:
        by_ip = self.by_ip.get(ip) if ip else None
        if name:
            found = self._one(self.by_name.get(name), by_ip, name)
            if found is not None:
                return found
        if by_ip is not None:
            return by_ip
        if name:
            return self._one(self.by_short.get(short(name)), None, name)
        return None

    def _one(self, candidates, by_ip, name) -> int | None:
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        if by_ip in candidates:
            return by_ip
        self.warnings.append(
            f"{name} is the name of {len(candidates)} VMs; connections were given to the one with id {candidates[0]}"
        )
        return candidates[0]
