"""The 汇总 workbook's list sheets: 单位排名, 滞后任务, 未报送单位 and 问题清单 (formats §5).

Each is a ``Table`` built from the period's result. A lagging indicator's 滞后任务 row is rendered
where it is judged (a worker process), like its 指标明细 row, with ``ROW`` standing in for the row
number: the sheet lists the lagging indicators most serious first, and only the main process knows
where each one ends up.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from ..assess.lagging import Lagging
from ..assess.period import Consolidation
from ..model import IndicatorType, Status
from ..numbers import percent
from .tables import COUNT, NUMBER, PERCENT, POINTS, TEXT, WRAP, Layout, RowRenderer, Styles, Table

# The status columns of 单位排名 and rows of 总览's distribution: from done to behind (未完成 after
# 严重滞后: its time is up), then what has no usable figure.
COUNT_ORDER = (Status.COMPLETE, Status.MET, Status.ON_SCHEDULE, Status.NOT_STARTED, Status.LAGGING,
               Status.SEVERELY_LAGGING, Status.UNFINISHED, Status.NOT_MET, Status.DATA_ERROR, Status.NOT_FILLED,
               Status.NOT_SUBMITTED)


def status_lights(ws, st: Styles, col: int, first: int, last: int) -> None:
    """红黄绿灯 on a status column, as conditional formats the office can see and change."""
    if last < first:
        return
    for status in Status:
        ws.conditional_format(first, col, last, col, {
            "type": "cell", "criteria": "==", "value": f'"{status.value}"',
            "format": st.lights[status.light]})



# -- 单位排名 ----------------------------------------------------------------------------------

RANKING = Layout("单位排名", ("排名", "牵头单位", "指标数", *(s.value for s in COUNT_ORDER), "平均完成率",
                              "年度计划资金(万元)", "累计拨付资金(万元)", "拨付率", "是否报送"),
                  (6, 18, 7, *[7] * len(COUNT_ORDER), 10, 12, 12, 9, 9),
                  (NUMBER, TEXT, NUMBER, *[COUNT] * len(COUNT_ORDER), PERCENT, NUMBER, NUMBER, PERCENT, TEXT))


def ranking(result: Consolidation) -> Table:
    table = Table(RANKING)
    for u in result.units:
        funds = percent(Fraction(u.funds_paid) / Fraction(u.funds_planned)) if u.funds_planned else None
        table.add([u.rank, u.name, u.indicators, *(u.counts[s] for s in COUNT_ORDER), percent(u.mean),
                   u.funds_planned or None, u.funds_paid if u.funds_planned else None, funds,
                   "是" if u.submitted else "未报送"])
    return table


# -- 滞后任务 ----------------------------------------------------------------------------------

ROW = "\x00"  # the row number's place in a rendered row: never in text (written _x0000_ there)

LAGGING = Layout("滞后任务", ("牵头单位", "任务编号", "项目名称", "指标编号", "指标名称", "年度目标值", "本期累计完成",
                         "完成率", "时序进度", "差距（个百分点）", "状态", "进展情况", "存在问题", "下步措施"),
                (14, 7, 22, 8, 24, 10, 11, 9, 9, 9, 9, 30, 24, 24),
                (TEXT, TEXT, TEXT, TEXT, TEXT, NUMBER, NUMBER, PERCENT, PERCENT, POINTS, TEXT, WRAP, WRAP, WRAP))
STATUS_COLUMN = LAGGING.header.index("状态")
_LAGGING = replace(LAGGING, decorate=lambda ws, st, first, last: status_lights(ws, st, STATUS_COLUMN, first, last))


def lagging(result: Consolidation, fast: bool) -> Table:
    """滞后任务: the rows rendered where each indicator was judged, numbered here in their sorted
    order (by xlsxwriter from the values, for ``fast=False``)."""
    table = Table(_LAGGING)
    if fast:
        for row, xml in enumerate(result.lagging.rendered(), start=2):
            table.add_rendered(numbered(xml, row))
    else:
        for item in result.lagging:
            table.add(values(item))
    return table


MISSING = Layout("未报送单位", ("牵头单位", "应报指标数", "说明", "涉及任务"), (18, 10, 40, 70),
                  (TEXT, NUMBER, WRAP, WRAP))


def missing(result: Consolidation) -> Table:
    table = Table(MISSING)
    for u in result.missing_units:
        tasks = "；".join(f"{task.id}.{task.name}" for task in result.register.tasks_of(u.name))
        table.add([u.name, u.indicators, missing_reason(result, u.name), tasks])
    return table


def missing_reason(result: Consolidation, unit: str) -> str:
    """Why a unit has no figures: it sent nothing, or what it sent could not be used."""
    refused = result.collection.refused_files(unit)
    if not refused:
        return "未收到报表"
    return f"收到“{'”“'.join(refused)}”，但未能采用（原因见问题清单），需重新报送"


# -- 问题清单 ----------------------------------------------------------------------------------

def _error_lights(ws, st: Styles, first: int, last: int) -> None:
    ws.conditional_format(first, 5, last, 5, {"type": "cell", "criteria": "==", "value": '"错误"',
                                               "format": st.lights["red"]})


PROBLEMS = Layout("问题清单", ("序号", "文件", "工作表", "单元格", "指标编号", "级别", "问题及处理办法", "原始内容"),
                   (5, 30, 7, 7, 8, 6, 72, 16), (NUMBER, TEXT, TEXT, TEXT, TEXT, TEXT, WRAP, TEXT), _error_lights)


def problems(result: Consolidation) -> Table:
    table = Table(PROBLEMS)
    for i, p in enumerate(result.problems, start=1):
        table.add([i, p.file, p.sheet, p.cell, p.indicator, p.severity.value, p.message, p.raw])
    return table


# -- 更正记录 and 已撤销指标 ---------------------------------------------------------------------

CORRECTIONS = Layout("更正记录", ("指标编号", "单位", "原值", "新值", "原来源", "新来源", "时间"),
                      (9, 16, 12, 12, 40, 40, 18), (TEXT, TEXT, TEXT, TEXT, WRAP, WRAP, TEXT))


def corrections(result: Consolidation) -> Table:
    """What differs from the period's previous consolidation: every changed, new and vanished value."""
    table = Table(CORRECTIONS)
    at = f"{result.generated_at:%Y-%m-%d %H:%M}"
    for c in result.corrections:
        table.add([c.indicator_id, c.unit, c.old or "（无）", c.new or "（无）", c.old_source, c.new_source, at])
    return table


CANCELLED = Layout("已撤销指标", ("任务编号", "项目名称", "指标编号", "指标名称", "计量单位", "牵头单位", "状态"),
                    (7, 24, 9, 26, 8, 16, 8), (TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT))


def cancelled(result: Consolidation) -> Table:
    """Indicators the register marks 已撤销: kept in the record, left out of the judgement."""
    table = Table(CANCELLED)
    for c in result.register.cancelled:
        table.add([c.task_id, c.task_name, c.id, c.name, c.unit_of_measure, c.lead_unit, "已撤销"])
    return table


def values(item: Lagging) -> list:
    """The item's row of the 滞后任务 sheet, in ``LAGGING``'s columns."""
    value = item.stage or None if item.type is IndicatorType.MILESTONE else item.value
    return [item.unit, item.task_id, item.task_name, item.indicator_id, item.indicator_name, item.target,
            value, item.rate_percent, item.schedule_percent, item.gap_points, item.status.value,
            item.progress, item.issues, item.next_steps]


def lagging_renderer() -> RowRenderer:
    return RowRenderer(LAGGING)


def rendered(item: Lagging, renderer: RowRenderer) -> bytes:
    """The item's row as sheet XML, ``ROW`` in place of its row number."""
    return renderer.render(values(item), ROW).encode("utf-8", "replace")


def numbered(xml: bytes, row: int) -> bytes:
    """A row from ``rendered`` with its row number."""
    return xml.replace(_ROW_BYTE, str(row).encode())


_ROW_BYTE = ROW.encode()
