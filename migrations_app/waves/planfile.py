"""The wave plan as a file, out and back in: one row per VM that is in a wave or a group, with its
vCenter, group, wave and migration type, as CSV or XLSX.

Export is what a planner edits in Excel; import takes the edited file back:

- Every row is checked before anything is written, and every bad row is reported with its row number
  (as Excel numbers it: the header is row 1), its column and what is wrong. One bad row refuses the
  whole file; nothing is half-applied.
- A VM is found by vCenter and VM ID (the managed object id) when the VM ID column is filled, else by
  vCenter and name. The Wave column moves it: another wave moves it there, an empty cell takes it out of
  its wave. VMs the file does not list are left as they are. Waves are never created by an import: a wave
  the file names must exist (create it on the waves page first); a running or completed wave cannot gain
  or lose VMs.
- The Group column is checked, not applied: groups are edited on the groups pages. A file that would
  leave a group's VMs in two waves is refused (a group moves whole).
- Migration type: the type the VM will migrate with. An empty cell means the wave's default; a type
  equal to what the VM has now changes nothing, so exporting and importing the same file changes nothing.
  A row with no wave has no type (the cell is ignored).
- Cells starting with = + - @ (or a tab or carriage return) are written with a leading apostrophe so that
  a spreadsheet shows them as text instead of running them as formulas; the import strips it again.
"""

import csv
import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from core.exports import FORMULA_STARTS, csv_bytes, xlsx_bytes
from hcx.choices import MigrationType
from inventory.models import VCenter, VirtualMachine
from migrations_app.models import GroupMember, Wave, WaveItem

from .revisions import changed
from .states import LOCKED

COLUMNS = ["VM", "VM ID", "vCenter", "Group", "Wave", "Migration type"]
REQUIRED = ["VM", "vCenter", "Wave"]
ALLOWED_EXTENSIONS = (".csv", ".xlsx")
SHEET = "Wave plan"
MAX_ROWS = 200_000  # far above any estate we plan (50,000 VMs); refuses a runaway file early
MAX_PROBLEMS = 1000
LOOKUP_CHUNK = 2000  # ids or names per IN (...) query: SQLite limits the number of parameters


# --- export ---------------------------------------------------------------------------------------


def plan_rows():
    """The rows of the plan, ordered by wave (in run order), then group, then VM; unplanned groups last."""
    rows = (
        VirtualMachine.objects.filter(Q(wave_item__isnull=False) | Q(group_membership__isnull=False))
        .order_by(
            # the same order on every database: VMs in no wave, and VMs in no group, come after the others
            *(
                F(f).asc(nulls_last=True)
                for f in (
                    "wave_item__wave__sequence",
                    "wave_item__wave__name",
                    "group_membership__group__name",
                )
            ),
            "name",
            "pk",
        )
        .values_list(
            "name",
            "moid",
            "vcenter__name",
            "group_membership__group__name",
            "wave_item__wave__name",
            "wave_item__migration_type",
            "wave_item__wave__migration_type",
        )
    )
    for name, moid, vcenter, group, wave, own_type, wave_type in rows.iterator(chunk_size=2000):
        yield [name, moid, vcenter, group or "", wave or "", (own_type or wave_type or "") if wave else ""]


def write_csv(rows) -> bytes:
    return csv_bytes(COLUMNS, rows)


def write_xlsx(rows) -> bytes:
    return xlsx_bytes(COLUMNS, rows, SHEET)


# --- reading a file -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int | None  # as a spreadsheet numbers it: the header is row 1
    column: str
    message: str

    def __str__(self):
        where = ", ".join(
            p
            for p in (f"row {self.row}" if self.row else "", f'column "{self.column}"' if self.column else "")
            if p
        )
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


class PlanFileError(Exception):
    """The file cannot be applied; every problem found is listed, and nothing was changed."""

    def __init__(self, problems):
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'' if count == 1 else 's'} in the wave plan; nothing was changed.")


def unsafe_cell(value) -> str:
    """A cell's text as the user meant it: trimmed, without the apostrophe `safe_cell` put before a
    formula-like start."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def read_plan(data: bytes, filename: str) -> list[tuple[int, dict]]:
    """The file's data rows as (row number, {column: text}); raises PlanFileError for a file that is not
    a wave plan (wrong format, missing columns, too many rows)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        table = _xlsx_rows(data, filename)
    else:
        table = _csv_rows(data, filename)
    try:
        header_number, header = next(table)
    except StopIteration:
        raise PlanFileError(
            [Problem(None, "", f"{filename} is empty: expected a header row {', '.join(COLUMNS)}.")]
        ) from None
    columns = {}
    for index, title in enumerate(header):
        key = _canonical(unsafe_cell(title))
        if key and key not in columns:
            columns[key] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise PlanFileError(
            [
                Problem(header_number, c, f"missing column; a wave plan has the columns {', '.join(COLUMNS)}")
                for c in missing
            ]
        )
    rows = []
    for number, values in table:
        cells = {c: unsafe_cell(values[i]) if i < len(values) else "" for c, i in columns.items()}
        if not any(cells.values()):
            continue  # blank lines at the end of a sheet
        rows.append((number, cells))
        if len(rows) > MAX_ROWS:
            raise PlanFileError(
                [Problem(number, "", f"more than {MAX_ROWS:,} rows; split the plan into several files.")]
            )
    return rows


_CANONICAL = {c.lower().replace(" ", ""): c for c in COLUMNS}


def _canonical(title: str) -> str | None:
    return _CANONICAL.get(title.lower().replace(" ", "").replace("_", ""))


def _csv_rows(data: bytes, filename: str):
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise PlanFileError([Problem(None, "", f"{filename} is not text (save it as CSV UTF-8).")])
    if "\x00" in text:
        raise PlanFileError([Problem(None, "", f"{filename} is not a CSV file (save it as CSV UTF-8).")])
    first_line = text.split("\n", 1)[0]
    # Excel writes ";" or tabs in locales where "," is the decimal separator.
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise PlanFileError([Problem(reader.line_num, "", f"not readable as CSV: {exc}")]) from None


def _xlsx_rows(data: bytes, filename: str):
    from openpyxl import load_workbook

    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        raise PlanFileError([Problem(None, "", f"{filename} is not an .xlsx workbook.")])
    try:
        archive = zipfile.ZipFile(buffer)
    except (zipfile.BadZipFile, OSError):  # looks like a zip, but its directory is damaged
        raise PlanFileError(
            [Problem(None, "", f"{filename} is not a readable .xlsx workbook (damaged zip).")]
        ) from None
    with archive:
        # An .xlsx is a zip: check what it unpacks to before reading it.
        if sum(i.file_size for i in archive.infolist()) > settings.MAX_UPLOAD_MB * 20 * 1024 * 1024:
            raise PlanFileError(
                [Problem(None, "", f"{filename} unpacks to more than {settings.MAX_UPLOAD_MB * 20} MB.")]
            )
    try:
        book = load_workbook(buffer, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise PlanFileError(
            [Problem(None, "", f"{filename} is not a readable .xlsx workbook ({type(exc).__name__}).")]
        ) from None
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    finally:
        book.close()


# --- checking and applying ------------------------------------------------------------------------


@dataclass
class Move:
    row: int
    vm_id: int
    vm_name: str
    old_wave: int | None
    new_wave: int | None
    old_type: str
    new_type: str
    group_id: int | None


@dataclass
class ImportResult:
    rows: int = 0
    added: int = 0
    removed: int = 0
    moved: int = 0
    retyped: int = 0
    unchanged: int = 0
    applied: bool = False
    waves: list[str] = field(default_factory=list)  # the waves that changed
    messages: list[str] = field(default_factory=list)  # approvals withdrawn

    @property
    def changes(self) -> int:
        return self.added + self.removed + self.moved + self.retyped

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "added": self.added,
            "removed": self.removed,
            "moved": self.moved,
            "retyped": self.retyped,
            "unchanged": self.unchanged,
            "applied": self.applied,
            "waves": self.waves,
            "messages": self.messages,
        }

    def summary(self) -> str:
        if not self.changes:
            return f"{self.rows} rows read; nothing to change: the plan already is as the file says."
        parts = [
            f"{n} VM{'' if n == 1 else 's'} {what}"
            for n, what in (
                (self.added, "added to a wave"),
                (self.removed, "taken out of a wave"),
                (self.moved, "moved to another wave"),
                (self.retyped, "given another migration type"),
            )
            if n
        ]
        head = "changed" if self.applied else "would change (checked only, nothing changed)"
        return f"{self.rows} rows read; {head}: " + ", ".join(parts) + f" (waves {', '.join(self.waves)})."


_TYPES = {}
for _value, _label in MigrationType.choices:
    _TYPES[_value.lower()] = _value
    _TYPES[str(_label).lower()] = _value
_TYPES["vmotion"] = MigrationType.VMOTION


def parse_type(text: str) -> str | None:
    return _TYPES.get(text.strip().lower())


def import_plan(data: bytes, filename: str, *, acting_user, check_only: bool = False) -> ImportResult:
    """Check the whole file, then (unless `check_only`) apply it in one transaction. Raises PlanFileError
    with every problem, having changed nothing."""
    rows = read_plan(data, filename)
    try:
        with transaction.atomic():
            # Every wave is locked for the check and the change: the wave actions lock a wave before they
            # touch it, so nothing moves under the import between its check and its writes.
            waves = {w.pk: w for w in Wave.objects.select_for_update().order_by("pk")}
            moves, result = _check(rows, waves)
            if not check_only:
                _apply(moves, waves, result, acting_user)
            return result
    except IntegrityError:
        raise PlanFileError(
            [
                Problem(
                    None,
                    "",
                    "another change to these waves was saved at the same moment; "
                    "nothing was changed: import the file again.",
                )
            ]
        ) from None


_VM_FIELDS = (
    "pk",
    "name",
    "moid",
    "vcenter__name",
    "removed",
    "wave_item__wave_id",
    "wave_item__migration_type",
    "group_membership__group_id",
    "group_membership__group__name",
)


def _find_vms(rows) -> tuple[dict, dict]:
    """The VMs the rows may mean, fetched in chunks: by (vCenter, VM ID) and by (vCenter, name)."""
    by_id, by_name = {}, defaultdict(list)
    for column, lookup in (("VM", "name__in"), ("VM ID", "moid__in")):
        values = sorted({cells.get(column, "") for _, cells in rows} - {""})
        for start in range(0, len(values), LOOKUP_CHUNK):
            found = VirtualMachine.objects.filter(
                **{lookup: values[start : start + LOOKUP_CHUNK]}
            ).values_list(*_VM_FIELDS)
            for vm in found:
                by_id[(vm[3].lower(), vm[2])] = vm
                if vm not in by_name[(vm[3].lower(), vm[1])]:
                    by_name[(vm[3].lower(), vm[1])].append(vm)
    return by_id, by_name


def _check(rows, waves: dict) -> tuple[list[Move], ImportResult]:
    """Every row checked against the inventory and the waves: the moves the file asks for, and what they
    change. Raises PlanFileError with every problem found (up to MAX_PROBLEMS)."""
    check = _RowCheck(rows, waves)
    moves: list[Move] = []
    for number, cells in rows:
        try:
            moves.append(check.move(number, cells))
        except _RowRefused:
            continue
    _check_groups(moves, waves, check.bad)
    if check.problems:
        raise PlanFileError(
            sorted(
                check.problems,
                key=lambda p: (p.row or 0, COLUMNS.index(p.column) if p.column in COLUMNS else 99),
            )
        )
    result = _tally(moves, waves, ImportResult(rows=len(rows)))
    return [m for m in moves if (m.old_wave, m.old_type) != (m.new_wave, m.new_type)], result


class _RowRefused(Exception):
    """A row that cannot be checked further; its problem is already recorded."""


class _RowCheck:
    """The checks of one row after another, with what they look up once for the whole file (waves by
    name, the VMs the rows may mean, the vCenters), and the problems found so far."""

    def __init__(self, rows, waves: dict):
        self.waves = waves
        self.problems: list[Problem] = []
        self.by_name_wave = {w.name.lower(): w for w in waves.values()}
        self.by_id, self.by_name = _find_vms(rows)
        self.known_vcenters = {name.lower() for name in VCenter.objects.values_list("name", flat=True)}
        self.has_group_column = any("Group" in cells for _, cells in rows)
        self.seen: dict[int, int] = {}  # VM pk: the row listing it

    def bad(self, row, column, message) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(row, column, message))

    def refuse(self, row, column, message) -> _RowRefused:
        """Record the problem; the exception to raise to stop checking the row."""
        self.bad(row, column, message)
        return _RowRefused()

    def move(self, number: int, cells: dict) -> Move:
        """The move row `number` asks for; raises _RowRefused when the row is wrong."""
        name = cells["VM"]
        pk, _, _, _, removed, old_wave, old_type, group_id, group_name = self._vm(number, cells)
        if pk in self.seen:
            raise self.refuse(
                number, "VM", f"{name} is listed twice (also on row {self.seen[pk]}); list each VM once"
            )
        self.seen[pk] = number
        if self.has_group_column and cells.get("Group", "") != (group_name or ""):
            actual = f"in the group {group_name!r}" if group_name else "in no group"
            self.bad(
                number,
                "Group",
                f"{name} is {actual}; the import does not change groups (edit them on the groups pages)",
            )
        new_wave = self._wave(number, cells)
        new_type = self._type(number, cells, old_wave, old_type, new_wave)
        self._check_locked(number, name, removed, (old_wave, old_type), (new_wave, new_type))
        return Move(number, pk, name, old_wave, new_wave, old_type or "", new_type, group_id)

    def _vm(self, number: int, cells: dict) -> tuple:
        """The VM the row names: by VM ID when it gives one, else by its unique name in its vCenter."""
        name, moid, vcenter = cells["VM"], cells.get("VM ID", ""), cells["vCenter"]
        if not name:
            raise self.refuse(number, "VM", "empty: name the VM")
        if not vcenter:
            raise self.refuse(number, "vCenter", "empty: name the VM's vCenter")
        key_vc = vcenter.lower()
        if key_vc not in self.known_vcenters:
            raise self.refuse(number, "vCenter", f"no vCenter named {vcenter!r} in the inventory")
        if moid:
            vm = self.by_id.get((key_vc, moid))
            if vm is None:
                raise self.refuse(number, "VM ID", f"no VM with the VM ID {moid} in {vcenter}")
            if vm[1] != name:
                raise self.refuse(
                    number,
                    "VM",
                    f"the VM with the VM ID {moid} in {vcenter} is named {vm[1]!r}, not {name!r}",
                )
            return vm
        candidates = self.by_name.get((key_vc, name), [])
        if not candidates:
            raise self.refuse(number, "VM", f"no VM named {name!r} in {vcenter}")
        if len(candidates) > 1:
            raise self.refuse(
                number,
                "VM ID",
                f"{len(candidates)} VMs are named {name!r} in {vcenter}: fill in the VM ID column to say which",
            )
        return candidates[0]

    def _wave(self, number: int, cells: dict) -> int | None:
        """The pk of the wave the row puts the VM in; None: in no wave."""
        wave_text = cells["Wave"]
        if not wave_text:
            return None
        target = self.by_name_wave.get(wave_text.lower())
        if target is None:
            raise self.refuse(
                number,
                "Wave",
                f"no wave named {wave_text!r}; the import does not create waves: create it on the "
                "waves page first",
            )
        return target.pk

    def _type(self, number: int, cells: dict, old_wave, old_type: str, new_wave: int | None) -> str:
        """The per-VM migration type to store ("" for the wave's default)."""
        type_text = cells.get("Migration type", "")
        if not type_text or new_wave is None:  # a VM taken out of its wave has no type: the cell is ignored
            return ""
        parsed = parse_type(type_text)
        if parsed is None:
            raise self.refuse(
                number,
                "Migration type",
                f"{type_text!r} is not a migration type; use one of {', '.join(MigrationType.values)} (empty: the wave's default)",
            )
        return _override(parsed, old_wave, old_type, new_wave, self.waves)

    def _check_locked(self, number: int, name: str, removed, old: tuple, new: tuple) -> None:
        """A move out of or into a wave that is locked, or a vanished VM planned, or a type changed in a
        locked wave: recorded, the row still counts as a move (so its group is checked too)."""
        (old_wave, old_type), (new_wave, new_type) = old, new
        waves = self.waves
        if new_wave != old_wave:
            for wave_pk, verb in ((old_wave, "out of"), (new_wave, "into")):
                if wave_pk is not None and waves[wave_pk].status in LOCKED:
                    wave = waves[wave_pk]
                    self.bad(
                        number,
                        "Wave",
                        f"{name} cannot move {verb} {wave.name}: it is {wave.get_status_display().lower()}",
                    )
            if new_wave is not None and removed is not None:
                self.bad(number, "VM", f"{name} has vanished from its vCenter and cannot be planned")
        elif new_type != old_type and new_wave is not None and waves[new_wave].status in LOCKED:
            self.bad(
                number,
                "Migration type",
                f"{waves[new_wave].name} is {waves[new_wave].get_status_display().lower()}: "
                "its VMs' migration types are fixed",
            )


def _tally(moves: list[Move], waves: dict, result: ImportResult) -> ImportResult:
    """Count the moves by kind, and name the waves they change."""
    changed_waves = set()
    for move in moves:
        if move.old_wave == move.new_wave:
            if move.old_type == move.new_type:
                result.unchanged += 1
                continue
            result.retyped += 1
        elif move.old_wave is None:
            result.added += 1
        elif move.new_wave is None:
            result.removed += 1
        else:
            result.moved += 1
        changed_waves.update(w for w in (move.old_wave, move.new_wave) if w is not None)
    result.waves = sorted(waves[w].name for w in changed_waves)
    return result


def _override(parsed: str, old_wave, old_type: str, new_wave: int, waves: dict) -> str:
    """The per-VM type to store for the type the file gives: unchanged if it is what the VM has now, none
    if it is the wave's default."""
    if new_wave == old_wave and parsed == (old_type or waves[old_wave].migration_type):
        return old_type or ""
    return "" if parsed == waves[new_wave].migration_type else parsed


def _check_groups(moves: list[Move], waves: dict, bad) -> None:
    """Refuse a plan that leaves a group's VMs in two waves, counting the VMs the file does not list where
    they are now."""
    groups = {m.group_id for m in moves if m.group_id is not None}
    if not groups:
        return
    planned = {m.vm_id: m.new_wave for m in moves}
    members = defaultdict(list)
    group_ids = sorted(groups)
    for start in range(0, len(group_ids), LOOKUP_CHUNK):
        rows = GroupMember.objects.filter(group_id__in=group_ids[start : start + LOOKUP_CHUNK]).values_list(
            "group_id", "group__name", "vm_id", "vm__wave_item__wave_id"
        )
        for group_id, group_name, vm_id, wave_id in rows:
            members[(group_id, group_name)].append(planned.get(vm_id, wave_id))
    for (group_id, group_name), wave_ids in members.items():
        counts = defaultdict(int)
        for wave_id in wave_ids:
            if wave_id is not None:
                counts[wave_id] += 1
        if len(counts) > 1:
            spread = ", ".join(
                f"{waves[w].name} ({n} VM{'s' if n > 1 else ''})"
                for w, n in sorted(counts.items(), key=lambda kv: waves[kv[0]].name)
            )
            for move in moves:
                if move.group_id == group_id:
                    bad(
                        move.row,
                        "Wave",
                        f"the group {group_name} would be split across waves: {spread}; a group moves whole",
                    )


def _apply(moves: list[Move], waves: dict, result: ImportResult, acting_user) -> None:
    if not moves:
        result.applied = True
        return
    leaving = [m.vm_id for m in moves if m.old_wave is not None and m.new_wave is None]
    arriving = [m for m in moves if m.old_wave is None]
    staying = [m for m in moves if m.old_wave is not None and m.new_wave is not None]
    for start in range(0, len(leaving), LOOKUP_CHUNK):
        WaveItem.objects.filter(vm_id__in=leaving[start : start + LOOKUP_CHUNK]).delete()
    WaveItem.objects.bulk_create(
        [
            WaveItem(wave_id=m.new_wave, vm_id=m.vm_id, group_id=m.group_id, migration_type=m.new_type)
            for m in arriving
        ],
        batch_size=LOOKUP_CHUNK,
    )
    if staying:
        items = {i.vm_id: i for i in WaveItem.objects.filter(vm_id__in=[m.vm_id for m in staying])}
        for move in staying:
            item = items[move.vm_id]
            item.wave_id, item.migration_type = move.new_wave, move.new_type
            if move.old_wave != move.new_wave:
                item.group_id = move.group_id
        WaveItem.objects.bulk_update(
            list(items.values()), ["wave", "migration_type", "group"], batch_size=LOOKUP_CHUNK
        )
    per_wave = defaultdict(lambda: {"in": 0, "out": 0, "type": 0})
    for m in moves:
        if m.old_wave == m.new_wave:
            per_wave[m.new_wave]["type"] += 1
            continue
        if m.old_wave is not None:
            per_wave[m.old_wave]["out"] += 1
        if m.new_wave is not None:
            per_wave[m.new_wave]["in"] += 1
    for wave_pk, counts in sorted(per_wave.items()):
        what = f"wave plan import: {counts['in']} VMs in, {counts['out']} out, {counts['type']} migration types changed"
        change = changed(waves[wave_pk], acting_user, what, **counts)
        if change.message:
            result.messages.append(change.message)
    result.applied = True
