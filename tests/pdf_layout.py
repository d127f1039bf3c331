"""Where the text of a PDF the portal writes sits on its pages, for tests that look for overlapping text.

The portal's PDFs come from reportlab (standard Type 1 fonts, WinAnsi encoding, Flate + ASCII85
streams). This reads them back: each page's content stream is interpreted for the operators reportlab
writes (q Q cm, BT ET, Tf TL Tm Td TD T* Tc Tw, Tj TJ ' "), and every shown string becomes a box: its
start from the text and graphics matrices, its width from reportlab's own font metrics (the same
numbers reportlab laid the page out with), its height from the font size (descender to cap height).
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth

DESCENT, ASCENT = 0.2, 0.72  # of the font size: Helvetica's descender and cap height, about


@dataclass(frozen=True)
class Box:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    upright: bool  # not rotated (chart axis labels are)

    def overlaps(self, other: Box, slack: float = 0.5) -> bool:
        return (
            min(self.x1, other.x1) - max(self.x0, other.x0) > slack
            and min(self.y1, other.y1) - max(self.y0, other.y0) > slack
        )


def _objects(data: bytes) -> dict[int, bytes]:
    return {int(n): body for n, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}


def _stream(body: bytes) -> bytes:
    raw = re.search(rb"stream\r?\n(.*?)endstream", body, re.S).group(1).strip()
    if b"/ASCII85Decode" in body:
        raw = base64.a85decode(raw, adobe=True)
    if b"/FlateDecode" in body:
        raw = zlib.decompress(raw)
    return raw


TOKEN = re.compile(
    rb"\s*(?:(\()|(\[)|(\])|(/[^\s/\[\]()<>]+)|([-+]?\d*\.?\d+)|([A-Za-z'\"*]+)|(<<|>>|<[0-9A-Fa-f\s]*>))"
)


def _string(stream: bytes, at: int) -> tuple[bytes, int]:
    """A literal string starting after its "(" at `at`: (its bytes, the index after its ")")."""
    out, depth, i = bytearray(), 1, at
    while True:
        ch = stream[i : i + 1]
        if ch == b"\\":
            nxt = stream[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", stream[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
            i += 2
            continue
        if ch == b"(":
            depth += 1
        elif ch == b")":
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out += ch
        i += 1


def _tokens(stream: bytes):
    """Operands (float, name str, bytes for strings, list for arrays) and operators (str)."""
    i, array = 0, None
    while i < len(stream):
        m = TOKEN.match(stream, i)
        if not m:
            i += 1
            continue
        i = m.end()
        if m.group(1):
            value, i = _string(stream, i)
        elif m.group(2):
            array = []
            continue
        elif m.group(3):
            value, array = array, None
        elif m.group(4):
            value = m.group(4).decode()
        elif m.group(5):
            value = float(m.group(5))
        elif m.group(6):
            op = m.group(6).decode()
            if array is None:
                yield ("op", op)
            continue
        else:
            continue
        if array is not None and not m.group(3):
            array.append(value)
        else:
            yield ("arg", value)


def _mul(a, b):
    """Matrices as (a, b, c, d, e, f), PDF order: a then b."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _page_boxes(number: int, stream: bytes, fonts: dict[str, str]) -> list[Box]:
    boxes: list[Box] = []
    ctm, stack = IDENTITY, []
    tm = tlm = IDENTITY
    font, size, leading, char_space, word_space = "Helvetica", 10.0, 0.0, 0.0, 0.0
    args: list = []

    def show(raw: bytes):
        nonlocal tm
        text = raw.decode("cp1252", errors="replace")
        width = stringWidth(text, font, size) + char_space * len(text) + word_space * text.count(" ")
        m = _mul(tm, ctm)
        corners = [
            (x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5])
            for x in (0, width)
            for y in (-DESCENT * size, ASCENT * size)
        ]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        if text.strip():
            boxes.append(
                Box(number, text, min(xs), min(ys), max(xs), max(ys), abs(m[1]) < 1e-6 and abs(m[2]) < 1e-6)
            )
        tm = _mul((1, 0, 0, 1, width, 0), tm)

    def next_line(tx=0.0, ty=None):
        nonlocal tm, tlm
        tlm = _mul((1, 0, 0, 1, tx, -leading if ty is None else ty), tlm)
        tm = tlm

    for kind, value in _tokens(stream):
        if kind == "arg":
            args.append(value)
            continue
        op = value
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else IDENTITY
        elif op == "cm" and len(args) >= 6:
            ctm = _mul(tuple(args[-6:]), ctm)
        elif op == "BT":
            tm = tlm = IDENTITY
        elif op == "Tf" and len(args) >= 2:
            font, size = fonts.get(str(args[-2]).lstrip("/"), "Helvetica"), float(args[-1])
        elif op == "TL" and args:
            leading = float(args[-1])
        elif op == "Tc" and args:
            char_space = float(args[-1])
        elif op == "Tw" and args:
            word_space = float(args[-1])
        elif op == "Tm" and len(args) >= 6:
            tm = tlm = tuple(args[-6:])
        elif op == "Td" and len(args) >= 2:
            next_line(args[-2], args[-1])
        elif op == "TD" and len(args) >= 2:
            leading = -args[-1]
            next_line(args[-2], args[-1])
        elif op == "T*":
            next_line()
        elif op == "Tj" and args:
            show(args[-1])
        elif op == "'" and args:
            next_line()
            show(args[-1])
        elif op == '"' and len(args) >= 3:
            word_space, char_space = args[-3], args[-2]
            next_line()
            show(args[-1])
        elif op == "TJ" and args:
            for part in args[-1]:
                if isinstance(part, bytes):
                    show(part)
                else:
                    tm = _mul((1, 0, 0, 1, -part / 1000 * size, 0), tm)
        args = []
    return boxes


def text_boxes(data: bytes) -> tuple[list[tuple[float, float]], list[Box]]:
    """(each page's width and height, every shown string's box) of a reportlab PDF."""
    objects = _objects(data)
    fonts = {}
    for body in objects.values():
        m = re.search(rb"/BaseFont /(\S+).*?/Name /(\S+)", body, re.S)
        if m and b"/Type /Font" in body:
            fonts[m.group(2).decode()] = m.group(1).decode()
    pages_obj = next(body for body in objects.values() if re.search(rb"/Type /Pages\b", body))
    kids = [
        int(n) for n in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[(.*?)\]", pages_obj, re.S).group(1))
    ]
    sizes, boxes = [], []
    for number, kid in enumerate(kids, start=1):
        page = objects[kid]
        box = re.search(rb"/MediaBox \[\s*([\d.\s]+)\]", page) or re.search(
            rb"/MediaBox \[\s*([\d.\s]+)\]", pages_obj
        )
        x0, y0, x1, y1 = (float(v) for v in box.group(1).split())
        sizes.append((x1 - x0, y1 - y0))
        contents = [
            int(n)
            for n in re.findall(
                rb"(\d+) 0 R", re.search(rb"/Contents\s*(\[.*?\]|\d+ 0 R)", page, re.S).group(1)
            )
        ]
        stream = b"\n".join(_stream(objects[c]) for c in contents)
        boxes += _page_boxes(number, stream, fonts)
    return sizes, boxes


def overlapping(boxes: list[Box]) -> list[tuple[Box, Box]]:
    """Pairs of upright strings on the same page whose boxes overlap."""
    pairs = []
    by_page: dict[int, list[Box]] = {}
    for box in boxes:
        if box.upright:
            by_page.setdefault(box.page, []).append(box)
    for page_boxes in by_page.values():
        page_boxes.sort(key=lambda b: b.x0)
        for i, a in enumerate(page_boxes):
            for b in page_boxes[i + 1 :]:
                if b.x0 >= a.x1:
                    break
                if a.overlaps(b):
                    pairs.append((a, b))
    return pairs
