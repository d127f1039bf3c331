"""The file shapes a dependency import takes, recognised from the header row.

Azure Migrate's agentless dependency analysis exports one row per connection and time slot. Microsoft
documents its fields as `Timeslot, Source server name, Source application, Source process, Destination
server name, Destination IP, Destination application, Destination process, Destination port` (Microsoft
Learn, "Analyze server dependencies (agentless)", section "Dependency information":
https://learn.microsoft.com/azure/migrate/how-to-create-group-machine-dependencies-agentless#dependency-information,
source MicrosoftDocs/azure-docs articles/migrate/how-to-create-group-machine-dependencies-agentless.md).
Exports seen in the field also carry `Source IP`, and spell the slot `Time slot`. It records TCP
connections only, so its protocol is tcp. A server Azure Migrate did not discover has an empty server
name and only its IP.

A newer export layout (`Date, Source Appliance Name, Source Machine ARM ID, Source Server Name, Source IP,
Source Application, Source Process, Destination Machine ARM ID, Destination Server Name, Destination IP,
Destination Application, Destination Process, Destination Port, Connection Count`) appears in public
third-party importers of "Azure Migrate DependencyExport" files, but in no Microsoft page we found. It is
taken by the columns Microsoft does document (server names, IPs, applications, processes, port) plus `Date`
as its time slot; `Source Appliance Name`, the ARM IDs and `Connection Count` are not read (each row counts
as one sighting, as for the older layout). README "Dependency import".

The plain CSV has a source, a destination, a port and optionally a protocol, under any of the
names in PLAIN_COLUMNS; a source or destination may be a server name or an IP address.

Headers match ignoring case, spaces and punctuation ("Destination port", "destination_port").
"""

import re
from dataclasses import dataclass

from ..choices import DependencyFormat

AZURE_COLUMNS = {
    "time_slot": ("Time slot", "Timeslot", "Date"),
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
# What identifies the export: each side by its server name or its IP (Microsoft's documented layout has no
# Source IP), and the port; the application, process and time-slot columns may be missing.
AZURE_REQUIRED = (("source_name", "source_ip"), ("destination_name", "destination_ip"), ("destination_port",))

PLAIN_COLUMNS = {
    "source": ("source", "src", "source server", "source host", "source name", "from"),
    "destination": (
        "destination",
        "dest",
        "dst",
        "destination server",
        "destination host",
        "destination name",
        "to",
    ),
    "port": ("port", "destination port", "dst port", "dport", "dest port"),
    "protocol": ("protocol", "proto"),
}
PLAIN_REQUIRED = (("source",), ("destination",), ("port",))

EXPECTED = (
    "Azure Migrate's dependency export (Timeslot, Source server name, Source IP, Source application, "
    "Source process, Destination server name, Destination IP, Destination application, Destination process, "
    "Destination port; Source IP or Source server name, Destination IP or Destination server name, and "
    "Destination port are needed) or a CSV with the columns source, destination, port and optionally protocol"
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
    """The layout of a header row, or None and why not. `wanted` forces one format.

    A header that is near a format (it has some of its columns) is refused naming the columns it lacks."""
    headers = tuple(str(h).strip() if h is not None else "" for h in headers)
    candidates = [
        (DependencyFormat.AZURE_MIGRATE, _resolve(headers, AZURE_COLUMNS), AZURE_REQUIRED, AZURE_COLUMNS),
        (DependencyFormat.CSV, _resolve(headers, PLAIN_COLUMNS), PLAIN_REQUIRED, PLAIN_COLUMNS),
    ]
    if wanted:
        candidates = [c for c in candidates if c[0] == wanted]
    for fmt, found, required, _spec in candidates:
        if all(any(field in found for field in group) for group in required):
            return Layout(fmt, found, headers), ""
    # the nearest format: the one with the most of its columns present (Azure Migrate's on a tie)
    fmt, found, required, spec = max(candidates, key=lambda c: len(c[1]))
    if not found and not wanted:
        return None, ""
    missing = [
        " or ".join(spec[f][0] for f in group) for group in required if not any(f in found for f in group)
    ]
    columns = f"the columns {', '.join(missing)} are" if len(missing) > 1 else f"the column {missing[0]} is"
    return None, f"{columns} missing for {DependencyFormat(fmt).label}"


def looks_like_header(values) -> bool:
    """A row that names at least two known columns: used to skip a title line above the header."""
    known = {
        normalize(n) for spec in (AZURE_COLUMNS, PLAIN_COLUMNS) for names in spec.values() for n in names
    }
    return sum(1 for v in values if normalize(v) in known) >= 2
