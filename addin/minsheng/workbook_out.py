"""The consolidated outputs (SPEC §6): ``汇总_P.xlsx`` and ``指标明细_P.csv``.

Both are written to temporary files first and put in place together, so a failure (or a target
open in Excel) leaves the previous outputs as they were.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Callable

from xlsxwriter.utility import xl_rowcol_to_cell

from .cells import row_height
from .consolidation import Consolidation
from .engine import Assessment
from .errors import OutputLockedError
from .files import atomic_path, new_workbook, save_workbook
from .model import IndicatorType, Period, Status
from .numbers import format_percent, percent

LIGHTS = {"red": "#F8CBAD", "yellow": "#FFE699", "green": "#C6E0B4"}
CHART_COLOURS = {Status.COMPLETE: "#548235", Status.MET: "#A9D08E", Status.ON_SCHEDULE: "#C6E0B4",
                 Status.NOT_STARTED: "#FFD966", Status.LAGGING: "#F4B183", Status.SEVERELY_LAGGING: "#C00000",
                 Status.NOT_MET: "#FF7C80", Status.DATA_ERROR: "#FF0000", Status.NOT_FILLED: "#BFBFBF",
                 Status.NOT_SUBMITTED: "#7F7F7F"}
COUNT_ORDER = (Status.COMPLETE, Status.MET, Status.ON_SCHEDULE, Status.NOT_STARTED, Status.LAGGING,
               Status.SEVERELY_LAGGING, Status.NOT_MET, Status.DATA_ERROR, Status.NOT_FILLED, Status.NOT_SUBMITTED)


def output_names(period: Period) -> tuple[str, str]:
    """``汇总_2020-06.xlsx`` and ``指标明细_2020-06.csv``."""
    return f"汇总_{period}.xlsx", f"指标明细_{period}.csv"


def write_outputs(result: Consolidation, folder: Path) -> list[Path]:
    """Write the workbook and the CSV into ``folder``; both or neither are replaced."""
    names = output_names(result.period)
    targets = [folder / name for name in names]
    for target in targets:
        _refuse_if_open(target)
    with atomic_path(targets[0]) as xlsx_tmp, atomic_path(targets[1]) as csv_tmp:
        write_workbook(result, xlsx_tmp)
        write_csv(result, csv_tmp)
    return targets


def _refuse_if_open(target: Path) -> None:
    """Excel keeps ``~$name`` beside a workbook it has open; on Windows the file is also locked."""
    if (target.parent / f"~${target.name}").exists():
        raise OutputLockedError(f"{target} 正在 Excel 中打开，无法更新；请关闭该文件后重试")
    if target.exists():
        try:
            fd = os.open(target, os.O_RDWR)
        except PermissionError as exc:
            raise OutputLockedError(f"{target} 正被其他程序打开，无法更新；请关闭该文件后重试") from exc
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# 指标明细: one row per indicator, shared by the workbook sheet and the CSV.

@dataclass(frozen=True)
class DetailColumn:
    header: str
    width: float
    get: Callable[[Consolidation, Assessment], object]
    kind: str = "text"  # text, number, percent, points


def _task_of(result: Consolidation, a: Assessment):
    return result.register.task(a.indicator.task_id)


def _value(a: Assessment) -> object:
    if a.indicator.type is IndicatorType.MILESTONE:
        return a.stage or None
    return a.value


def _previous(a: Assessment) -> object:
    if a.previous is None:
        return None
    return f"{a.previous.value}%" if a.indicator.type is IndicatorType.MILESTONE else a.previous.value


DETAIL = (
    DetailColumn("任务编号", 7, lambda r, a: a.indicator.task_id),
    DetailColumn("类别", 14, lambda r, a: _task_of(r, a).category),
    DetailColumn("项目名称", 22, lambda r, a: _task_of(r, a).name),
    DetailColumn("年度目标任务", 24, lambda r, a: _task_of(r, a).annual_target),
    DetailColumn("牵头单位", 14, lambda r, a: a.indicator.lead_unit),
    DetailColumn("协同单位", 14, lambda r, a: "、".join(_task_of(r, a).partner_units)),
    DetailColumn("指标编号", 8, lambda r, a: a.indicator.id),
    DetailColumn("指标名称", 24, lambda r, a: a.indicator.name),
    DetailColumn("计量单位", 7, lambda r, a: a.indicator.unit_of_measure),
    DetailColumn("指标类型", 7, lambda r, a: a.indicator.type.value),
    DetailColumn("年度目标值", 10, lambda r, a: a.indicator.target, "number"),
    DetailColumn("年度计划资金(万元)", 10, lambda r, a: _task_of(r, a).planned_funds, "number"),
    DetailColumn("完成时限", 11, lambda r, a: str(_task_of(r, a).deadline or "")),
    DetailColumn("上期累计", 10, lambda r, a: _previous(a), "number"),
    DetailColumn("本期累计完成", 11, lambda r, a: _value(a), "number"),
    DetailColumn("完成率", 9, lambda r, a: a.rate, "percent"),
    DetailColumn("时序进度", 9, lambda r, a: a.schedule if a.gap is not None else None, "percent"),
    DetailColumn("差距（个百分点）", 10, lambda r, a: a.gap, "points"),
    DetailColumn("状态", 9, lambda r, a: a.status.value),
    DetailColumn("标记", 14, lambda r, a: "、".join(f.value for f in a.flags)),
    DetailColumn("环比（个百分点）", 10, lambda r, a: a.change, "points"),
    DetailColumn("进展情况", 36, lambda r, a: a.reported.progress if a.reported else ""),
    DetailColumn("存在问题", 24, lambda r, a: a.reported.issues if a.reported else ""),
    DetailColumn("下步措施", 24, lambda r, a: a.reported.next_steps if a.reported else ""),
    DetailColumn("来源文件", 30, lambda r, a: a.source),
    DetailColumn("来源单元格", 9, lambda r, a: f"填报!{a.reported.cell}" if a.reported and a.reported.cell else ""),
)


def _detail_header(result: Consolidation) -> list[str]:
    return ["序号", *(c.header for c in DETAIL), *result.register.extra_columns]


def _extras(a: Assessment) -> list[str]:
    return [value for _, value in a.indicator.extra]


def _shown(value: object, kind: str) -> str:
    """The text a person reads for a value: percentages and points rounded half-up."""
    if value is None:
        return ""
    if kind == "percent":
        return format_percent(value)
    if kind == "points":
        return str(percent(Fraction(value) / 100))
    return str(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(text: str) -> str:
    """Text that a spreadsheet opening the CSV would take for a formula gets a leading apostrophe."""
    if text.startswith(_FORMULA_START):
        try:
            Decimal(text)
            return text
        except ArithmeticError:
            return "'" + text
    return text


def write_csv(result: Consolidation, path: Path) -> None:
    """指标明细 in UTF-8 with BOM, so Excel on Chinese Windows opens it without mojibake."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(_detail_header(result))
        for i, a in enumerate(result.assessments, start=1):
            row = [_csv_safe(_shown(c.get(result, a), c.kind)) for c in DETAIL]
            writer.writerow([i, *row, *(_csv_safe(v) for v in _extras(a))])


# ---------------------------------------------------------------------------------------------
# The workbook.

class _Styles:
    def __init__(self, book):
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        self.title = book.add_format({"font_name": "宋体", "font_size": 16, "bold": True})
        self.subtitle = book.add_format({"font_name": "宋体", "font_size": 10, "font_color": "#595959"})
        self.section = book.add_format({"font_name": "宋体", "font_size": 12, "bold": True})
        self.head = book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center",
                                     "text_wrap": True})
        self.text = book.add_format(base)
        self.wrap = book.add_format({**base, "text_wrap": True})
        self.center = book.add_format({**base, "align": "center"})
        self.number = book.add_format({**base, "num_format": "General"})
        self.count = book.add_format({**base, "num_format": "0;-0;;@", "align": "center"})  # 0 shows empty
        self.percent = book.add_format({**base, "num_format": "0.0%"})
        self.points = book.add_format({**base, "num_format": "+0.0;-0.0;0.0"})
        self.money = book.add_format({**base, "num_format": "#,##0.00"})
        self.lights = {name: book.add_format({"bg_color": colour}) for name, colour in LIGHTS.items()}


def write_workbook(result: Consolidation, path: Path) -> None:
    book = new_workbook()
    book.set_properties({"title": f"{result.period.label}民生工程进展情况汇总", "author": "minsheng",
                         "created": result.generated_at})
    st = _Styles(book)
    overview = book.add_worksheet("总览")
    _detail_sheet(book.add_worksheet("指标明细"), st, result)
    _ranking_sheet(book.add_worksheet("单位排名"), st, result)
    _attention_sheet(book.add_worksheet("滞后任务"), st, result)
    _missing_sheet(book.add_worksheet("未报送单位"), st, result)
    _problems_sheet(book.add_worksheet("问题清单"), st, result)
    _overview_sheet(book, overview, st, result)
    overview.activate()
    save_workbook(book, path)


def _print_setup(ws, columns: int, rows: int, header_row: int = 0) -> None:
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(header_row)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.freeze_panes(header_row + 1, 0)
    if rows:
        ws.autofilter(header_row, 0, header_row + rows, columns - 1)


def _write(ws, row: int, col: int, value: object, kind: str, st: _Styles, text_format=None) -> None:
    """One cell: numbers as numbers (rounded as shown), text always as text, never as a formula."""
    if value is None or value == "":
        ws.write_blank(row, col, None, text_format or st.text)
    elif kind == "percent":
        # The rounded value, so Excel's 0.0% shows exactly the half-up figure the office reads.
        _number(ws, row, col, percent(value) / 100, st.percent, format_percent(value))
    elif kind == "points":
        _number(ws, row, col, percent(Fraction(value) / 100), st.points)
    elif kind == "count":
        ws.write_number(row, col, value, st.count)
    elif kind == "number" and isinstance(value, (int, Decimal, Fraction)):
        _number(ws, row, col, value, st.number)
    elif kind == "wrap":
        ws.write_string(row, col, str(value), st.wrap)
    else:
        ws.write_string(row, col, str(value), text_format or st.text)


def _number(ws, row: int, col: int, value, cell_format, shown: str = "") -> None:
    """A number Excel can hold; one beyond a float's range is written as its text instead of failing."""
    number = float(value)
    if math.isfinite(number):
        ws.write_number(row, col, number, cell_format)
    else:
        ws.write_string(row, col, shown or str(value), cell_format)


def _table(ws, st: _Styles, header: list[str], widths: list[float], rows: list[list[tuple[object, str]]],
           top: int = 0) -> None:
    for c, (title, width) in enumerate(zip(header, widths)):
        ws.set_column(c, c, width)
        ws.write_string(top, c, title, st.head)
    ws.set_row(top, 30)
    for r, row in enumerate(rows, start=top + 1):
        for c, (value, kind) in enumerate(row):
            _write(ws, r, c, value, kind, st)
        wrapped = [(str(value), widths[c]) for c, (value, kind) in enumerate(row) if kind == "wrap" and value]
        if wrapped:  # LibreOffice and WPS do not grow rows by themselves
            ws.set_row(r, row_height(wrapped, line=13.5, least=15))
    _print_setup(ws, len(header), len(rows), top)


def _status_lights(ws, st: _Styles, col: int, first: int, last: int) -> None:
    """红黄绿灯 on a status column, as conditional formats the office can see and change."""
    if last < first:
        return
    for status in Status:
        ws.conditional_format(first, col, last, col, {
            "type": "cell", "criteria": "==", "value": f'"{status.value}"',
            "format": st.lights[status.light]})


def _detail_sheet(ws, st: _Styles, result: Consolidation) -> None:
    header = _detail_header(result)
    widths = [5, *(c.width for c in DETAIL), *[12] * len(result.register.extra_columns)]
    rows = [[(i, "number"), *((c.get(result, a), c.kind) for c in DETAIL), *((v, "text") for v in _extras(a))]
            for i, a in enumerate(result.assessments, start=1)]
    _table(ws, st, header, widths, rows)
    ws.set_paper(8)  # A3: the full table is wide; it stays one page wide
    status_col = header.index("状态")
    _status_lights(ws, st, status_col, 1, len(rows))


def _ranking_sheet(ws, st: _Styles, result: Consolidation) -> None:
    header = ["排名", "牵头单位", "指标数", *(s.value for s in COUNT_ORDER), "平均完成率",
              "年度计划资金(万元)", "累计拨付资金(万元)", "拨付率", "是否报送"]
    rows = []
    for u in result.units:
        funds = Fraction(u.funds_paid) / Fraction(u.funds_planned) if u.funds_planned else None
        rows.append([(u.rank, "number"), (u.name, "text"), (len(u.assessments), "number"),
                     *((u.counts[s], "count") for s in COUNT_ORDER), (u.mean, "percent"),
                     (u.funds_planned or None, "number"), (u.funds_paid if u.funds_planned else None, "number"),
                     (funds, "percent"), ("是" if u.submitted else "未报送", "text")])
    _table(ws, st, header, [6, 18, 7] + [7] * len(COUNT_ORDER) + [10, 12, 12, 9, 9], rows)


def _attention_sheet(ws, st: _Styles, result: Consolidation) -> None:
    header = ["牵头单位", "任务编号", "项目名称", "指标编号", "指标名称", "年度目标值", "本期累计完成", "完成率",
              "时序进度", "差距（个百分点）", "状态", "进展情况", "存在问题", "下步措施"]
    rows = []
    for a in result.attention:
        task = result.register.task(a.indicator.task_id)
        rows.append([(a.indicator.lead_unit, "text"), (task.id, "text"), (task.name, "text"),
                     (a.indicator.id, "text"), (a.indicator.name, "text"), (a.indicator.target, "number"),
                     (_value(a), "number"), (a.rate, "percent"),
                     (a.schedule if a.gap is not None else None, "percent"), (a.gap, "points"),
                     (a.status.value, "text"), (a.reported.progress if a.reported else "", "wrap"),
                     (a.reported.issues if a.reported else "", "wrap"),
                     (a.reported.next_steps if a.reported else "", "wrap")])
    _table(ws, st, header, [14, 7, 22, 8, 24, 10, 11, 9, 9, 10, 9, 30, 24, 24], rows)
    _status_lights(ws, st, header.index("状态"), 1, len(rows))


def _missing_sheet(ws, st: _Styles, result: Consolidation) -> None:
    header = ["牵头单位", "应报指标数", "涉及任务"]
    rows = []
    for u in result.missing_units:
        tasks = list(dict.fromkeys(f"{a.indicator.task_id}.{result.register.task(a.indicator.task_id).name}"
                                   for a in u.assessments))
        rows.append([(u.name, "text"), (len(u.assessments), "number"), ("；".join(tasks), "wrap")])
    _table(ws, st, header, [18, 10, 90], rows)


def _problems_sheet(ws, st: _Styles, result: Consolidation) -> None:
    header = ["序号", "文件", "工作表", "单元格", "指标编号", "级别", "问题及处理办法", "原始内容"]
    rows = [[(i, "number"), (p.file, "text"), (p.sheet, "text"), (p.cell, "text"), (p.indicator, "text"),
             (p.severity.value, "text"), (p.message, "wrap"), (p.raw, "text")]
            for i, p in enumerate(result.problems, start=1)]
    _table(ws, st, header, [5, 30, 7, 7, 8, 6, 72, 16], rows)
    ws.conditional_format(1, 5, max(len(rows), 1), 5, {
        "type": "cell", "criteria": "==", "value": '"错误"', "format": st.lights["red"]})


def _overview_sheet(book, ws, st: _Styles, result: Consolidation) -> None:
    prog, counts = result.programme, result.counts
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 10)
    ws.hide_gridlines(2)
    ws.write_string(0, 0, f"{result.period.label}民生工程进展情况汇总", st.title)
    ws.write_string(1, 0, f"时序进度 {format_percent(result.period.schedule)}  ·  生成时间 "
                          f"{result.generated_at:%Y-%m-%d %H:%M}  ·  {prog.sentence}", st.subtitle)
    row = 3
    ws.write_string(row, 0, "总体情况", st.section)
    funds_rate = prog.funds_rate
    facts = [("任务总数（项）", prog.tasks, "number"), ("已完成全年目标（项）", prog.tasks_complete, "number"),
             ("序时推进（项）", prog.tasks_on_schedule, "number"), ("滞后或未达标（项）", prog.tasks_lagging, "number"),
             ("指标总数（个）", prog.indicators, "number"),
             ("应报单位（个）", prog.units, "number"), ("未报送单位（个）", prog.units_missing, "number")]
    if prog.funds_planned:
        facts += [("年度计划资金(万元)", prog.funds_planned, "number"),
                  ("累计拨付资金(万元)", prog.funds_paid, "number"), ("资金拨付率", funds_rate, "percent")]
    for label, value, kind in facts:
        row += 1
        ws.write_string(row, 0, label, st.text)
        _write(ws, row, 1, value, kind, st)

    row += 2
    ws.write_string(row, 0, "指标状态分布", st.section)
    row += 1
    for c, title in enumerate(("状态", "指标数", "占比")):
        ws.write_string(row, c, title, st.head)
    for status in COUNT_ORDER:
        row += 1
        n = prog.counts[status]
        ws.write_string(row, 0, status.value, st.text)
        ws.write_number(row, 1, n, st.number)
        _write(ws, row, 2, Fraction(n, prog.indicators) if prog.indicators else None, "percent", st)
    _status_lights(ws, st, 0, row - len(COUNT_ORDER) + 1, row)

    row += 2
    ws.write_string(row, 0, "本次汇总台账", st.section)
    ledger = [("读取文件（个）", counts.files_read), ("采用文件（个）", counts.files_accepted),
              ("拒收或重复未采用（个）", counts.files_rejected), ("采用数值（个）", counts.indicators_accepted),
              ("问题清单（条）", counts.problems), ("其中错误（条）", counts.errors),
              ("未报送单位（个）", counts.units_missing)]
    for label, value in ledger:
        row += 1
        ws.write_string(row, 0, label, st.text)
        ws.write_number(row, 1, value, st.number)
    for note in result.notes:  # e.g. a damaged history ledger that was set aside
        row += 1
        ws.write_string(row, 0, f"注意：{note}", st.subtitle)

    _unit_chart(book, ws, st, result, first_col=4)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)


def _unit_chart(book, ws, st: _Styles, result: Consolidation, first_col: int) -> None:
    """各单位指标状态分布: a table and a native stacked bar chart over it."""
    units = sorted(result.units, key=lambda u: result.register.units.index(u.name))
    statuses = [s for s in COUNT_ORDER if any(u.counts[s] for u in units)]
    top = 3
    ws.write_string(top, first_col, "各单位指标状态分布", st.section)
    head = top + 1
    ws.set_column(first_col, first_col, 18)
    ws.set_column(first_col + 1, first_col + len(statuses), 7)
    ws.write_string(head, first_col, "牵头单位", st.head)
    for c, status in enumerate(statuses, start=first_col + 1):
        ws.write_string(head, c, status.value, st.head)
    for r, unit in enumerate(units, start=head + 1):
        ws.write_string(r, first_col, unit.name, st.text)
        for c, status in enumerate(statuses, start=first_col + 1):
            ws.write_number(r, c, unit.counts[status], st.count)
    last = head + len(units)
    if not units or not statuses:
        return
    chart = book.add_chart({"type": "bar", "subtype": "stacked"})
    for c, status in enumerate(statuses, start=first_col + 1):
        chart.add_series({
            "name": ["总览", head, c],
            "categories": ["总览", head + 1, first_col, last, first_col],
            "values": ["总览", head + 1, c, last, c],
            "fill": {"color": CHART_COLOURS[status]}, "gap": 60})
    chart.set_title({"name": "各单位指标状态分布", "name_font": {"size": 12, "name": "宋体"}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": "宋体", "size": 9}})
    chart.set_x_axis({"name": "指标数", "num_font": {"size": 9}, "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom", "font": {"name": "宋体", "size": 9}})
    chart.set_size({"width": 640, "height": max(320, 22 * len(units) + 120)})
    ws.insert_chart(xl_rowcol_to_cell(top, first_col + len(statuses) + 2), chart)
