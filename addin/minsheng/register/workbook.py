"""Loading and checking the task register (任务台账.xlsx, formats §2).

The header row is the first row holding ``指标编号``; columns are found by their header text in any
order, unknown columns are kept. The sheet is checked column by column; every problem found is
collected (with file, sheet and cell) and raised together in one ``RegisterError`` so the office
can fix them all in one pass.

A register that passes is stored once per content in the cache (``register.cache``); the next command
with the same workbook opens the cache instead. Parsing runs in a worker process: a damaged
workbook can't take the command down, and a province-sized register's parse does not weigh on the
process that consolidates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import python_calamine

from ..cells import as_date, cell_ref, cell_text, header_key, plain
from ..errors import RegisterError, os_error_text, write_failure
from ..files import atomic_path, display_name, new_workbook, save_workbook
from ..model import Indicator, IndicatorType, Period, Problem, Task
from ..numbers import parse_value
from ..untrusted.guard import ENCRYPTED, MAX_FILE_BYTES, XLSB, inspect
from ..untrusted.inbox import Unreadable, read_regular
from ..untrusted.sandbox import Pool
from ..untrusted.sheetxml import ERROR, MERGED, hidden_contents
from .cache import Register, find_store, write_store

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
    "调整后目标值": "adjusted_target",
    "调整起始期": "adjusted_from",
    "原指标编号": "former_id",
    "状态": "state",
}
REQUIRED = ("任务编号", "项目名称", "年度目标任务", "牵头单位", "指标编号", "指标名称", "计量单位",
            "指标类型", "年度目标值")
# Columns describing the task rather than the indicator: merged cells spanning a task's rows are
# common in hand-made registers, so their value is carried down over the merged area.
_TASK_COLUMNS = ("任务编号", "类别", "项目名称", "年度目标任务", "协同单位", "年度计划资金(万元)", "完成时限", "状态")
_UNIT_SEPARATORS = ("、", ",", "，", ";", "；")
_ID_COLUMNS = ("任务编号", "指标编号", "牵头单位", "原指标编号", "状态")
FUNDS, DEADLINE = "年度计划资金(万元)", "完成时限"
ADJUSTED, ADJUSTED_FROM, FORMER_ID, STATE = "调整后目标值", "调整起始期", "原指标编号", "状态"
_CHANGE_COLUMNS = (ADJUSTED, ADJUSTED_FROM, FORMER_ID, STATE)
CANCELLED = "已撤销"  # the one word the 状态 column takes; empty means the indicator is in force
CHECK_COLUMN = "需核对"  # filled in a draft from ``minsheng extract`` until a person has looked


def load_register(path: Path | str) -> Register:
    """Read and validate the register; raises ``RegisterError`` listing every problem."""
    path = Path(path)
    name = display_name(path.name)
    try:
        data, _ = read_regular(path, MAX_FILE_BYTES)
    except Unreadable as exc:
        if not path.exists():
            raise RegisterError([Problem(name, f"找不到任务台账 {path}，请把任务台账放到工作文件夹，"
                                               f"或在 config.ini 的 [paths] register 中写明位置")]) from None
        raise RegisterError([Problem(name, f"任务台账{exc}")]) from None
    return register_of_bytes(data, name, str(path))


def register_of_bytes(data: bytes, name: str, path: str) -> Register:
    """The register a workbook's bytes hold (``name`` for messages, ``path`` for the record)."""
    sha256 = hashlib.sha256(data).hexdigest()
    store = find_store(sha256)
    if store is None:
        outcome = next(Pool(_parse_and_store, processes=1).map([(name, data, sha256)]))
        if outcome.failure:
            raise RegisterError([Problem(name, "无法读取任务台账（文件结构异常，读取程序异常退出），"
                                               "请用 Excel 打开后另存为新的 .xlsx 文件再试")])
        problems, store, error = outcome.result
        if problems:
            raise RegisterError(problems)
        if error:
            raise write_failure(Path(error[0]), OSError(error[1], error[2]))
    register = Register(path, store)
    register.source = data  # what the ledger keeps of the period's register
    return register


def _parse_and_store(job: tuple[str, bytes, str]):
    """In a worker: parse, validate, write the cache. Returns (problems, store, OS error)."""
    name, data, sha256 = job
    try:
        tasks, fingerprint, extra = parse_register(name, data)
    except RegisterError as exc:
        return exc.problems, None, None
    try:
        return [], write_store(sha256, tasks, fingerprint, extra), None
    except OSError as exc:
        return [], None, (str(exc.filename or "台账缓存"), exc.errno, os_error_text(exc))


def parse_register(name: str, data: bytes) -> tuple[list[Task], str, tuple[str, ...]]:
    """The tasks, fingerprint and extra columns of a register workbook's bytes."""
    verdict = inspect(data)
    if verdict.refusal == ENCRYPTED:
        raise RegisterError([Problem(name, "任务台账设置了打开密码，请取消密码后另存再试")])
    if verdict.refusal == XLSB:
        raise RegisterError([Problem(name, "任务台账是 Excel 二进制工作簿（.xlsb 格式），无法读取；"
                                           "请在 Excel 中另存为“Excel 工作簿(*.xlsx)”再试")])
    if verdict.refusal:
        reason = re.split("[，；]", verdict.refusal)[0]
        raise RegisterError([Problem(name, f"无法读取任务台账（{reason}），请确认它是 Excel 文件且未损坏")])
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise RegisterError([Problem(name, "任务台账设置了打开密码，请取消密码后另存再试")]) from None
    except Exception:  # calamine raises several unrelated types for unreadable files
        raise RegisterError([Problem(name, "无法读取任务台账（文件已损坏或不是 Excel 文件），"
                                           "请确认它是 Excel 文件且未损坏")]) from None
    if SHEET not in book.sheet_names:
        raise RegisterError([Problem(name, f"任务台账中没有名为“{SHEET}”的工作表（现有："
                                           f"{'、'.join(book.sheet_names)}），请把台账所在工作表改名为“{SHEET}”")])
    try:
        sheet = book.get_sheet_by_name(SHEET)
        rows = sheet.to_python()
    except Exception:
        raise RegisterError([Problem(name, f"任务台账的“{SHEET}”工作表已损坏，无法读取；"
                                           f"请用 Excel 打开后另存为新的 .xlsx 文件再试", SHEET)]) from None
    top, left = sheet.start if rows else (0, 0)
    return _Sheet(name, rows, top, left, sheet.merged_cell_ranges or [], verdict.package).build()


@dataclass
class _Sheet:
    """The register sheet, checked column by column, then turned into tasks row by row."""

    name: str
    rows: list[list]
    top: int
    left: int
    merged: list
    package: zipfile.ZipFile | None = None  # the workbook's zip directory, for what calamine reads as empty
    problems: list[tuple[int, int, Problem]] = field(default_factory=list)  # (row, order, problem)
    hidden: dict[str, tuple[str, str]] = field(default_factory=dict)  # cell → what an "empty" cell holds

    def problem(self, r: int, col: int, message: str, raw: str = "") -> None:
        cell = cell_ref(self.top + r, self.left + col)
        self.problems.append((r, len(self.problems), Problem(self.name, message, SHEET, cell, raw=raw)))

    def fail(self) -> RegisterError:
        return RegisterError([p for _, _, p in sorted(self.problems, key=lambda x: x[:2])])

    def build(self) -> tuple[list[Task], str, tuple[str, ...]]:
        header, columns, extra = self._header()
        _fill_merged(self.rows, self.merged, self.top, self.left,
                     [columns[h] for h in _TASK_COLUMNS if h in columns])
        body = [r for r in range(header + 1, len(self.rows)) if _filled(self.rows[r])]

        def raw(h: str) -> list:
            c = columns.get(h)
            return [self.rows[r][c] if c is not None and c < len(self.rows[r]) else "" for r in body]

        cells = {h: raw(h) for h in COLUMNS}
        texts = {h: [cell_text(v) for v in values] for h, values in cells.items()}
        for h in _ID_COLUMNS:  # as people read them: ７－１ is 7-1, 市　残联 is 市残联
            texts[h] = [plain(t) for t in texts[h]]
        self._hidden_contents(body, columns, texts)
        self._check(body, columns, cells, texts)
        self._confirmed(body, extra)
        kinds = [IndicatorType.from_text(t) if t else None for t in texts["指标类型"]]
        targets = [self._target(r, columns, kind, value, measure) for r, kind, value, measure
                   in zip(body, kinds, cells["年度目标值"], texts["计量单位"])]
        funds = self._funds(body, columns, cells[FUNDS], texts[FUNDS])
        deadlines = self._deadlines(body, columns, cells[DEADLINE], texts[DEADLINE])
        changes = self._changes(body, columns, cells, texts, kinds)
        tasks = self._tasks(body, columns, extra, texts, kinds, targets, funds, deadlines, changes)
        if not self.problems and not any(t.indicators for t in tasks):
            raise RegisterError([Problem(self.name, "任务台账中没有任何指标行，请在表头下方逐行填写指标", SHEET)])
        if self.problems:
            raise self.fail()
        # The year's change columns count once used: a register that gains them empty (a new
        # init's) is the same register, and its templates' fingerprint still matches.
        counted = [h for h in COLUMNS if h in columns and (h not in _CHANGE_COLUMNS or any(texts[h]))]
        fingerprint = _fingerprint(counted + list(extra),
                                   ([texts[h][i] for h in counted]
                                    + [cell_text(self.rows[r][c]) if c < len(self.rows[r]) else "" for c in extra.values()]
                                    for i, r in enumerate(body)))
        return [t for t in tasks if t.indicators], fingerprint, tuple(extra)

    def _header(self) -> tuple[int, dict[str, int], dict[str, int]]:
        header = next((i for i, row in enumerate(self.rows) if any(header_key(v) == "指标编号" for v in row)), None)
        if header is None:
            raise RegisterError([Problem(self.name, "没有找到表头：表头行须包含“指标编号”单元格，"
                                                    "请用 minsheng init 生成的空台账作为格式参考", SHEET)])
        columns: dict[str, int] = {}
        extra: dict[str, int] = {}
        for col, value in enumerate(self.rows[header]):
            key = header_key(value)
            if not key:
                continue
            if key in columns or key in extra:
                self.problem(header, col, f"表头“{key}”重复出现，请删除或改名其中一列")
            elif key in COLUMNS:
                columns[key] = col
            else:
                extra[cell_text(value)] = col
        missing = [h for h in REQUIRED if h not in columns]
        if missing:
            line = self.top + header + 1
            problems = [p for _, _, p in self.problems]
            problems.append(Problem(self.name, f"表头缺少必填列：{'、'.join(missing)}，请在第 {line} "
                                               f"行补上这些列名", SHEET, f"第{line}行"))
            raise RegisterError(problems)
        return header, columns, extra

    def _hidden_contents(self, body: list[int], columns: dict[str, int], texts: dict[str, list[str]]) -> None:
        """Cells read as empty that hold a formula saved without its result, or an error value:
        each is named as what it is (never called empty, never skipped)."""
        if self.package is None:
            return
        empty = {cell_ref(self.top + r, self.left + columns[h]): (r, columns[h])
                 for h in COLUMNS if h in columns for r, text in zip(body, texts[h]) if not text}
        self.hidden = hidden_contents(self.package, SHEET, set(empty))
        for ref, (kind, text) in self.hidden.items():
            if kind == MERGED:
                continue
            what = (f"错误值“{text}”（公式出错）" if kind == ERROR else
                    f"公式“{text}”，但文件里没有保存它的计算结果（常见于其他程序生成的表格）")
            self.problem(*empty[ref], f"此处是{what}，无法读取；请在 Excel 中改正或重新计算后保存，"
                                      f"或把公式换成数值", text)

    def _is_empty(self, r: int, col: int) -> bool:
        """Empty in fact, not a formula or error value already named by ``_hidden_contents``."""
        found = self.hidden.get(cell_ref(self.top + r, self.left + col))
        return found is None or found[0] == MERGED

    def _check(self, body: list[int], columns: dict[str, int], cells: dict[str, list],
               texts: dict[str, list[str]]) -> None:
        """Checks of one column at a time: required cells, ids, types, lead units."""
        # A task's later rows may leave its own columns empty: they are the task's first row's.
        seen_tasks: set[str] = set()
        later = []
        for task_id in texts["任务编号"]:
            later.append(bool(task_id) and task_id in seen_tasks)
            seen_tasks.add(task_id)
        for h in REQUIRED:
            if h != "年度目标值":
                for r, text, again in zip(body, texts[h], later):
                    if not text and self._is_empty(r, columns[h]) and not (again and h in _TASK_COLUMNS):
                        self.problem(r, columns[h], f"“{h}”为必填项，此处是空的，请补上")
        seen: dict[str, tuple[int, str]] = {}  # id without case → (row, id as typed there)
        col = columns["指标编号"]
        for r, value, text in zip(body, cells["指标编号"], texts["指标编号"]):
            key = text.casefold()
            if isinstance(value, (dt.date, dt.datetime)):
                self.problem(r, col, f"指标编号被 Excel 识别成了日期（{text}），请把该列设为"
                                     f"“文本”格式后重新输入（如 7-1）", text)
            elif key in seen:
                first, typed = seen[key]
                there = f"第 {self.top + first + 1} 行（{cell_ref(self.top + first, self.left + col)}）"
                same = (f"与{there}的“{typed}”重复" if typed == cell_text(value) == text else
                        f"与{there}的“{typed}”是同一个编号（全角与半角、大小写、空格不同也算同一个）")
                self.problem(r, col, f"指标编号“{cell_text(value)}”{same}，每个指标编号只能出现一次；"
                                     f"请改正其中一个", cell_text(value))
            elif text:
                seen[key] = (r, cell_text(value))
        allowed = "、".join(t.value for t in IndicatorType)
        for r, text in zip(body, texts["指标类型"]):
            if text and IndicatorType.from_text(text) is None:
                self.problem(r, columns["指标类型"], f"指标类型“{text}”无法识别，只能填 {allowed} 之一", text)
        for r, text in zip(body, texts["牵头单位"]):
            if any(sep in text for sep in _UNIT_SEPARATORS):
                self.problem(r, columns["牵头单位"], f"牵头单位“{text}”含多个单位；每个指标只能有一个牵头单位，"
                                                     f"多个单位分别负责时请拆成多个指标", text)

    def _confirmed(self, body: list[int], extra: dict[str, int]) -> None:
        """A draft from ``minsheng extract``: every row it marked must have been looked at."""
        col = extra.get(CHECK_COLUMN)
        if col is None:
            return
        for r in body:
            reason = cell_text(self.rows[r][col]) if col < len(self.rows[r]) else ""
            if reason:
                self.problem(r, col, f"这一行还需核对（{reason}）；请对照“来源原文”改正这一行，然后清空这个单元格", reason)

    def _target(self, r: int, columns: dict[str, int], kind: IndicatorType | None, raw: object,
                unit: str) -> Decimal | None:
        shown = cell_text(raw)
        col = columns["年度目标值"]
        if kind is IndicatorType.MILESTONE:
            return None
        if shown == "":
            if kind is not None and self._is_empty(r, col):
                self.problem(r, col, f"{kind.value}类指标必须填写年度目标值（数字）")
            return None
        parsed = _number(raw, unit)
        if parsed.value is None or parsed.notice:
            self.problem(r, col, f"年度目标值“{shown}”不是数字，请只填写数字（百分比类指标填 95 表示 95%）", shown)
            return None
        if kind in (IndicatorType.CUMULATIVE, IndicatorType.RATE) and parsed.value <= 0:
            self.problem(r, col, f"{kind.value}类指标的年度目标值须大于 0，现为 {shown}", shown)
        return parsed.value

    def _funds(self, body: list[int], columns: dict[str, int], cells: list, texts: list[str]) -> list:
        result = []
        for r, raw, text in zip(body, cells, texts):
            value = None
            if FUNDS in columns and text:
                parsed = _number(raw, "万元")
                if parsed.value is None or parsed.notice:
                    self.problem(r, columns[FUNDS], f"年度计划资金“{text}”不是数字，请只填写以万元为单位的数字", text)
                value = parsed.value
            result.append(value)
        return result

    def _deadlines(self, body: list[int], columns: dict[str, int], cells: list, texts: list[str]) -> list:
        result = []
        for r, raw, text in zip(body, cells, texts):
            value = None
            if DEADLINE in columns and text:
                value = as_date(raw)
                if value is None:
                    self.problem(r, columns[DEADLINE], f"完成时限“{text}”不是日期，请填写如 2020-12-31 的日期", text)
            result.append(value)
        return result

    def _changes(self, body: list[int], columns: dict[str, int], cells: dict[str, list],
                 texts: dict[str, list[str]], kinds: list) -> list[dict]:
        """What the office changed during the year, row by row (formats §2): a target adjusted from
        a period on, the id an indicator had before a rename, a cancellation."""
        ids = {text.casefold() for text in texts["指标编号"] if text}
        result = []
        for i, r in enumerate(body):
            found: dict = {}
            target_text, from_text = texts[ADJUSTED][i], texts[ADJUSTED_FROM][i]
            if target_text or from_text:
                found.update(self._adjustment(r, columns, kinds[i], cells[ADJUSTED][i], cells[ADJUSTED_FROM][i],
                                              target_text, from_text, texts["计量单位"][i]))
            former = texts[FORMER_ID][i]
            if former:
                if former.casefold() in ids:
                    self.problem(r, columns[FORMER_ID], f"原指标编号“{former}”仍是本台账中另一个指标的编号；"
                                                        f"改号后旧编号不能再用，请改正其中一个", former)
                found["former_id"] = former
            state = texts[STATE][i]
            if state == CANCELLED:
                found["cancelled"] = True
            elif state:
                self.problem(r, columns[STATE], f"状态“{state}”无法识别：撤销的任务或指标请填“{CANCELLED}”，"
                                                f"其余留空", state)
            result.append(found)
        return result

    def _adjustment(self, r: int, columns: dict[str, int], kind, raw_target, raw_from, target_text: str,
                    from_text: str, unit: str) -> dict:
        if not (target_text and from_text):
            missing, there = (ADJUSTED_FROM, ADJUSTED) if target_text else (ADJUSTED, ADJUSTED_FROM)
            self.problem(r, columns.get(missing, columns[there]),
                         f"调整目标须同时填写“{ADJUSTED}”和“{ADJUSTED_FROM}”（如 2020-09），这一行只填了“{there}”")
            return {}
        parsed = _number(raw_target, unit)
        if kind is IndicatorType.MILESTONE or parsed.value is None or parsed.notice:
            why = "里程碑类指标没有目标值可调整" if kind is IndicatorType.MILESTONE else "不是数字，请只填写数字"
            self.problem(r, columns[ADJUSTED], f"调整后目标值“{target_text}”{why}", target_text)
            return {}
        if kind in (IndicatorType.CUMULATIVE, IndicatorType.RATE) and parsed.value <= 0:
            self.problem(r, columns[ADJUSTED], f"{kind.value}类指标的调整后目标值须大于 0，现为 {target_text}", target_text)
        when = as_date(raw_from)
        try:
            start = Period(when.year, when.month) if when is not None else Period.parse(from_text)
        except ValueError:
            self.problem(r, columns[ADJUSTED_FROM], f"调整起始期“{from_text}”应为 YYYY-MM，例如 2020-09（从该期起按"
                                                    f"调整后目标值计算，之前各期不变）", from_text)
            return {}
        return {"adjusted_target": parsed.value, "adjusted_from": str(start)}

    def _tasks(self, body, columns, extra, texts, kinds, targets, funds, deadlines, changes) -> list[Task]:
        """Rows → tasks, in order of first appearance. (With any problem the register is refused
        as a whole, so what a bad row becomes does not matter.)"""
        tasks: dict[str, Task] = {}
        first_line: dict[str, int] = {}
        interned: dict[str, str] = {}  # one string object per unit name, type and unit of measure
        for i, r in enumerate(body):
            task_id = texts["任务编号"][i]
            if not task_id:
                continue
            name, money = texts["项目名称"][i], funds[i]
            task = tasks.get(task_id)
            if task is None:
                task = tasks[task_id] = Task(task_id, texts["类别"][i], name, texts["年度目标任务"][i],
                                             tuple(p for p in _split_units(texts["协同单位"][i]) if p), money,
                                             deadlines[i])
                first_line[task_id] = self.top + r + 1
            else:
                if name and plain(name) != plain(task.name):  # an invisible difference is none
                    self.problem(r, columns["项目名称"], f"任务编号 {task_id} 的项目名称“{name}”与第 "
                                                         f"{first_line[task_id]} 行的“{task.name}”不同；同一任务的项目名称须一致，"
                                                         f"或改用不同的任务编号", name)
                if money is not None and task.planned_funds is not None and money != task.planned_funds:
                    self.problem(r, columns[FUNDS], f"任务编号 {task_id} 的年度计划资金与第 {first_line[task_id]}"
                                                    f" 行不同（{money} 与 {task.planned_funds}），请统一为一个数")
                if money is not None and task.planned_funds is None:
                    task.planned_funds = money
            row = self.rows[r]
            extras = tuple((h, cell_text(row[c]) if c < len(row) else "") for h, c in extra.items())
            unit = interned.setdefault(texts["牵头单位"][i], texts["牵头单位"][i])
            measure = interned.setdefault(texts["计量单位"][i], texts["计量单位"][i])
            # 完成时限 on any row applies to that row's indicator; a row without one has its task's.
            task.indicators.append(Indicator(texts["指标编号"][i], task_id, texts["指标名称"][i], measure,
                                             kinds[i], targets[i], unit, self.top + r + 1, extras,
                                             deadline=deadlines[i] or task.deadline, **changes[i]))
        return list(tasks.values())


def _number(raw: object, unit: str):
    """A register's number: the office's own cell, so full-width digits (４６１) are simply read."""
    return parse_value(unicodedata.normalize("NFKC", raw) if isinstance(raw, str) else raw, unit)


def _fingerprint(headers: list[str], rows) -> str:
    """16 hex of the SHA-256 of the register's text, as ``{"columns": […], "rows": [[…], …]}``."""
    digest = hashlib.sha256()
    dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    digest.update(f'{{"columns":{dump(headers)},"rows":['.encode())
    for n, row in enumerate(rows):
        digest.update((b"," if n else b"") + dump(row).encode("utf-8"))
    digest.update(b"]}")
    return digest.hexdigest()[:16]


def _filled(row: list) -> bool:
    return any((v.strip() if type(v) is str else cell_text(v)) for v in row)


def _split_units(text: str) -> list[str]:
    for sep in _UNIT_SEPARATORS[1:]:
        text = text.replace(sep, "、")
    return [plain(part) for part in text.split("、")]


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


def write_register(path: Path, rows: list[dict[str, object]], created: dt.datetime | None = None,
                   extra_columns: tuple[str, ...] = (), flag_column: str = "") -> None:
    """Write a register workbook with the §3 headers; ``rows`` map header text to cell values.

    With no rows this is the empty register ``minsheng init`` gives a new working folder. A fixed
    ``created`` time makes the file byte-for-byte reproducible. ``extra_columns`` follow the §3
    ones; a row whose ``flag_column`` is filled is tinted, for a person to look at.
    """
    widths = {"任务编号": 8, "类别": 22, "项目名称": 24, "年度目标任务": 50, "牵头单位": 16,
              "协同单位": 30, "指标编号": 9, "指标名称": 26, "计量单位": 8, "指标类型": 8,
              "年度目标值": 11, "年度计划资金(万元)": 12, "完成时限": 12,
              "调整后目标值": 11, "调整起始期": 10, "原指标编号": 10, "状态": 8}
    headers = [*COLUMNS, *extra_columns]
    with atomic_path(Path(path)) as tmp:
        book = new_workbook()
        book.set_properties({"title": "任务台账", "created": created or dt.datetime.now()})
        head = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                                "align": "center", "valign": "vcenter", "font_name": "宋体"})
        style = {"border": 1, "text_wrap": True, "valign": "top", "font_name": "宋体"}
        # Ids typed as 7-1 must stay text (Excel would make them dates); deadlines are dates.
        kinds = {"任务编号": {"num_format": "@"}, "指标编号": {"num_format": "@"}, "原指标编号": {"num_format": "@"},
                 "调整起始期": {"num_format": "@"},
                 "完成时限": {"text_wrap": False, "num_format": "yyyy-mm-dd"}}
        plain = {h: book.add_format({**style, **kinds.get(h, {})}) for h in headers}
        tinted = ({h: book.add_format({**style, **kinds.get(h, {}), "bg_color": "#FCE4D6"}) for h in headers}
                  if flag_column else plain)
        ws = book.add_worksheet(SHEET)
        ws.freeze_panes(1, 0)
        for c, header in enumerate(headers):
            ws.set_column(c, c, widths.get(header, 36), plain[header])
            ws.write_string(0, c, header, head)
        column = headers.index
        ws.data_validation(1, column("指标类型"), 10000, column("指标类型"),
                           {"validate": "list", "source": [t.value for t in IndicatorType]})
        for header in ("年度目标值", "年度计划资金(万元)"):
            ws.data_validation(1, column(header), 10000, column(header), {
                "validate": "decimal", "criteria": ">=", "value": 0, "error_title": "请填写数字",
                "error_message": "这一列只能填写数字（不带单位，单位写在“计量单位”列）"})
        ws.data_validation(1, column("完成时限"), 10000, column("完成时限"), {
            "validate": "date", "criteria": ">=", "value": dt.date(2000, 1, 1), "error_title": "请填写日期",
            "error_message": "请填写日期，例如 2020-12-31"})
        for r, row in enumerate(rows, start=1):
            formats = tinted if flag_column and row.get(flag_column) else plain
            for c, header in enumerate(headers):
                value = row.get(header)
                if value is None or value == "":
                    if formats is tinted:
                        ws.write_blank(r, c, None, formats[header])
                    continue
                if isinstance(value, (int, float, Decimal)):
                    ws.write_number(r, c, float(value), formats[header])
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), formats[header])
                else:
                    ws.write_string(r, c, str(value), formats[header])
        ws.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
        save_workbook(book, tmp)
