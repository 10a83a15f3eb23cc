"""Department forms (填报表, formats §3): one locked, validated workbook per lead unit.

Written with xlsxwriter: it is the faster writer and gives full control over protection, data
validation and very-hidden sheets. Formula results are stored explicitly (``value=``) because
xlsxwriter would otherwise store 0, which a reader that does not recalculate would show. Where
things go is ``layout``'s business; the reader uses the same module.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name, xl_range, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from .. import __version__
from ..cells import row_height
from ..config import Config
from ..files import atomic_path, new_workbook, save_workbook, unique_names
from ..model import Indicator, IndicatorType, Period, Task
from ..numbers import chinese_number, format_percent
from ..register.cache import Register
from .layout import (
    FIRST_DATA_ROW,
    FORM_SHEET,
    FUNDS_PAID,
    FUNDS_PLANNED,
    GUIDE_SHEET,
    HEADER_ROW,
    INFO_ROW,
    META_SHEET,
    SIGN_OFF,
    SIGN_OFF_LABEL_COLUMN,
    SIGN_OFF_VALUE_COLUMN,
    TEXT_LIMITS,
    TITLE_ROW,
    columns_for,
    meta_rows,
    template_name,
)
from .styles import FormStyles


def write_forms(register: Register, config: Config, period: Period | None = None,
                       previous: dict[str, Decimal] | None = None,
                       progress: Callable[[Iterable], Iterable] = iter) -> list[Path]:
    """Write one template per lead unit into 下发/P/; returns the paths in register order."""
    period = period or config.period
    folder = config.outbox(period)
    names = unique_names(register.units)
    generated_at = dt.datetime.now().replace(microsecond=0)
    views = register.by_unit()
    jobs = [(folder / template_name(period, names[unit]), unit, views[unit]) for unit in register.units]
    shared = (register, config, period, previous or {}, generated_at)
    workers = min(os.cpu_count() or 1, 4)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        for target, unit, tasks in progress(jobs):
            write_form(target, register, unit, tasks, config, period, previous or {}, generated_at)
        return [target for target, _, _ in jobs]
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=shared) as pool:
        done = pool.map(_work, jobs, chunksize=16)
        for _ in progress(jobs):
            next(done)
    return [target for target, _, _ in jobs]


# Below this many units a process pool costs more than it saves; offices have 20–100 units, so
# the pool only serves very large registers (and the benchmark), never the usual add-in run.
PARALLEL_FROM = 200
_shared: tuple = ()


def _start_worker(*shared) -> None:
    global _shared
    _shared = shared


def _work(job) -> None:
    target, unit, tasks = job
    register, config, period, previous, generated_at = _shared
    write_form(target, register, unit, tasks, config, period, previous, generated_at)


@dataclass
class Filling:
    """Inputs to pre-fill, as a person would type them (used by the demo and the benchmark)."""

    values: dict[str, object] = field(default_factory=dict)  # 指标编号 → 本期累计完成
    texts: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # → 进展情况, 存在问题, 下步措施
    funds: dict[str, object] = field(default_factory=dict)  # 任务编号 → 累计拨付资金
    sign_off: dict[str, object] = field(default_factory=dict)  # 填报人 … 填报日期


def write_form(target: Path, register: Register, unit: str, tasks: list[Task], config: Config,
                   period: Period, previous: dict[str, Decimal], generated_at: dt.datetime,
                   filled: Filling | None = None) -> None:
    """One unit's workbook; ``tasks`` is the unit's view of the register (``Register.tasks_of``)."""
    with atomic_path(target) as tmp:
        book = new_workbook()
        book.set_properties({"title": f"{period.label}民生工程进展情况填报表（{unit}）",
                             "author": config.issuer or "minsheng", "created": generated_at,
                             "comments": f"minsheng {__version__}"})
        styles = FormStyles(book)
        guide = book.add_worksheet(GUIDE_SHEET)
        form = book.add_worksheet(FORM_SHEET, worksheet_class=_FormSheet)
        meta = book.add_worksheet(META_SHEET)
        rows, sign_off = _write_form(form, styles, tasks, unit, config, period, previous, filled or Filling())
        _write_guide(guide, styles, unit, config, period, has_funds=_has_funds(tasks))
        _write_meta(meta, meta_rows(register.fingerprint, unit, period, generated_at.isoformat(),
                                    f"minsheng {__version__}", columns_for(_has_funds(tasks)), rows, sign_off))
        form.activate()
        meta.very_hidden()
        save_workbook(book, tmp)


def _has_funds(tasks: list[Task]) -> bool:
    return any(task.planned_funds is not None for task in tasks)


def _write_form(ws, st: FormStyles, tasks: list[Task], unit: str, config: Config, period: Period,
                previous: dict[str, Decimal], filled: Filling) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Write the 填报 sheet; returns the row of each indicator and of each sign-off field (0-based)."""
    columns = columns_for(_has_funds(tasks))
    col = {c.header: i for i, c in enumerate(columns)}
    last_col = len(columns) - 1
    for i, column in enumerate(columns):
        ws.set_column(i, i, column.width)

    ws.set_row(TITLE_ROW, 32)
    ws.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, f"{period.label}民生工程进展情况填报表", st.title)
    info = (f"填报单位：{unit}    统计期：{period.label}    时序进度：{format_percent(period.schedule)}"
            f"    黄色单元格为待填内容，填好后黄色自动消失；其余单元格已锁定。")
    if config.deadline:
        info += f"    报送截止：{config.deadline}"
    ws.set_row(INFO_ROW, 22)
    ws.merge_range(INFO_ROW, 0, INFO_ROW, last_col, info, st.info)
    ws.set_row(HEADER_ROW, 36)
    for i, column in enumerate(columns):
        ws.write_string(HEADER_ROW, i, column.header, st.header)

    stage_names = [name for name, _ in config.stages]
    stage_percents = ",".join(str(p) for _, p in config.stages)
    stage_list = ",".join(f'"{name}"' for name in stage_names)
    row = FIRST_DATA_ROW
    serial = 0
    placed: list[tuple[str, int]] = []
    for task in tasks:
        for position, ind in enumerate(task.indicators):
            serial += 1
            placed.append((ind.id, row))
            ws.write_number(row, col["序号"], serial, st.center)
            ws.write_string(row, col["指标编号"], ind.id, st.center)
            if position == 0:
                _write_task_cells(ws, st, row, col, task)
            ws.write_string(row, col["指标名称"], ind.name, st.cell)
            ws.write_string(row, col["计量单位"], ind.unit_of_measure, st.center)
            ws.write_string(row, col["指标类型"], ind.type.value, st.center)
            if ind.target is None:
                ws.write_string(row, col["年度目标值"], "全面完成", st.center)
            else:
                ws.write_number(row, col["年度目标值"], float(ind.target), st.number)
            before = previous.get(ind.id)
            if before is None:
                ws.write_blank(row, col["上期累计"], None, st.number)
            else:
                ws.write_number(row, col["上期累计"], float(before), st.number)
            _write_value_input(ws, st, row, col, ind, period, stage_names, stage_list, stage_percents,
                               filled.values.get(ind.id))
            for header, text in zip(TEXT_LIMITS, filled.texts.get(ind.id, ("", "", ""))):
                _input(ws, row, col[header], text, st.input_text)
            if FUNDS_PLANNED in col:
                _write_funds(ws, st, row, col, task, position == 0, filled.funds.get(task.id))
            # The task's texts are shared by its rows; each row carries its part of their height.
            shared = row_height([(task.name, 16), (task.annual_target, 30)]) / len(task.indicators)
            ws.set_row(row, max(shared, row_height([(ind.name, 18)])))
            row += 1
    last_data_row = row - 1
    for header, limit in TEXT_LIMITS.items():
        ws.data_validation(FIRST_DATA_ROW, col[header], last_data_row, col[header], {
            "validate": "length", "criteria": "<=", "value": limit,
            "input_title": header, "input_message": f"不超过 {limit} 字。",
            "error_title": "文字过长", "error_message": f"{header}请控制在 {limit} 字以内。"})
    pending = [xl_range(FIRST_DATA_ROW, c, last_data_row, c)
               for c in (col["本期累计完成"], *(col[h] for h in TEXT_LIMITS))]
    if FUNDS_PAID in col:
        pending += [xl_rowcol_to_cell(r, col[FUNDS_PAID]) for r in _funds_rows(tasks)]

    row += 1
    signed: list[tuple[str, int]] = []
    label_col, value_col = SIGN_OFF_LABEL_COLUMN, SIGN_OFF_VALUE_COLUMN
    for label, limit in SIGN_OFF:
        signed.append((label, row))
        ws.set_row(row, 24)
        ws.write_string(row, label_col, label, st.label)
        ws.merge_range(row, value_col, row, value_col + 1, None, st.input_date if not limit else st.input_text)
        _input(ws, row, value_col, filled.sign_off.get(label), st.input_date if not limit else st.input_text)
        if limit:
            ws.data_validation(row, value_col, row, value_col + 1, {
                "validate": "length", "criteria": "<=", "value": limit,
                "error_message": f"{label}请控制在 {limit} 字以内。"})
        else:
            ws.data_validation(row, value_col, row, value_col + 1, {
                "validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2100, 12, 31), "input_title": label,
                "input_message": "填写日期，如 2020-07-05。",
                "error_title": "日期有误", "error_message": "请填写日期，格式如 2020-07-05。"})
        pending.append(xl_range(row, value_col, row, value_col + 1))
        row += 1
    # One rule over every input area: a cell is tinted while it is empty.
    ws.conditional_format(FIRST_DATA_ROW, col["本期累计完成"], FIRST_DATA_ROW, col["本期累计完成"], {
        "type": "blanks", "format": st.pending, "multi_range": " ".join(pending)})

    ws.freeze_panes(FIRST_DATA_ROW, 0)
    ws.protect("", {"format_columns": True, "format_rows": True,
                    "select_locked_cells": True, "select_unlocked_cells": True})
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.repeat_rows(HEADER_ROW)
    ws.print_area(0, 0, row - 1, last_col)
    ws.set_footer("&C第 &P 页，共 &N 页")
    return placed, signed


def _write_task_cells(ws, st: FormStyles, row: int, col: dict[str, int], task: Task) -> None:
    """项目名称 and 年度目标任务 once per task, merged down over the task's rows."""
    last = row + len(task.indicators) - 1
    for header, text in (("项目名称", task.name), ("年度目标任务", task.annual_target)):
        if last > row:
            ws.merge_range(row, col[header], last, col[header], text, st.cell)
        else:
            ws.write_string(row, col[header], text, st.cell)


def _write_value_input(ws, st: FormStyles, row: int, col: dict[str, int], ind: Indicator,
                       period: Period, stage_names: list[str], stage_list: str,
                       stage_percents: str, typed: object) -> None:
    """The 本期累计完成 input with its validation, and the live 完成率 formula beside it."""
    value_cell = f"{xl_col_to_name(col['本期累计完成'])}{row + 1}"
    target_cell = f"{xl_col_to_name(col['年度目标值'])}{row + 1}"
    c_value, c_rate = col["本期累计完成"], col["完成率"]
    _input(ws, row, c_value, typed, st.input_number)
    if ind.type is IndicatorType.MILESTONE:
        ws.data_validation(row, c_value, row, c_value, {
            "validate": "list", "source": stage_names, "input_title": "选择当前阶段",
            "input_message": "点击右侧箭头，从下拉列表中选择该项工作目前所处的阶段。",
            "error_title": "请从列表中选择", "error_message": "只能从下拉列表中选择阶段。"})
        formula = (f'=IF({value_cell}="","",IFERROR(INDEX({{{stage_percents}}},'
                   f'MATCH({value_cell},{{{stage_list}}},0))/100,""))')
        ws.write_formula(row, c_rate, formula, st.percent, "")
        return
    unit = ind.unit_of_measure
    if unit == "%":
        hint = "填写百分数的数值，如 96.4 表示 96.4%，不要带 % 号。"
    else:
        hint = f"填写 1 月至 {period.month} 月的累计数，单位：{unit}，只填数字。"
    if ind.type is IndicatorType.CEILING:
        hint += " 本指标不超过年度目标值即为达标。"
    ws.data_validation(row, c_value, row, c_value, {
        "validate": "decimal", "criteria": ">=", "value": 0,
        "input_title": "本期累计完成", "input_message": hint,
        "error_title": "请填写数字", "error_message": "请填写不小于 0 的数字，不要带单位或文字。"})
    if ind.type is IndicatorType.CEILING:
        formula = f'=IF({value_cell}="","",IF({value_cell}<={target_cell},"达标","未达标"))'
    else:
        formula = f'=IF({value_cell}="","",{value_cell}/{target_cell})'
    ws.write_formula(row, c_rate, formula, st.percent, "")


def _input(ws, row: int, col: int, typed: object, fmt) -> None:
    """An input cell: empty, or what a person typed (a number, a date or text, kept as typed)."""
    if typed is None or typed == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(typed, (int, float, Decimal)) and not isinstance(typed, bool):
        ws.write_number(row, col, float(typed), fmt)
    elif isinstance(typed, dt.date):
        ws.write_datetime(row, col, dt.datetime(typed.year, typed.month, typed.day), fmt)
    else:
        ws.write_string(row, col, str(typed), fmt)


def _write_funds(ws, st: FormStyles, row: int, col: dict[str, int], task: Task, first: bool,
                 typed: object) -> None:
    c_plan, c_paid = col[FUNDS_PLANNED], col[FUNDS_PAID]
    if task.planned_funds is None or not first:
        ws.write_blank(row, c_plan, None, st.blocked)
        ws.write_blank(row, c_paid, None, st.blocked)
        return
    ws.write_number(row, c_plan, float(task.planned_funds), st.number)
    _input(ws, row, c_paid, typed, st.input_number)
    ws.data_validation(row, c_paid, row, c_paid, {
        "validate": "decimal", "criteria": ">=", "value": 0, "input_title": FUNDS_PAID,
        "input_message": "填写截至统计期末累计拨付的资金，单位：万元。",
        "error_title": "请填写数字", "error_message": "请填写不小于 0 的数字（万元）。"})


def _funds_rows(tasks: list[Task]) -> list[int]:
    rows, row = [], FIRST_DATA_ROW
    for task in tasks:
        if task.planned_funds is not None:
            rows.append(row)
        row += len(task.indicators)
    return rows


class _FormSheet(Worksheet):
    """A worksheet that skips xlsxwriter's future-function rewriting of formulas.

    That rewriting runs ~30 regular expressions per formula and was a quarter of the time of a
    template; the formulas written here use only IF, IFERROR, INDEX and MATCH, which need none.
    """

    def _prepare_formula(self, formula, expand_future_functions=False):
        return formula[1:] if formula.startswith("=") else formula


def _write_guide(ws, st: FormStyles, unit: str, config: Config, period: Period, has_funds: bool) -> None:
    ws.set_column(0, 0, 100)
    ws.hide_gridlines(2)
    stages = "、".join(f"{name}({percent}%)" for name, percent in config.stages)
    items = [
        "只填写“填报”表中的黄色单元格，填好后黄色会自动消失；其他单元格已锁定，无需也无法修改。",
        f"“本期累计完成”填写 1 月 1 日至 {period.month} 月底的累计数，不是当月数；只填阿拉伯数字，"
        "不要带单位，例如填 12，不要写“12所”或“十二”。",
        "计量单位为 % 的指标，填写百分数的数值，例如参保率 96.4% 填 96.4。",
        f"“里程碑”类指标没有数量目标，请点击单元格右侧的箭头，从下拉列表中选择当前所处阶段：{stages}。",
        "“上限”类指标填写实际数值，不超过年度目标值即为达标。",
        "“完成率”由表格自动计算，仅供参考；汇总时由系统按填报数重新计算。",
        "“进展情况”用一两句话写明主要工作和完成情况；遇到的困难写在“存在问题”，下一步打算写在“下步措施”。",
    ]
    if has_funds:
        items.append("有年度计划资金的任务，在“累计拨付资金(万元)”中填写截至统计期末累计拨付的资金。")
    items += [
        "表格下方请填写填报人、联系电话、审核人和填报日期。",
        "请不要增删行列、不要修改工作表名称，也不要另存为其他格式；填好后直接保存，将本文件发回。",
    ]
    ws.set_row(0, 30)
    ws.write_string(0, 0, f"{period.label}民生工程进展情况填报说明", st.guide_title)
    facts = [f"填报单位：{unit}", f"统计期：{period.label}（数据截至 {period.month} 月底）",
             f"时序进度：{format_percent(period.schedule)}（按全年 12 个月平均计算）"]
    if config.deadline:
        facts.append(f"报送截止：{config.deadline}")
    if config.issuer:
        facts.append(f"汇总单位：{config.issuer}" + (f"  联系人：{config.contact}" if config.contact else ""))
    row = 2
    for fact in facts:
        ws.write_string(row, 0, fact, st.guide)
        row += 1
    row += 1
    ws.write_string(row, 0, "怎么填", st.guide_head)
    row += 1
    for number, item in enumerate(items, start=1):
        text = f"{chinese_number(number)}、{item}"
        ws.set_row(row, row_height([(text, 100)], line=17, least=20))
        ws.write_string(row, 0, text, st.guide)
        row += 1
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _write_meta(ws, rows: list[tuple[str, str | int]]) -> None:
    """Very-hidden identity and layout of the file (``layout.meta_rows``), read back by ``collect``."""
    for r, (key, value) in enumerate(rows):
        ws.write_string(r, 0, key)
        if isinstance(value, int):
            ws.write_number(r, 1, value)
        else:
            ws.write_string(r, 1, value)
    ws.protect("")
