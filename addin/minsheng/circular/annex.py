"""The annex table of the circular (附件：进展情况表): its rows and how they are laid out.

The annex is one table that Word, WPS or LibreOffice breaks across pages: the header row repeats
on every page and a row may break across pages, so that every page but the last is filled. An
earlier version planned the pages itself, one table a page, to repeat a unit's name at the top of
a continuation page (``市教育局（续）``); it had to plan with a margin, since no two programs set a
line alike, and left every page a little short. Measured on the demo through LibreOffice with the
same columns and font, planned pages took 12 landscape pages and one flowing table 11: length won,
and a continuation page shows the unit's merged cell going on without repeating its name.

The column widths, font and line pitch below are the bundled template's
(``scripts/build_circular_template.py``), chosen by measuring the demo's annex: they and a
project's shared 年度目标任务 printed once (``once``) bring it to 9 pages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# 序号 | 实施单位 | 项目名称 | 年度目标任务 | 进展情况 across the 225 mm of a landscape 版心. 17 mm holds four
# characters (实施单位, 项目名称) on a line; the two text columns share the rest as the demo's texts
# fill them with the fewest lines.
COLUMNS_MM = {"serial": 10, "unit": 17, "name": 17, "target": 108, "progress": 73}
FONT_PT, LINE_PT = 10.5, 12.0  # 五号 at an exact pitch of 12 pt (固定值 12 磅)
CELL_MARGIN_MM = 2 * 1.0  # left and right, as the template's w:tblCellMar sets them


@dataclass(frozen=True)
class Row:
    serial: str
    unit: str
    name: str
    target: str
    progress: str


def paginate(rows: list[Row]) -> list[list[Row]]:
    """The annex's tables: one, which the word processor breaks into pages (none without rows).
    Templates loop over the annex's tables, so that a template may still lay out more than one.
    A project listed under several units prints its 年度目标任务 once (``once``)."""
    return [once(rows)] if rows else []


def once(rows: list[Row]) -> list[Row]:
    """A project that several units carry out stands under each of them with the same 年度目标任务,
    often a dozen lines: the first row prints it, a later one reads ``同上`` (the row above) or
    ``同序号7`` (the project's first row). A target of a line or less is printed every time."""
    first: dict[tuple[str, str], str] = {}  # (project, target) → 序号 of its first row
    out: list[Row] = []
    previous = None
    for row in rows:
        key = (row.name, row.target)
        if key in first and len(row.target) > ONCE_FROM_CHARS:
            row = replace(row, target="同上" if key == previous else f"同序号{first[key]}")
        first.setdefault(key, row.serial)
        out.append(row)
        previous = key
    return out


ONCE_FROM_CHARS = 30  # about a line of the 年度目标任务 column


def by_unit(page: list[Row]) -> list[dict]:
    """A table's rows grouped by unit (consecutive rows with one 序号), as the template merges 序号
    and 实施单位 over them."""
    groups: list[dict] = []
    for row in page:
        if not groups or groups[-1]["serial"] != row.serial:
            groups.append({"serial": row.serial, "unit": row.unit, "rows": []})
        groups[-1]["rows"].append({"name": row.name, "target": row.target, "progress": row.progress})
    return groups
