"""One period's consolidated result (汇总结果): the engine applied to what was collected.

Pure: it takes the register, the collected submissions and the previous period's values, and
returns everything the outputs (workbook, CSV, ledger, circular) need.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from .collect import Collection, Received
from .config import Thresholds
from .engine import (Assessment, GroupSummary, Previous, Programme, TaskSummary, assess_all,
                     summarize_categories, summarize_programme, summarize_tasks, summarize_units)
from .model import Period, Problem, Register, Severity, Status, Submission

ATTENTION = (Status.SEVERELY_LAGGING, Status.LAGGING, Status.NOT_STARTED, Status.NOT_MET)


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
    assessments: list[Assessment]
    tasks: list[TaskSummary]
    units: list[GroupSummary]  # ranked, best first
    categories: list[GroupSummary]
    programme: Programme
    submissions: dict[str, Submission]
    received: list[Received]
    problems: list[Problem]
    counts: RunCounts
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    notes: list[str] = field(default_factory=list)  # what the clerk must know about this run (Chinese)

    @property
    def attention(self) -> list[Assessment]:
        """滞后任务: indicators behind schedule or below target, the largest gap first."""
        items = [a for a in self.assessments if a.status in ATTENTION]
        return sorted(items, key=lambda a: (ATTENTION.index(a.status), -(a.gap or 0)))

    @property
    def missing_units(self) -> list[GroupSummary]:
        """未报送单位, in register order."""
        order = {unit: i for i, unit in enumerate(self.register.units)}
        return sorted((u for u in self.units if not u.submitted), key=lambda u: order[u.name])


def consolidate(register: Register, collection: Collection, period: Period, thresholds: Thresholds,
                stages: tuple[tuple[str, Decimal], ...],
                previous: dict[str, Previous] | None = None) -> Consolidation:
    submissions = collection.submissions
    assessments = assess_all(register, submissions, period, thresholds, stages, previous)
    tasks = summarize_tasks(register, assessments, submissions)
    units = summarize_units(register, assessments, tasks, submissions)
    programme = summarize_programme(period, tasks, assessments, units)
    accepted = sum(1 for r in collection.received if r.outcome == "采用")
    counts = RunCounts(
        files_read=len(collection.received), files_accepted=accepted,
        files_rejected=len(collection.received) - accepted,
        indicators_accepted=sum(1 for a in assessments if a.value is not None),
        problems=len(collection.problems),
        errors=sum(1 for p in collection.problems if p.severity is Severity.ERROR),
        units_missing=programme.units_missing)
    return Consolidation(register, period, thresholds, assessments, tasks, units,
                         summarize_categories(register, assessments), programme, submissions,
                         collection.received, collection.problems, counts)
