"""滞后任务: the indicators behind schedule or below target, and their rows of the 滞后任务 sheet.

A lagging indicator's row is rendered where it is judged (a worker process), like its 指标明细 row,
with ``ROW`` standing in for the row number: the sheet lists the lagging indicators most serious
first, and only the main process knows where each one ends up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .model import IndicatorType, Status
from .tables import NUMBER, PERCENT, POINTS, TEXT, WRAP, Layout, RowRenderer

ROW = "\x00"  # the row number's place in a rendered row: never in text (written _x0000_ there)

LAYOUT = Layout("滞后任务", ("牵头单位", "任务编号", "项目名称", "指标编号", "指标名称", "年度目标值", "本期累计完成",
                         "完成率", "时序进度", "差距（个百分点）", "状态", "进展情况", "存在问题", "下步措施"),
                (14, 7, 22, 8, 24, 10, 11, 9, 9, 9, 9, 30, 24, 24),
                (TEXT, TEXT, TEXT, TEXT, TEXT, NUMBER, NUMBER, PERCENT, PERCENT, POINTS, TEXT, WRAP, WRAP, WRAP))
STATUS_COLUMN = LAYOUT.header.index("状态")


@dataclass(frozen=True)
class Lagging:
    """滞后任务: an indicator behind schedule or below target, as the lists of lagging tasks show it."""

    unit: str
    task_id: str
    task_name: str
    indicator_id: str
    indicator_name: str
    unit_of_measure: str
    type: IndicatorType
    target: Decimal | None
    value: Decimal | None  # 本期累计完成; for 里程碑 the stage's percent
    stage: str
    rate_percent: Decimal | None
    schedule_percent: Decimal | None
    gap_points: Decimal | None
    status: Status
    progress: str = ""
    issues: str = ""
    next_steps: str = ""

    def stored(self) -> tuple:
        """The plain values ``LaggingList`` keeps, in field order (enums by value, numbers as text)."""
        return (self.unit, self.task_id, self.task_name, self.indicator_id, self.indicator_name, self.unit_of_measure,
                self.type.value, _text(self.target), _text(self.value), self.stage, _text(self.rate_percent),
                _text(self.schedule_percent), _text(self.gap_points), self.status.value, self.progress, self.issues,
                self.next_steps)


def _text(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


def values(item: Lagging) -> list:
    """The item's row of the 滞后任务 sheet, in ``LAYOUT``'s columns."""
    value = item.stage or None if item.type is IndicatorType.MILESTONE else item.value
    return [item.unit, item.task_id, item.task_name, item.indicator_id, item.indicator_name, item.target,
            value, item.rate_percent, item.schedule_percent, item.gap_points, item.status.value,
            item.progress, item.issues, item.next_steps]


def renderer() -> RowRenderer:
    return RowRenderer(LAYOUT)


def rendered(item: Lagging, renderer: RowRenderer) -> bytes:
    """The item's row as sheet XML, ``ROW`` in place of its row number."""
    return renderer.render(values(item), ROW).encode("utf-8", "replace")


def numbered(xml: bytes, row: int) -> bytes:
    """A row from ``rendered`` with its row number."""
    return xml.replace(_ROW_BYTE, str(row).encode())


_ROW_BYTE = ROW.encode()
