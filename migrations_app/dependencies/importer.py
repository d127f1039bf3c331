"""A dependency file into the dependency graph: read and check every row first, then write it all.

1. The file is streamed row by row (reader.py). Each row is checked (a port must be 1-65535, each
   side needs a name or an IP); a bad row is recorded with its row number and column and reading
   goes on, so one pass finds every problem. Each side is matched to an inventory VM (matching.py,
   dictionaries loaded once) or kept as an external endpoint. Rows with the same source,
   destination, port and protocol are aggregated into one edge whose `seen` counts them (Azure
   Migrate writes a row per connection and hour). A row whose two sides are the same endpoint is a
   self-loop: skipped and counted.
2. If any row was bad, nothing is written and every bad row is reported (the first 200 listed,
   with the total).
3. Otherwise, in one transaction: the endpoints (bulk, ignoring those that exist) and the edges
   (bulk upsert on the unique source/destination/port/protocol: an edge already known takes the
   `seen` of this file, so importing the same file again changes nothing and duplicates nothing).

Memory holds the distinct endpoints and edges, never the rows: a million-row export is fine.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction

from inventory.rvtools.values import normalize_ip

from ..choices import DependencyFormat
from ..models import Dependency, DependencyImport, Endpoint
from .formats import EXPECTED, Layout, detect
from .matching import VmMatcher
from .problems import DependencyImportError, Problem, ProblemList
from .reader import ENCODINGS, UnreadableFile, open_rows

BATCH_SIZE = 2000
PROGRESS_EVERY = 20_000
PROTOCOL = re.compile(r"^[a-z0-9-]{1,10}$")
NAME_LENGTH = Endpoint._meta.get_field("name").max_length
TEXT_LENGTH = Dependency._meta.get_field("source_application").max_length


@dataclass
class Parsed:
    format: str = ""
    rows: int = 0
    self_loops: int = 0
    # endpoint key -> ("vm", vm id) for a VM, or (name, ip) for an external endpoint
    endpoints: dict = field(default_factory=dict)
    # (source key, destination key, port, protocol) -> [seen, src app, src process, dst app, dst process]
    edges: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def import_file(
    path,
    filename: str | None = None,
    *,
    format: str | None = None,
    user=None,
    job=None,
    progress: Callable | None = None,
    log: Callable | None = None,
) -> DependencyImport:
    """Read, check and store the file at `path`; returns the DependencyImport with its summary
    (and `.summary`, a dict with the details). Raises DependencyImportError, having written nothing."""
    path = Path(path)
    filename = filename or path.name
    progress = progress or (lambda percent, text=None: None)
    log = log or (lambda message: None)
    if not path.is_file():
        raise DependencyImportError([Problem(message=f"{filename}: no such file")], filename=filename)
    matcher = VmMatcher()
    parsed = None
    for encoding in ENCODINGS:
        try:
            parsed = _parse(
                path,
                filename,
                format,
                matcher,
                encoding,
                progress,
                log,
                getattr(job, "check_cancelled", None),
            )
            break
        except UnicodeDecodeError:
            continue  # not UTF-8: read it again as the Windows code page Excel saves in
    parsed.warnings.extend(matcher.warnings)
    if check := getattr(job, "check_cancelled", None):
        check()  # the last moment to stop with nothing written
    return _write(parsed, filename, user, job, progress, log)


# --- reading -----------------------------------------------------------------------------------


def _parse(path, filename, wanted, matcher, encoding, progress, log, check_cancelled=None) -> Parsed:
    problems = ProblemList(filename)
    parsed = Parsed()
    every = settings.IMPORT_CANCEL_CHECK_ROWS
    try:
        with open_rows(path, encoding) as rows:
            layout, why = detect(rows.headers, wanted)
            if layout is None:
                found = ", ".join(h for h in rows.headers if h) or "none"
                message = (
                    f"{filename} is not a dependency export ({why})"
                    if why
                    else f"{filename} is not a dependency export"
                )
                raise DependencyImportError(
                    [
                        Problem(
                            message=f"{message}: expected {EXPECTED}. Its first row has the columns: {found}"
                        )
                    ],
                    filename=filename,
                )
            parsed.format = layout.format
            log(f"{filename}: {DependencyFormat(layout.format).label}, header on row {rows.header_row}")
            reader = (_AzureReader if layout.format == DependencyFormat.AZURE_MIGRATE else _PlainReader)(
                layout, problems
            )
            side_key = _side_keys(parsed, matcher)
            last_row = rows.header_row + settings.DEPENDENCY_IMPORT_MAX_ROWS
            for number, values in rows:
                if number > last_row:
                    # counted by row number, so empty rows (which a sheet can make up by the million) count too
                    raise DependencyImportError(
                        [
                            Problem(
                                message=(
                                    f"{filename} has more than {settings.DEPENDENCY_IMPORT_MAX_ROWS:,} rows below its header "
                                    "(DEPENDENCY_IMPORT_MAX_ROWS): export a shorter time range, or raise the setting"
                                )
                            )
                        ],
                        filename=filename,
                    )
                if check_cancelled and number % every == 0:
                    check_cancelled()  # stops here, before anything is written
                row = reader.read(number, values)
                if row is _EMPTY:
                    continue
                parsed.rows += 1
                if row is not None:
                    _add(parsed, side_key, reader, values, *row)
                if parsed.rows % PROGRESS_EVERY == 0:
                    progress(min(60, 5 + parsed.rows // PROGRESS_EVERY), f"Read {parsed.rows:,} rows")
    except UnreadableFile as exc:
        raise DependencyImportError(
            [Problem(message=f"{filename} cannot be read: {exc}")], filename=filename
        ) from None
    if parsed.rows == 0 and not problems:
        raise DependencyImportError(
            [Problem(message=f"{filename} has a header but no rows")], filename=filename
        )
    problems.raise_if_any(filename)
    log(
        f"Read {parsed.rows:,} rows: {len(parsed.edges):,} connections, {parsed.self_loops:,} self-loops skipped"
    )
    return parsed


# A million rows go through the functions below: they index cells directly and cache what repeats
# (the same addresses and servers come back in every hourly slot).
_EMPTY = object()
DETAILS = ("source_application", "source_process", "destination_application", "destination_process")


def _cell(values, index) -> str:
    if index is None or index >= len(values):
        return ""
    value = values[index]
    if value is None:
        return ""
    if value.__class__ is not str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # xlsx gives 443.0 for 443
        value = str(value)
    return value.strip()


def _blank(values) -> bool:
    return not any(_cell(values, i) for i in range(len(values)))


@lru_cache(maxsize=200_000)
def _ip(text: str) -> str | None:
    return normalize_ip(text)


def _port(text: str) -> int | None:
    if text.isdigit():
        number = int(text)
    else:
        try:
            value = float(text)
        except ValueError:
            return None
        if not value.is_integer():
            return None
        number = int(value)
    return number if 1 <= number <= 65535 else None


class _Reader:
    """Checks one row's cells and records each problem with its row and the column as the file names it."""

    def __init__(self, layout: Layout, problems: ProblemList):
        self.layout, self.problems = layout, problems
        self.details_at = tuple(layout.columns.get(field) for field in DETAILS)

    def problem(self, number, field, message):
        self.problems.add(number, self.layout.header(field), message)

    def port(self, number, field, text) -> int | None:
        if not text:
            self.problem(number, field, "is empty: give the destination port (1-65535)")
            return None
        port = _port(text)
        if port is None:
            self.problem(number, field, f'"{text}" is not a port number (1-65535)')
        return port

    def details(self, values) -> tuple:
        return tuple(_cell(values, i)[:TEXT_LENGTH] for i in self.details_at)


class _AzureReader(_Reader):
    def __init__(self, layout, problems):
        super().__init__(layout, problems)
        columns = layout.columns
        # a side's name or IP column may be missing (Microsoft's documented layout has no Source IP)
        self.at = tuple(
            columns.get(f)
            for f in ("source_name", "source_ip", "destination_name", "destination_ip", "destination_port")
        )

    def ip(self, number, field, text) -> str | None:
        if not text:
            return None
        address = _ip(text)
        if address is None:
            self.problem(number, field, f'"{text}" is not an IP address')
        return address

    def read(self, number, values):
        src_name, src_ip, dst_name, dst_ip, port_text = (_cell(values, i) for i in self.at)
        if not (src_name or src_ip or dst_name or dst_ip or port_text) and _blank(values):
            return _EMPTY
        before = self.problems.total
        source = (src_name, self.ip(number, "source_ip", src_ip))
        destination = (dst_name, self.ip(number, "destination_ip", dst_ip))
        if not src_name and not src_ip:
            self.problem(number, "source_name", "no source: Source server name and Source IP are both empty")
        if not dst_name and not dst_ip:
            self.problem(
                number,
                "destination_name",
                "no destination: Destination server name and Destination IP are both empty",
            )
        port = self.port(number, "destination_port", port_text)
        if self.problems.total != before:
            return None
        # Azure Migrate's agentless analysis records TCP connections only.
        return source, destination, port, "tcp"


class _PlainReader(_Reader):
    def __init__(self, layout, problems):
        super().__init__(layout, problems)
        columns = layout.columns
        self.at = tuple(columns.get(f) for f in ("source", "destination", "port", "protocol"))

    def side(self, number, field, text):
        if not text:
            self.problem(number, field, f"is empty: give the {field}'s server name or IP address")
            return None
        address = _ip(text)
        return ("", address) if address else (text, None)

    def read(self, number, values):
        source_text, destination_text, port_text, protocol_text = (_cell(values, i) for i in self.at)
        if not (source_text or destination_text or port_text or protocol_text) and _blank(values):
            return _EMPTY
        before = self.problems.total
        source = self.side(number, "source", source_text)
        destination = self.side(number, "destination", destination_text)
        port = self.port(number, "port", port_text)
        protocol = protocol_text.lower() or "tcp"
        if not PROTOCOL.match(protocol):
            self.problem(number, "protocol", f'"{protocol_text}" is not a protocol (tcp, udp...)')
        if self.problems.total != before:
            return None
        return source, destination, port, protocol

    def details(self, values) -> tuple:
        return ("", "", "", "")


def _endpoint_key(parsed: Parsed, matcher: VmMatcher, name: str, ip: str | None):
    vm_id = matcher.match(name, ip)
    if vm_id is not None:
        key = ("vm", vm_id)
        parsed.endpoints.setdefault(key, ("vm", vm_id))
        return key
    # Something outside the inventory is the same thing wherever its IP is the same; without an
    # IP, wherever its name is the same.
    # The key is the name as stored (cut to the column's length), so that writing finds it again.
    name = name[:NAME_LENGTH]
    key = ("ip", ip) if ip else ("name", name.lower())
    parsed.endpoints.setdefault(key, (name, ip))
    return key


def _side_keys(parsed: Parsed, matcher: VmMatcher):
    """`side_key((name, ip))`: the endpoint key of one side of a row, worked out once per distinct side."""
    known: dict = {}

    def side_key(side):
        key = known.get(side)
        if key is None:
            key = known[side] = _endpoint_key(parsed, matcher, *side)
        return key

    return side_key


def _add(parsed: Parsed, side_key, reader: _Reader, values, source, destination, port, protocol):
    source_key = side_key(source)
    destination_key = side_key(destination)
    if source_key == destination_key:
        parsed.self_loops += 1
        return
    key = (source_key, destination_key, port, protocol)
    edge = parsed.edges.get(key)
    if edge is None:
        parsed.edges[key] = [1, *reader.details(values)]  # applications and processes of its first row
    else:
        edge[0] += 1


# --- writing -----------------------------------------------------------------------------------


def _chunks(items, size=BATCH_SIZE):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


@transaction.atomic
def _write(parsed: Parsed, filename, user, job, progress, log) -> DependencyImport:
    progress(65, "Writing endpoints")
    record = DependencyImport.objects.create(
        format=parsed.format, file_name=filename[:300], user=user, job=job
    )
    endpoint_ids = _vm_endpoints(parsed)
    externals, new_external = _external_endpoints(parsed)
    endpoint_ids.update(externals)
    progress(80, "Writing connections")
    before = Dependency.objects.count()
    # Two keys of the file can be one stored endpoint (an external known by the IP of one row and
    # the name of another): aggregate again by endpoint id, so that no edge is sent twice.
    merged: dict[tuple, list] = {}
    for (source, destination, port, protocol), values in parsed.edges.items():
        key = (endpoint_ids[source], endpoint_ids[destination], port, protocol)
        if key[0] == key[1]:
            parsed.self_loops += values[0]
        elif key in merged:
            merged[key][0] += values[0]
        else:
            merged[key] = list(values)
    edges = [
        Dependency(
            source_id=source,
            destination_id=destination,
            port=port,
            protocol=protocol,
            seen=seen,
            source_application=src_app,
            source_process=src_proc,
            destination_application=dst_app,
            destination_process=dst_proc,
            last_import=record,
        )
        for (source, destination, port, protocol), (
            seen,
            src_app,
            src_proc,
            dst_app,
            dst_proc,
        ) in merged.items()
    ]
    Dependency.objects.bulk_create(
        edges,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["source", "destination", "port", "protocol"],
        update_fields=[
            "seen",
            "last_import",
            "source_application",
            "source_process",
            "destination_application",
            "destination_process",
        ],
    )
    new_edges = Dependency.objects.count() - before
    matched = sum(1 for key in parsed.endpoints if key[0] == "vm")
    record.rows = parsed.rows
    record.edges = len(edges)
    record.matched = matched
    record.external = len(parsed.endpoints) - matched
    record.save(update_fields=["rows", "edges", "matched", "external"])
    record.summary = {
        "import": record.pk,
        "format": parsed.format,
        "rows": parsed.rows,
        "edges": len(edges),
        "new_edges": new_edges,
        "updated_edges": len(edges) - new_edges,
        "matched": matched,
        "external": record.external,
        "new_external": new_external,
        "self_loops": parsed.self_loops,
        "warnings": parsed.warnings[:50],
    }
    log(
        f"Stored {len(edges):,} connections ({new_edges:,} new) between {matched:,} VMs and "
        f"{record.external:,} external endpoints ({new_external:,} new)"
    )
    for warning in parsed.warnings[:50]:
        log(warning)
    return record


def _vm_endpoints(parsed: Parsed) -> dict:
    vm_ids = [vm_id for key, (kind, vm_id) in parsed.endpoints.items() if key[0] == "vm"]
    names = dict(_vm_names(vm_ids))
    Endpoint.objects.bulk_create(
        [Endpoint(vm_id=vm_id, name=names.get(vm_id, "")[:NAME_LENGTH]) for vm_id in vm_ids],
        batch_size=BATCH_SIZE,
        ignore_conflicts=True,
    )
    ids = {}
    for chunk in _chunks(vm_ids):
        ids.update(
            {
                ("vm", vm_id): pk
                for pk, vm_id in Endpoint.objects.filter(vm_id__in=chunk).values_list("pk", "vm_id")
            }
        )
    return ids


def _vm_names(vm_ids):
    from inventory.models import VirtualMachine

    for chunk in _chunks(vm_ids):
        yield from VirtualMachine.objects.filter(pk__in=chunk).values_list("pk", "name")


def _existing_externals() -> tuple[dict, dict]:
    by_ip, by_name = {}, {}
    rows = Endpoint.objects.filter(vm__isnull=True).order_by("pk").values_list("pk", "name", "ip")
    for pk, name, ip in rows:
        if ip:
            by_ip.setdefault(ip, pk)
        if name:
            by_name.setdefault(name.lower(), pk)
    return by_ip, by_name


def _external_endpoints(parsed: Parsed) -> tuple[dict, int]:
    wanted = {key: value for key, value in parsed.endpoints.items() if key[0] != "vm"}

    def lookup(by_ip, by_name):
        found = {}
        for key in wanted:
            pk = by_ip.get(key[1]) if key[0] == "ip" else by_name.get(key[1])
            if pk is not None:
                found[key] = pk
        return found

    found = lookup(*_existing_externals())
    missing = [key for key in wanted if key not in found]
    if missing:
        Endpoint.objects.bulk_create(
            [Endpoint(name=wanted[key][0], ip=wanted[key][1]) for key in missing],
            batch_size=BATCH_SIZE,
            ignore_conflicts=True,
        )
        found = lookup(*_existing_externals())
    return found, len(missing)
