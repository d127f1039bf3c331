"""The two file shapes a dependency import takes, recognised from the header row.

Azure Migrate's agentless dependency analysis exports one row per connection and hourly time slot:
`Time slot, Source server name, Source IP, Source application, Source process, Destination server
name, Destination IP, Destination application, Destination process, Destination port`. It records
TCP connections only, so its protocol is tcp. A server Azure Migrate did not discover has an empty
server name and only its IP.

The plain CSV has a source, a destination, a port and optionally a protocol, under any of the
names in PLAIN_COLUMNS; a source or destination may be a server name or an IP address.

Headers match ignoring case, spaces and punctuation ("Destination port", "destination_port").
"""

import re
from dataclasses import dataclass

from ..choices import DependencyFormat

AZURE_COLUMNS = {
    "time_slot": ("Time slot",),
    "source_name": ("Source server name",),
    "source_ip": ("Source IP",),
    "source_application": ("Source application",),
    "source_process": ("Source process",),
    "destination_name": ("Destination server name",),
    "destination_ip": ("Destination IP",),
    "destination_application": ("Destination application",),
    "destination_process": ("Destination process",),
    "destination_port": ("Destination port",),
}
# What identifies the export; the application, process and time-slot columns may be missing.
AZURE_REQUIRED = ("source_name", "source_ip", "destination_name", "destination_ip", "destination_port")

PLAIN_COLUMNS = {
    "source": ("source", "src", "source server", "source host", "source name", "from"),
    "destination": ("destination", "dest", "dst", "destination server", "destination host", "destination name", "to"),
    "port": ("port", "destination port", "dst port", "dport", "dest port"),
    "protocol": ("protocol", "proto"),
}
PLAIN_REQUIRED = ("source", "destination", "port")

EXPECTED = (
    "Azure Migrate's dependency export (Time slot, Source server name, Source IP, Source application, "
    "Source process, Destination server name, Destination IP, Destination application, Destination process, "
    "Destination port) or a CSV with the columns source, destination, port and optionally protocol"
)


def normalize(header) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header or "").lower())


@dataclass(frozen=True)
class Layout:
    """Which format a header row is, and the column index of each field it has."""

    format: str
    columns: dict  # field -> index
    headers: tuple

    def header(self, field: str) -> str:
        """The column name as the file spells it, for messages."""
        index = self.columns.get(field)
        if index is not None and index < len(self.headers):
            return self.headers[index]
        spec = AZURE_COLUMNS if self.format == DependencyFormat.AZURE_MIGRATE else PLAIN_COLUMNS
        return spec[field][0]


def _resolve(headers, spec) -> dict:
    positions = {}
    for index, header in enumerate(headers):
        positions.setdefault(normalize(header), index)
    found = {}
    for field, names in spec.items():
        for name in names:
            if normalize(name) in positions:
                found[field] = positions[normalize(name)]
                break
    return found


def detect(headers, wanted: str | None = None) -> tuple["Layout | None", str]:
    """The layout of a header row, or None and why not. `wanted` forces one format."""
    headers = tuple(str(h).strip() if h is not None else "" for h in headers)
    azure = _resolve(headers, AZURE_COLUMNS)
    plain = _resolve(headers, PLAIN_COLUMNS)
    candidates = [
        (DependencyFormat.AZURE_MIGRATE, azure, AZURE_REQUIRED, AZURE_COLUMNS),
        (DependencyFormat.CSV, plain, PLAIN_REQUIRED, PLAIN_COLUMNS),
    ]
    if wanted:
        candidates = [c for c in candidates if c[0] == wanted]
    for fmt, found, required, _spec in candidates:
        if all(field in found for field in required):
            return Layout(fmt, found, headers), ""
    if wanted:
        fmt, found, required, spec = candidates[0]
        missing = ", ".join(spec[f][0] for f in required if f not in found)
        return None, f"the columns {missing} are missing for {DependencyFormat(fmt).label}"
    return None, ""


def looks_like_header(values) -> bool:
    """A row that names at least two known columns: used to skip a title line above the header."""
    known = {normalize(n) for spec in (AZURE_COLUMNS, PLAIN_COLUMNS) for names in spec.values() for n in names}
    return sum(1 for v in values if normalize(v) in known) >= 2
