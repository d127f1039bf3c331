"""What is wrong with a dependency file, told the way a user finds it: row, column, what is wrong."""

from dataclasses import dataclass

from django.conf import settings

# Every bad row is counted; the first ones are kept to be shown. A file with a million bad rows
# must not turn into a million-line message.
MAX_KEPT = 200
MAX_IN_SUMMARY = 20


@dataclass(frozen=True)
class Problem:
    row: int | None = None  # as a spreadsheet numbers it: the first line is row 1
    column: str = ""
    message: str = ""

    def __str__(self):
        where = ", ".join(
            part
            for part in (
                f"row {self.row}" if self.row else "",
                f'column "{self.column}"' if self.column else "",
            )
            if part
        )
        return f"{where}: {self.message}" if where else self.message


class DependencyImportError(Exception):
    """A file that cannot be imported, with every problem found in one pass (the first MAX_KEPT kept)."""

    def __init__(self, problems, total: int | None = None, filename: str = "", stopped: bool = False):
        self.problems = list(problems)[:MAX_KEPT]
        self.total = total if total is not None else len(self.problems)
        self.filename = filename
        self.stopped = stopped  # reading stopped at IMPORT_MAX_PROBLEMS: there may be more
        super().__init__(self.summary())

    def lines(self, limit: int = MAX_KEPT) -> list[str]:
        shown = [str(p) for p in self.problems[:limit]]
        if self.total > len(shown):
            shown.append(f"and {self.total - len(shown)} more")
        return shown

    def summary(self, limit: int = MAX_IN_SUMMARY) -> str:
        if self.total == 1 and not self.problems[0].row:
            return f"{self.problems[0]}; nothing was imported."
        head = f"{self.total} problem{'' if self.total == 1 else 's'} in {self.filename or 'the file'}"
        if self.stopped:
            head = f"Reading stopped after {self.total} problems in {self.filename or 'the file'} (IMPORT_MAX_PROBLEMS)"
        return f"{head}; nothing was imported.\n" + "\n".join(self.lines(limit))


class ProblemList:
    """Collects problems while reading; keeps the first MAX_KEPT and counts them all."""

    def __init__(self, filename: str = ""):
        self.kept: list[Problem] = []
        self.total = 0
        self.filename = filename

    def add(self, row: int | None, column: str, message: str):
        self.total += 1
        if len(self.kept) < MAX_KEPT:
            self.kept.append(Problem(row, column, message))
        if self.total >= settings.IMPORT_MAX_PROBLEMS:
            # the file is refused either way; reading millions of rows more would only cost time
            raise DependencyImportError(self.kept, self.total, self.filename, stopped=True)

    def __bool__(self):
        return self.total > 0

    def raise_if_any(self, filename: str = ""):
        if self.total:
            raise DependencyImportError(self.kept, self.total, filename)
