"""Reading returned department workbooks (报送表, SPEC §6) into ``Submission``s and ``Problem``s.

Files are read with python-calamine, which reads stored values (including formula results) and
never runs or saves anything. Nothing here decides statuses; that is the engine's job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import stat
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import python_calamine

from .cells import as_date, cell_ref, cell_text, header_key
from .guard import inspect
from .model import IndicatorType, Period, Problem, Register, Reported, Severity, Submission
from .numbers import parse_value, tidy
from .templates import COLUMNS, FORM_SHEET, FUNDS_PAID, META_SHEET, SIGN_OFF

_TEXT_FIELDS = {"进展情况": "progress", "存在问题": "issues", "下步措施": "next_steps"}
_SIGN_OFF_LABELS = {label for label, _ in SIGN_OFF}


def read_submission(path: Path, register: Register, period: Period,
                    stages: tuple[tuple[str, Decimal], ...], data: bytes | None = None,
                    name: str | None = None) -> tuple[Submission | None, list[Problem]]:
    """Read one workbook. Returns ``(None, problems)`` when the file as a whole can't be used.

    ``data`` is the file's content when the caller has read it already; ``name`` is how problems
    name the file (default: its file name).
    """
    name = name or path.name
    if data is None:
        data = path.read_bytes()
    verdict = inspect(data)
    if verdict.refusal:
        return None, [Problem(name, verdict.refusal)]
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        return None, [Problem(name, "文件设置了打开密码，无法读取；请取消密码后重新报送")]
    except Exception as exc:  # calamine raises several unrelated types for unreadable files
        return None, [Problem(name, f"无法读取该文件（{_short(exc)}），请确认是 Excel 文件且未损坏，"
                                    f"或请报送单位重新保存后发送")]
    return _Reader(name, str(path), book, register, period, stages).read()


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:80]


class _Reader:
    """Reads one opened workbook; collects problems instead of raising."""

    def __init__(self, name, path, book, register, period, stages):
        self.name, self.path, self.book = name, path, book
        self.register, self.period = register, period
        self.stage_names = {stage for stage, _ in stages}
        self.problems: list[Problem] = []

    def problem(self, message: str, sheet: str = "", cell: str = "", raw: str = "",
                severity: Severity = Severity.ERROR, indicator: str = "") -> None:
        self.problems.append(Problem(self.name, message, sheet, cell, severity, raw, indicator))

    def read(self) -> tuple[Submission | None, list[Problem]]:
        meta = self._meta()
        sheet_name, rows, top, left = self._form()
        if rows is None:
            return None, self.problems
        header = next((i for i, row in enumerate(rows) if any(header_key(v) == "指标编号" for v in row)),
                      None)
        if header is None:
            self.problem("找不到表头（含“指标编号”的行），请使用下发的填报模板，不要删除表头", sheet_name)
            return None, self.problems
        columns = {header_key(v): c for c, v in enumerate(rows[header]) if header_key(v)}
        if "本期累计完成" not in columns:
            self.problem("表头中没有“本期累计完成”列，请使用下发的填报模板，不要删除或改名列",
                         sheet_name, cell_ref(top + header, left))
            return None, self.problems

        expected_order = [c.header for c in COLUMNS if c.header in columns]
        if sorted(expected_order, key=columns.get) != expected_order:
            self.problem("列的顺序与下发模板不同，已按表头名称识别各列；请以后不要移动列",
                         sheet_name, cell_ref(top + header, left), severity=Severity.NOTICE)
        ids = [cell_text(row[columns["指标编号"]]) for row in rows[header + 1:]
               if columns["指标编号"] < len(row)]
        unit = self._unit(meta, [i for i in ids if i])
        if unit is None:
            return None, self.problems
        if not self._period_ok(meta, sheet_name):
            return None, self.problems

        sub = Submission(self.path, unit, self.period, sheet_name, template_id=meta.get("模板编号", ""),
                         fingerprint=meta.get("台账指纹", ""), name=self.name)
        if sub.fingerprint and sub.fingerprint != self.register.fingerprint:
            self.problem("该表是按旧版任务台账生成的（台账已修改），已按指标编号逐项对应；"
                         "如有指标增减，请下发新模板", META_SHEET, severity=Severity.NOTICE)
        self._values(sub, rows, header, columns, top, left)
        self._sign_off(sub, rows, top, left)
        return sub, self.problems

    def _meta(self) -> dict[str, str]:
        if META_SHEET not in self.book.sheet_names:
            return {}
        rows = self.book.get_sheet_by_name(META_SHEET).to_python()
        meta = {}
        for row in rows:
            if len(row) >= 2 and cell_text(row[0]) and cell_text(row[0]) != "指标编号":
                meta.setdefault(cell_text(row[0]), cell_text(row[1]))
            elif row and cell_text(row[0]) == "指标编号":
                break
        return meta

    def _form(self):
        names = self.book.sheet_names
        candidates = [FORM_SHEET] if FORM_SHEET in names else [n for n in names if n != META_SHEET]
        for sheet_name in candidates:
            sheet = self.book.get_sheet_by_name(sheet_name)
            rows = sheet.to_python()
            if any(header_key(v) == "指标编号" for row in rows for v in row):
                top, left = sheet.start if rows else (0, 0)
                return sheet_name, rows, top, left
        self.problem(f"文件中没有“{FORM_SHEET}”工作表，也没有含“指标编号”表头的工作表；"
                     f"请使用下发的填报模板填写")
        return "", None, 0, 0

    def _unit(self, meta: dict[str, str], ids: list[str]) -> str | None:
        unit = meta.get("填报单位", "")
        if unit:
            if unit in self.register.indicators_of:
                return unit
            self.problem(f"填报单位“{unit}”不在任务台账的牵头单位中，未汇总；请核对是否为本年度的填报模板",
                         META_SHEET)
            return None
        # No _meta: the unit that leads most of the file's indicators.
        known = self.register.indicator
        owners = Counter(known[i].lead_unit for i in set(ids) if i in known)
        if not owners:
            self.problem("文件中的指标编号与任务台账都对不上，无法判断是哪个单位的报表；请使用下发的填报模板")
            return None
        unit = owners.most_common(1)[0][0]
        self.problem(f"文件缺少模板信息（_meta），已按指标编号判断为“{unit}”的报表；"
                     f"请以后使用下发的模板填写", severity=Severity.NOTICE)
        return unit

    def _period_ok(self, meta: dict[str, str], sheet_name: str) -> bool:
        stated = meta.get("统计期", "")
        if stated and stated != str(self.period):
            self.problem(f"这是统计期 {stated} 的报表，不是本期 {self.period} 的，未汇总；"
                         f"请报送单位用本期模板重新填报", META_SHEET)
            return False
        return True

    def _values(self, sub: Submission, rows, header, columns, top, left) -> None:
        by_id = self.register.indicator
        expected = [ind.id for ind in self.register.indicators_of[sub.unit]]
        c_id, c_value = columns["指标编号"], columns["本期累计完成"]
        sheet = sub.sheet
        task_of_row: dict[str, int] = {}
        seen: set[str] = set()
        for r in range(header + 1, len(rows)):
            row = rows[r]

            def get(col: int | None) -> object:
                return row[col] if col is not None and col < len(row) else ""

            indicator_id = cell_text(get(c_id))
            if indicator_id in _SIGN_OFF_LABELS:
                continue
            if not indicator_id:
                if cell_text(get(c_value)):
                    self.problem(f"该行没有指标编号，其中的“{cell_text(get(c_value))}”未汇总；请勿自行插入行，"
                                 f"如需说明请写在“进展情况”中", sheet, cell_ref(top + r, left + c_value),
                                 cell_text(get(c_value)))
                continue
            seen.add(indicator_id)
            ref = cell_ref(top + r, left + c_value)
            ind = by_id.get(indicator_id)
            if ind is None:
                self.problem(f"指标编号“{indicator_id}”不在任务台账中，该行未汇总；请勿自行增加行",
                             sheet, cell_ref(top + r, left + c_id), indicator_id, indicator=indicator_id)
                continue
            if ind.lead_unit != sub.unit:
                self.problem(f"指标 {indicator_id} 的牵头单位是“{ind.lead_unit}”，不是“{sub.unit}”，该行未汇总",
                             sheet, cell_ref(top + r, left + c_id), indicator_id, indicator=indicator_id)
                continue
            if indicator_id in sub.values:
                self.problem(f"指标 {indicator_id} 在表中出现了两次，只采用了第一次（单元格 "
                             f"{sub.values[indicator_id].cell})", sheet, ref, indicator_id, indicator=indicator_id)
                continue
            self._target_untouched(ind, get(columns.get("年度目标值")), sheet,
                                   cell_ref(top + r, left + columns.get("年度目标值", 0)))
            raw = get(c_value)
            texts = {field: cell_text(get(columns.get(h))) for h, field in _TEXT_FIELDS.items()}
            if ind.type is IndicatorType.MILESTONE:
                stage = cell_text(raw)
                if stage and stage not in self.stage_names:
                    self.problem(f"“{stage}”不是可选的阶段，请从下拉列表中选择（{'、'.join(self.stage_names)}）",
                                 sheet, ref, stage, indicator=indicator_id)
                    continue
                sub.values[indicator_id] = Reported(indicator_id, None, stage, cell=ref, **texts)
            else:
                parsed = parse_value(raw, ind.unit_of_measure)
                if parsed.error:
                    self.problem(parsed.error, sheet, ref, cell_text(raw), indicator=indicator_id)
                    continue
                value = parsed.value
                if parsed.notice:
                    self.problem(parsed.notice, sheet, ref, cell_text(raw), Severity.NOTICE, indicator_id)
                elif _typed_as_percent(ind, raw, value):
                    # Excel turns “96.4%” typed into a cell into 0.964: the register counts in percent numbers.
                    value = tidy(value * 100)
                    self.problem(f"该单元格按百分比格式保存为 {cell_text(raw)}，已按 {value} 读取（即 {value}%），请核对",
                                 sheet, ref, cell_text(raw), Severity.NOTICE, indicator_id)
                sub.values[indicator_id] = Reported(indicator_id, value, "", cell=ref, **texts)
            task_of_row.setdefault(ind.task_id, r)
        self._funds(sub, rows, columns, top, left, task_of_row)
        for missing in (i for i in expected if i not in seen):
            self.problem(f"表中缺少指标 {missing} 的行（可能被删除），按未填处理；请勿删除模板中的行",
                         sheet, indicator=missing)

    def _target_untouched(self, ind, raw, sheet: str, ref: str) -> None:
        if ind.target is None or cell_text(raw) == "":
            return
        typed = parse_value(raw, ind.unit_of_measure).value
        if typed is not None and typed != ind.target:
            self.problem(f"年度目标值被改成了 {cell_text(raw)}，已按任务台账的 {ind.target} 计算",
                         sheet, ref, cell_text(raw), Severity.NOTICE, ind.id)

    def _funds(self, sub: Submission, rows, columns, top, left, task_of_row: dict[str, int]) -> None:
        col = columns.get(header_key(FUNDS_PAID))
        if col is None:
            return
        for task_id, r in task_of_row.items():
            raw = rows[r][col] if col < len(rows[r]) else ""
            ref = cell_ref(top + r, left + col)
            parsed = parse_value(raw, "万元")
            if parsed.error:
                self.problem(parsed.error, sub.sheet, ref, cell_text(raw))
            elif parsed.value is not None:
                if parsed.notice:
                    self.problem(parsed.notice, sub.sheet, ref, cell_text(raw), Severity.NOTICE)
                sub.funds_paid[task_id] = (parsed.value, ref)

    def _sign_off(self, sub: Submission, rows, top, left) -> None:
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                label = header_key(value)
                if label not in _SIGN_OFF_LABELS or label in sub.sign_off:
                    continue
                filled = next(((cc, v) for cc, v in enumerate(row[c + 1:], start=c + 1)
                               if cell_text(v)), None)
                if filled is None:
                    continue
                sub.sign_off[label] = cell_text(filled[1])
                if label == "填报日期":
                    sub.filled_on = as_date(filled[1])
                    if sub.filled_on is None:
                        self.problem(f"填报日期“{cell_text(filled[1])}”不是日期，请填写如 2020-07-05 的日期",
                                     sub.sheet, cell_ref(top + r, left + filled[0]), cell_text(filled[1]),
                                     Severity.NOTICE)


def _typed_as_percent(ind, raw: object, value: Decimal | None) -> bool:
    """A % indicator whose cell holds a fraction such as 0.964 while the target is a percent number."""
    return (ind.unit_of_measure == "%" and isinstance(raw, float) and value is not None
            and ind.target is not None and ind.target > 2 and 0 < value <= Decimal("1.5"))


# ---------------------------------------------------------------------------------------------
# The inbox: every file of a period, read, matched to its unit, duplicates resolved.

_SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}


@dataclass
class Received:
    """One file found in the inbox (收件), and what became of it."""

    path: Path
    name: str  # relative to the inbox, as problems name it
    sha256: str
    outcome: str  # 采用 / 拒收 / 重复未采用
    unit: str = ""
    submission: Submission | None = None
    modified: float = 0.0


@dataclass
class Collection:
    """Everything read from one period's inbox."""

    received: list[Received]
    submissions: dict[str, Submission]  # the accepted file of each unit
    problems: list[Problem]


def find_files(inbox: Path) -> list[Path]:
    """Every candidate file below ``inbox``: sub-folders walked; lock, hidden and system files skipped."""
    found = []
    for folder, dirs, files in os.walk(inbox):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _hidden(Path(folder) / d))
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(("~$", ".")) or name.lower() in _SYSTEM_FILES or _hidden(path):
                continue
            found.append(path)
    return found


def _hidden(path: Path) -> bool:
    attributes = getattr(os.stat(path), "st_file_attributes", 0)  # Windows only
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def collect_inbox(inbox: Path, register: Register, period: Period,
                  stages: tuple[tuple[str, Decimal], ...], progress=iter) -> Collection:
    """Read every file of the inbox; one bad file never stops the others."""
    received: list[Received] = []
    problems: list[Problem] = []
    for path in progress(find_files(inbox)):
        name = str(path.relative_to(inbox))
        try:
            data = path.read_bytes()
            modified = path.stat().st_mtime
        except OSError as exc:
            problems.append(Problem(name, f"无法打开该文件（{exc.strerror}），可能正被其他程序占用；请关闭后重试"))
            received.append(Received(path, name, "", "拒收"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        sub, found = read_submission(path, register, period, stages, data, name)
        problems += found
        outcome = "采用" if sub is not None else "拒收"
        received.append(Received(path, name, digest, outcome, sub.unit if sub else "", sub, modified))

    submissions: dict[str, Submission] = {}
    by_unit: dict[str, list[Received]] = {}
    for item in received:
        if item.submission is not None:
            by_unit.setdefault(item.unit, []).append(item)
    for unit, items in by_unit.items():
        # The newer file wins: by 填报日期, then by the file's modification time.
        items.sort(key=lambda i: (i.submission.filled_on or dt.date.min, i.modified), reverse=True)
        kept = items[0]
        submissions[unit] = kept.submission
        for other in items[1:]:
            other.outcome = "重复未采用"
            problems = [p for p in problems if p.file != other.name]
            problems.append(Problem(other.name, f"{unit} 报送了多个文件，已采用较新的“{kept.name}”"
                                                f"（按填报日期、再按修改时间），本文件未汇总；如有误请删除多余的文件"))
    return Collection(received, submissions, problems)
