"""What python-calamine cannot tell: which empty-looking cells of an ``.xlsx`` sheet are not empty.

calamine reads an error cell (``#DIV/0!``, ``#REF!``) and a formula saved without its result
(openpyxl and some converters save formulas that way) as an empty string, exactly like a cell
nobody filled. A department that filled the cell must hear about it, not see ``未填``. So for the
few input cells that came back empty, the sheet's XML is looked at once, directly.
"""

from __future__ import annotations

import posixpath
import re
import zipfile

_SHEET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"|'
                    rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]*)"[^>]*?\bname="([^"]*)"')
_RELATIONSHIP = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"|'
                           rb'<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')
_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)', re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3}\d+)"')
_TYPE = re.compile(rb'\bt="(\w+)"')
_VALUE = re.compile(rb'<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>')
_FORMULA = re.compile(rb'<(?:\w+:)?f\b')
MAX_SHEET_BYTES = 50 * 1024 * 1024

ERROR = "error"  # an Excel error value; the text says which
NO_RESULT = "no_result"  # a formula whose result was never saved


def _unescape(text: bytes) -> str:
    return (text.decode("utf-8", "replace").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def sheet_part(package: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding the sheet called ``sheet`` (the map is read once per package)."""
    parts = getattr(package, "_minsheng_sheet_parts", None)
    if parts is None:
        parts = package._minsheng_sheet_parts = _sheet_parts(package)
    return parts.get(sheet)


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    workbook = package.read("xl/workbook.xml")
    ids = {}
    for match in _SHEET.finditer(workbook):
        name, rid = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(4), match.group(3))
        ids[rid] = _unescape(name)
    parts = {}
    rels = package.read("xl/_rels/workbook.xml.rels")
    for match in _RELATIONSHIP.finditer(rels):
        rid, target = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(4), match.group(3))
        if rid in ids:
            target = _unescape(target)
            parts[ids[rid]] = (target.lstrip("/") if target.startswith("/")
                               else posixpath.normpath(posixpath.join("xl", target)))
    return parts


# Each starts with a literal, so the scan runs at memchr speed; what a prefix (<x:f>) hides is
# found by the ":" forms.
_MARKS = [re.compile(rb'<f[\s>/]'), re.compile(rb':f[\s>/]'), re.compile(rb' t="e"')]
_CELL_START = re.compile(rb'<(?:\w+:)?c ')


def hidden_contents(package: zipfile.ZipFile, sheet: str, refs: set[str]) -> dict[str, tuple[str, str]]:
    """For cells in ``refs`` (``J7``…) that calamine read as empty: ``ref → (kind, text)`` where kind is
    ``ERROR`` (text: ``#DIV/0!``) or ``NO_RESULT`` (text: the formula). Cells really empty are absent.

    Only cells holding a formula or an error are looked at, found by a scan of the sheet's XML.
    Never raises: a package this cannot read gives an empty answer (the reader has already read it).
    """
    if not refs:
        return {}
    try:
        part = sheet_part(package, sheet)
        if part is None:
            return {}
        with package.open(part) as stream:
            xml = stream.read(MAX_SHEET_BYTES)
    except Exception:
        return {}
    wanted = {ref.encode("ascii") for ref in refs}
    found: dict[str, tuple[str, str]] = {}
    first = _CELL_START.search(xml)
    if first is None:
        return found
    opening = first.group()  # b"<c " or, from some writers, b"<x:c "
    starts = set()
    for marks in _MARKS:
        for mark in marks.finditer(xml):
            starts.add(xml.rfind(opening, 0, mark.start()))
    for start in sorted(starts):
        cell = _CELL.match(xml, start) if start >= 0 else None
        if cell is None:
            continue
        attributes, body = cell.group(1), cell.group(2) or b""
        ref = _REF.search(attributes)
        if ref is None or ref.group(1) not in wanted:
            continue
        kind = _TYPE.search(attributes)
        kind = kind.group(1) if kind else b"n"
        value = _VALUE.search(body)
        if kind == b"e":
            found[ref.group(1).decode()] = (ERROR, _unescape(value.group(1)) if value else "#错误")
        elif _FORMULA.search(body) and (value is None or not value.group(1)) and kind not in (b"str", b"inlineStr"):
            formula = re.search(rb'<(?:\w+:)?f\b[^>]*>([^<]*)<', body)
            found[ref.group(1).decode()] = (NO_RESULT, "=" + _unescape(formula.group(1)) if formula else "")
    return found
