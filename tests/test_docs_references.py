"""The project owns what it relies on: it lives in docs/, and references point there.

- No tracked file cites a document kept outside the repository: the HCX research file (`hcx-api` +
  `.md`), the product brief or the style notes kept beside it (`PRODUCT`, `STYLE`, `DEVELOPERS` +
  `.md`), or a path into `shared/` or `/work/`. HCX facts live in docs/hcx-wire.md (cited as
  `hcx-wire.md §N`), the product rules in docs/product.md (cited as `product.md §N`).
- A document named in capitals (README.md, RESULTS.md: the repository's own by convention) is a file
  of the repository.
- Every `<name>.md §N` (or `§N.M`, or `<name>.md section N`) anywhere names a document in docs/ and a
  section it has (its `## N.` and `### N.M` headings); inside a document of docs/, a bare `§N` names
  one of its own sections.

Pure file reading: no database, no peers.
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
WIRE = DOCS / "hcx-wire.md"
PRODUCT = DOCS / "product.md"
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
SUFFIXES = (".py", ".html", ".md", ".sh", ".toml", ".yml", ".js", ".css", ".go")
NO_SUFFIX = ("Dockerfile", ".ci/run", "bench/run", "scripts/demo", "scripts/test")
SKIPPED_DIRS = (".venv", ".git", "node_modules", "static/vendor/")

OUTSIDE = re.compile(
    r"hcx-api\.md"  # the HCX research file outside the repository
    r"|(?<![\w.-])(?:PRODUCT|STYLE|DEVELOPERS)\.md"  # the product brief, the style and developer notes beside it
    r"|(?<![\w-])shared/"  # ../shared/..., /work/shared/... (not a name such as sqlclu01-shared/)
    r"|(?<![\w.-])/work/"  # an absolute path into the machine's work area
)
# Not citations but data the code reads: (file, the text that may stay there).
ALLOWED = {}
# README.md, bench/RESULTS.md: a document named in capitals, with its path if it gives one.
CAPITALS_DOC = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*\.md)\b")

NUMBER = r"\d+(?:\.\d+)?"
DOC = r"([\w-]+\.md)`?"
# hcx-wire.md §6 / `hcx-wire.md` §6, §9.2 / §11.2-11.4 / §1 and §5 / product.md §5
SIGN_CITATION = re.compile(rf"{DOC}\s*§({NUMBER}(?:\s*(?:,|and|to)\s*§{NUMBER}|\s*-\s*§?{NUMBER})*)")
# hcx-wire.md section 2 / sections 1 and 2
WORD_CITATION = re.compile(rf"{DOC}\s+sections?\s+({NUMBER}(?:\s*(?:,|and)\s*{NUMBER})*)")
BARE_SIGN = re.compile(rf"§({NUMBER})")


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        names = out.splitlines()
    except (OSError, subprocess.CalledProcessError):  # no git (a copied tree): every file under ROOT
        names = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()]
    return [
        n
        for n in names
        if (n.endswith(SUFFIXES) or n in NO_SUFFIX)
        and not n.startswith(SKIPPED_DIRS)
        and (ROOT / n).is_file()
    ]


def sections(doc: Path) -> set[str]:
    """The numbered sections of a document: its `## N.` and `### N.M` headings."""
    text = doc.read_text(encoding="utf-8")
    found = set(re.findall(r"^## (\d+)\.", text, flags=re.M))
    found |= set(re.findall(r"^### (\d+\.\d+)\b", text, flags=re.M))
    return found


def wire_sections() -> set[str]:
    return sections(WIRE)


def cited_numbers(text: str, *, bare: str | None = None) -> list[tuple[int, str, str]]:
    """(line number, document, section number) of each `<name>.md §N` citation in `text`; with `bare`
    (the name of the document `text` is), also each bare `§N`, as a section of that document."""
    found = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for pattern in (SIGN_CITATION, WORD_CITATION):
            for m in pattern.finditer(line):
                found += [(lineno, m.group(1), n) for n in re.findall(NUMBER, m.group(2))]
        if bare:
            # What is left once the citations of a named document are taken out refers to this one.
            rest = WORD_CITATION.sub("", SIGN_CITATION.sub("", line))
            found += [(lineno, bare, n) for n in BARE_SIGN.findall(rest)]
    return found


def test_nothing_cites_a_document_outside_the_repository():
    offending = []
    for name in tracked_files():
        if name == THIS:
            continue
        for lineno, line in enumerate(
            (ROOT / name).read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            for match in OUTSIDE.finditer(line):
                if any(name == f and f_text in line for f, f_text in ALLOWED):
                    continue
                offending.append(f"{name}:{lineno}: {match.group(0)!r} in {line.strip()[:100]}")
    assert not offending, (
        "cite docs/hcx-wire.md (`hcx-wire.md §N`) or docs/product.md (`product.md §N`) instead:\n"
        + "\n".join(offending)
    )


def test_every_document_named_in_capitals_is_in_the_repository():
    names = tracked_files()
    documents = {n for n in names if n.endswith(".md")}
    basenames = {n.rsplit("/", 1)[-1] for n in documents}
    missing = []
    for name in names:
        if name == THIS:
            continue
        for lineno, line in enumerate(
            (ROOT / name).read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            for cited in CAPITALS_DOC.findall(line):
                if cited not in documents and cited.rsplit("/", 1)[-1] not in basenames:
                    missing.append(f"{name}:{lineno}: {cited}")
    assert not missing, "no such document in the repository:\n" + "\n".join(missing)


def test_the_cited_documents_have_the_numbered_sections_this_test_reads():
    assert {str(n) for n in range(1, 14)} <= sections(WIRE)
    assert {str(n) for n in range(1, 8)} <= sections(PRODUCT)


def test_every_citation_names_a_document_of_docs_and_a_section_it_has():
    known = {doc.name: sections(doc) for doc in DOCS.glob("*.md")}
    missing = []
    for name in tracked_files():
        if name == THIS:  # its examples
            continue
        path = ROOT / name
        text = path.read_text(encoding="utf-8", errors="replace")
        own = path.name if path.parent == DOCS else None
        for lineno, doc, number in cited_numbers(text, bare=own):
            if doc not in known:
                missing.append(f"{name}:{lineno}: {doc} §{number}: no such document in docs/")
                continue
            major = number.split(".")[0]
            if major not in known[doc] or ("." in number and number not in known[doc]):
                missing.append(f"{name}:{lineno}: {doc} has no §{number}")
    assert not missing, "citations of what docs/ does not have:\n" + "\n".join(missing)


def test_the_citation_reader_sees_every_form_the_code_uses():
    text = "\n".join(
        [
            "(hcx-wire.md §6)",
            "`hcx-wire.md` §5, HCX 9.x",
            "hcx-wire.md §1, §5",
            "hcx-wire.md §11.2-11.4",
            "hcx-wire.md sections 1 and 2",
            "hcx-wire.md section 2: HCX answers",
            "OVF 1.x section 9.5",
            "(product.md §4)",
            "docs/product.md §5 per VM",
            "(hcx-wire.md §11, product.md §5)",
        ]
    )
    assert [(doc, n) for _, doc, n in cited_numbers(text)] == [
        ("hcx-wire.md", "6"),
        ("hcx-wire.md", "5"),
        ("hcx-wire.md", "1"),
        ("hcx-wire.md", "5"),
        ("hcx-wire.md", "11.2"),
        ("hcx-wire.md", "11.4"),
        ("hcx-wire.md", "1"),
        ("hcx-wire.md", "2"),
        ("hcx-wire.md", "2"),
        ("product.md", "4"),
        ("product.md", "5"),
        ("hcx-wire.md", "11"),
        ("product.md", "5"),
    ]
    # Inside a document of docs/, a bare § is one of its own sections; a named one stays the other's.
    assert [(doc, n) for _, doc, n in cited_numbers("as §7 says (hcx-wire.md §10)", bare="product.md")] == [
        ("hcx-wire.md", "10"),
        ("product.md", "7"),
    ]
    assert OUTSIDE.search("see ../shared/hcx-api.md") and OUTSIDE.search('Path("/work/x")')
    for outside in ("PRODUCT.md section 5", "(STYLE.md habit 5)", "see DEVELOPERS.md"):
        assert OUTSIDE.search(outside), outside
    assert not OUTSIDE.search("[DS] sqlclu01-shared/sqlclu01-shared.vmdk")
    assert not OUTSIDE.search("docs/product.md §5")
    assert CAPITALS_DOC.findall("see bench/RESULTS.md, README.md and PRODUCT.md; not docs/product.md") == [
        "bench/RESULTS.md",
        "README.md",
        "PRODUCT.md",
    ]
    assert CAPITALS_DOC.findall("bench/RESULTS-postgresql.md") == []
