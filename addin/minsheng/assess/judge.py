"""The one judgement (研判) of a project: one lead unit's part of a task, judged where its file was
read into everything any output shows — status, rates, flags, its 指标明细 and 滞后任务 rows, what
its sentence in the circular is made from, and the phrase for a figure its words contradict.

``Judge`` does it in the worker process that read a unit's file, writing the rendered rows to the
worker's own file (``RowFiles``) and sending back only a small ``Judged``; ``period`` does the same
for a unit that sent nothing, with the same ``judge_project``.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple, Protocol

from ..intake.reader import FileResult
from ..model import IndicatorType, Period, Severity, Status, Submission, Task
from ..numbers import format_amount, shown
from ..register.cache import Register
from .lagging import ATTENTION, Lagging, LaggingList
from .rollup import capped
from .status import Assessment, Previous, Rules, assess, sibling_names
from .words import Said


class PreviousOf(Protocol):
    def __call__(self, unit: str) -> Mapping[str, Previous]: ...


class JudgedRow(NamedTuple):
    """One indicator, judged and rendered: what the outputs, the ledger and the roll-ups take."""

    unit: str
    status: Status
    share: tuple[int, int]  # completion capped at 100%, for the means
    xml: bytes  # its 指标明细 row, UTF-8
    csv: bytes  # its line of the CSV, UTF-8
    ledger: tuple | None  # its accepted value, for the ledger; None when nothing was accepted
    lagging: tuple[int, float, bytes, bytes] | None  # if it lags: as ``LaggingList.add`` takes it
    said: str | None = None  # what its sentence in the circular is made from (``Said.text``; a submitted unit's only)
    note: tuple[tuple, str] | None = None  # its words disagree with its figures: a ``Problem``'s fields,
    # and the circular's phrase for whoever signs it


class Rows(NamedTuple):
    """Consecutive rows of 指标明细, as the sinks take them."""

    xml: bytes  # their sheet rows, one after another
    csv: bytes  # their CSV lines
    count: int
    ledger: list[tuple]  # the accepted values among them, for the ledger

    @classmethod
    def of(cls, rows: list[JudgedRow]) -> Rows:
        return cls(b"".join(row.xml for row in rows), b"".join(row.csv for row in rows), len(rows),
                   [row.ledger for row in rows if row.ledger is not None])


STATUS = {status.value: status for status in Status}  # a status from its text, as ``Judged`` keeps it


class RowFiles:
    """Where worker processes write the rows they render: one file each, in a folder of the run's
    own, read back here a unit at a time. A row's text never travels through a pipe or a pickle."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="minsheng-rows-"))
        self._files: dict[str, object] = {}

    def read(self, key: str, start: int, end: int) -> bytes:
        handle = self._files.get(key)
        if handle is None:
            handle = self._files[key] = open(self.folder / key, "rb")
        handle.seek(start)
        return handle.read(end - start)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class Judged:
    """A unit's indicators judged and rendered where its file was read, kept column by column.
    The rendered rows are in the worker's file (``key``), at the offsets in ``spans``; what travels
    back is plain numbers and short strings."""

    def __init__(self, unit: str, funds_paid: dict[str, Decimal], key: str):
        self.unit = unit
        self.funds_paid = funds_paid  # task id → 累计拨付资金 the unit reported
        self.key = key
        self.positions: list[int] = []
        self.statuses: list[str] = []
        self.shares: list[tuple[int, int]] = []
        self.spans: list[int] = []  # offset and length: of every row's XML, then of every CSV line
        self.ledger: list[tuple | None] = []
        self.lagging: list[tuple | None] = []
        self.said: dict[int, str] = {}  # by position: the rows of a submitted unit
        self.notes: dict[int, tuple] = {}  # by position: the few rows with a note
        self._index: dict[int, int] | None = None
        self._text: bytes | None = None

    def __getstate__(self) -> tuple:
        return (self.unit, self.funds_paid, self.key, self.positions, self.statuses, self.shares, self.spans,
                self.ledger, self.lagging, self.said, self.notes)

    def __setstate__(self, state: tuple) -> None:
        (self.unit, self.funds_paid, self.key, self.positions, self.statuses, self.shares, self.spans,
         self.ledger, self.lagging, self.said, self.notes) = state
        self._index = None
        self._text: bytes | None = None

    def add(self, position: int, row: JudgedRow) -> None:
        """Record a row (``texts`` then says where its XML and CSV are written)."""
        self.positions.append(position)
        self.statuses.append(row.status.value)
        self.shares.append(row.share)
        self.ledger.append(row.ledger)
        self.lagging.append(row.lagging)
        if row.said is not None:
            self.said[position] = row.said
        if row.note is not None:
            self.notes[position] = row.note

    def texts(self, rows: list[JudgedRow], offset: int) -> list[bytes]:
        """The rows' texts as the worker writes them at ``offset``: every XML row, then every CSV
        line, so that a run of rows is one slice of each."""
        texts = [row.xml for row in rows] + [row.csv for row in rows]
        for text in texts:
            self.spans += (offset, len(text))
            offset += len(text)
        return texts

    def index(self, position: int) -> int | None:
        if self._index is None:
            self._index = {p: i for i, p in enumerate(self.positions)}
        return self._index.get(position)

    def _slice(self, files: RowFiles, first: int, last: int) -> bytes:
        """Text from span ``first`` to span ``last`` (inclusive), read once per unit."""
        spans = self.spans
        if self._text is None:  # the unit's rows lie together in the worker's file: one read
            self._text = files.read(self.key, spans[0], spans[-2] + spans[-1])
        base = spans[0]
        return self._text[spans[2 * first] - base:spans[2 * last] - base + spans[2 * last + 1]]

    def block(self, start: int, end: int, files: RowFiles) -> Rows:
        """Rows ``start`` to ``end`` (exclusive) as the sinks take them."""
        n = len(self.positions)
        return Rows(self._slice(files, start, end - 1), self._slice(files, n + start, n + end - 1), end - start,
                    [entry for entry in self.ledger[start:end] if entry is not None])

    def row(self, position: int, files: RowFiles) -> JudgedRow | None:
        i = self.index(position)
        if i is None:
            return None
        n = len(self.positions)
        return JudgedRow(self.unit, STATUS[self.statuses[i]], self.shares[i], self._slice(files, i, i),
                         self._slice(files, n + i, n + i), self.ledger[i], self.lagging[i], self.said.get(position),
                         self.notes.get(position))


class RowRenderer(Protocol):
    """Writes a judged indicator's rows as the outputs want them. The report's business
    (``report.detail.Renderer``), passed in, so that judging knows nothing of sheets."""

    def indicator(self, a: Assessment, task: Task) -> tuple[bytes, bytes, tuple]:
        """Its 指标明细 row as sheet XML and as a CSV line, and (完成率, 时序进度, 差距) as shown there."""

    def lagging(self, item: Lagging) -> bytes:
        """Its 滞后任务 row as sheet XML (``LaggingList`` puts the rows in order)."""


RendererFor = Callable[[tuple[str, ...]], RowRenderer]  # the register's extra columns → a renderer


def judge_project(task: Task, sub: Submission | None, period: Period, rules: Rules,
                  previous: Mapping[str, Previous], renderer: RowRenderer, sha256: str = "") -> list[JudgedRow]:
    """The one judgement of a project: one lead unit's part of a task (as ``Register.tasks_of`` gives
    it), from that unit's accepted submission or none. Every output renders these rows."""
    others = sibling_names(task)
    assessments = [assess(ind, sub.values.get(ind.id) if sub else None, sub is not None, period, rules,
                          ind.deadline, previous.get(ind.id), sub.name if sub else "", others)
                   for ind in task.indicators]
    sheet = sub.sheet if sub else ""
    return [_row(a, task, renderer, sha256, sheet, Said.of(a).text() if sub is not None else None)
            for a in assessments]


def _row(a: Assessment, task: Task, renderer: RowRenderer, sha256: str, sheet: str, said: str | None) -> JudgedRow:
    """Everything the outputs need from one assessment."""
    xml, line, shown_figures = renderer.indicator(a, task)
    return JudgedRow(a.indicator.lead_unit, a.status, capped(a), xml, line, ledger_row(a, sha256),
                     _lagging(a, task.name, shown_figures, renderer) if a.status in ATTENTION else None,
                     said,
                     _mismatch_note(a, sheet) if a.stated else None)


def _lagging(a: Assessment, task_name: str, shown_figures: tuple, renderer: RowRenderer) -> tuple[int, float, bytes, bytes]:
    """A lagging indicator as ``LaggingList`` stores it; the shown figures are those of its
    指标明细 row rather than worked out a second time."""
    ind, rep = a.indicator, a.reported
    item = Lagging(ind.lead_unit, ind.task_id, task_name, ind.id, ind.name, ind.unit_of_measure, ind.type,
                   ind.target, a.value, a.stage, *shown_figures, a.status,
                   rep.progress if rep else "", rep.issues if rep else "", rep.next_steps if rep else "")
    return LaggingList.entry(item, renderer.lagging(item))


def _mismatch_note(a: Assessment, sheet: str) -> tuple[tuple, str]:
    """文字与数据不符, for the clerk (a problem) and for whoever signs the circular (a phrase): the
    circular adds no second figure; the internal one marks the department's figure 待核实, the
    public one leaves its sentence out (``words``)."""
    ind, rep, stated = a.indicator, a.reported, a.stated
    value = format_amount(a.value, ind.unit_of_measure)
    if ind.type in (IndicatorType.RATE, IndicatorType.CEILING):
        found = f"写的是{stated}，填报的本期数值却是{value}"
    else:
        found = f"写的是完成{stated}，按填报的本期累计完成（{value}）计算的完成率是{a.rate_percent}%"
    message = (f"指标 {ind.id} 的“进展情况”{found}，两者不一致；请与报送单位核对数字或文字"
               f"（通报不另附计算的数字：内部版在原文该数字后注明“待核实”，公开版不刊登该句）")
    computed = value if ind.type in (IndicatorType.RATE, IndicatorType.CEILING) else f"完成率{a.rate_percent}%"
    return ((a.source, message, sheet, rep.cell, Severity.NOTICE, shown(rep.progress, 200), ind.id),
            f"{ind.lead_unit}“{ind.name}”（原文{stated}，核算{computed}）")


def ledger_row(a: Assessment, sha256: str) -> tuple | None:
    """The ledger's record of an accepted value (without period and run), or None."""
    if a.reported is None or a.value is None:
        return None
    # For 里程碑 the value is the stage's percent, so the next period can compare with it.
    return (a.indicator.id, a.indicator.lead_unit, str(a.value), a.stage, a.status.value, a.source, "填报",
            a.reported.cell, sha256)


@dataclass
class Judge:
    """Judges a unit's file where it was read (a worker process): every indicator of the unit,
    judged and rendered, the rows written to the worker's own file in ``rows``. Pickled into
    spawned workers; builds what it needs once per process."""

    register: Register
    period: Period
    rules: Rules
    previous: Callable[[], PreviousOf]  # opens 上期's values where it runs (the record's reader, passed in)
    renderer: RendererFor  # the report's row writer, made where it runs
    rows: Path  # the run's ``RowFiles.folder``

    def __post_init__(self) -> None:
        self._pid = -1

    def __getstate__(self) -> dict:
        return {"register": self.register, "period": self.period, "rules": self.rules, "previous": self.previous,
                "renderer": self.renderer, "rows": self.rows}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._pid = -1

    def _ready(self) -> None:
        if self._pid != os.getpid():
            self._renderer = self.renderer(self.register.extra_columns)
            self._previous = self.previous()
            self._key = f"rows-{os.getpid()}-{uuid.uuid4().hex[:8]}.bin"
            self._out = open(self.rows / self._key, "wb")
            self._offset = 0
            self._pid = os.getpid()

    def __call__(self, result: FileResult) -> None:
        """Add the judged rows to a file's result (they are made again in the main process if
        anything goes wrong here)."""
        sub = result.submission
        if sub is None:
            return
        try:
            # Pickled here, once: the main process puts these bytes in its spool as they are.
            result.made = pickle.dumps(self.judge(sub, result.sha256), pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - the main process judges this unit itself
            result.made = None
            return
        result.spooled = pickle.dumps(sub, pickle.HIGHEST_PROTOCOL)
        result.submission = replace(sub, values={})  # what choosing among files needs, and no more

    def judge(self, sub: Submission, sha256: str) -> Judged:
        self._ready()
        previous = self._previous(sub.unit)
        judged = Judged(sub.unit, {task_id: value for task_id, (value, _) in sub.funds_paid.items()}, self._key)
        rows: list[JudgedRow] = []
        for task in self.register.tasks_of(sub.unit):
            project = judge_project(task, sub, self.period, self.rules, previous, self._renderer, sha256)
            for ind, row in zip(task.indicators, project):
                judged.add(ind.position, row)
            rows += project
        data = b"".join(judged.texts(rows, self._offset))
        self._out.write(data)
        self._out.flush()  # before the result goes back: the main process reads the file
        self._offset += len(data)
        return judged
