"""Table sheets of a workbook, written fast (表格工作表).

The consolidated workbook's big sheets are plain tables: a header row, then one row per indicator
(or problem, or unit). Writing them cell by cell through xlsxwriter costs ~8 µs a cell, and a
province's 指标明细 has 675,000 cells. So a ``Table`` keeps its rows as final values in a spool
while they come, and ``Book.save`` lays them out as sheet XML directly (~1 µs a cell) inside the
package xlsxwriter builds for everything else: styles, column widths, frozen panes, filters,
conditional formats, print setup, the overview and its chart.

Both ways of writing a table are behind the same ``Table``: ``Book(fast=False)`` writes the rows
through xlsxwriter instead, and the tests read both back and compare them cell by cell.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, Sequence

from .cells import column_letter, row_height
from .files import new_workbook
from .spool import Spool

TEXT, WRAP, NUMBER, PERCENT, POINTS, COUNT = "text", "wrap", "number", "percent", "points", "count"
MAX_TEXT = 32767  # characters Excel keeps in a cell
_BATCH = 512  # rows spooled together
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class Styles:
    """The cell formats of a consolidated workbook, made once per book."""

    def __init__(self, book, lights: dict[str, str]):
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        self.title = book.add_format({"font_name": "宋体", "font_size": 16, "bold": True})
        self.subtitle = book.add_format({"font_name": "宋体", "font_size": 10, "font_color": "#595959"})
        self.section = book.add_format({"font_name": "宋体", "font_size": 12, "bold": True})
        self.head = book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center",
                                     "text_wrap": True})
        self.text = book.add_format(base)
        self.wrap = book.add_format({**base, "text_wrap": True})
        self.number = book.add_format({**base, "num_format": "General"})
        self.count = book.add_format({**base, "num_format": "0;-0;;@", "align": "center"})  # 0 shows empty
        self.percent = book.add_format({**base, "num_format": "0.0%"})
        self.points = book.add_format({**base, "num_format": "+0.0;-0.0;0.0"})
        self.lights = {name: book.add_format({"bg_color": colour}) for name, colour in lights.items()}

    def of(self, kind: str):
        return {TEXT: self.text, WRAP: self.wrap, NUMBER: self.number, PERCENT: self.percent,
                POINTS: self.points, COUNT: self.count}[kind]


@dataclass
class Table:
    """A sheet that is a table: ``add`` its rows, as final values, in order.

    Values by kind: text and wrap ``str``; number ``int``/``Decimal``; percent the shown percentage
    (``Decimal("77.8")`` is written 0.778 with format 0.0%); points a ``Decimal``; count an ``int``
    (0 shows empty). ``None`` or ``""`` is an empty cell. ``decorate(ws, styles, first, last)`` adds
    conditional formats once the rows are counted.
    """

    name: str
    header: Sequence[str]
    widths: Sequence[float]
    kinds: Sequence[str]
    decorate: Callable | None = None
    rows: int = 0
    _spool: Spool = field(default_factory=Spool, repr=False)
    _batch: list = field(default_factory=list, repr=False)

    def add(self, values: Sequence) -> None:
        self._batch.append(values)
        self.rows += 1
        if len(self._batch) >= _BATCH:
            self._spool.add(self._batch)
            self._batch = []

    def __iter__(self):
        if self._batch:
            self._spool.add(self._batch)
            self._batch = []
        for batch in self._spool:
            yield from batch

    def close(self) -> None:
        self._spool.close()


class Book:
    """A workbook of free-form sheets (written with xlsxwriter) and ``Table`` sheets."""

    def __init__(self, properties: dict, lights: dict[str, str], fast: bool = True):
        self.book = new_workbook()
        self.book.set_properties(properties)
        self.styles = Styles(self.book, lights)
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
                for r, values in enumerate(table, start=1):
                    _write_row(ws, r, values, table, st)
        try:
            self.book.close()
        finally:
            self.book.fileclosed = True
        package = self.book.filename.getvalue()
        if not self.fast:
            path.write_bytes(package)
            return
        _assemble(package, path, self.tables)

    def close(self) -> None:
        for table, _ in self.tables:
            table.close()


def _scaffold(ws, table: Table, st: Styles) -> None:
    """Everything of a table sheet but its rows: widths, header, frozen pane, filter, printing."""
    columns = len(table.header)
    for c, width in enumerate(table.widths):
        ws.set_column(c, c, width)
    for c, title in enumerate(table.header):
        ws.write_string(0, c, title, st.head)
    ws.set_row(0, 30)
    # One blank of each body format, so that xlsxwriter puts them in the styles; the fast
    # writer replaces these rows with the table's own.
    for c, kind in enumerate(table.kinds):
        ws.write_blank(1, c, None, st.of(kind))
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(0)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.freeze_panes(1, 0)
    if table.rows:
        ws.autofilter(0, 0, table.rows, columns - 1)
    if table.decorate is not None and table.rows:
        table.decorate(ws, st, 1, table.rows)


def _write_row(ws, r: int, values: Sequence, table: Table, st: Styles) -> None:
    """The xlsxwriter way of writing one table row (the fallback, and the reference for tests)."""
    for c, (value, kind) in enumerate(zip(values, table.kinds)):
        fmt = st.of(kind)
        if value is None or value == "":
            ws.write_blank(r, c, None, fmt)
            continue
        number = _number(value, kind)
        if number is not None and math.isfinite(float(number)):
            ws.write_number(r, c, float(number), fmt)
        else:
            ws.write_string(r, c, _clip(str(value)), fmt)
    height = _height(values, table)
    if height:
        ws.set_row(r, height)


def _number(value, kind: str):
    """The number a cell holds, or None when it is text."""
    if kind in (TEXT, WRAP) or isinstance(value, (str, bool)):
        return None
    if kind == PERCENT:
        return value.scaleb(-2) if isinstance(value, Decimal) else value / 100
    return value


def _height(values: Sequence, table: Table) -> float | None:
    """LibreOffice and WPS do not grow rows by themselves: wrapped texts get their height."""
    wrapped = [(str(v), table.widths[c]) for c, (v, kind) in enumerate(zip(values, table.kinds))
               if kind == WRAP and v]
    return row_height(wrapped, line=13.5, least=15) if wrapped else None


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


# ---------------------------------------------------------------------------------------------
# The fast writer: sheet XML straight from the values.

_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# XML 1.0 has no place for most control characters; Excel writes them as _xHHHH_ (and a literal
# "_x1234_" as "_x005F_x1234_").
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>.*</sheetData>", re.S)
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


def _escape_text(text: str) -> str:
    text = _clip(text)
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(lambda m: "_x005F_" if m.group() == "_" else f"_x{ord(m.group()):04X}_", text)
    return text.translate(_ESCAPE)


def _styles_in(sheet_data: bytes, row: int, columns: int) -> list[str]:
    """The style index of each cell of a scaffold row, as xlsxwriter wrote it."""
    found = {m.group(1).decode(): m.group(2).decode()
             for m in re.finditer(rb'<c r="([A-Z]+)%d" s="(\d+)"' % row, sheet_data)}
    return [found.get(column_letter(c), "0") for c in range(columns)]


def _rows_xml(table: Table, scaffold: bytes):
    """The table's <row> elements, header first, a batch of rows at a time, styled like the
    scaffold's header row and its row of sample blanks."""
    columns = len(table.kinds)
    letters = [column_letter(c) for c in range(columns)]
    heads, styles = _styles_in(scaffold, 1, columns), _styles_in(scaffold, 2, columns)
    cells = "".join(f'<c r="{letters[c]}1" s="{heads[c]}" t="inlineStr"><is><t>{_escape_text(h)}</t></is></c>'
                    for c, h in enumerate(table.header))
    yield f'<row r="1" ht="30" customHeight="1">{cells}</row>'
    out: list[str] = []
    wraps = WRAP in table.kinds
    for r, values in enumerate(table, start=2):
        row = []
        for letter, style, kind, value in zip(letters, styles, table.kinds, values):
            if value is None or value == "":
                row.append(f'<c r="{letter}{r}" s="{style}"/>')
                continue
            number = _number(value, kind)
            if number is not None:
                number = float(number)
                if math.isfinite(number):
                    shown = repr(number)
                    if shown.endswith(".0"):
                        shown = shown[:-2]
                    row.append(f'<c r="{letter}{r}" s="{style}"><v>{shown}</v></c>')
                    continue
            text = _escape_text(str(value))
            space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
            row.append(f'<c r="{letter}{r}" s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
        height = _height(values, table) if wraps else None
        extra = f' ht="{height}" customHeight="1"' if height else ""
        out.append(f'<row r="{r}"{extra}>{"".join(row)}</row>')
        if len(out) >= _BATCH:
            yield "".join(out)
            out = []
    if out:
        yield "".join(out)


def _assemble(package: bytes, path: Path, tables: list[tuple[Table, object]]) -> None:
    """Copy xlsxwriter's package to ``path``, with each table sheet's rows laid out in full."""
    from .sheetxml import sheet_part

    source = zipfile.ZipFile(io.BytesIO(package))
    parts = {sheet_part(source, table.name): table for table, _ in tables}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            data = source.read(info.filename)
            table = parts.get(info.filename)
            if table is None:
                out.writestr(entry, data)
                continue
            match = _SHEET_DATA.search(data)
            head, scaffold, tail = data[:match.start()], match.group(), data[match.end():]
            last = f"{column_letter(len(table.kinds) - 1)}{table.rows + 1}"
            head = _DIMENSION.sub(f'<dimension ref="A1:{last}"/>'.encode(), head, count=1)
            with out.open(entry, "w") as stream:
                stream.write(head + b"<sheetData>")
                for chunk in _rows_xml(table, scaffold):
                    stream.write(chunk.encode("utf-8", "replace"))
                stream.write(b"</sheetData>" + tail)
