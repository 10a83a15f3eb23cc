"""One period's consolidation (汇总): one pass over the register, and the period's result.

Each indicator is judged once, with the others of its project (``judge``: in the worker that read
its unit's file, or here for a unit that sent nothing). ``consolidate`` then makes one pass over
the register in order, task by task: it takes each indicator's row from its unit's judged rows (or
judges its project here), hands the rows to the sinks (the workbook and CSV writer, the ledger; a
unit's consecutive rows as one slice of its worker's file) and adds them to the roll-ups; then
lets them go.

What stays is small: the roll-ups, the problem list, the files received, the lagging indicators
and what each project's sentences are made from (both on disk), and the ``PeriodResult`` the
circular is written from.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple, Protocol

from ..config import Thresholds
from ..intake.collect import Collection, Received
from ..model import Period, Problem, Severity, Status
from ..register.cache import Place, Register
from ..spool import Scratch
from .judge import (
    STATUS,
    Judged,
    JudgedRow,
    PreviousOf,
    RendererFor,
    RowFiles,
    Rows,
    judge_project,
)
from .lagging import LaggingList
from .result import PeriodResult, Project, Replay
from .rollup import GroupSummary, Programme, RollUp
from .status import Previous, Rules
from .words import Said


class Sink(Protocol):
    """Something that takes the rows of 指标明细 in register order, a run at a time (the outputs, the ledger)."""

    def add(self, rows: Rows) -> None: ...


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

    # Every project (unit, task id, name, 年度目标任务, its Said as a JSON array; "[]" for a unit that
    # sent nothing), unit by unit in register order: the annex's rows. Over the register's cache
    # attached as ``reg`` and this database as ``words``; the record copies the same rows.
    PROJECTS = ("SELECT i.lead_unit, t.id, t.name, t.annual_target, COALESCE(s.said, '[]') "
                "FROM reg.indicators i JOIN reg.tasks t ON i.task = t.position "
                "JOIN reg.units u ON u.name = i.lead_unit LEFT JOIN words.said s ON s.unit = u.position AND s.task = t.id "
                "GROUP BY i.lead_unit, t.position ORDER BY MIN(u.position), t.position")

    def projects(self, register: Path) -> Iterator[Project]:
        """``PROJECTS``, over the register cache ``register``, each with what its sentences are made of."""
        with closing(sqlite3.connect(":memory:")) as db:
            db.execute("ATTACH DATABASE ? AS words", (self.path,))
            db.execute("ATTACH DATABASE ? AS reg", (str(register),))
            for unit, task_id, name, target, said in db.execute(self.PROJECTS):
                yield Project(unit, task_id, name, target, tuple(Said(*fields) for fields in json.loads(said)))

    @property
    def path(self) -> str:
        """The scratch database's file (table ``said``: unit index, first position, task id, JSON)."""
        return self._scratch.path



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
    # 更正记录: what differs from the period's previous revision (``record.revisions.Correction``s,
    # filled in by whoever records the run, before the outputs are finished)
    corrections: list[tuple] = field(default_factory=list)

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
        Replay(lambda: said.projects(register.store)),
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
        return cls([STATUS[status] for status in judged.statuses[start:end]], judged.shares[start:end],
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
