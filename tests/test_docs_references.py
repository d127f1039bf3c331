"""The project owns its HCX knowledge: what the code relies on is in docs/, and references point there.

- No tracked source or text file outside docs/ cites the research file outside the repository
  (`hcx-api` + `.md`) or a path into `shared/` or `/work/`: what the code relies on lives in
  docs/hcx-wire.md, and comments cite it as `hcx-wire.md §N`.
- Every `hcx-wire.md §N` (or `§N.M`, or `hcx-wire.md section N`) anywhere, and every bare `§N` inside
  docs/hcx-wire.md itself, names a section that docs/hcx-wire.md has (its `## N.` and `### N.M` headings).

Pure file reading: no database, no peers.
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIRE = ROOT / "docs" / "hcx-wire.md"
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
SUFFIXES = (".py", ".html", ".md", ".sh", ".toml")
SKIPPED_DIRS = (".venv", ".git", "node_modules")

OUTSIDE = re.compile(
    r"hcx-api\.md"  # the research file outside the repository
    r"|(?<![\w-])shared/"  # ../shared/..., /work/shared/... (not a name such as sqlclu01-shared/)
    r"|(?<![\w.-])/work/"  # an absolute path into the machine's work area
)
# Not citations but data the code reads: (file, the text that may stay there).
ALLOWED = {
}

NUMBER = r"\d+(?:\.\d+)?"
# hcx-wire.md §6 / `hcx-wire.md` §6, §9.2 / §11.2-11.4 / §1 and §5
SIGN_CITATION = re.compile(
    rf"hcx-wire\.md`?\s*§({NUMBER}(?:\s*(?:,|and|to)\s*§{NUMBER}|\s*-\s*§?{NUMBER})*)"
)
# hcx-wire.md section 2 / sections 1 and 2
WORD_CITATION = re.compile(rf"hcx-wire\.md`?\s+sections?\s+({NUMBER}(?:\s*(?:,|and)\s*{NUMBER})*)")
BARE_SIGN = re.compile(rf"§({NUMBER})")


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        names = out.splitlines()
    except (OSError, subprocess.CalledProcessError):  # no git (a copied tree): every file under ROOT
        names = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()]
    return [n for n in names if n.endswith(SUFFIXES) and not n.startswith(SKIPPED_DIRS) and (ROOT / n).is_file()]


def wire_sections() -> set[str]:
    text = WIRE.read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (\d+)\.", text, flags=re.M))
    sections |= set(re.findall(r"^### (\d+\.\d+)\b", text, flags=re.M))
    return sections


def cited_numbers(text: str, *, bare: bool = False) -> list[tuple[int, str]]:
    """(line number, section number) of each citation of hcx-wire.md in `text`."""
    found = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        groups = [m.group(1) for m in SIGN_CITATION.finditer(line)] + [m.group(1) for m in WORD_CITATION.finditer(line)]
        numbers = [n for g in groups for n in re.findall(NUMBER, g)]
        if bare:
            numbers += BARE_SIGN.findall(line)
        found += [(lineno, n) for n in numbers]
    return found


def test_nothing_outside_docs_cites_a_file_outside_the_repository():
    offending = []
    for name in tracked_files():
        if name.startswith("docs/") or name == THIS:
            continue
        for lineno, line in enumerate((ROOT / name).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for match in OUTSIDE.finditer(line):
                if any(name == f and f_text in line for f, f_text in ALLOWED):
                    continue
                offending.append(f"{name}:{lineno}: {match.group(0)!r} in {line.strip()[:100]}")
    assert not offending, "cite docs/hcx-wire.md (`hcx-wire.md §N`) instead:\n" + "\n".join(offending)


def test_hcx_wire_has_the_numbered_sections_this_test_reads():
    sections = wire_sections()
    assert {str(n) for n in range(1, 14)} <= sections


def test_every_hcx_wire_citation_names_a_section_it_has():
    sections = wire_sections()
    missing = []
    for name in tracked_files():
        path = ROOT / name
        text = path.read_text(encoding="utf-8", errors="replace")
        for lineno, number in cited_numbers(text, bare=path == WIRE):
            major = number.split(".")[0]
            if major not in sections or ("." in number and number not in sections):
                missing.append(f"{name}:{lineno}: §{number}")
    assert not missing, "docs/hcx-wire.md has no such section:\n" + "\n".join(missing)


def test_the_citation_reader_sees_every_form_the_code_uses():
    text = "\n".join([
        "(hcx-wire.md §6)", "`hcx-wire.md` §5, HCX 9.x", "hcx-wire.md §1, §5", "hcx-wire.md §11.2-11.4",
        "hcx-wire.md sections 1 and 2", "hcx-wire.md section 2: HCX answers", "OVF 1.x section 9.5",
    ])
    assert [n for _, n in cited_numbers(text)] == ["6", "5", "1", "5", "11.2", "11.4", "1", "2", "2"]
    assert OUTSIDE.search("see ../shared/hcx-api.md") and OUTSIDE.search('Path("/work/x")')
    assert not OUTSIDE.search("[DS] sqlclu01-shared/sqlclu01-shared.vmdk")
