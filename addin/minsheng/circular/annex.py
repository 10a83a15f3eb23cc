"""The annex table of the circular (附件：进展情况表) laid out page by page.

Word cannot repeat a unit's name at the top of a continuation page, and it either splits a tall row
anywhere or moves it whole, leaving most of a page empty. So the rows are measured here (the table's
text runs at a fixed line pitch, so a row's height is its line count) and packed into pages, one
table per page: a unit that goes on reads ``市教育局（续）``; a row taller than a third of a page is
split at a sentence to fill the page instead of leaving it two-thirds empty. The measure errs on
the tall side, so Word never needs to break a page before the program does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

# The bundled template's annex (scripts/build_circular_template.py): landscape A4, margins 28/26 mm,
# 五号 (10.5 pt) text at an exact 13 pt pitch, cell margins of 1 mm a side.
COLUMNS_MM = {"serial": 10, "unit": 19, "name": 23, "target": 95, "progress": 78}
FONT_PT, LINE_PT, ROW_EXTRA_PT = 10.5, 13.0, 2.5
CELL_MARGIN_MM = 2 * 1.0  # left and right, as the template's w:tblCellMar sets them
PAGE_PT = (210 - 28 - 26) / 25.4 * 72  # text height of a landscape page
HEADER_PT = 16 + ROW_EXTRA_PT + 2
FIRST_PAGE_TAKEN_PT = 28.95 + 35 + 28.95 + 2  # 附件 and the table's title above it
FILL = 0.98  # never plan a page fuller than this: a real line can be a little taller than measured
SPLIT_LINES = 4  # a split leaves at least this many lines on either side
# Rows this tall may be split to fill a page (a third of a page, the limit released circulars keep, is ~10 lines;
# splitting from 8 keeps every page but the last at least three quarters full).
SPLIT_FROM_LINES = 2 * SPLIT_LINES
MM_PER_PT = 25.4 / 72


@dataclass(frozen=True)
class Row:
    serial: str
    unit: str
    name: str
    target: str
    progress: str

    @cached_property
    def line_count(self) -> int:
        return max(lines(getattr(self, column), width) for column, width in COLUMNS_MM.items())

    def lines(self) -> int:
        return self.line_count

    def height(self) -> float:
        return self.line_count * LINE_PT + ROW_EXTRA_PT


def _capacity(width_mm: float) -> float:
    """How wide a line of a cell ``width_mm`` wide is, in ems of the table's font."""
    return (width_mm - CELL_MARGIN_MM) / (FONT_PT * MM_PER_PT)


# Advance widths in ems: Chinese characters and full-width punctuation one em; Latin characters
# as Times New Roman draws them (the template's Latin font), a little rounded up.
_LATIN_EM = {**dict.fromkeys("0123456789", 0.5), **dict.fromkeys(",.;:'!|", 0.28), " ": 0.25, "%": 0.84,
             "-": 0.34, "(": 0.34, ")": 0.34, "[": 0.34, "]": 0.34, "/": 0.28, "&": 0.78, "<": 0.57, ">": 0.57,
             "+": 0.57, "=": 0.57, "~": 0.55, "*": 0.5, "#": 0.5, "\"": 0.41, "@": 0.93, "_": 0.5}
_NO_LINE_START = set("，。、；：？！）》」』】〕”’%,.;:!?)]")  # Chinese line breaking: never first on a line
_WORD = re.compile(r"[A-Za-z0-9.,%&+\-]+|.", re.S)  # Latin words and numbers break as a whole


def _em(ch: str) -> float:
    if ch in _LATIN_EM:
        return _LATIN_EM[ch]
    if ch.isascii():
        return 0.72 if ch.isupper() else 0.5
    return 1.0


@lru_cache(maxsize=4096)
def lines(text: str, width_mm: float) -> int:
    """Lines ``text`` takes in a cell, wrapped as Word and WPS wrap Chinese: anywhere between
    Chinese characters, never before closing punctuation, Latin words and numbers kept whole."""
    capacity = _capacity(width_mm)
    total = 0
    for paragraph in text.split("\n"):
        count, used = 1, 0.0
        for token in _WORD.findall(paragraph):
            width = 1.0 if len(token) == 1 and not token.isascii() else sum(map(_em, token))
            if used + width <= capacity or used == 0:
                used += width
                continue
            if token[0] in _NO_LINE_START:  # it stays on this line; the character before it moves down
                count += 1
                used = 1.0 + width
                continue
            count += 1
            used = width
            while used > capacity:  # a number longer than a line
                count += 1
                used -= capacity
        total += count
    return max(total, 1)


def _width(text: str) -> float:
    return sum(map(_em, text))


def paginate(rows: list[Row]) -> list[list[Row]]:
    """Rows packed into pages (lists of rows), continuation rows marked ``（续）``."""
    pages: list[list[Row]] = [[]]
    room = (PAGE_PT - FIRST_PAGE_TAKEN_PT - HEADER_PT) * FILL
    full = (PAGE_PT - HEADER_PT) * FILL
    pending = list(rows)
    while pending:
        row = pending.pop(0)
        if pages[-1] == [] and len(pages) > 1:
            row = _continued(row, pages[-2])
        height = row.height()
        if height <= room:
            pages[-1].append(row)
            room -= height
            continue
        # A tall row fills the page (split at a sentence); a short one goes to the next page whole.
        fit = min(int((room - ROW_EXTRA_PT) // LINE_PT), row.lines() - SPLIT_LINES)
        if row.lines() >= SPLIT_FROM_LINES and fit >= SPLIT_LINES:
            head, tail = split(row, fit)
            pages[-1].append(head)
            pending.insert(0, tail)
        elif not pages[-1]:  # taller than a whole page: split it anyway
            head, tail = split(row, max(int((room - ROW_EXTRA_PT) // LINE_PT), 1))
            pages[-1].append(head)
            pending.insert(0, tail)
            pages.append([])
            room = full
            continue
        else:
            pending.insert(0, row)
        pages.append([])
        room = full
    return [page for page in pages if page]


def by_unit(page: list[Row]) -> list[dict]:
    """A page's rows grouped by unit, as the template merges 序号 and 实施单位 over them."""
    groups: list[dict] = []
    for row in page:
        # A page that opens with 市人社局（续） goes on with 市人社局's next rows in the same merged cell.
        if (not groups or groups[-1]["serial"] != row.serial
                or groups[-1]["unit"].removesuffix("（续）") != row.unit.removesuffix("（续）")):
            groups.append({"serial": row.serial, "unit": row.unit, "rows": []})
        groups[-1]["rows"].append({"name": row.name, "target": row.target, "progress": row.progress})
    return groups


def _continued(row: Row, previous_page: list[Row]) -> Row:
    """The first row of a page: its unit's name says ``（续）`` when the unit began on a page before."""
    if previous_page and previous_page[-1].serial == row.serial and not row.unit.endswith("（续）"):
        return replace(row, unit=f"{row.unit}（续）")
    return row


def split(row: Row, fit: int) -> tuple[Row, Row]:
    """``row`` cut after ``fit`` lines: the head keeps the first lines of each text, at a sentence
    end where one is near; the tail is marked ``（续）`` in its unit and project."""
    head_target, tail_target = _cut(row.target, COLUMNS_MM["target"], fit)
    head_progress, tail_progress = _cut(row.progress, COLUMNS_MM["progress"], fit)
    head = replace(row, target=head_target, progress=head_progress)
    unit = row.unit if row.unit.endswith("（续）") else f"{row.unit}（续）"
    name = row.name if row.name.endswith("（续）") else f"{row.name}（续）"
    return head, Row(row.serial, unit, name, tail_target, tail_progress)


def _cut(text: str, width_mm: float, fit: int) -> tuple[str, str]:
    if lines(text, width_mm) <= fit:
        return text, ""
    budget = fit * _capacity(width_mm)
    end, used = 0, 0.0
    for i, ch in enumerate(text):
        used += _width(ch)
        if used > budget or ch == "\n" and lines(text[:i], width_mm) >= fit:
            break
        end = i + 1
    # Back to the last sentence end within the last third of what fits, if there is one.
    for j in range(end, max(end * 2 // 3, 1) - 1, -1):
        if text[j - 1] in "。；;！!？?":
            end = j
            break
    while end > 1 and lines(text[:end], width_mm) > fit:
        end -= 1
    while 1 < end < len(text) and text[end - 1].isascii() and text[end - 1].isalnum() and text[end].isascii() \
            and text[end].isalnum():
        end -= 1  # never inside a number or a Latin word
    return text[:end], text[end:].lstrip()
