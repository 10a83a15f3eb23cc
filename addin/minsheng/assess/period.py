"""One period's consolidation (汇总): every indicator judged once, and the period's result.

An indicator is judged once, with the others of its project (``judge_project``: a lead unit's part
of a task), into everything any output shows: status, rates, flags, its rows, its words and the
sentence computed beside them. Work is done where the data is: the worker process that read a
unit's file also judges that unit's projects (``Judge``), and only the small result travels back. ``consolidate`` then makes one pass over
the register in order, task by task: it takes each indicator's row from its unit's result (or
judges it here, for a unit that sent nothing), hands the rows to the sinks (the workbook and CSV
writer, the ledger; a unit's consecutive rows as one slice of its worker's file) and adds them to
the roll-ups; then lets them go.

What stays is small: the roll-ups, the problem list, the files received, the lagging indicators
(sorted on disk), and the ``PeriodResult`` the circular is written from.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple, Protocol

from ..config import Thresholds
from ..intake.collect import Collection, Received
from ..intake.reader import FileResult
from ..model import IndicatorType, Period, Problem, Severity, Status, Submission, Task
from ..numbers import format_amount, shown
from ..register.cache import Place, Register
from ..spool import Scratch
from .lagging import ATTENTION, Lagging, LaggingList
from .result import PeriodResult, Project, Replay
from .rollup import GroupSummary, Programme, RollUp, capped
from .status import Assessment, Previous, Rules, assess, sibling_names
from .words import Said


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


_STATUS = {status.value: status for status in Status}


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
        return JudgedRow(self.unit, _STATUS[self.statuses[i]], self.shares[i], self._slice(files, i, i),
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
    circular keeps the department's words and adds no second figure."""
    ind, rep, stated = a.indicator, a.reported, a.stated
    value = format_amount(a.value, ind.unit_of_measure)
    if ind.type in (IndicatorType.RATE, IndicatorType.CEILING):
        found = f"写的是{stated}，填报的本期数值却是{value}"
    else:
        found = f"写的是完成{stated}，按填报的本期累计完成（{value}）计算的完成率是{a.rate_percent}%"
    message = (f"指标 {ind.id} 的“进展情况”{found}，两者不一致；请与报送单位核对数字或文字"
               f"（通报照录单位原文，不再另附计算的数字）")
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


class Sink(Protocol):
    """Something that takes the rows of 指标明细 in register order, a run at a time (the outputs, the ledger)."""

    def add(self, rows: Rows) -> None: ...


class PreviousOf(Protocol):
    def __call__(self, unit: str) -> Mapping[str, Previous]: ...


@dataclass(frozen=True)
class RunCounts:
    """每次汇总的台账: what one run read, accepted and left out."""

    files_read: int
    files_accepted: int
    files_rejected: int  # refused, or a unit's older duplicate
    indicators_accepted: int
    problems: int
    errors: int
    units_missing: int


class ProjectWords:
    """What each project's sentences are made from (``JudgedRow.said``), kept on disk (a scratch
    database) until the circular or the record asks for them; read like ``LaggingList``."""

    def __init__(self, units: list[str]) -> None:
        self._unit = {unit: n for n, unit in enumerate(units)}
        self._scratch = Scratch("said (unit INTEGER, position INTEGER, task TEXT, said TEXT)", 4)

    def add(self, task_id: str, units: list[str], positions: range, said: list[str | None]) -> None:
        """A task's indicators' ``Said`` texts (None for a unit that sent nothing), one project a row."""
        if units.count(units[0]) == len(units):  # the usual case: one lead unit
            kept = [text for text in said if text is not None]
            if kept:
                self._scratch.add((self._unit[units[0]], positions[0], task_id, "[" + ",".join(kept) + "]"))
            return
        for unit in dict.fromkeys(units):
            kept = [text for u, text in zip(units, said) if u == unit and text is not None]
            if kept:
                self._scratch.add((self._unit[unit], positions[units.index(unit)], task_id, "[" + ",".join(kept) + "]"))

    def done(self) -> None:
        """Every project is in."""
        self._scratch.done()

    def projects(self, places: Iterable[tuple[str, str, str, str]]) -> Iterator[Project]:
        """The projects ``places`` names ((unit, task id, name, 年度目标任务), unit by unit in register
        order, as ``Register.iter_projects`` gives them), each with what its sentences are made of."""
        for unit, task_id, name, target, said in self.texts(places):
            yield Project(unit, task_id, name, target, tuple(Said(*fields) for fields in json.loads(said)))

    def texts(self, places: Iterable[tuple[str, str, str, str]]) -> Iterator[tuple[str, str, str, str, str]]:
        """As ``projects``, each project's ``Said``s as one JSON array (for the record, as they are)."""
        rows = self._scratch.read("SELECT unit, task, said FROM said ORDER BY unit, position")
        row = next(rows, None)
        for unit, task_id, name, target in places:
            if row is not None and row[1] == task_id and row[0] == self._unit[unit]:
                yield unit, task_id, name, target, row[2]
                row = next(rows, None)
            else:  # a unit that sent nothing
                yield unit, task_id, name, target, "[]"

    @property
    def path(self) -> str:
        """The scratch database's file (table ``said``: unit index, first position, task id, JSON)."""
        return self._scratch.path

    def close(self) -> None:
        self._scratch.close()


@dataclass
class Consolidation:
    """One consolidation: the period's result (``period_result``, what the circular says) and what
    the run read, for the outputs and the record."""

    register: Register
    period: Period
    collection: Collection
    previous_of: PreviousOf
    counts: RunCounts
    lagging: LaggingList
    words: ProjectWords
    period_result: PeriodResult
    notes: list[str] = field(default_factory=list)  # what the clerk must know about this run (Chinese)

    @property
    def units(self) -> list[GroupSummary]:
        """Ranked, best first."""
        return self.period_result.units

    @property
    def categories(self) -> list[GroupSummary]:
        return self.period_result.categories

    @property
    def programme(self) -> Programme:
        return self.period_result.programme

    @property
    def generated_at(self) -> dt.datetime:
        return self.period_result.generated_at

    @property
    def received(self) -> list[Received]:
        return self.collection.received

    @property
    def problems(self) -> list[Problem]:
        return self.collection.problems

    @property
    def missing_units(self) -> list[GroupSummary]:
        """未报送单位, in register order."""
        return self.period_result.missing_units


def consolidate(register: Register, collection: Collection, period: Period, thresholds: Thresholds,
                stages: tuple[tuple[str, Decimal], ...],
                previous: Mapping[str, Previous] | PreviousOf | None = None,
                *, renderer: RendererFor, sinks: tuple[Sink, ...] = (), files: RowFiles | None = None) -> Consolidation:
    """One pass over the register: every indicator's row to the sinks and into the roll-ups.
    ``files`` are where the workers wrote the rows they judged (see ``Judge``)."""
    rules = Rules.of(thresholds, stages)
    previous_of = _previous_of(previous)
    here = _JudgeHere(register, collection, period, rules, previous_of, renderer)
    roll = RollUp(register.units, period)
    lagging = LaggingList()
    out = _Runs(sinks, files)
    said = ProjectWords(register.units)
    accepted = 0
    notes: list[tuple[tuple, str]] = []
    for task in register.iter_places():
        run = _run_of(task, collection)
        if run is not None:  # the usual case: one slice of the lead unit's judged rows
            judged, start, end = run
            made = _Made.of_run(judged, start, end, task.positions)
            out.take(judged, start, end)
        else:
            rows = [_row_of(task.task_id, position, unit, collection, files, here)
                    for position, unit in zip(task.positions, task.units)]
            made = _Made.of_rows(rows)
            out.add(Rows.of(rows))
        roll.add(task.category, task.planned_funds, task.first_lead, task.units, made.statuses, made.shares,
                 _paid(task, collection))
        accepted += sum(1 for entry in made.ledger if entry is not None)
        for position, entry in zip(task.positions, made.lagging):
            if entry is not None:
                lagging.add(entry, position)
        said.add(task.task_id, task.units, task.positions, made.said)
        notes += [note for note in made.notes if note is not None]
    out.flush()
    known = set(collection.problems)  # consolidating the same collection again adds nothing twice
    collection.problems += [p for p in (Problem(*fields) for fields, _ in notes) if p not in known]
    units = roll.units(collection.chosen)
    programme = roll.programme(units)
    received = collection.received
    files_accepted = sum(1 for r in received if r.outcome == "采用")
    counts = RunCounts(
        files_read=len(received), files_accepted=files_accepted, files_rejected=len(received) - files_accepted,
        indicators_accepted=accepted, problems=len(collection.problems),
        errors=sum(1 for p in collection.problems if p.severity is Severity.ERROR),
        units_missing=programme.units_missing)
    said.done()  # read from here on, by the workbook's and the record's threads
    lagging.done()
    result = PeriodResult(
        period, dt.datetime.now().replace(microsecond=0), register.fingerprint, units, roll.categories(), programme,
        list(register.units), lagging,
        Replay(lambda: said.projects(register.iter_projects())),
        {u.name: refused for u in units if not u.submitted and (refused := collection.refused_files(u.name))},
        [phrase for _, phrase in notes], [(r.name, r.modified) for r in received])
    return Consolidation(register, period, collection, previous_of, counts, lagging, said, result)


class _Made(NamedTuple):
    """A task's indicators as judged, column by column, whichever way they were made."""

    statuses: list[Status]
    shares: list[tuple[int, int]]
    ledger: list[tuple | None]
    lagging: list[tuple | None]
    said: list[str | None]
    notes: list[tuple | None]

    @classmethod
    def of_run(cls, judged: Judged, start: int, end: int, positions: range) -> _Made:
        return cls([_STATUS[status] for status in judged.statuses[start:end]], judged.shares[start:end],
                   judged.ledger[start:end], judged.lagging[start:end], [judged.said.get(p) for p in positions],
                   [judged.notes.get(p) for p in positions] if judged.notes else [None] * len(positions))

    @classmethod
    def of_rows(cls, rows: list[JudgedRow]) -> _Made:
        return cls([row.status for row in rows], [row.share for row in rows], [row.ledger for row in rows],
                   [row.lagging for row in rows], [row.said for row in rows], [row.note for row in rows])


def _row_of(task_id: str, position: int, unit: str, collection: Collection, files: RowFiles | None,
            here: _JudgeHere) -> JudgedRow:
    """An indicator's row from its unit's judged rows, else judged here (a unit that sent nothing,
    or one its worker could not judge)."""
    judged = collection.made(unit)
    row = judged.row(position, files) if judged is not None else None
    return row if row is not None else here.row(task_id, position, unit)


def _run_of(task: Place, collection: Collection) -> tuple[Judged, int, int] | None:
    """Where the task's rows are, when they are one run of its lead unit's judged rows: that
    unit's ``Judged`` and the run's start and end (exclusive) in it. None for a task of several
    lead units, or one with rows to judge here."""
    unit, count = task.units[0], len(task.units)
    if task.units.count(unit) != count:
        return None
    judged = collection.made(unit)
    start = judged.index(task.first) if judged is not None else None
    if start is None or start + count > len(judged.positions):
        return None
    # A unit's positions rise, so the first and the last decide.
    return (judged, start, start + count) if judged.positions[start + count - 1] == task.first + count - 1 else None


def _paid(task: Place, collection: Collection) -> Decimal | None:
    """累计拨付资金 the task's first lead unit reported, for a task with planned funds."""
    if task.planned_funds is None:
        return None
    judged = collection.made(task.first_lead)
    if judged is not None:
        return judged.funds_paid.get(task.task_id)
    sub = collection.submission(task.first_lead)
    entry = sub.funds_paid.get(task.task_id) if sub is not None else None
    return entry[0] if entry else None


class _Runs:
    """Hands rows to the sinks: consecutive rows of one unit's judged rows go as one slice of its
    worker's file (a unit's tasks usually follow one another in the register)."""

    def __init__(self, sinks: tuple[Sink, ...], files: RowFiles | None):
        self.sinks, self.files = sinks, files
        self._judged: Judged | None = None
        self._start = self._end = 0

    def take(self, judged: Judged, start: int, end: int) -> None:
        if judged is not self._judged or start != self._end:
            self.flush()
            self._judged, self._start = judged, start
        self._end = end

    def add(self, rows: Rows) -> None:
        self.flush()
        self._send(rows)

    def flush(self) -> None:
        if self._judged is not None:
            self._send(self._judged.block(self._start, self._end, self.files))
            self._judged = None

    def _send(self, rows: Rows) -> None:
        for sink in self.sinks:
            sink.add(rows)


class _JudgeHere:
    """Judges, in this process, the projects no worker judged: those of units that sent nothing,
    or whose worker could not judge them. A project at a time, as a worker does."""

    def __init__(self, register: Register, collection: Collection, period: Period, rules: Rules, previous_of,
                 renderer: RendererFor):
        self.register, self.collection, self.period, self.rules = register, collection, period, rules
        self.previous_of = previous_of
        self.renderer = renderer(register.extra_columns)
        self._project: tuple[str, str] | None = None
        self._rows: dict[int, JudgedRow] = {}

    def row(self, task_id: str, position: int, unit: str) -> JudgedRow:
        if self._project != (unit, task_id):
            task = next(task for task in self.register.tasks_of(unit) if task.id == task_id)
            rows = judge_project(task, self.collection.submission(unit), self.period, self.rules,
                                 self.previous_of(unit), self.renderer, self.collection.sha256(unit))
            self._rows = {ind.position: row for ind, row in zip(task.indicators, rows)}
            self._project = (unit, task_id)
        return self._rows[position]


def _previous_of(previous) -> PreviousOf:
    if previous is None:
        return lambda unit: {}
    if callable(previous):
        return previous
    return lambda unit: previous
