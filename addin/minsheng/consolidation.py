"""One period's consolidated result (汇总结果): the engine applied to what was collected.

``consolidate`` makes one pass over the register, task by task: each task is judged, handed to the
sinks (the workbook and CSV writer, the ledger) and added to the roll-ups; then it is let go. What
stays is small: the roll-ups, the problem list, the files received, and the few handles needed to
judge any unit again (the circular and the tests ask for assessments after the pass).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Iterator, Mapping, Protocol

from .collect import Collection, Received
from .config import Thresholds
from .engine import (Assessment, GroupSummary, Previous, Programme, RollUp, Rules, TaskSummary,
                     assess_tasks)
from .model import Period, Problem, Severity, Status
from .registerdb import Register
from .spool import Slot, Spool

ATTENTION = (Status.SEVERELY_LAGGING, Status.LAGGING, Status.NOT_STARTED, Status.NOT_MET)


@dataclass(frozen=True)
class Lagging:
    """滞后任务: an indicator behind schedule or below target, with its task's name."""

    assessment: Assessment
    task_name: str


class Sink(Protocol):
    """Something that takes the judged tasks as they come (the outputs, the ledger)."""

    def add(self, summary: TaskSummary) -> None: ...


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


@dataclass
class Consolidation:
    register: Register
    period: Period
    thresholds: Thresholds
    rules: Rules
    collection: Collection
    previous_of: PreviousOf
    units: list[GroupSummary]  # ranked, best first
    categories: list[GroupSummary]
    programme: Programme
    counts: RunCounts
    attention_slots: list[tuple[tuple, Slot]]  # (sort key, where the assessment waits), in order
    attention_spool: Spool
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    notes: list[str] = field(default_factory=list)  # what the clerk must know about this run (Chinese)

    @property
    def received(self) -> list[Received]:
        return self.collection.received

    @property
    def problems(self) -> list[Problem]:
        return self.collection.problems

    @property
    def submissions(self):
        return self.collection.submissions

    def iter_tasks(self) -> Iterator[TaskSummary]:
        """Every task judged again, in register order (the pass ``consolidate`` made, repeated)."""
        return assess_tasks(self.register, self.collection.submission, self.period, self.rules, self.previous_of)

    def iter_assessments(self) -> Iterator[Assessment]:
        for summary in self.iter_tasks():
            yield from summary.assessments

    @cached_property
    def assessments(self) -> list[Assessment]:
        """Every indicator's assessment (all of them in memory: for offices and tests)."""
        return list(self.iter_assessments())

    @cached_property
    def tasks(self) -> list[TaskSummary]:
        return list(self.iter_tasks())

    def iter_attention(self) -> Iterator[Lagging]:
        """滞后任务: indicators behind schedule or below target, the most serious and largest gap first."""
        for _, slot in self.attention_slots:
            yield self.attention_spool.get(slot)

    @property
    def attention(self) -> list[Assessment]:
        return [lagging.assessment for lagging in self.iter_attention()]

    @property
    def missing_units(self) -> list[GroupSummary]:
        """未报送单位, in register order."""
        order = {unit: i for i, unit in enumerate(self.register.units)}
        return sorted((u for u in self.units if not u.submitted), key=lambda u: order[u.name])


def _attention_key(a: Assessment, position: int) -> tuple:
    gap = a.gap
    return ATTENTION.index(a.status), -float(gap if gap is not None else 0), position


def consolidate(register: Register, collection: Collection, period: Period, thresholds: Thresholds,
                stages: tuple[tuple[str, Decimal], ...],
                previous: Mapping[str, Previous] | PreviousOf | None = None,
                sinks: tuple[Sink, ...] = ()) -> Consolidation:
    """Judge every task once, feeding ``sinks``, and keep only the roll-ups."""
    rules = Rules.of(thresholds, stages)
    previous_of = _previous_of(previous)
    roll = RollUp(register.units, period)
    attention_spool = Spool()
    attention: list[tuple[tuple, Slot]] = []
    accepted = position = 0
    for summary in assess_tasks(register, collection.submission, period, rules, previous_of):
        roll.add(summary)
        for sink in sinks:
            sink.add(summary)
        for a in summary.assessments:
            position += 1
            if a.value is not None:
                accepted += 1
            if a.status in ATTENTION:
                slot = attention_spool.add(Lagging(a, summary.task.name))
                attention.append((_attention_key(a, position), slot))
    attention.sort(key=lambda item: item[0])
    units = roll.units(collection.chosen)
    programme = roll.programme(units)
    received = collection.received
    files_accepted = sum(1 for r in received if r.outcome == "采用")
    counts = RunCounts(
        files_read=len(received), files_accepted=files_accepted, files_rejected=len(received) - files_accepted,
        indicators_accepted=accepted, problems=len(collection.problems),
        errors=sum(1 for p in collection.problems if p.severity is Severity.ERROR),
        units_missing=programme.units_missing)
    return Consolidation(register, period, thresholds, rules, collection, previous_of, units,
                         roll.categories(), programme, counts, attention, attention_spool)


def _previous_of(previous) -> PreviousOf:
    if previous is None:
        return lambda unit: {}
    if callable(previous):
        return previous
    return lambda unit: previous
