"""PDF summaries, drawn on the server with reportlab: the programme (figures, burn-up, waves by status,
risks, the waves) and one wave (progress, estimate, VMs by state, plan versus actual, approvals,
readiness). The charts are the same Drawings the pages show (charts.py).

Tables are bounded (`MAX_TABLE_ROWS`): a PDF is for reading; the CSV/XLSX exports have every row, and
the PDF says so when it cuts. Text from vCenter, HCX or users goes into Paragraphs escaped, since
reportlab reads Paragraph text as markup.

Nothing overlaps however long a name is: every table has column widths that fill the page, every cell
is a Paragraph (it wraps, and a word longer than its column is split), and the footer's title is
shortened with an ellipsis to leave room for the page number (tests/test_reports_pdf_layout.py reads
the text positions back).
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from migrations_app.choices import WaveStatus
from migrations_app.models import Wave
from migrations_app.waves.display import window_text
from migrations_app.waves.querysets import waves as wave_queryset

from . import charts, wavereport
from .dashboard import MIB_PER_TB, Figures

MAX_TABLE_ROWS = 300
STYLES = getSampleStyleSheet()
SMALL = STYLES["BodyText"].clone("small", fontSize=7.5, leading=9, splitLongWords=1)
HEADER = SMALL.clone("header", fontName="Helvetica-Bold")
FIGURE = SMALL.clone("figure", fontSize=9, leading=11)
FIGURE_LABEL = FIGURE.clone("figure_label", fontName="Helvetica-Bold")
MARGIN = 15 * mm
FOOTER_FONT, FOOTER_SIZE = "Helvetica", 7
GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#adb5bd")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("REPEATROWS", (0, 0), (-1, 0)),
    ]
)


def _p(text, style=SMALL) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _cell(value) -> Flowable:
    return value if isinstance(value, Flowable) else _p(value)


def _table(header: list[str], rows: list[list], widths: list[float]) -> Table:
    """A grid whose `widths` fill the page's width; every cell wraps within its column."""
    table = Table(
        [[_p(h, HEADER) for h in header], *[[_cell(c) for c in row] for row in rows]],
        colWidths=widths,
        repeatRows=1,
    )
    table.setStyle(GRID)
    return table


def _figures_table(pairs: list[tuple[str, str]]) -> Table:
    table = Table(
        [[_p(k, FIGURE_LABEL), _p(v, FIGURE)] for k, v in pairs], colWidths=[60 * mm, 120 * mm], hAlign="LEFT"
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def fit(text: str, width: float, font: str = FOOTER_FONT, size: float = FOOTER_SIZE) -> str:
    """`text`, cut with an ellipsis where it would be wider than `width` points."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _footer(title: str):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(FOOTER_FONT, FOOTER_SIZE)
        page = f"Page {doc.page}"
        right = doc.pagesize[0] - MARGIN
        generated = f" · generated {timezone.now():%Y-%m-%d %H:%M} UTC"
        room = right - MARGIN - stringWidth(page, FOOTER_FONT, FOOTER_SIZE) - 5 * mm
        title_room = room - stringWidth(generated, FOOTER_FONT, FOOTER_SIZE)
        canvas.drawString(MARGIN, 8 * mm, fit(title, title_room) + generated)
        canvas.drawRightString(right, 8 * mm, page)
        canvas.restoreState()

    return draw


def _build(title: str, story: list, *, wide: bool = False) -> bytes:
    out = io.BytesIO()
    size = landscape(A4) if wide else A4
    doc = SimpleDocTemplate(
        out,
        pagesize=size,
        title=title,
        author="AVS Portal",
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
    )
    doc.build(story, onFirstPage=_footer(title), onLaterPages=_footer(title))
    return out.getvalue()


def _cut_note(shown: int, total: int, what: str):
    if total > shown:
        return [
            Spacer(1, 2 * mm),
            _p(f"The first {shown} of {total} {what}; the CSV/XLSX export has them all."),
        ]
    return []


def programme_pdf(f: Figures) -> bytes:
    h1, h2 = STYLES["Title"], STYLES["Heading2"]
    t = f.throughput
    story = [
        Paragraph("Migration programme", h1),
        _figures_table(
            [
                ("VMs migrated", f"{f.migrated_vms} of {f.planned_vms} planned ({f.percent_vms}%)"),
                ("TiB migrated", f"{f.migrated_tb:,.2f} of {f.planned_tb:,.2f} planned ({f.percent_tb}%)"),
                ("VMs in the estate", str(f.estate_vms)),
                (
                    "Waves",
                    ", ".join(f"{s['label']}: {s['waves']}" for s in f.status_counts if s["waves"]) or "none",
                ),
                (
                    "Throughput",
                    f"{t.average_mbps} Mbit/s per migration over {t.completed} completed"
                    if t.average_mbps
                    else "nothing completed yet",
                ),
                (
                    "Risks",
                    f"{f.blocked_vms} blocked VMs, {f.failed} failed migrations, {len(f.lagging)} lagging waves",
                ),
            ]
        ),
        Spacer(1, 4 * mm),
    ]
    if f.burnup.empty:
        story.append(_p("No waves with a change window yet: the burn-up starts once waves are planned."))
    else:
        story += [
            charts.burnup_chart(f.burnup, "vms"),
            Spacer(1, 3 * mm),
            charts.burnup_chart(f.burnup, "tb"),
        ]
    story += [Spacer(1, 3 * mm), charts.status_chart(f.status_counts)]
    if f.live:
        story += [
            Paragraph("Running waves", h2),
            _table(
                ["Wave", "Health", "Done", "Failed", "In flight", "Waiting", "Progress"],
                [
                    [
                        _p(w.name),
                        w.health,
                        w.progress["done"],
                        w.progress["failed"],
                        w.progress["in_flight"],
                        w.progress["waiting"],
                        f"{w.progress['percent']}%",
                    ]
                    for w in f.live
                ],
                widths=[68 * mm, 20 * mm, 18 * mm, 18 * mm, 18 * mm, 18 * mm, 20 * mm],
            ),
        ]
    if f.blocked_by_rule or f.failed_rows:
        story.append(Paragraph("Risks", h2))
    if f.blocked_by_rule:
        story.append(
            _table(
                ["Readiness rule (blockers)", "VMs"],
                [[_p(r["title"]), r["vms"]] for r in f.blocked_by_rule],
                widths=[150 * mm, 30 * mm],
            )
        )
        story.append(Spacer(1, 2 * mm))
    if f.failed_rows:
        story.append(
            _table(
                ["VM", "Wave", "State", "Message"],
                [[_p(r["vm"]), _p(r["wave"]), r["state_label"], _p(r["message"])] for r in f.failed_rows],
                widths=[40 * mm, 35 * mm, 25 * mm, 80 * mm],
            )
        )
    waves = wave_queryset().order_by("sequence", "window_start", "name")
    total = waves.count()
    rows = [
        [
            w.sequence,
            _p(w.name),
            WaveStatus(w.status).label,
            _p(window_text(w) or "—"),
            w.vm_count,
            f"{w.used_mib / MIB_PER_TB:,.2f}",
        ]
        for w in waves[:MAX_TABLE_ROWS]
    ]
    story += [Paragraph("Waves", h2)]
    story += (
        [
            _table(
                ["Order", "Wave", "Status", "Change window", "VMs", "Used TiB"],
                rows,
                widths=[12 * mm, 45 * mm, 25 * mm, 65 * mm, 15 * mm, 18 * mm],
            )
        ]
        if rows
        else [_p("No waves yet: plan one under Planning → Waves.")]
    )
    story += _cut_note(len(rows), total, "waves")
    return _build("Migration programme", story)


def wave_pdf(wave: Wave) -> bytes:
    h1, h2 = STYLES["Title"], STYLES["Heading2"]
    s = wavereport.summary(wave)
    p, estimate = s["progress"], s["estimate"]
    story = [
        Paragraph(f"Wave report: {escape(wave.name)}", h1),
        _figures_table(
            [
                ("Status", f"{WaveStatus(wave.status).label} (revision {wave.revision})"),
                ("Change window", window_text(wave) or "not set"),
                (
                    "VMs",
                    f"{p['vms']}: {p['done']} migrated, {p['failed']} failed, {p['in_flight']} in flight, "
                    f"{p['waiting']} waiting",
                ),
                ("Progress", f"{p['percent']}%, health {p['health']}"),
                ("Estimate", estimate.verdict),
                (
                    "Readiness",
                    f"{s['findings'].get('blocker', 0)} blockers, {s['findings'].get('warning', 0)} warnings",
                ),
            ]
        ),
        Spacer(1, 4 * mm),
        charts.migration_state_chart(p["states"], "VMs by state of their latest attempt")
        if p["states"]
        else _p("Nothing launched yet."),
    ]
    estimator = wavereport.VmEstimator(wave, estimate)
    items = wavereport.vm_rows(wave)
    total = p["vms"]
    rows = []
    for item in items[:MAX_TABLE_ROWS]:
        row = wavereport.export_row(item, estimator)
        rows.append(
            [
                _p(row[0]),
                row[2],
                row[3],
                _p(row[4]),
                row[5],
                row[6],
                row[8][:16],
                row[9][:16],
                row[10],
                _p(row[13]),
            ]
        )
    story += [
        Paragraph("Plan versus actual", h2),
        _table(
            [
                "VM",
                "Planned",
                "GiB",
                "Estimate",
                "Latest attempt",
                "Tries",
                "Started",
                "Ended",
                "Took",
                "Message",
            ],
            rows,
            widths=[38 * mm, 16 * mm, 12 * mm, 42 * mm, 26 * mm, 10 * mm, 24 * mm, 24 * mm, 16 * mm, 55 * mm],
        )
        if rows
        else _p("No VMs in this wave yet."),
    ]
    story += _cut_note(len(rows), total, "VMs")
    approvals = list(wavereport.approvals(wave)[:50])
    story.append(Paragraph("Approvals", h2))
    story.append(
        _table(
            ["Decided", "Revision", "Decision", "By", "Change ticket", "Comment"],
            [
                [
                    a.created.strftime("%Y-%m-%d %H:%M"),
                    a.revision,
                    a.get_decision_display(),
                    _p(a.user.username),
                    _p(a.change_ticket),
                    _p(a.comment),
                ]
                for a in approvals
            ],
            widths=[28 * mm, 16 * mm, 20 * mm, 35 * mm, 50 * mm, 118 * mm],
        )
        if approvals
        else _p("No decision yet.")
    )
    from migrations_app.readiness.panels import rule_groups

    groups = rule_groups(wave, per_rule=3)
    story.append(Paragraph("Readiness", h2))
    story.append(
        _table(
            ["Rule", "Severity", "Findings", "First VMs"],
            [
                [
                    _p(g.title),
                    g.severity,
                    g.findings,
                    _p(", ".join(r["vm__name"] or "(the wave)" for r in g.rows)),
                ]
                for g in groups
            ],
            widths=[80 * mm, 20 * mm, 17 * mm, 150 * mm],
        )
        if groups
        else _p("No findings.")
    )
    return _build(f"Wave report: {wave.name}", story, wide=True)
