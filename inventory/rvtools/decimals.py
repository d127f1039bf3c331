"""Numbers as a CSV export writes them: with the decimal mark and digit grouping of the Windows locale.

RVTools writes "16,384" in a ","-separated file (the field is quoted) and "16.384" or "1,5" in a
";"-separated one: Windows makes ";" the list separator exactly where "," is the decimal mark. A file
is read one way throughout. Its way comes from its separator when that settles it, else from the
numbers it holds ("0.5" can only be a dot decimal, "1,5" or "1.234.567" only a comma one); a value
that reads as two different numbers ("1.234") when the file does not settle which is refused.
"""

import re
from dataclasses import dataclass

DOT, COMMA = ".", ","  # the decimal mark
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_PATTERNS = {
    DOT: re.compile(r"[+-]?\d{1,3}(?P<group>[,'\u2019])\d{3}(?:(?P=group)\d{3})*(\.\d+)?"),
    COMMA: re.compile(r"[+-]?(\d+|\d{1,3}(?P<group>[. \u00a0\u202f])\d{3}(?:(?P=group)\d{3})*)(,\d+)?"),
}


def read_as(text: str, mark: str) -> float | None:
    """`text` as a number written with decimal mark `mark`, or None if it is not one."""
    if mark == DOT and _PLAIN.fullmatch(text):
        return float(text)
    match = _PATTERNS[mark].fullmatch(text)
    if match is None:
        return None
    if match["group"]:
        text = text.replace(match["group"], "")
    return float(text.replace(",", ".")) if mark == COMMA else float(text)


@dataclass(frozen=True)
class Evidence:
    """A value that can only be written with one decimal mark, to show why the file reads as it does."""

    value: str
    row: int
    column: str

    def __str__(self):
        return f'"{self.value}" (row {self.row}, column "{self.column}")'


class NumberStyle:
    """How one file writes numbers: `mark` is its decimal mark, or None if the file does not settle it."""

    def __init__(self, delimiter: str | None, values):
        """`values`: (row, column, text) for every text cell of the file's numeric columns."""
        self.evidence = {DOT: None, COMMA: None}
        if delimiter in (None, ","):
            # an xlsx holds numbers as numbers; a ","-separated file can only use "." for decimals
            self.mark = DOT
            return
        for row, column, text in values:
            dot, comma = read_as(text, DOT), read_as(text, COMMA)
            for mark, this, other in ((DOT, dot, comma), (COMMA, comma, dot)):
                if this is not None and other is None and self.evidence[mark] is None:
                    self.evidence[mark] = Evidence(text, row, column)
        if self.evidence[DOT] and self.evidence[COMMA]:
            self.mark = None
        elif self.evidence[DOT] or self.evidence[COMMA]:
            self.mark = DOT if self.evidence[DOT] else COMMA
        else:
            # nothing in the file tells: ";" is the list separator of the locales that write "1,5"
            self.mark = COMMA if delimiter == ";" else None

    def read(self, text: str) -> tuple[float | None, str]:
        """(number, "") or (None, why it is refused)."""
        if self.mark is not None:
            number = read_as(text, self.mark)
            return (number, "") if number is not None else (None, f'"{text}" is not a number')
        dot, comma = read_as(text, DOT), read_as(text, COMMA)
        if dot is None or comma is None or dot == comma:
            number = dot if dot is not None else comma
            return (number, "") if number is not None else (None, f'"{text}" is not a number')
        if self.evidence[DOT]:
            why = f"this file writes decimals both as {self.evidence[DOT]} and as {self.evidence[COMMA]}"
        else:
            why = 'no other number in this file shows whether it uses "." or "," as decimal mark'
        return None, f'"{text}" could be {_show(dot)} or {_show(comma)}: {why}'


def _show(number: float) -> str:
    return str(int(number)) if number.is_integer() else str(number)
