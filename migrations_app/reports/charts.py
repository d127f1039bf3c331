"""The charts, drawn once with reportlab.graphics: the same Drawing is inlined in the page as SVG and
placed in the PDF, so paper and screen never disagree.

Every chart carries its title as text, so a screen reader (the SVG's aria-label) and a test reading
the PDF both find it.

On the page a chart scales with its card (a viewBox and width 100%, no fixed pixel size) and writes in
the page's font. Its text is drawn at LABEL_SIZE/TITLE_SIZE units in a WIDTH-unit-wide drawing, so in a
half-width card (about 450-650 px) it reads at 11 px or more, and at 8-11 pt on the PDF's A4.
"""

from __future__ import annotations

import datetime
import io
import math
import re
import uuid

from django.utils.html import escape
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import LineLegend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from .dashboard import Burnup

PLANNED = colors.HexColor("#6c757d")
ACTUAL = colors.HexColor("#198754")
BAR = colors.HexColor("#0d6efd")
# Bootstrap's colours by name, for bars coloured like the status badges.
NAMED = {
    "primary": "#0d6efd",
    "secondary": "#6c757d",
    "success": "#198754",
    "danger": "#dc3545",
    "warning": "#ffc107",
    "info": "#0dcaf0",
    "dark": "#212529",
    "light": "#adb5bd",
}

WIDTH = 440
LABEL_SIZE, TITLE_SIZE = 11, 13

BURNUP_TITLES = {"vms": "VMs migrated against plan", "tb": "TiB migrated against plan"}


def _day_label(ordinal) -> str:
    return datetime.date.fromordinal(int(ordinal)).strftime("%d %b %y")


def _steps(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """A cumulative series as steps: a figure holds until the day it changes."""
    stepped = points[:1]
    for x, y in points[1:]:
        stepped += [(x, stepped[-1][1]), (x, y)]
    return stepped


def burnup_chart(curve: Burnup, unit: str = "vms", width: int = WIDTH, height: int = 270) -> Drawing:
    """Planned (grey, stepping up at each wave's window end) and actual (green) cumulative lines."""
    title = BURNUP_TITLES[unit]
    drawing = Drawing(width, height)
    drawing.add(String(10, height - TITLE_SIZE - 4, title, fontName="Helvetica-Bold", fontSize=TITLE_SIZE))
    points = curve.points
    if points:
        # Both lines start from nothing the day before the first change: VMs that all moved on one
        # day, before the plan's next step, would otherwise be a lone point and draw no line.
        first = points[0]
        points = [type(first)(first.day - datetime.timedelta(days=1)), *points]
    plan_key, actual_key = f"planned_{unit}", f"actual_{unit}"
    planned = [(p.day.toordinal(), getattr(p, plan_key)) for p in points]
    today = datetime.date.today()
    actual = [(p.day.toordinal(), getattr(p, actual_key)) for p in points if p.day <= today]
    if actual and actual[-1][0] < today.toordinal() <= planned[-1][0]:
        actual.append((today.toordinal(), actual[-1][1]))  # flat up to today: nothing moved since
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 50, 62, width - 80, height - 62 - 58
    data = [_steps(planned), _steps(actual) or [(planned[0][0], 0)]]
    plot.data = data
    plot.lines[0].strokeColor, plot.lines[0].strokeWidth, plot.lines[0].strokeDashArray = PLANNED, 1.5, (4, 2)
    plot.lines[1].strokeColor, plot.lines[1].strokeWidth = ACTUAL, 2.5
    # Ticks on whole days, a few of them: fractional ticks would label one day twice.
    first_day, last_day = planned[0][0], max(planned[-1][0], actual[-1][0] if actual else 0)
    every = max(1, math.ceil((last_day - first_day) / 4))
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = first_day, last_day
    plot.xValueAxis.valueSteps = list(range(first_day, last_day + 1, every))
    plot.xValueAxis.labelTextFormat = _day_label
    plot.xValueAxis.labels.fontSize = LABEL_SIZE
    plot.xValueAxis.labels.angle = 30
    plot.xValueAxis.labels.boxAnchor = "ne"
    plot.xValueAxis.labels.textAnchor = (
        "end"  # anchored, not placed by Helvetica's widths (see _PageFontCanvas)
    )
    plot.xValueAxis.maximumTicks = 5
    plot.yValueAxis.valueMin = 0
    plot.yValueAxis.labels.fontSize = LABEL_SIZE
    plot.yValueAxis.labels.textAnchor = "end"
    top = max([v for _, v in planned] + [v for _, v in actual] + [1])
    plot.yValueAxis.valueMax = top * 1.1
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#dee2e6")
    drawing.add(plot)
    legend = LineLegend()
    legend.x, legend.y = 60, height - TITLE_SIZE - 20
    legend.fontSize, legend.dx, legend.dxTextSpace, legend.columnMaximum = LABEL_SIZE, 14, 4, 1
    legend.deltax = 185  # "Planned (by window end)" at LABEL_SIZE, its swatch, and a gap
    legend.colorNamePairs = [(PLANNED, "Planned (by window end)"), (ACTUAL, "Migrated")]
    legend.alignment = "right"  # the swatch first, its words after it
    drawing.add(legend)
    return drawing


def bar_chart(title: str, bars: list[tuple[str, int, str]], width: int = WIDTH, row: int = 24) -> Drawing:
    """Horizontal bars, one per (label, value, Bootstrap colour name), values written at the bar's end."""
    height = max(len(bars), 1) * row + 44
    drawing = Drawing(width, height)
    drawing.add(String(10, height - TITLE_SIZE - 4, title, fontName="Helvetica-Bold", fontSize=TITLE_SIZE))
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 170, 10, width - 210, height - 40
    # reportlab draws the first category at the bottom: reverse, so the list reads top-down.
    bars = list(reversed(bars)) or [("", 0, "light")]
    chart.data = [[value for _, value, _ in bars]]
    chart.categoryAxis.categoryNames = [label for label, _, _ in bars]
    chart.categoryAxis.labels.fontSize = LABEL_SIZE
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.textAnchor = "end"
    chart.categoryAxis.labels.dx = -4
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([value for _, value, _ in bars] + [1]) * 1.15
    chart.valueAxis.visible = False
    chart.barLabelFormat = "%d"
    chart.barLabels.fontSize = LABEL_SIZE
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.textAnchor = "start"
    chart.barLabels.dx = 3
    chart.bars.strokeColor = None
    for i, (_, _, color) in enumerate(bars):
        chart.bars[(0, i)].fillColor = colors.HexColor(NAMED.get(color, NAMED["primary"]))
    drawing.add(chart)
    return drawing


def status_chart(status_counts: list[dict]) -> Drawing:
    return bar_chart("Waves by status", [(s["label"], s["waves"], s["color"]) for s in status_counts])


def migration_state_chart(states: dict, title: str = "VMs by migration state") -> Drawing:
    from migrations_app.choices import MigrationState

    bars = [
        (str(label), states.get(value, 0), MigrationState.COLORS[value])
        for value, label in MigrationState.choices
        if states.get(value)
    ]
    return bar_chart(title, bars)


_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
# The root's fixed size, replaced by width 100% (the viewBox keeps the proportions).
_ROOT_SIZE = re.compile(r'(<svg\b[^>]*?) width="[^"]*" height="[^"]*"')
# reportlab names the PDF's fonts; on the page the chart writes in the page's font.
_FONT = re.compile(r"font-family: (Helvetica(-Bold)?);")


def _page_font(match) -> str:
    return "font-family: inherit; font-weight: bold;" if match.group(2) else "font-family: inherit;"


class _PageFontCanvas(renderSVG.SVGCanvas):
    """reportlab right-aligns and centres text by moving it left by its width in Helvetica; in the
    page's font that width differs and a label would run into the axis. This canvas leaves the anchor
    to the browser (`text-anchor`), which measures the font it draws with."""

    ANCHORS = {"end": "end", "middle": "middle", "numeric": "end"}

    def drawString(self, s, x, y, angle=0, link_info=None, text_anchor="left", **attrs):
        anchor = self.ANCHORS.get(text_anchor)
        if anchor:
            attrs["text-anchor"] = anchor
        super().drawString(s, x, y, angle=angle, link_info=link_info, text_anchor="start", **attrs)


def _svg_text(drawing: Drawing) -> str:
    """renderSVG.drawToString, on the canvas above."""
    canvas = _PageFontCanvas((drawing.width, drawing.height))
    renderSVG.draw(drawing, canvas, 0, 0)
    out = io.StringIO()
    canvas.save(out)
    return out.getvalue()


def svg(drawing: Drawing, label: str) -> str:
    """The drawing as an inline <svg> element (no XML prologue), labelled for screen readers, as wide as
    its container, in the page's font. reportlab escapes the text it writes; `label` is escaped here."""
    text = _PROLOGUE.sub("", _svg_text(drawing), count=1)
    text = text.replace("<title>...</title>", f"<title>{escape(label)}</title>", 1).replace(
        "<desc>...</desc>", "", 1
    )
    text = _ROOT_SIZE.sub(r"\1", text, count=1)
    # reportlab names every drawing's clip path "clip": on a page of several charts each would clip to
    # the first one's size. Each chart gets names of its own.
    suffix = uuid.uuid4().hex[:8]
    text = text.replace('id="clip"', f'id="clip-{suffix}"').replace("url(#clip)", f"url(#clip-{suffix})")
    text = text.replace('id="group"', f'id="group-{suffix}"')
    text = _FONT.sub(_page_font, text)
    return text.replace(
        "<svg",
        f'<svg role="img" aria-label="{escape(label)}" class="chart d-block" width="100%" '
        'style="height:auto"',
        1,
    )
