"""What python-calamine cannot tell: which empty-looking cells of an ``.xlsx`` sheet are not empty.

calamine reads an error cell (``#DIV/0!``, ``#REF!``) and a formula saved without its result
(openpyxl and some converters save formulas that way) as an empty string, exactly like a cell
nobody filled. A department that filled the cell must hear about it, not see ``未填``. So for the
few input cells that came back empty, the sheet's XML is looked at once, directly.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from .zipparts import MAX_PART_BYTES, member, sheet_part, sheet_parts
from .zipparts import unescape as _unescape

_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)', re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3}\d+)"')
_TYPE = re.compile(rb'\bt="(\w+)"')
_VALUE = re.compile(rb'<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>')
_FORMULA = re.compile(rb'<(?:\w+:)?f\b')
MAX_SHEET_BYTES = MAX_PART_BYTES

ERROR = "error"  # an Excel error value; the text says which
NO_RESULT = "no_result"  # a formula whose result was never saved
MERGED = "merged"  # covered by a merged range; the text is the range's first cell, which keeps the content
_MERGE = re.compile(rb'mergeCell\s+ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')


# Each starts with a literal, so the scan runs at memchr speed; what a prefix (<x:f>) hides is
# found by the ":" forms.
_MARKS = [re.compile(rb'<f[\s>/]'), re.compile(rb':f[\s>/]'), re.compile(rb' t="e"')]
_CELL_START = re.compile(rb'<(?:\w+:)?c ')


def sheet_xml(package: zipfile.ZipFile, sheet: str) -> bytes:
    """The XML of the sheet called ``sheet`` (b"" when it cannot be had), decompressed once for
    the checks below."""
    try:
        part = sheet_part(package, sheet)
        return member(package, part, MAX_SHEET_BYTES) if part else b""
    except Exception:  # noqa: BLE001 - a package the reader will refuse in its own words
        return b""


def hidden_contents(package: zipfile.ZipFile, sheet: str, refs: set[str],
                    xml: bytes | None = None) -> dict[str, tuple[str, str]]:
    """For cells in ``refs`` (``J7``…) that calamine read as empty: ``ref → (kind, text)`` where kind is
    ``ERROR`` (text: ``#DIV/0!``) or ``NO_RESULT`` (text: the formula). Cells really empty are absent.

    Only cells holding a formula or an error are looked at, found by a scan of the sheet's XML
    (``xml``, when the caller has it already). Never raises: a package this cannot read gives an
    empty answer (the reader has already read it).
    """
    if not refs:
        return {}
    if xml is None:
        xml = sheet_xml(package, sheet)
    wanted = {ref.encode("ascii") for ref in refs}
    found: dict[str, tuple[str, str]] = _merged(xml, refs)
    first = _CELL_START.search(xml)
    if first is None:
        return found
    opening = first.group()  # b"<c " or, from some writers, b"<x:c "
    starts = set()
    for marks in _MARKS:
        for mark in marks.finditer(xml):
            starts.add(xml.rfind(opening, 0, mark.start()))
    for start in sorted(starts):
        if start < 0:
            continue
        # Most formulas are the form's own (computed columns): their address, in the opening tag,
        # rules them out before the whole cell is matched.
        ref = _REF.search(xml, start, xml.find(b">", start))
        if ref is None or ref.group(1) not in wanted:
            continue
        cell = _CELL.match(xml, start)
        if cell is None:
            continue
        attributes, body = cell.group(1), cell.group(2) or b""
        kind = _TYPE.search(attributes)
        kind = kind.group(1) if kind else b"n"
        value = _VALUE.search(body)
        if kind == b"e":
            found[ref.group(1).decode()] = (ERROR, _unescape(value.group(1)) if value else "#错误")
        elif _FORMULA.search(body) and (value is None or not value.group(1) and kind not in (b"str", b"inlineStr")):
            # (a text formula may well have "" as its result; with no <v> at all it has none)
            found[ref.group(1).decode()] = (NO_RESULT, _formula_text(xml, body))
    return found


_FORMULA_TEXT = re.compile(rb'<(?:\w+:)?f\b([^>]*?)(?:/>|>([^<]*)<)')
_SHARED_INDEX = re.compile(rb'\bsi="(\d+)"')


def _formula_text(xml: bytes, body: bytes) -> str:
    """``=SUM(J4:J9)``: the cell's formula, or, for a cell that shares a formula written once in
    another cell (``<f t="shared" si="0"/>``), that master formula's text."""
    formula = _FORMULA_TEXT.search(body)
    if formula is None:
        return "="
    text = formula.group(2) or b""
    shared = _SHARED_INDEX.search(formula.group(1))
    if not text and shared and b'shared' in formula.group(1):
        master = re.search(rb'<(?:\w+:)?f\b[^>]*\bsi="' + shared.group(1) + rb'"[^>]*\bref="[^"]*"[^>]*>([^<]+)<|'
                           rb'<(?:\w+:)?f\b[^>]*\bref="[^"]*"[^>]*\bsi="' + shared.group(1) + rb'"[^>]*>([^<]+)<', xml)
        if master:
            text = master.group(1) or master.group(2)
    return "=" + _unescape(text)


# ---------------------------------------------------------------------------------------------
# Number formats: a value Excel shows as 85% is stored as 0.85.

_NUMFMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*?\bnumFmtId="(\d+)"[^>]*?\bformatCode="([^"]*)"|'
                     rb'<(?:\w+:)?numFmt\b[^>]*?\bformatCode="([^"]*)"[^>]*?\bnumFmtId="(\d+)"')
_XFS = re.compile(rb'<(?:\w+:)?cellXfs\b.*?</(?:\w+:)?cellXfs>', re.S)
_XF = re.compile(rb'<(?:\w+:)?xf\b([^>]*)')
_FMT_ID = re.compile(rb'\bnumFmtId="(\d+)"')
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')  # quoted text, escaped characters, [colours]


_PERCENT_STYLES: dict[tuple[int, int], list[bytes]] = {}  # styles part (CRC, size) → percent style ids


def _percent_styles(package: zipfile.ZipFile) -> list[bytes]:
    """Indexes of the cell styles that show a percentage. Forms made from one register share their
    styles part, so it is parsed once per content (told by the CRC in the zip directory)."""
    try:
        info = package.getinfo("xl/styles.xml")
        key = (info.CRC, info.file_size)
        if key in _PERCENT_STYLES:
            return _PERCENT_STYLES[key]
        styles = member(package, "xl/styles.xml", MAX_SHEET_BYTES)
    except Exception:  # noqa: BLE001 - no styles: nothing is formatted
        return []
    codes = {int(m.group(1) or m.group(4)): _unescape(m.group(2) if m.group(1) else m.group(3))
             for m in _NUMFMT.finditer(styles)}
    xfs = _XFS.search(styles)
    formats = [int(f.group(1)) if (f := _FMT_ID.search(xf.group(1))) else 0
               for xf in _XF.finditer(xfs.group(0))] if xfs else []
    percent = [str(i).encode() for i, fmt in enumerate(formats)
               if fmt in (9, 10) or "%" in _LITERALS.sub("", codes.get(fmt, ""))]
    if len(_PERCENT_STYLES) > 256:
        _PERCENT_STYLES.clear()
    _PERCENT_STYLES[key] = percent
    return percent


def percent_cells(package: zipfile.ZipFile, sheet: str, refs: set[str], xml: bytes | None = None) -> set[str]:
    """The cells of ``refs`` whose number format shows their value as a percentage (built-in
    formats 9 and 10, or a format code with a ``%`` outside quotes). Never raises."""
    percent = _percent_styles(package)
    if not percent:
        return set()
    if xml is None:
        xml = sheet_xml(package, sheet)
    # One pass over the cells styled as percentages (a form's own 完成率 column among them).
    styled = re.compile(rb' s="(?:' + b"|".join(percent) + rb')"')  # a literal start: a fast scan
    found = set()
    for match in styled.finditer(xml):
        start = xml.rfind(b"<", 0, match.start())
        ref = _REF.search(xml, start, match.start())
        if ref is not None and (cell := ref.group(1).decode()) in refs:
            found.add(cell)
    return found


# ---------------------------------------------------------------------------------------------
# Cells far outside any form (a stray value at XFD1048576) make a reader allocate the whole
# rectangle up to them. Such a sheet is read without them, and each is named.

FORM_ROWS, FORM_COLUMNS = 20_000, 64  # far beyond any department form; kept cells stay under 1.3 M
_ROW = re.compile(rb'<((?:\w+:)?row)\b([^>]*?)(?:/>|>(.*?)</\1>)', re.S)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_DIMENSION_TAG = re.compile(rb'<(?:\w+:)?dimension\b[^>]*/>')
_INLINE = re.compile(rb'<(?:\w+:)?t\b[^>]*>([^<]*)<')
_SHARED = re.compile(rb'<(?:\w+:)?si>(.*?)</(?:\w+:)?si>', re.S)


def _column_of(ref: bytes) -> int:
    n = 0
    for ch in ref:
        if 65 <= ch <= 90:
            n = n * 26 + ch - 64
        else:
            break
    return n


def _merged(xml: bytes, refs: set[str]) -> dict[str, tuple[str, str]]:
    """The cells of ``refs`` that a merged range covers (but its first cell)."""
    found: dict[str, tuple[str, str]] = {}
    at = xml.find(b"<mergeCells")  # they follow the cells: a search from there, when there are any
    if at < 0:
        at = xml.find(b":mergeCells")
    if at < 0:
        return found
    letters = {_column_of(col.encode()): col for col in {ref.rstrip("0123456789") for ref in refs}}
    for a, b, c, d in _MERGE.findall(xml, at):
        left, right = _column_of(a), _column_of(c)
        covered = [col for number, col in letters.items() if left <= number <= right]
        if not covered:  # most merges are the task columns', which hold no input
            continue
        anchor = (a + b).decode()
        for row in range(int(b), min(int(d), int(b) + FORM_ROWS) + 1):
            for col in covered:
                ref = f"{col}{row}"
                if ref in refs and ref != anchor:
                    found.setdefault(ref, (MERGED, anchor))
    return found


def trim_sheet(xml: bytes) -> tuple[bytes, list[tuple[str, bytes, bytes]]]:
    """The sheet's XML without the cells (and rows) beyond ``FORM_ROWS`` × ``FORM_COLUMNS``, and
    those that held something: ``(ref, type, content)``."""
    dropped: list[tuple[str, bytes, bytes]] = []
    out, at = [], 0
    for row in _ROW.finditer(xml):
        number = _ROW_NUMBER.search(row.group(2))
        row_number = int(number.group(1)) if number else 0
        body = row.group(3) or b""
        keep_row = row_number <= FORM_ROWS
        kept_cells, last = [], 0
        for cell in _CELL.finditer(body):
            ref = _REF.search(cell.group(1))
            far = not keep_row or (ref is not None and _column_of(ref.group(1)) > FORM_COLUMNS)
            if far:
                content = cell.group(2) or b""
                if content.strip():
                    kind = _TYPE.search(cell.group(1))
                    dropped.append((ref.group(1).decode() if ref else f"第 {row_number} 行",
                                    kind.group(1) if kind else b"n", content))
                kept_cells.append(body[last:cell.start()])
                last = cell.end()
        if not keep_row:
            out.append(xml[at:row.start()])
        elif last:
            kept_cells.append(body[last:])
            out.append(xml[at:row.start(3)] + b"".join(kept_cells) + xml[row.end(3):row.end()])
        else:
            out.append(xml[at:row.end()])
        at = row.end()
    out.append(xml[at:])
    trimmed = _DIMENSION_TAG.sub(b"", b"".join(out), count=1)  # let the reader count for itself
    return trimmed, dropped


def trimmed_workbook(data: bytes, sheets: list[str] | None = None) -> tuple[bytes, dict[str, list[tuple[str, str]]]]:
    """The workbook ``data`` with ``sheets`` (default: all) trimmed by ``trim_sheet``; and for each
    sheet, the far cells that held something: ``(ref, what it held, as text)``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    parts = {part: name for name, part in sheet_parts(source).items() if sheets is None or name in sheets}
    strings: list[bytes] | None = None
    dropped: dict[str, list[tuple[str, str]]] = {}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename in parts:
                content, cells = trim_sheet(content[:MAX_SHEET_BYTES])
                named = []
                for ref, kind, body in cells[:20]:
                    if kind == b"s" and strings is None:
                        strings = _shared_strings(source)
                    named.append((ref, _cell_content(kind, body, strings or [])))
                if cells:
                    dropped[parts[info.filename]] = named + [("…", f"另有 {len(cells) - 20} 个")] * (len(cells) > 20)
            target.writestr(info, content)
    return out.getvalue(), dropped


def _shared_strings(package: zipfile.ZipFile) -> list[bytes]:
    try:
        return [match.group(1) for match in _SHARED.finditer(member(package, "xl/sharedStrings.xml", MAX_SHEET_BYTES))]
    except (KeyError, zipfile.BadZipFile, zlib.error):
        return []


def _cell_content(kind: bytes, body: bytes, strings: list[bytes]) -> str:
    value = _VALUE.search(body)
    formula = re.search(rb'<(?:\w+:)?f\b[^>]*>([^<]*)<', body)
    if kind == b"s" and value and value.group(1).isdigit() and int(value.group(1)) < len(strings):
        return _unescape(b"".join(_INLINE.findall(strings[int(value.group(1))])))
    if kind == b"inlineStr":
        return _unescape(b"".join(_INLINE.findall(body)))
    if value:
        return _unescape(value.group(1))
    return "=" + _unescape(formula.group(1)) if formula else "（格式）"
