"""Typed access to one sheet's cells: xlsx gives numbers and datetimes, CSV gives text; both read alike.

A cell that does not parse is recorded as a problem (sheet, row, column as the file names it)
and read as empty, so that one pass over the export finds every problem at once.
"""

import datetime as dt
import ipaddress
from functools import cached_property

from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from .columns import COLUMNS, NUMBERS, REQUIRED, resolve
from .decimals import NumberStyle
from .problems import ProblemList
from .reader import Sheet

TRUE = {"true", "yes", "1", "on"}
FALSE = {"false", "no", "0", "off"}
DATE_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
)


class SheetReader:
    """The rows of one sheet, with its columns resolved; checks that required columns exist."""

    def __init__(self, key: str, sheet: Sheet, problems: ProblemList):
        self.key = key
        self.sheet = sheet
        self.problems = problems
        self.columns = resolve(sheet.headers, key)
        for field in REQUIRED[key]:
            if field not in self.columns:
                problems.add(sheet.name, 1, COLUMNS[key][field][0], "required column is missing")

    def has(self, field: str) -> bool:
        return field in self.columns

    @cached_property
    def numbers(self) -> NumberStyle:
        """How this file writes numbers, read from its separator and its numeric columns."""
        indexes = [self.columns[f] for f in NUMBERS.get(self.key, ()) if f in self.columns]
        columns = [(index, self.sheet.headers[index]) for index in indexes]
        cells = (
            (number, header, values[index].strip())
            for number, values in self.sheet.rows
            for index, header in columns
            if index < len(values) and isinstance(values[index], str)
        )
        return NumberStyle(self.sheet.delimiter, cells)

    def __iter__(self):
        for number, values in self.sheet.rows:
            yield Row(self, number, values)

    def __len__(self):
        return len(self.sheet.rows)


class Row:
    __slots__ = ("reader", "number", "values")

    def __init__(self, reader: SheetReader, number: int, values: tuple):
        self.reader = reader
        self.number = number
        self.values = values

    def raw(self, field: str):
        index = self.reader.columns.get(field)
        if index is None or index >= len(self.values):
            return None
        value = self.values[index]
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def problem(self, field: str, message: str):
        header = (
            self.reader.sheet.headers[self.reader.columns[field]] if field in self.reader.columns else field
        )
        self.reader.problems.add(self.reader.sheet.name, self.number, header, message)

    def text(self, field: str, max_length: int | None = None) -> str:
        value = self.raw(field)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = stringify(value)
        return text[:max_length] if max_length else text

    def decimal(self, field: str, default=None) -> float | None:
        value = self.raw(field)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.problem(field, f'"{value}" is not a number')
            return default
        if isinstance(value, str):
            value, refused = self.reader.numbers.read(value)
            if refused:
                self.problem(field, refused)
                return default
        return value

    def int(self, field: str, default=None, minimum: int | None = 0) -> int | None:
        value = self.decimal(field)
        if value is None:
            return default
        value = int(round(value))
        # vCenter reports -1 for "not known" in several counters; a size below zero means none
        return max(value, minimum) if minimum is not None else value

    def bool(self, field: str) -> bool | None:
        value = self.raw(field)
        if value is None or isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        self.problem(field, f'"{value}" is not True or False')
        return None

    def datetime(self, field: str) -> dt.datetime | None:
        value = self.raw(field)
        if value is None:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            self.problem(field, f'"{value}" is not a date and time')
        return parsed

    def ip(self, field: str) -> str | None:
        value = self.raw(field)
        if value is None:
            return None
        address = normalize_ip(str(value))
        if address is None:
            self.problem(field, f'"{value}" is not an IP address')
        return address


def stringify(value) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def parse_datetime(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        text = str(value).strip()
        parsed = None
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            for fmt in DATE_FORMATS:
                try:
                    parsed = dt.datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if parsed is None:
            return None
    # RVTools writes the local time of the machine it ran on, without a zone: read it in ours
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def normalize_ip(text: str) -> str | None:
    """The form the database stores (GenericIPAddressField), so that a re-import compares equal."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    return clean_ipv6_address(str(address)) if address.version == 6 else str(address)
