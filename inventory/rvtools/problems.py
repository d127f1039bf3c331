"""What is wrong with an export, told the way a user finds it in Excel: sheet, row, column."""

from dataclasses import dataclass

from django.conf import settings

MAX_LISTED = 50


@dataclass(frozen=True)
class Problem:
    sheet: str = ""
    row: int | None = None  # as Excel numbers it: the header is row 1
    column: str = ""
    message: str = ""

    def __str__(self):
        where = ", ".join(
            part
            for part in (
                f"sheet {self.sheet}" if self.sheet else "",
                f"row {self.row}" if self.row else "",
                f'column "{self.column}"' if self.column else "",
            )
            if part
        )
        return f"{where}: {self.message}" if where else self.message


class RVToolsError(Exception):
    """An export that cannot be imported; carries every problem found, so one upload shows them all."""

    def __init__(self, problems, stopped: bool = False):
        self.problems = list(problems)
        self.stopped = stopped  # reading stopped at IMPORT_MAX_PROBLEMS: there may be more
        super().__init__(self.summary())

    def lines(self, limit: int = MAX_LISTED) -> list[str]:
        shown = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            shown.append(f"and {len(self.problems) - limit} more")
        return shown

    def summary(self, limit: int = MAX_LISTED) -> str:
        count = len(self.problems)
        head = f"{count} problem{'' if count == 1 else 's'} in the export"
        if self.stopped:
            head = f"Reading stopped after {count} problems in the export (IMPORT_MAX_PROBLEMS)"
        return f"{head}; nothing was imported.\n" + "\n".join(self.lines(limit))


class ProblemList(list):
    """Collects problems while mapping; `raise_if_any` ends the import before anything is written."""

    def add(self, sheet="", row=None, column="", message=""):
        self.append(Problem(sheet, row, column, message))
        if len(self) >= settings.IMPORT_MAX_PROBLEMS:
            # the export is refused either way; reading on would only cost time and memory
            raise RVToolsError(self, stopped=True)

    def raise_if_any(self):
        if self:
            raise RVToolsError(self)
