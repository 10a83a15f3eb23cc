"""Loading and checking the task register (任务台账.xlsx, SPEC §3).

The header row is the first row holding ``指标编号``; columns are found by their header text in any
order, unknown columns are kept. Every problem found is collected (with file, sheet and cell) and
raised together in one ``RegisterError`` so the office can fix them all in one pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import python_calamine

from .cells import as_date, cell_ref, cell_text, header_key
from .errors import RegisterError
from .files import atomic_path, new_workbook, save_workbook
from .model import Indicator, IndicatorType, Problem, Register, Task
from .numbers import parse_value

SHEET = "任务台账"
# Header text → field name. The order is the order of a new register's columns.
COLUMNS = {
    "任务编号": "task_id",
    "类别": "category",
    "项目名称": "task_name",
    "年度目标任务": "annual_target",
    "牵头单位": "lead_unit",
    "协同单位": "partner_units",
    "指标编号": "indicator_id",
    "指标名称": "indicator_name",
    "计量单位": "unit_of_measure",
    "指标类型": "type",
    "年度目标值": "target",
    "年度计划资金(万元)": "planned_funds",
    "完成时限": "deadline",
}
REQUIRED = ("任务编号", "项目名称", "年度目标任务", "牵头单位", "指标编号", "指标名称", "计量单位",
            "指标类型", "年度目标值")
# Columns describing the task rather than the indicator: merged cells spanning a task's rows are
# common in hand-made registers, so their value is carried down over the merged area.
_TASK_COLUMNS = ("任务编号", "类别", "项目名称", "年度目标任务", "协同单位", "年度计划资金(万元)", "完成时限")
_UNIT_SEPARATORS = ("、", ",", "，", ";", "；")


def load_register(path: Path | str) -> Register:
    """Read and validate the register; raises ``RegisterError`` listing every problem."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise RegisterError([Problem(name, f"找不到任务台账 {path}，请把任务台账放到工作文件夹，"
                                           f"或在 config.ini 的 [paths] register 中写明位置")])
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise RegisterError([Problem(name, "任务台账设置了打开密码，请取消密码后另存再试")]) from None
    except Exception as exc:  # calamine raises several unrelated types for unreadable files
        raise RegisterError([Problem(name, f"无法读取任务台账（{exc}），请确认它是 Excel 文件且未损坏")]) from None
    if SHEET not in book.sheet_names:
        raise RegisterError([Problem(name, f"任务台账中没有名为“{SHEET}”的工作表（现有："
                                           f"{'、'.join(book.sheet_names)}），请把台账所在工作表改名为“{SHEET}”")])
    sheet = book.get_sheet_by_name(SHEET)
    rows = sheet.to_python()
    top, left = sheet.start if rows else (0, 0)
    merged = sheet.merged_cell_ranges or []
    return _build(name, str(path), rows, top, left, merged)


def _build(name: str, path: str, rows: list[list], top: int, left: int, merged: list) -> Register:
    problems: list[Problem] = []

    def problem(row: int, col: int, message: str, raw: str = "") -> None:
        problems.append(Problem(name, message, SHEET, cell_ref(top + row, left + col), raw=raw))

    header_row = next((i for i, row in enumerate(rows)
                       if any(header_key(v) == "指标编号" for v in row)), None)
    if header_row is None:
        raise RegisterError([Problem(name, "没有找到表头：表头行须包含“指标编号”单元格，"
                                           "请用 minsheng init 生成的空台账作为格式参考", SHEET)])
    columns: dict[str, int] = {}
    extra: dict[str, int] = {}
    for col, value in enumerate(rows[header_row]):
        key = header_key(value)
        if not key:
            continue
        if key in columns or key in extra:
            problem(header_row, col, f"表头“{key}”重复出现，请删除或改名其中一列")
        elif key in COLUMNS:
            columns[key] = col
        else:
            extra[cell_text(value)] = col
    missing = [h for h in REQUIRED if h not in columns]
    if missing:
        problems.append(Problem(name, f"表头缺少必填列：{'、'.join(missing)}，请在第 {top + header_row + 1} "
                                      f"行补上这些列名", SHEET, f"第{top + header_row + 1}行"))
        raise RegisterError(problems)

    _fill_merged(rows, merged, top, left, [columns[h] for h in _TASK_COLUMNS if h in columns])

    tasks: dict[str, Task] = {}
    task_rows: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    canonical: list[list[str]] = []
    for r in range(header_row + 1, len(rows)):
        row = rows[r]

        def raw(header: str) -> object:
            col = columns.get(header)
            return row[col] if col is not None and col < len(row) else ""

        def text(header: str) -> str:
            return cell_text(raw(header))

        def at(header: str) -> int:
            return columns[header]

        if all(cell_text(v) == "" for v in row):
            continue
        canonical.append([text(h) for h in COLUMNS if h in columns]
                         + [cell_text(row[c]) if c < len(row) else "" for c in extra.values()])
        before = len(problems)
        for header in REQUIRED:
            if header != "年度目标值" and not text(header):
                problem(r, at(header), f"“{header}”为必填项，此处是空的，请补上")

        indicator_id = text("指标编号")
        if isinstance(raw("指标编号"), (dt.date, dt.datetime)):
            problem(r, at("指标编号"), f"指标编号被 Excel 识别成了日期（{indicator_id}），请把该列设为"
                                       f"“文本”格式后重新输入（如 7-1）", indicator_id)
        elif indicator_id in seen_ids:
            problem(r, at("指标编号"), f"指标编号“{indicator_id}”重复（第 {seen_ids[indicator_id]} 行已有），"
                                       f"每个指标编号只能出现一次", indicator_id)
        elif indicator_id:
            seen_ids[indicator_id] = top + r + 1

        type_text = text("指标类型")
        kind = IndicatorType.from_text(type_text) if type_text else None
        if type_text and kind is None:
            allowed = "、".join(t.value for t in IndicatorType)
            problem(r, at("指标类型"), f"指标类型“{type_text}”无法识别，只能填 {allowed} 之一", type_text)

        unit_text = text("牵头单位")
        if any(sep in unit_text for sep in _UNIT_SEPARATORS):
            problem(r, at("牵头单位"), f"牵头单位“{unit_text}”含多个单位；每个指标只能有一个牵头单位，"
                                       f"多个单位分别负责时请拆成多个指标", unit_text)

        target = _target(kind, raw("年度目标值"), text("计量单位"),
                         lambda msg, rawtext: problem(r, at("年度目标值"), msg, rawtext))
        funds = None
        if "年度计划资金(万元)" in columns and text("年度计划资金(万元)"):
            parsed = parse_value(raw("年度计划资金(万元)"), "万元")
            if parsed.value is None or parsed.notice:
                problem(r, at("年度计划资金(万元)"), f"年度计划资金“{text('年度计划资金(万元)')}”不是数字，"
                                                   f"请只填写以万元为单位的数字", text("年度计划资金(万元)"))
            funds = parsed.value
        deadline = None
        if "完成时限" in columns and text("完成时限"):
            deadline = as_date(raw("完成时限"))
            if deadline is None:
                problem(r, at("完成时限"), f"完成时限“{text('完成时限')}”不是日期，请填写如 2020-12-31 的日期",
                        text("完成时限"))

        task_id = text("任务编号")
        if task_id in tasks:
            task = tasks[task_id]
            if text("项目名称") and text("项目名称") != task.name:
                problem(r, at("项目名称"), f"任务编号 {task_id} 的项目名称“{text('项目名称')}”与第 "
                                          f"{task_rows[task_id]} 行的“{task.name}”不同；同一任务的项目名称须一致，"
                                          f"或改用不同的任务编号", text("项目名称"))
            if funds is not None and task.planned_funds is not None and funds != task.planned_funds:
                problem(r, at("年度计划资金(万元)"), f"任务编号 {task_id} 的年度计划资金与第 {task_rows[task_id]}"
                                                   f" 行不同（{funds} 与 {task.planned_funds}），请统一为一个数")
            if funds is not None and task.planned_funds is None:
                task.planned_funds = funds
        elif task_id:
            partners = tuple(p for p in _split_units(text("协同单位")) if p)
            tasks[task_id] = Task(task_id, text("类别"), text("项目名称"), text("年度目标任务"),
                                  partners, funds, deadline)
            task_rows[task_id] = top + r + 1

        if len(problems) == before and task_id:
            extras = tuple((h, cell_text(row[c]) if c < len(row) else "") for h, c in extra.items())
            tasks[task_id].indicators.append(Indicator(
                indicator_id, task_id, text("指标名称"), text("计量单位"), kind, target,
                unit_text, top + r + 1, extras))

    if not problems and not seen_ids:
        problems.append(Problem(name, "任务台账中没有任何指标行，请在表头下方逐行填写指标", SHEET))
    if problems:
        raise RegisterError(problems)
    digest = hashlib.sha256(json.dumps(
        {"columns": [h for h in COLUMNS if h in columns] + list(extra), "rows": canonical},
        ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()
    return Register(path, list(tasks.values()), digest[:16], tuple(extra))


def _target(kind: IndicatorType | None, raw: object, unit: str, report) -> Decimal | None:
    shown = cell_text(raw)
    if kind is IndicatorType.MILESTONE:
        return None
    if shown == "":
        if kind is not None:
            report(f"{kind.value}类指标必须填写年度目标值（数字）", "")
        return None
    parsed = parse_value(raw, unit)
    if parsed.value is None or parsed.notice:
        report(f"年度目标值“{shown}”不是数字，请只填写数字（百分比类指标填 95 表示 95%）", shown)
        return None
    if kind in (IndicatorType.CUMULATIVE, IndicatorType.RATE) and parsed.value <= 0:
        report(f"{kind.value}类指标的年度目标值须大于 0，现为 {shown}", shown)
    return parsed.value


def _split_units(text: str) -> list[str]:
    for sep in _UNIT_SEPARATORS[1:]:
        text = text.replace(sep, "、")
    return [part.strip() for part in text.split("、")]


def _fill_merged(rows: list[list], merged: list, top: int, left: int, columns: list[int]) -> None:
    """Copy a merged area's value (held by its top-left cell) into the area's other rows."""
    for (r0, c0), (r1, c1) in merged:
        r0, r1, c0, c1 = r0 - top, r1 - top, c0 - left, c1 - left
        if c0 not in columns or r0 < 0 or r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(r0 + 1, min(r1, len(rows) - 1) + 1):
            if c0 < len(rows[r]) and rows[r][c0] == "":
                rows[r][c0] = value


def write_register(path: Path, rows: list[dict[str, object]], created: dt.datetime | None = None) -> None:
    """Write a register workbook with the §3 headers; ``rows`` map header text to cell values.

    With no rows this is the empty register ``minsheng init`` gives a new working folder. A fixed
    ``created`` time makes the file byte-for-byte reproducible.
    """
    widths = {"任务编号": 8, "类别": 22, "项目名称": 24, "年度目标任务": 50, "牵头单位": 16,
              "协同单位": 30, "指标编号": 9, "指标名称": 26, "计量单位": 8, "指标类型": 8,
              "年度目标值": 11, "年度计划资金(万元)": 12, "完成时限": 12}
    with atomic_path(Path(path)) as tmp:
        book = new_workbook()
        book.set_properties({"title": "任务台账", "created": created or dt.datetime.now()})
        head = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                                "align": "center", "valign": "vcenter", "font_name": "宋体"})
        body = book.add_format({"border": 1, "text_wrap": True, "valign": "top", "font_name": "宋体"})
        date = book.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd"})
        ws = book.add_worksheet(SHEET)
        ws.freeze_panes(1, 0)
        for c, header in enumerate(COLUMNS):
            ws.set_column(c, c, widths[header], body)
            ws.write_string(0, c, header, head)
        ws.data_validation(1, list(COLUMNS).index("指标类型"), 10000, list(COLUMNS).index("指标类型"),
                           {"validate": "list", "source": [t.value for t in IndicatorType]})
        for r, row in enumerate(rows, start=1):
            for c, header in enumerate(COLUMNS):
                value = row.get(header)
                if value is None or value == "":
                    continue
                if isinstance(value, (int, float, Decimal)):
                    ws.write_number(r, c, float(value), body)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date)
                else:
                    ws.write_string(r, c, str(value), body)
        ws.autofilter(0, 0, max(len(rows), 1), len(COLUMNS) - 1)
        save_workbook(book, tmp)
