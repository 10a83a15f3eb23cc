"""指标明细: the one row per indicator that the consolidated workbook and the CSV both show.

A row is made once, as final values (``detail_values``), and from those values come both its
sheet XML and its CSV line (``Renderer``). Percentages and points are
the rounded ``Decimal``s a person reads, so the workbook's 0.0% cell and the CSV's ``77.8%`` are
the same figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ..assess.lagging import Lagging
from ..assess.status import Assessment
from ..model import IndicatorType, Task
from ..numbers import percent_of
from . import sheets
from .tables import NUMBER, PERCENT, POINTS, TEXT, Layout, RowRenderer

SHEET = "指标明细"


@dataclass(frozen=True)
class DetailColumn:
    header: str
    width: float
    kind: str = TEXT


# The columns after 序号, in order; ``detail_values`` gives a row's values in the same order.
COLUMNS = (
    DetailColumn("任务编号", 7), DetailColumn("类别", 14), DetailColumn("项目名称", 22),
    DetailColumn("年度目标任务", 24), DetailColumn("牵头单位", 14), DetailColumn("协同单位", 14),
    DetailColumn("指标编号", 8), DetailColumn("指标名称", 24), DetailColumn("计量单位", 7),
    DetailColumn("指标类型", 7), DetailColumn("年度目标值", 10, NUMBER), DetailColumn("年度计划资金(万元)", 10, NUMBER),
    DetailColumn("完成时限", 11), DetailColumn("上期累计", 10, NUMBER), DetailColumn("本期累计完成", 11, NUMBER),
    DetailColumn("完成率", 9, PERCENT), DetailColumn("时序进度", 9, PERCENT), DetailColumn("差距（个百分点）", 9, POINTS),
    DetailColumn("状态", 9), DetailColumn("标记", 14), DetailColumn("环比（个百分点）", 9, POINTS),
    DetailColumn("进展情况", 36), DetailColumn("存在问题", 24), DetailColumn("下步措施", 24),
    DetailColumn("来源文件", 30), DetailColumn("来源单元格", 9),
)


def column_index(header: str) -> int:
    """Where a column's value is in a row of ``detail_values`` (序号 is 0)."""
    return 1 + [c.header for c in COLUMNS].index(header)


STATUS_COLUMN = column_index("状态")


def header(extra_columns: tuple[str, ...]) -> list[str]:
    return ["序号", *(c.header for c in COLUMNS), *extra_columns]


def layout(extra_columns: tuple[str, ...], decorate=None) -> Layout:
    """The 指标明细 sheet: 序号, the columns above, and the register's own extra columns."""
    return Layout(SHEET, tuple(header(extra_columns)),
                  (5, *(c.width for c in COLUMNS), *[12] * len(extra_columns)),
                  (NUMBER, *(c.kind for c in COLUMNS), *[TEXT] * len(extra_columns)), decorate)


def stage_or_value(a: Assessment) -> object:
    """本期累计完成 as shown: the chosen stage of a 里程碑, else the value."""
    if a.indicator.type is IndicatorType.MILESTONE:
        return a.stage or None
    return a.value


def _previous(a: Assessment) -> object:
    if a.previous is None:
        return None
    return f"{a.previous.value}%" if a.indicator.type is IndicatorType.MILESTONE else a.previous.value


def _marks(a: Assessment) -> str:
    """标记: the flags, and which month 上期 is from when it is not last month's."""
    marks = [f.value for f in a.flags]
    if a.previous is not None and a.previous.skipped:
        marks.append(f"上期为{a.previous.period}")
    return "、".join(marks)


def task_texts(task: Task) -> tuple[str, str]:
    """A task's 协同单位 and 完成时限 as shown, made once per task."""
    return "、".join(task.partner_units), str(task.deadline or "")


def detail_values(serial: int, task: Task, texts: tuple[str, str], a: Assessment) -> list:
    """One row of 指标明细 as final values, in the sheet's column order."""
    ind, rep = a.indicator, a.reported
    # A task's funds stand on its first row only, so that adding up the column counts them once.
    funds = task.planned_funds if ind.id == task.indicators[0].id else None
    values = [serial, ind.task_id, task.category, task.name, task.annual_target, ind.lead_unit, texts[0],
              ind.id, ind.name, ind.unit_of_measure, ind.type.value, ind.target, funds,
              texts[1] if ind.deadline == task.deadline else str(ind.deadline or ""),
              _previous(a), stage_or_value(a), a.rate_percent, percent_of(*a.due) if a.has_gap else None,
              a.gap_points, a.status.value, _marks(a), a.change_points,
              rep.progress if rep else "", rep.issues if rep else "", rep.next_steps if rep else "",
              a.source, f"填报!{rep.cell}" if rep and rep.cell else ""]
    if ind.extra:
        values += [value for _, value in ind.extra]
    return values


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(_FORMULA_START)
_PERCENTS = frozenset(1 + c for c, column in enumerate(COLUMNS) if column.kind == PERCENT)


def csv_safe(text: str) -> str:
    """Text that a spreadsheet opening the CSV would take for a formula gets a leading apostrophe
    (a lone ``-`` or ``@`` is no formula and stays as it is)."""
    if len(text) > 1 and text.startswith(_FORMULA_START):
        try:
            Decimal(text)
            return text
        except ArithmeticError:
            return "'" + text
    return text


class CsvLines:
    """Lines of the CSV from rows of values: percentages with %, formula-looking text defused.
    Texts repeat row after row (task names, units), so each is quoted once."""

    def __init__(self, width: int):
        self._columns = [({}, c in _PERCENTS) for c in range(width)]

    def line(self, values: list) -> str:
        parts = []
        add = parts.append
        for (cache, is_percent), value in zip(self._columns, values):
            if value is None:
                add("")
            elif value.__class__ is str:
                text = cache.get(value)
                if text is None:
                    text = _field(value)
                    if len(cache) > 4096:
                        cache.clear()
                    cache[value] = text
                add(text)
            else:  # a number's text is never a formula and needs no quotes
                add(f"{value}%" if is_percent else str(value))
        return ",".join(parts) + "\r\n"


_QUOTE = re.compile('[",\r\n]')


# Control characters (a NUL typed as _x0000_) cut or garble a CSV in other systems; the workbook keeps them.
_CONTROLS = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")
_HAS_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _field(text: str) -> str:
    if _HAS_CONTROL.search(text):
        text = text.translate(_CONTROLS)
    if text and text[0] in _FORMULA_FIRST:
        text = csv_safe(text)
    return '"' + text.replace('"', '""') + '"' if _QUOTE.search(text) else text


def csv_header(extra_columns: tuple[str, ...]) -> str:
    return ",".join(_field(text) for text in header(extra_columns)) + "\r\n"


class Renderer:
    """Both forms of an indicator's 指标明细 row (the workbook's XML and the CSV's line, from the same
    values), and the 滞后任务 row of a lagging one: what judging is given to render with
    (``assess.period.RowRenderer``)."""

    def __init__(self, extra_columns: tuple[str, ...]):
        self.xml = RowRenderer(layout(extra_columns))
        self.csv = CsvLines(len(header(extra_columns)))
        self._lagging = sheets.lagging_renderer()
        self._task: Task | None = None
        self._texts = ("", "")

    def indicator(self, a: Assessment, task: Task) -> tuple[bytes, bytes, tuple]:
        if task is not self._task:  # a task's indicators come one after another
            self._task, self._texts = task, task_texts(task)
        values = detail_values(a.indicator.position + 1, task, self._texts, a)
        return (self.xml.render(values, a.indicator.position + 2).encode("utf-8", "replace"),
                self.csv.line(values).encode("utf-8", "replace"), (values[_RATE], values[_SCHEDULE], values[_GAP]))

    def lagging(self, item: Lagging) -> bytes:
        return sheets.rendered(item, self._lagging)


_RATE, _SCHEDULE, _GAP = (column_index(name) for name in ("完成率", "时序进度", "差距（个百分点）"))
