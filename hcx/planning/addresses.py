"""IP address helpers shared by model validation, forms, the API and the checks.

An address pool is stored as a list of `{"start": ip, "end": ip}` (several ranges per profile,
as HCX `networkIpRanges` allows).
"""

import ipaddress
import re

from django.core.exceptions import ValidationError

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


def split_list(text: str) -> list[str]:
    """Comma, semicolon, space or newline separated values, empties dropped."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


def validate_ip_list(value):
    if not isinstance(value, list):
        raise ValidationError("Expected a list of IP addresses.")
    for item in value:
        try:
            ipaddress.ip_address(str(item))
        except ValueError:
            raise ValidationError(f"{item!r} is not an IP address.") from None


def validate_host_list(value):
    """NTP servers may be names or addresses."""
    if not isinstance(value, list):
        raise ValidationError("Expected a list of host names or IP addresses.")
    for item in value:
        item = str(item)
        try:
            ipaddress.ip_address(item)
        except ValueError:
            if not _HOSTNAME.match(item):
                raise ValidationError(f"{item!r} is neither a host name nor an IP address.") from None


def validate_ipv4_network(value):
    """A CIDR block such as 10.20.0.0/22, host bits zero."""
    try:
        ipaddress.IPv4Network(str(value), strict=True)
    except ValueError as exc:
        raise ValidationError(
            f"{value!r} is not an IPv4 network in CIDR form (for example 10.20.0.0/22): {exc}"
        ) from None


def parse_range(item) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    start, end = ipaddress.ip_address(str(item["start"])), ipaddress.ip_address(str(item["end"]))
    if start.version != end.version:
        raise ValueError(f"{start} and {end} are not the same IP version")
    if start > end:
        raise ValueError(f"the range starts at {start}, after its end {end}")
    return start, end


def validate_ip_ranges(value):
    if not isinstance(value, list):
        raise ValidationError("Expected a list of ranges, each with a start and an end address.")
    for number, item in enumerate(value, 1):
        if not isinstance(item, dict) or set(item) != {"start", "end"}:
            raise ValidationError(f"Range {number}: expected {{'start': ip, 'end': ip}}, got {item!r}.")
        try:
            parse_range(item)
        except ValueError as exc:
            raise ValidationError(f"Range {number} ({item['start']}-{item['end']}): {exc}.") from None


def ranges_from_text(text: str) -> list[dict]:
    """`10.0.0.10-10.0.0.20, 10.0.0.30` (a single address is a range of one)."""
    ranges = []
    for part in split_list(text):
        start, _, end = part.partition("-")
        ranges.append({"start": start.strip(), "end": (end or start).strip()})
    return ranges


def ranges_to_text(ranges) -> str:
    return ", ".join(
        r["start"] if r["start"] == r["end"] else f"{r['start']}-{r['end']}" for r in ranges or []
    )


def range_size(start, end) -> int:
    return int(end) - int(start) + 1


def overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start.version == b_start.version and a_start <= b_end and b_start <= a_end


def validate_gateways(value):
    """`{"<network name>": "10.10.41.1/24"}`: each extended network's own gateway and prefix."""
    from django.core.exceptions import ValidationError

    if not isinstance(value, dict):
        raise ValidationError("Give the gateways as a mapping of network name to gateway/prefix.")
    for name, cidr in value.items():
        try:
            interface = ipaddress.ip_interface(str(cidr))
        except ValueError:
            raise ValidationError(
                f"{name}: '{cidr}' is not a gateway/prefix such as 10.10.41.1/24."
            ) from None
        if interface.ip == interface.network.network_address or interface.network.prefixlen >= 31:
            raise ValidationError(f"{name}: '{cidr}' is not a usable gateway address with its prefix.")
