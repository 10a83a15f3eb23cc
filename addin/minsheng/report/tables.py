"""Table sheets of a workbook, written fast (表格工作表).

The consolidated workbook's big sheets are plain tables: a header row, then one row per indicator
(or problem, or unit). Writing them cell by cell through xlsxwriter costs ~8 µs a cell, and a
province's 指标明细 has 675,000 cells. So a table's rows are rendered as sheet XML directly by a
``RowRenderer`` (about 0.3 µs a cell: what follows a cell's row number depends only on its column
and value, and is made once per value), possibly in the worker processes that read the files,
and ``Book.save`` lays them out inside the package xlsxwriter builds for everything else: styles,
column widths, frozen panes, filters, conditional formats, print setup, the overview and its chart.
Rows are compressed as they arrive, in a thread of their own (``zipout``).

Both ways of writing a table are behind the same ``Table``: ``Book(fast=False)`` writes the rows
through xlsxwriter instead, and the tests read both back and compare them cell by cell.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path

from ..cells import column_letter, row_height
from ..files import new_workbook
from ..spool import BatchSpool
from .zipout import Deflater, ZipWriter, segment

TEXT, WRAP, NUMBER, PERCENT, POINTS, COUNT = "text", "wrap", "number", "percent", "points", "count"
KINDS = (TEXT, WRAP, NUMBER, PERCENT, POINTS, COUNT)
MAX_TEXT = 32767  # characters Excel keeps in a cell
_BATCH = 512  # rows spooled together
LIGHTS = {"red": "#F8CBAD", "yellow": "#FFE699", "green": "#C6E0B4"}


class Styles:
    """The cell formats of a consolidated workbook, made once per book.

    The header and body formats get their style numbers the moment they are made, always the same
    ones, so that rows can be rendered before (and in other processes than) the workbook exists.
    """

    def __init__(self, book):
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        self.head = book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center",
                                     "text_wrap": True})
        self.body = {
            TEXT: book.add_format(base),
            WRAP: book.add_format({**base, "text_wrap": True}),
            NUMBER: book.add_format({**base, "num_format": "General"}),
            PERCENT: book.add_format({**base, "num_format": "0.0%"}),
            POINTS: book.add_format({**base, "num_format": "+0.0;-0.0;0.0"}),
            COUNT: book.add_format({**base, "num_format": "0;-0;;@", "align": "center"}),  # 0 shows empty
        }
        # xlsxwriter numbers formats in the order they are first used; using them now fixes it.
        self.index = {"head": str(self.head._get_xf_index()),
                      **{kind: str(fmt._get_xf_index()) for kind, fmt in self.body.items()}}
        self.title = book.add_format({"font_name": "宋体", "font_size": 16, "bold": True})
        self.subtitle = book.add_format({"font_name": "宋体", "font_size": 10, "font_color": "#595959"})
        self.section = book.add_format({"font_name": "宋体", "font_size": 12, "bold": True})
        self.lights = {name: book.add_format({"bg_color": colour}) for name, colour in LIGHTS.items()}

    def of(self, kind: str):
        return self.body[kind]


@lru_cache(maxsize=1)
def style_index() -> dict[str, str]:
    """The style number of the header and of each kind of body cell (as every ``Book`` has them)."""
    return Styles(new_workbook()).index


@dataclass(frozen=True)
class Layout:
    """What a table sheet looks like: its name, header, column widths and kinds of value.

    Values by kind: text and wrap ``str``; number ``int``/``Decimal``; percent the shown percentage
    (``Decimal("77.8")`` is written 0.778 with format 0.0%); points a ``Decimal``; count an ``int``
    (0 shows empty). ``None`` or ``""`` is an empty cell. ``decorate(ws, styles, first, last)`` adds
    conditional formats once the rows are counted.
    """

    name: str
    header: tuple[str, ...]
    widths: tuple[float, ...]
    kinds: tuple[str, ...]
    decorate: Callable | None = None

    @cached_property
    def wrapped(self) -> tuple[int, ...]:
        """The columns whose texts wrap (and set the row's height)."""
        return tuple(c for c, kind in enumerate(self.kinds) if kind == WRAP)


class RowRenderer:
    """Renders rows of one table layout as sheet XML."""

    def __init__(self, layout: Layout, index: dict[str, str] | None = None):
        index = index or style_index()
        self.layout = layout
        self._styles = [index[kind] for kind in layout.kinds]
        # A row is its pieces joined by its row number: '<row r="' 5 '"><c r="A' 5 '" s="2"><v>1</v></c><c r="B' 5 …
        # so each piece is a cell's content followed by the next cell's opening. What follows a
        # cell's row number depends only on its column and value; task names, units, categories
        # and statuses repeat row after row, so each piece is made once per value.
        self._openings = [f'<c r="{column_letter(c)}' for c in range(1, len(layout.kinds))] + ["</row>"]
        self._caches: list[dict] = [self._fresh(c) for c in range(len(layout.kinds))]
        self._first = '"><c r="A' if layout.kinds else '">'

    def _fresh(self, c: int) -> dict:
        blank = f'" s="{self._styles[c]}"/>' + self._openings[c]
        return {None: blank, "": blank}

    def _piece(self, c: int, value) -> str:
        piece = _tail(value, self.layout.kinds[c], self._styles[c]) + self._openings[c]
        cache = self._caches[c]
        if len(cache) > 4096 + 2:  # values seen, besides the two blanks
            cache = self._caches[c] = self._fresh(c)
        cache[value] = piece
        return piece

    def render(self, values: Sequence, row: int | str) -> str:
        """One ``<row>`` (``row`` is 1-based, as in Excel; or a placeholder to be replaced by it)."""
        first = self._first
        if self.layout.wrapped:
            height = _height(values, self.layout)
            if height:
                first = f'" ht="{height}" customHeight="1{first}'
        piece = self._piece
        pieces = ['<row r="', first, *[cache.get(value) or piece(c, value) for c, (cache, value)
                                       in enumerate(zip(self._caches, values))]]
        short = len(self._caches) - len(values)
        if short > 0:  # a row with fewer values than columns ends at its last value
            if not values:
                return f'<row r="{row}"></row>'
            pieces[-1] = pieces[-1][:-len(self._openings[len(values) - 1])] + "</row>"
        return str(row).join(pieces)

    def header(self) -> str:
        head = style_index()["head"]
        cells = "".join(f'<c r="{column_letter(c)}1" s="{head}" t="inlineStr"><is><t>{_escape_text(h)}</t></is></c>'
                        for c, h in enumerate(self.layout.header))
        return f'<row r="1" ht="30" customHeight="1">{cells}</row>'


class Table:
    """A table sheet's rows, in order: as values (``add``), or already rendered (``add_rendered``:
    rows a worker process rendered with this layout and their row numbers), not both."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.rows = 0
        self._spool = BatchSpool(_BATCH)  # rows of values
        self._rendered: Deflater | None = None  # rendered rows, compressed as they come

    @property
    def name(self) -> str:
        return self.layout.name

    def add(self, values: Sequence) -> None:
        if self._rendered is not None:
            raise ValueError("a table takes rows as values or rendered, not both")
        self._spool.append(list(values))
        self.rows += 1

    def add_rendered(self, xml: bytes, count: int = 1) -> None:
        """``count`` rows rendered already (UTF-8), by a ``RowRenderer`` of this layout with their
        row numbers. They are compressed from here on, in a thread of its own (see ``zipout``)."""
        if self._rendered is None:
            if self.rows:
                raise ValueError("a table takes rows as values or rendered, not both")
            self._rendered = Deflater()
        self._rendered.write(xml)
        self.rows += count

    def __iter__(self):
        return iter(self._spool)

    def close(self) -> None:
        self._spool.close()
        if self._rendered is not None:
            self._rendered.close()


class Book:
    """A workbook of free-form sheets (written with xlsxwriter) and ``Table`` sheets."""

    def __init__(self, properties: dict, fast: bool = True):
        self.book = new_workbook()
        self.book.set_properties(properties)
        self.styles = Styles(self.book)
        self.fast = fast
        self.tables: list[tuple[Table, object]] = []

    def sheet(self, name: str):
        """A free-form sheet, to write with xlsxwriter."""
        return self.book.add_worksheet(name)

    def table(self, table: Table) -> Table:
        """Place a table sheet here, in sheet order; its rows may be added until ``save``."""
        self.tables.append((table, self.book.add_worksheet(table.name)))
        return table

    def save(self, path: Path) -> None:
        st = self.styles
        for table, ws in self.tables:
            _scaffold(ws, table, st)
            if not self.fast:
                if table._rendered is not None:
                    raise ValueError("rows rendered as XML need Book(fast=True)")
                for r, values in enumerate(table, start=1):
                    _write_row(ws, r, values, table.layout, st)
        try:
            self.book.close()
        finally:
            self.book.fileclosed = True
        package = self.book.filename.getvalue()
        if not self.fast:
            path.write_bytes(package)
            return
        _assemble(package, path, self.tables)


def _scaffold(ws, table: Table, st: Styles) -> None:
    """Everything of a table sheet but its rows: widths, header, frozen pane, filter, printing."""
    layout = table.layout
    for c, width in enumerate(layout.widths):
        ws.set_column(c, c, width)
    for c, title in enumerate(layout.header):
        ws.write_string(0, c, title, st.head)
    ws.set_row(0, 30)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(0)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.freeze_panes(1, 0)
    if table.rows:
        ws.autofilter(0, 0, table.rows, len(layout.header) - 1)
    if layout.decorate is not None and table.rows:
        layout.decorate(ws, st, 1, table.rows)


def _write_row(ws, r: int, values: Sequence, layout: Layout, st: Styles) -> None:
    """The xlsxwriter way of writing one table row (the fallback, and the reference for tests)."""
    for c, (value, kind) in enumerate(zip(values, layout.kinds)):
        fmt = st.of(kind)
        if value is None or value == "":
            ws.write_blank(r, c, None, fmt)
            continue
        number = None if kind in (TEXT, WRAP) else _number_text(value, kind)
        if number is not None:
            ws.write_number(r, c, float(number), fmt)
        else:
            ws.write_string(r, c, _clip(str(value)), fmt)
    height = _height(values, layout)
    if height:
        ws.set_row(r, height)


def _height(values: Sequence, layout: Layout) -> float | None:
    """LibreOffice and WPS do not grow rows by themselves: wrapped texts get their height."""
    wrapped = [(str(values[c]), layout.widths[c]) for c in layout.wrapped if c < len(values) and values[c]]
    if not wrapped:
        return None
    # Whole pixels, as Excel stores heights (and xlsxwriter writes them): 0.75 pt per pixel.
    return int(row_height(wrapped, line=13.5, least=15) * 4 / 3 + 0.5) * 0.75


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Sheet XML straight from the values.

_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# XML 1.0 has no place for most control characters; Excel writes them as _xHHHH_ (and a literal
# "_x1234_" as "_x005F_x1234_").
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x")
_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>.*</sheetData>", re.S)
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_FLOAT_MAX = Decimal("1e300")


def _escape_text(text: str) -> str:
    if len(text) > MAX_TEXT:
        text = _clip(text)
    if not _SPECIAL.search(text):  # nearly every text: nothing to escape
        return text
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(lambda m: "_x005F_" if m.group() == "_" else f"_x{ord(m.group()):04X}_", text)
    return text.translate(_ESCAPE)


def _number_text(value, kind: str) -> str | None:
    """A number as sheet XML writes it, or None when the value is to be written as text."""
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value) >= _FLOAT_MAX:
            return None
        text = str(value.scaleb(-2) if kind == PERCENT else value)
        if "." in text and "E" not in text:  # 50.0 → 50, 0.7780 → 0.778: what Excel itself writes
            text = text.rstrip("0").rstrip(".")
        return text
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if kind == PERCENT:
        value = value / 100
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _tail(value, kind: str, style: str) -> str:
    """A cell's XML after its row number: style, type and content."""
    number = None if kind in (TEXT, WRAP) else _number_text(value, kind)
    if number is not None:
        return f'" s="{style}"><v>{number}</v></c>'
    text = _escape_text(value if isinstance(value, str) else str(value))
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'" s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _assemble(package: bytes, path: Path, tables: list[tuple[Table, object]]) -> None:
    """Copy xlsxwriter's package to ``path``, with each table sheet's rows laid out in full."""
    from ..untrusted.sheetxml import sheet_part

    source = zipfile.ZipFile(io.BytesIO(package))
    parts = {sheet_part(source, table.name): table for table, _ in tables}
    with open(path, "wb") as stream:
        out = ZipWriter(stream)
        for info in source.infolist():
            data = source.read(info.filename)
            table = parts.get(info.filename)
            if table is None:
                out.write(info.filename, data)
                continue
            match = _SHEET_DATA.search(data)
            head, tail = data[:match.start()], data[match.end():]
            last = f"{column_letter(len(table.layout.kinds) - 1)}{table.rows + 1}"
            head = _DIMENSION.sub(f'<dimension ref="A1:{last}"/>'.encode(), head, count=1)
            renderer = RowRenderer(table.layout)
            # Rows rendered where they were judged, or rendered now from values (compressed
            # meanwhile in the Deflater's thread).
            rows = table._rendered if table._rendered is not None else _render(table, renderer)
            try:
                out.write_segments(info.filename, [
                    segment(head + b"<sheetData>" + renderer.header().encode("utf-8")), rows.finish(),
                    segment(b"</sheetData>" + tail, final=True)])
            finally:
                if rows is not table._rendered:
                    rows.close()
        out.close()


def _render(table: Table, renderer: RowRenderer) -> Deflater:
    """A table's rows of values as sheet XML, in a Deflater of their own."""
    rows = Deflater()
    try:
        batch: list[str] = []
        for r, values in enumerate(table, start=2):
            batch.append(renderer.render(values, r))
            if len(batch) >= _BATCH:
                rows.write("".join(batch).encode("utf-8", "replace"))
                batch = []
        rows.write("".join(batch).encode("utf-8", "replace"))
    except BaseException:
        rows.close()
        raise
    return rows
