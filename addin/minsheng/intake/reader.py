"""Reading one returned department workbook (报送表, formats §3) into a ``Submission`` and ``Problem``s.

Files are read with python-calamine, which reads stored values (including formula results) and
never runs or saves anything. ``read_file`` runs in a worker process (``untrusted.sandbox``):
whatever one file does, the others are read. Nothing here decides statuses; that is ``assess``'s job.

Two rules hold for every file:
- every value a department typed is either used or named in the problem list, with its cell: a
  value that cannot be read makes its row ``数据有误`` but never drops the row's other cells;
- a file counts as unit X only if its rows are X's indicators, whatever its ``_meta`` says.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import python_calamine

from ..cells import as_date, cell_ref, cell_text, column_letter, header_key
from ..forms.layout import (
    COLUMNS,
    FORM_SHEET,
    FUNDS_PAID,
    META_SHEET,
    SIGN_OFF_LABEL_COLUMN,
    SIGN_OFF_LABELS,
    SIGN_OFF_VALUE_COLUMN,
    TEXTS,
    VALUE,
    Meta,
    read_meta,
)
from ..model import Indicator, IndicatorType, Period, Problem, Reported, Severity, Submission
from ..numbers import parse_value, shown, tidy, to_decimal
from ..register.cache import Register
from ..untrusted.guard import MAX_FILE_BYTES, Verdict, inspect, sheet_refusal
from ..untrusted.inbox import Entry, Unreadable, read_regular
from ..untrusted.sheetxml import ERROR, MERGED, hidden_contents, percent_cells, sheet_xml, trimmed_workbook

RESEND = "请报送单位用 Excel 或 WPS 打开后重新保存，再发送"
UNREADABLE = f"无法读取该文件（内容已损坏，或不是 Excel/WPS 能打开的表格），未汇总；{RESEND}"

Stages = tuple[tuple[str, Decimal], ...]
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlt", ".et", ".ett", ".ods"}
CELL_TEXT_LIMIT = 32767  # characters an Excel cell holds (and calamine returns)


WRONG_PERIOD = "这是统计期 "  # the start of the refusal of a form of another period


@dataclass
class FileResult:
    """What reading one file gave. Small: thousands of them fit in memory."""

    name: str
    sha256: str = ""
    modified: float = 0.0
    submission: Submission | None = None
    problems: list[Problem] = field(default_factory=list)
    made: bytes | None = None  # what ``after`` made of the submission, pickled where it ran (the caller's)
    spooled: bytes | None = None  # the submission, pickled where it was read (then ``submission`` is a summary)
    unit_hint: str = ""  # for a file refused after its unit was recognised: that unit


def read_file(entry: Entry, register: Register, period: Period, stages: Stages,
              after: Callable[[FileResult], None] | None = None, careful: bool = False) -> FileResult:
    """Read one file from disk: bytes, hash, guard, sheets, checks; then ``after(result)``.
    Runs in a worker process. ``careful``: cells far outside any form are removed from every
    sheet before the reader sees it (after a reader died on the file)."""
    try:
        data, st = read_regular(entry.path, MAX_FILE_BYTES)
    except Unreadable as exc:
        return FileResult(entry.name, problems=[Problem(entry.name, str(exc))])
    sub, problems, hint = read_workbook(entry.path, register, period, stages, data, entry.name, careful)
    result = FileResult(entry.name, hashlib.sha256(data).hexdigest(), st.st_mtime, sub, problems, unit_hint=hint)
    if after is not None:
        after(result)
    return result


def read_workbook(path: Path, register: Register, period: Period, stages: Stages, data: bytes, name: str,
                  careful: bool = False) -> tuple[Submission | None, list[Problem], str]:
    """The workbook in ``data`` (read from ``path``) as a submission and its problems, and the unit
    it was recognised as (for a file refused after that). The submission is None when the file
    as a whole can't be used; never raises for what the file holds."""
    reader = _open(path, register, period, stages, data, name, careful)
    if not isinstance(reader, _Reader):
        return None, reader, ""
    sub, problems = reader.read_safely()
    return sub, problems, reader.unit_hint


def _open(path: Path, register: Register, period: Period, stages: Stages, data: bytes,
          name: str, careful: bool = False) -> _Reader | list[Problem]:
    """A reader of the workbook in ``data``, or the problems that stop it being opened."""
    verdict = inspect(data)
    if verdict.refusal and not verdict.kind and path.suffix.lower() not in SPREADSHEET_SUFFIXES:
        # A PDF or a Word file beside the forms is usually an attachment: worth a word, not an error.
        return [Problem(name, "不是 Excel/WPS 表格文件（可能是附件或说明材料），未读取；如是填报表，"
                              "请用下发的模板填写后报送", severity=Severity.NOTICE)]
    if verdict.refusal:
        return [Problem(name, verdict.refusal)]
    reader = _Reader(name, str(path), verdict, None, register, period, stages)
    if careful and verdict.package is not None:
        return reader if reader.without_far_cells(data) else [Problem(name, UNREADABLE)]
    return reader if reader.open(data) else reader.problems


class _Reader:
    """Reads one opened workbook; collects problems instead of raising."""

    def __init__(self, name: str, path: str, verdict: Verdict, book, register: Register,
                 period: Period, stages: Stages):
        self.name, self.path, self.verdict, self.book = name, path, verdict, book
        self.register, self.period = register, period
        self.stages = {header_key(stage): stage for stage, _ in stages}
        self.problems: list[Problem] = []
        self.unit_hint = ""  # whose file this is, as soon as that is known
        self.data = b""

    def open(self, data: bytes) -> bool:
        self.data = data
        try:
            self.book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            return True
        except python_calamine.PasswordError:
            self.problem("文件设置了打开密码，无法读取；请取消密码后重新报送")
        except Exception:  # calamine raises several unrelated types for unreadable files
            self.problem(UNREADABLE)
        return False

    def without_far_cells(self, data: bytes | None = None, sheets: list[str] | None = None) -> bool:
        """Reopen the workbook without the cells far outside any form (in ``sheets``, default all),
        naming each that held something. False when that is not possible."""
        try:
            data, far = trimmed_workbook(data if data is not None else self.data, sheets)
        except Exception:  # noqa: BLE001 - a package this cannot take apart is unreadable
            return False
        for sheet, cells in far.items():
            for ref, content in cells:
                if ref == "…":
                    self.problem(f"表格以外{content}单元格有内容，未读取", sheet, severity=Severity.NOTICE)
                else:
                    self.problem(f"单元格 {ref} 远在填报表以外，其中的“{shown(content, 40)}”未读取；如是要报送的内容，"
                                 f"请填到表格中相应的单元格，并删除表格以外的内容", sheet, ref, content, Severity.NOTICE)
        verdict = inspect(data)
        if verdict.refusal:
            return False
        self.verdict = verdict
        return self.open(data)

    def read_safely(self) -> tuple[Submission | None, list[Problem]]:
        try:
            return self.read()
        except Exception:  # malformed XML inside a sheet, and anything else a hostile file can do
            return None, self.problems + [Problem(self.name, UNREADABLE)]

    def problem(self, message: str, sheet: str = "", cell: str = "", raw: str = "",
                severity: Severity = Severity.ERROR, indicator: str = "") -> None:
        # The raw text is there to recognise the cell by; a whole page of it would bury the list.
        self.problems.append(Problem(self.name, message, sheet, cell, severity, shown(raw, 200), indicator))

    def read(self) -> tuple[Submission | None, list[Problem]]:
        meta = self._meta()
        if meta.get("填报单位") in self.register.units:
            self.unit_hint = meta.get("填报单位")
        sheet_name, rows, top, left = self._form()
        if rows is None:
            return None, self.problems
        trusted = bool(meta.get("台账指纹")) and meta.get("台账指纹") == self.register.fingerprint
        found = self._layout(meta if trusted else Meta(), rows, top, left, sheet_name)
        if found is None:
            return None, self.problems
        header, columns = found
        c_id = columns["指标编号"]
        ids = {_text(row[c_id]) for row in rows[header + 1:] if c_id < len(row)} - {""} - SIGN_OFF_LABELS
        renamed = self.register.renamed
        unit, claimed, known = self._unit(meta, {renamed.get(i, i) for i in ids} if renamed else ids)
        self.unit_hint = unit or self.unit_hint
        if unit is None or not self._period_ok(meta):
            return None, self.problems

        sub = Submission(self.path, unit, self.period, sheet_name, template_id=meta.get("模板编号"),
                         fingerprint=meta.get("台账指纹"), name=self.name, claimed_unit=claimed)
        if sub.fingerprint and not trusted:
            self.problem("该表是按修改前的任务台账生成的，已按指标编号逐项对应，无需改动；"
                         "台账中增减的指标见同一文件的其他提示", META_SHEET, severity=Severity.NOTICE)
        self._values(sub, known, rows, header, columns, top, left)
        self._sign_off(sub, meta if trusted else Meta(), rows, top, left)
        return sub, self.problems

    def _meta(self) -> Meta:
        if META_SHEET not in self.book.sheet_names:
            return Meta()
        try:
            if sheet_refusal(self.verdict, META_SHEET) and not self.without_far_cells(sheets=[META_SHEET]):
                raise ValueError(META_SHEET)
            return read_meta(self.book.get_sheet_by_name(META_SHEET).to_python())
        except Exception:
            self.problem("模板信息（_meta 工作表）已损坏，无法读取，已按表中的指标编号判断填报单位", META_SHEET,
                         severity=Severity.NOTICE)
            return Meta()

    def _layout(self, meta: Meta, rows, top: int, left: int, sheet_name: str) -> tuple[int, dict[str, int]] | None:
        """The header row and the column of each header: from ``_meta`` when the sheet agrees with
        it, else by finding the headers (columns moved, or a form from another register)."""
        if meta.header_row is not None and "指标编号" in meta.columns and VALUE in meta.columns:
            header = meta.header_row - top
            columns = {h: c - left for h, c in meta.columns.items()}
            if 0 <= header < len(rows) and all(
                    0 <= columns[h] < len(rows[header]) and cell_text(rows[header][columns[h]]) == h
                    for h in ("指标编号", VALUE)):
                return header, columns
        header = next((i for i, row in enumerate(rows) if any(header_key(v) == "指标编号" for v in row)), None)
        if header is None:
            self.problem("找不到表头（含“指标编号”的行），请使用下发的填报模板，不要删除表头", sheet_name)
            return None
        columns: dict[str, int] = {}
        for c, v in enumerate(rows[header]):
            columns.setdefault(header_key(v), c)
        columns.pop("", None)
        if VALUE not in columns:
            self.problem("表头中没有“本期累计完成”列，请使用下发的填报模板，不要删除或改名列",
                         sheet_name, cell_ref(top + header, left))
            return None
        expected_order = [c.header for c in COLUMNS if c.header in columns]
        if sorted(expected_order, key=columns.get) != expected_order:
            self.problem("列的顺序与下发模板不同，已按表头名称识别各列；请以后不要移动列",
                         sheet_name, cell_ref(top + header, left), severity=Severity.NOTICE)
        return header, columns

    def _form(self):
        names = self.book.sheet_names
        # A trailing space or a full-width letter in the sheet name does not make it another sheet.
        preferred = [n for n in names if header_key(n) == FORM_SHEET]
        if not preferred and {"总览", "指标明细", "问题清单"} <= set(names):
            self.problem("这是 minsheng 生成的汇总表，不是填报表，未读取；收件文件夹里只放各单位报回的填报表")
            return "", None, 0, 0
        others = [n for n in names if n not in preferred and n != META_SHEET]
        for sheet_name in preferred + others:
            refusal = sheet_refusal(self.verdict, sheet_name)
            if refusal and self.without_far_cells(sheets=[sheet_name]):
                refusal = sheet_refusal(self.verdict, sheet_name)
            if refusal:
                self.problem(refusal, sheet_name)
                if sheet_name in preferred:
                    return sheet_name, None, 0, 0
                continue
            try:
                sheet = self.book.get_sheet_by_name(sheet_name)
                rows = sheet.to_python()
            except Exception:
                if sheet_name in preferred:
                    self.problem(f"工作表“{sheet_name}”已损坏，无法读取，未汇总；{RESEND}", sheet_name)
                    return sheet_name, None, 0, 0
                continue
            if sheet_name in preferred or any(header_key(v) == "指标编号" for row in rows for v in row):
                top, left = sheet.start if rows else (0, 0)
                return sheet_name, rows, top, left
        self.problem(f"文件中没有“{FORM_SHEET}”工作表，也没有含“指标编号”表头的工作表；"
                     f"请使用下发的填报模板填写")
        return "", None, 0, 0

    def _unit(self, meta: Meta, ids: set[str]) -> tuple[str | None, str, dict[str, Indicator]]:
        """The unit whose indicators the rows are, the other unit ``_meta`` claims (if any), and
        the register's indicators among ``ids``."""
        claimed = meta.get("填报单位")
        known: dict[str, Indicator] = {}
        if claimed in self.register.units:  # the usual case: one look at the claimed unit's tasks
            known = {ind.id: ind for task in self.register.tasks_of(claimed) for ind in task.indicators
                     if ind.id in ids}
        if len(known) < len(ids):
            known.update(self.register.lookup(ids - known.keys()))
        owners = Counter(ind.lead_unit for ind in known.values())
        if not owners:
            gone = sorted(ids & self.register.cancelled_ids)
            if gone:  # the office's change, not the unit's mistake
                self.problem(f"表中的指标（{'、'.join(gone)}）已在任务台账中撤销（“状态”为已撤销），本期不再汇总，"
                             f"所填内容未采用；该单位无需再报送这些指标", META_SHEET, severity=Severity.NOTICE)
            elif claimed:
                self.problem(f"模板信息标明是“{claimed}”的报表，但表中没有任务台账里的指标编号（可能删除了行或用错了模板），"
                             f"未汇总；请使用下发的填报模板", META_SHEET)
            else:
                self.problem("文件中的指标编号与任务台账都对不上，无法判断是哪个单位的报表；请使用下发的填报模板")
            return None, "", known
        unit, count = owners.most_common(1)[0]
        if claimed and owners.get(claimed, 0) == count:
            return claimed, "", known
        if not claimed:
            self.problem(f"文件缺少模板信息（_meta），已按指标编号判断为“{unit}”的报表；"
                         f"请以后使用下发的模板填写", severity=Severity.NOTICE)
            return unit, "", known
        stranger = "" if claimed in self.register.units else "（不是任务台账中的牵头单位）"
        self.problem(f"模板信息标明是“{claimed}”{stranger}的报表，但表中的指标属于“{unit}”，已按“{unit}”的报表读取，"
                     f"不会顶替“{claimed}”的报表；“{unit}”另有报表时以那份为准。请核对是否发错了文件",
                     META_SHEET, severity=Severity.NOTICE)
        return unit, claimed, known

    def _period_ok(self, meta: Meta) -> bool:
        stated = meta.get("统计期")
        if stated and stated != str(self.period):
            self.problem(f"{WRONG_PERIOD}{stated} 的报表，不是本期 {self.period} 的，未汇总；"
                         f"请报送单位用本期模板重新填报", META_SHEET, raw=stated)
            return False
        return True

    def _values(self, sub: Submission, known: dict[str, Indicator], rows, header: int,
                columns: dict[str, int], top: int, left: int) -> None:
        c_id, c_value = columns["指标编号"], columns[VALUE]
        trusted_form = sub.fingerprint == self.register.fingerprint  # made from this very register
        c_target, c_funds = columns.get("年度目标值"), columns.get(header_key(FUNDS_PAID))
        c_texts = [columns.get(h) for h in TEXTS]  # 进展情况, 存在问题, 下步措施
        inputs = [c for c in (c_value, *c_texts, c_funds) if c is not None]
        # Cell addresses are made for every row: their column letters once.
        id_at, value_at = column_letter(left + c_id), column_letter(left + c_value)
        target_at = column_letter(left + c_target) if c_target is not None else ""
        sheet = sub.sheet
        task_rows: dict[str, list[int]] = {}
        empty_values: dict[str, str] = {}  # cell → 指标编号, for value cells that came back empty
        empty_texts: dict[str, str] = {}  # the same for text cells
        small_values: dict[str, Indicator] = {}  # cell → indicator, for values that may be percentages
        text_at = {c: column_letter(left + c) for c in c_texts if c is not None}
        seen: set[str] = set()
        for r in range(header + 1, len(rows)):
            row = rows[r]
            width = len(row)
            indicator_id = _text(row[c_id]) if c_id < width else ""
            if indicator_id in SIGN_OFF_LABELS:
                continue
            line = str(top + r + 1)
            if not indicator_id:
                typed = "、".join(f"“{cell_text(row[c])[:20]}”" for c in inputs if c < width and cell_text(row[c]))
                if typed:
                    self.problem(f"该行没有指标编号，其中填写的{typed}未汇总；请勿自行插入行，如需说明请写在“进展情况”中",
                                 sheet, id_at + line)
                continue
            seen.add(indicator_id)
            ref = value_at + line
            ind = known.get(indicator_id)
            if ind is None and indicator_id in self.register.renamed:  # a form from before the rename
                now = self.register.renamed[indicator_id]
                ind = known.get(now)
                if ind is not None:
                    self.problem(f"指标 {indicator_id} 已改号为 {now}（见任务台账“原指标编号”），该行按 {now} 汇总，"
                                 f"无需改动", sheet, id_at + line, indicator_id, Severity.NOTICE, now)
                    indicator_id = now
                    seen.add(now)
            if ind is None and indicator_id in self.register.cancelled_ids:
                self.problem(f"指标 {indicator_id} 已在任务台账中撤销（“状态”为已撤销），该行不再汇总；"
                             f"所填内容未采用，无需改动", sheet, ref, cell_text(row[c_value]) if c_value < width
                             else "", Severity.NOTICE, indicator_id)
                continue
            if ind is None:
                self.problem(f"指标编号“{indicator_id}”不在任务台账中，该行未汇总；请勿自行增加行",
                             sheet, id_at + line, indicator_id, indicator=indicator_id)
                continue
            if ind.lead_unit != sub.unit:
                message = (f"指标 {indicator_id} 已在任务台账中改由“{ind.lead_unit}”牵头（本表按修改前的台账生成），"
                           f"该行未汇总；本期数值请由“{ind.lead_unit}”报送" if sub.fingerprint and not trusted_form else
                           f"指标 {indicator_id} 的牵头单位是“{ind.lead_unit}”，不是“{sub.unit}”，该行未汇总")
                self.problem(message, sheet, id_at + line, indicator_id, indicator=indicator_id)
                continue
            if indicator_id in sub.values:
                self.problem(f"指标 {indicator_id} 在表中出现了两次，只采用了第一次（单元格 "
                             f"{sub.values[indicator_id].cell}）", sheet, ref, indicator_id, indicator=indicator_id)
                continue
            if c_target is not None and c_target < width:
                self._target_untouched(ind, row[c_target], sheet, target_at + line)
            texts = [_text(row[c]) if c is not None and c < width else "" for c in c_texts]
            raw = row[c_value] if c_value < width else ""
            sub.values[indicator_id] = self._reported(ind, raw, ref, sheet, texts)
            if raw is None or raw == "":
                empty_values[ref] = indicator_id
            elif (raw.__class__ is float and 0 < raw < 10 and ind.unit_of_measure != "%"
                  and ind.type is not IndicatorType.MILESTONE):
                small_values[ref] = ind  # 85% typed into a count cell is stored as 0.85
            for c, text in zip(c_texts, texts):
                if c is not None and not text:
                    empty_texts[text_at[c] + line] = indicator_id
                elif len(text) >= CELL_TEXT_LIMIT:
                    told = ("正好是 Excel 单元格的上限，后面的内容可能没有保存下来" if len(text) == CELL_TEXT_LIMIT else
                            f"超过 Excel 单元格的上限（{CELL_TEXT_LIMIT}），汇总表中只能保留前面部分（CSV 中完整保留）")
                    self.problem(f"这段文字有 {len(text)} 个字符，{told}；请精简到几百字后重新报送",
                                 sheet, text_at[c] + line, text, Severity.NOTICE, indicator_id)
            task_rows.setdefault(ind.task_id, []).append(r)
        view = self.register.tasks_of(sub.unit)
        empty_funds = self._funds(sub, view, rows, c_funds, top, left, task_rows)
        if self.verdict.package is not None and (empty_values or empty_funds or empty_texts or small_values):
            xml = sheet_xml(self.verdict.package, sub.sheet)  # decompressed once for both checks
            self._hidden_contents(sub, empty_values, empty_funds, empty_texts, xml)
            self._shown_as_percent(sub, small_values, xml)
        for missing in (ind.id for task in view for ind in task.indicators if ind.id not in seen):
            if sub.fingerprint and not trusted_form:  # the office's change, not the unit's deletion
                self.problem(f"本表按修改前的任务台账生成，没有指标 {missing} 的行（台账修改后新增或转来的指标），"
                             f"按未填处理；请用新下发的模板补报", sheet, indicator=missing)
                continue
            self.problem(f"表中缺少指标 {missing} 的行（可能被删除），按未填处理；请勿删除模板中的行",
                         sheet, indicator=missing)

    def _reported(self, ind, raw: object, ref: str, sheet: str, texts: list[str]) -> Reported:
        """One row's value with its texts. A value that can't be read is kept as an error, texts and all."""
        progress, issues, next_steps = texts
        if ind.type is IndicatorType.MILESTONE:
            typed = cell_text(raw)
            stage = self.stages.get(header_key(typed), "")
            if typed and not stage:
                message = f"“{typed}”不是可选的阶段，请从下拉列表中选择（{'、'.join(self.stages.values())}）"
                self.problem(message, sheet, ref, typed, indicator=ind.id)
                return Reported(ind.id, None, "", progress, issues, next_steps, ref, message)
            return Reported(ind.id, None, stage, progress, issues, next_steps, ref)
        if raw.__class__ is float and raw == raw and 0 <= raw < 1e15 and not _typed_as_percent(ind, raw, raw):
            # The common case, a plain number: what parse_value would do, without its detours.
            return Reported(ind.id, to_decimal(raw), "", progress, issues, next_steps, ref)
        parsed = parse_value(raw, ind.unit_of_measure)
        if parsed.error:
            self.problem(parsed.error, sheet, ref, cell_text(raw), indicator=ind.id)
            return Reported(ind.id, None, "", progress, issues, next_steps, ref, parsed.error)
        value = parsed.value
        if parsed.notice:
            self.problem(parsed.notice, sheet, ref, cell_text(raw), Severity.NOTICE, ind.id)
        elif _typed_as_percent(ind, raw, value):
            # Excel turns “96.4%” typed into a cell into 0.964: the register counts in percent numbers.
            value = tidy(value * 100)
            how = "填写的是" if isinstance(raw, str) else "按百分比格式保存为"
            self.problem(f"该单元格{how} {cell_text(raw)}，本指标按百分数填写（{ind.target} 表示 {ind.target}%），"
                         f"已按 {value} 读取（即 {value}%），请核对", sheet, ref, cell_text(raw), Severity.NOTICE, ind.id)
        return Reported(ind.id, value, "", progress, issues, next_steps, ref)

    def _target_untouched(self, ind, raw, sheet: str, ref: str) -> None:
        if ind.target is None or raw == "" or (raw.__class__ is float and raw == float(ind.target)):
            return
        if cell_text(raw) == "":
            return
        typed = parse_value(raw, ind.unit_of_measure).value
        if typed != ind.target:
            self.problem(f"年度目标值被改成了“{cell_text(raw)}”，已按任务台账的 {ind.target} 计算",
                         sheet, ref, cell_text(raw), Severity.NOTICE, ind.id)

    def _funds(self, sub: Submission, view, rows, col: int | None, top: int, left: int,
               task_rows: dict[str, list[int]]) -> dict[str, str]:
        """累计拨付资金 from the first row of each task; returns the empty funds cells (cell → task)."""
        if col is None:
            return {}
        empty: dict[str, str] = {}
        funded = {t.id for t in view if t.planned_funds is not None}
        for task_id, task_row_numbers in task_rows.items():
            reports_funds = task_id in funded
            for position, r in enumerate(task_row_numbers):
                raw = rows[r][col] if col < len(rows[r]) else ""
                ref = cell_ref(top + r, left + col)
                if position or not reports_funds:
                    if cell_text(raw):
                        self.problem(f"任务 {task_id} 的累计拨付资金只在该任务第一行、且有年度计划资金时填写，"
                                     f"此处的“{cell_text(raw)}”未汇总", sub.sheet, ref, cell_text(raw), Severity.NOTICE)
                    continue
                if raw is None or raw == "":
                    empty[ref] = task_id
                    continue
                parsed = parse_value(raw, "万元")
                if parsed.error:
                    self.problem(f"任务 {task_id} 的累计拨付资金：{parsed.error}", sub.sheet, ref, cell_text(raw))
                elif parsed.value is not None:
                    if parsed.notice:
                        self.problem(parsed.notice, sub.sheet, ref, cell_text(raw), Severity.NOTICE)
                    sub.funds_paid[task_id] = (parsed.value, ref)
        return empty

    def _hidden_contents(self, sub: Submission, values: dict[str, str], funds: dict[str, str],
                         texts: dict[str, str], xml: bytes) -> None:
        """Input cells read as empty that hold an error value or a formula without its result."""
        found = hidden_contents(self.verdict.package, sub.sheet, set(values) | set(funds) | set(texts), xml)
        for ref, (kind, text) in found.items():
            if kind == MERGED:
                self.problem(f"单元格 {ref} 与 {text} 合并在了一起，合并后只保留 {text} 的内容，{ref} 按未填处理；"
                             f"如 {ref} 有内容，请取消合并后分别填写", sub.sheet, ref, severity=Severity.NOTICE,
                             indicator=values.get(ref) or texts.get(ref, ""))
                continue
            if ref in texts:
                self.problem(f"单元格中是{'错误值' if kind == ERROR else '没有保存结果的公式'}“{shown(text)}”，"
                             f"内容未能读出；请直接填写文字", sub.sheet, ref, text, indicator=texts[ref])
                continue
            if kind == ERROR:
                message = f"单元格中是错误值“{text}”（公式出错），不是数字；请改正公式或直接填写数字"
            else:
                message = (f"单元格中是公式“{text}”，但文件没有保存计算结果（可能用其他软件编辑过）；"
                           f"请在 Excel 或 WPS 中打开、确认显示出数值后重新保存，或直接填写数字")
            if ref in values:
                indicator_id = values[ref]
                sub.values[indicator_id] = sub.values[indicator_id]._replace(error=message)
                self.problem(message, sub.sheet, ref, text, indicator=indicator_id)
            else:
                self.problem(f"任务 {funds[ref]} 的累计拨付资金：{message}", sub.sheet, ref, text)

    def _shown_as_percent(self, sub: Submission, values: dict[str, Indicator], xml: bytes) -> None:
        """A value formatted as a percentage in an indicator not counted in %: Excel shows 85% for
        the 0.85 stored, and 0.85 户 is not what the department meant. Named, not used."""
        if not values:
            return
        for ref in sorted(percent_cells(self.verdict.package, sub.sheet, set(values), xml)):
            ind = values[ref]
            indicator_id = ind.id
            reported = sub.values[indicator_id]
            stored = reported.value
            message = (f"显示为 {tidy(stored * 100)}%，本指标单位是“{ind.unit_of_measure}”，不是百分比，未采用；"
                       f"请把单元格格式改为“常规”后填写{ind.unit_of_measure}数（年度目标 {ind.target}）")
            sub.values[indicator_id] = reported._replace(value=None, error=message)
            self.problem(message, sub.sheet, ref, f"{tidy(stored * 100)}%", indicator=indicator_id)

    def _sign_off(self, sub: Submission, meta: Meta, rows, top: int, left: int) -> None:
        """填报人, 联系电话, 审核人, 填报日期: where ``_meta`` says, else wherever their labels are."""
        places = {}
        for label, r in meta.sign_off.items():
            r, c = r - top, SIGN_OFF_LABEL_COLUMN - left
            if 0 <= r < len(rows) and 0 <= c < len(rows[r]) and cell_text(rows[r][c]) == label:
                places[label] = (r, SIGN_OFF_VALUE_COLUMN - left)
        if len(places) < len(SIGN_OFF_LABELS):
            places = self._find_sign_off(rows)
        for label, (r, c) in places.items():
            row = rows[r]
            filled = next(((cc, v) for cc, v in enumerate(row[c:], start=c) if cell_text(v)), None)
            if filled is None:
                continue
            sub.sign_off[label] = cell_text(filled[1])
            if label == "填报日期":
                self._filled_on(sub, filled[1], cell_ref(top + r, left + filled[0]))

    def _filled_on(self, sub: Submission, raw: object, ref: str) -> None:
        """填报日期 decides which of a unit's files is the newer: only a plausible date counts."""
        day = as_date(raw)
        text = cell_text(raw)
        # A report for 1-6月 2020 is filled in that year or within a year of the period's end.
        first = dt.date(self.period.year, 1, 1)
        last = min(dt.date.today() + dt.timedelta(days=1), dt.date(self.period.year + 1, self.period.month, 28))
        if day is None:
            self.problem(f"填报日期“{shown(text)}”不是日期，请填写如 {self.period.year}-07-05 的日期；"
                         f"比较同一单位的几份报表哪份较新时，改按文件修改时间", sub.sheet, ref, text, Severity.NOTICE)
        elif not first <= day <= last:
            when = "晚于今天" if day > dt.date.today() else "早于统计期所在年份" if day < first else "比统计期晚了一年以上"
            self.problem(f"填报日期 {day} {when}，请核对；比较同一单位的几份报表哪份较新时不采用这个日期",
                         sub.sheet, ref, text, Severity.NOTICE)
        else:
            sub.filled_on = day

    @staticmethod
    def _find_sign_off(rows) -> dict[str, tuple[int, int]]:
        places: dict[str, tuple[int, int]] = {}
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                label = header_key(value)
                if label in SIGN_OFF_LABELS and label not in places:
                    places[label] = (r, c + 1)
        return places


def _text(value: object) -> str:
    """``cell_text`` with the common case (text) first: this runs for every cell read."""
    return value.strip() if value.__class__ is str else cell_text(value)


def _typed_as_percent(ind, raw: object, value) -> bool:
    """A % indicator whose cell holds a fraction such as 0.964 (a percentage typed with its sign,
    or the fraction typed as text) while the target is a percent number."""
    typed = isinstance(raw, float) or isinstance(raw, str) and "%" not in raw and "％" not in raw
    return (ind.unit_of_measure == "%" and typed and value is not None
            and ind.target is not None and ind.target > 2 and 0 < value <= 1.5)
