"""The completion engine (SPEC §5): 完成率, 状态, 标记 and roll-ups. Pure functions, no files.

Every comparison is made on exact ``Fraction``s; only what is shown is rounded (half-up, one
decimal). 25088 of 25100 shows as 100.0% and is still not 已完成.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from .config import Thresholds
from .model import (STATUS_ORDER, Flag, Indicator, IndicatorType, Period, Register, Reported, Status,
                    Submission, Task)
from .numbers import format_amount, format_percent, percent

_TEXT_PERCENT = re.compile(r"完成[^,，。;；]*?(\d+(?:\.\d+)?)\s*[%％]")


@dataclass(frozen=True)
class Previous:
    """上期: what the ledger holds for an indicator from the latest earlier period."""

    period: Period
    value: Decimal  # for 里程碑 the stage's percent


@dataclass(frozen=True)
class Assessment:
    """指标评估: one indicator's value judged against its target and the schedule."""

    indicator: Indicator
    status: Status
    value: Decimal | None = None  # 本期累计完成; for 里程碑 the chosen stage's percent
    rate: Fraction | None = None  # 完成率, exact; None for 上限 and when nothing was reported
    schedule: Fraction = Fraction(0)  # 时序进度 for this indicator
    gap: Fraction | None = None  # 时序进度 − 完成率, in percentage points (累计, 里程碑)
    flags: tuple[Flag, ...] = ()
    previous: Previous | None = None
    change: Fraction | None = None  # 环比: 完成率 − 上期完成率, in percentage points
    reported: Reported | None = None
    source: str = ""  # the file the value came from

    @property
    def rate_percent(self) -> Decimal | None:
        """完成率 as shown: a percentage rounded half-up to one decimal."""
        return None if self.rate is None else percent(self.rate)

    @property
    def stage(self) -> str:
        return self.reported.stage if self.reported else ""


def schedule(period: Period, deadline: dt.date | None) -> Fraction:
    """时序进度: the share of the time to the deadline that has passed (m/12 by default).

    A task due before year-end (完成时限 2020-10-31) is due in full by October: m/10, capped at 1.
    """
    months = 12
    if deadline is not None and deadline.year == period.year:
        months = deadline.month
    elif deadline is not None and deadline.year < period.year:
        return Fraction(1)
    return min(Fraction(1), Fraction(period.month, months))


def assess(indicator: Indicator, reported: Reported | None, submitted: bool, period: Period,
           thresholds: Thresholds, stages: dict[str, Decimal], deadline: dt.date | None = None,
           previous: Previous | None = None, source: str = "") -> Assessment:
    """Judge one indicator (SPEC §5)."""
    due = schedule(period, deadline)
    base = dict(indicator=indicator, schedule=due, previous=previous, reported=reported, source=source)
    if not submitted:
        return Assessment(status=Status.NOT_SUBMITTED, **base)
    if reported is not None and reported.error:
        return Assessment(status=Status.DATA_ERROR, **base)
    kind = indicator.type
    if kind is IndicatorType.MILESTONE:
        stage = reported.stage if reported else ""
        if not stage or stage not in stages:
            return Assessment(status=Status.NOT_FILLED, **base)
        value = stages[stage]
        rate = Fraction(value) / 100
    else:
        value = reported.value if reported else None
        if value is None:
            return Assessment(status=Status.NOT_FILLED, **base)
        target = indicator.target
        rate = Fraction(value) / Fraction(target) if target else None

    gap = None
    if kind is IndicatorType.RATE:
        status = Status.MET if value >= indicator.target else Status.NOT_MET
    elif kind is IndicatorType.CEILING:
        status = Status.MET if value <= indicator.target else Status.NOT_MET
        rate = None  # "at most" has no completion share
    else:
        done = value >= (indicator.target if kind is IndicatorType.CUMULATIVE else 100)
        gap = (due - rate) * 100
        if done:
            status = Status.COMPLETE
        elif value == 0:
            status = Status.NOT_STARTED
        elif gap <= Fraction(thresholds.lag_points):
            status = Status.ON_SCHEDULE
        elif gap <= Fraction(thresholds.severe_lag_points):
            status = Status.LAGGING
        else:
            status = Status.SEVERELY_LAGGING

    flags = []
    if rate is not None and rate * 100 > Fraction(thresholds.outlier_percent):
        flags.append(Flag.DOUBTFUL)
    change = None
    if previous is not None:
        if kind in (IndicatorType.CUMULATIVE, IndicatorType.MILESTONE) and value < previous.value:
            flags.append(Flag.DECREASED)
        if rate is not None:
            before = (Fraction(previous.value) / 100 if kind is IndicatorType.MILESTONE
                      else Fraction(previous.value) / Fraction(indicator.target))
            change = (rate - before) * 100
    if rate is not None and reported is not None and _text_disagrees(reported.progress, rate):
        flags.append(Flag.TEXT_MISMATCH)
    return Assessment(status=status, value=value, rate=rate, gap=gap, flags=tuple(flags), change=change,
                      **base)


def _text_disagrees(text: str, rate: Fraction) -> bool:
    """A 完成…N% in the department's own words that is more than one point off the computed rate."""
    stated = [Decimal(m) for m in _TEXT_PERCENT.findall(text)]
    return bool(stated) and all(abs(s - percent(rate)) > 1 for s in stated)


def assess_all(register: Register, submissions: dict[str, Submission], period: Period,
               thresholds: Thresholds, stages: tuple[tuple[str, Decimal], ...],
               previous: dict[str, Previous] | None = None) -> list[Assessment]:
    """Every register indicator, in register order, judged from the accepted submission of its unit."""
    stage_map = dict(stages)
    previous = previous or {}
    results = []
    for task in register.tasks:
        for ind in task.indicators:
            sub = submissions.get(ind.lead_unit)
            reported = sub.values.get(ind.id) if sub else None
            results.append(assess(ind, reported, sub is not None, period, thresholds, stage_map,
                                  task.deadline, previous.get(ind.id), sub.name if sub else ""))
    return results


def worst(statuses) -> Status:
    return min(statuses, key=STATUS_ORDER.index)


def capped(rate: Fraction | None, status: Status) -> Fraction:
    """An indicator's share in a mean: its rate capped at 100%; 上限 达标 counts 100%, nothing 0%."""
    if rate is None:
        return Fraction(1) if status is Status.MET else Fraction(0)
    return min(rate, Fraction(1))


@dataclass
class TaskSummary:
    """任务汇总: a task with its indicators' statuses rolled up."""

    task: Task
    assessments: list[Assessment]
    status: Status  # the worst of its indicators'
    funds_paid: Decimal | None = None

    @property
    def complete(self) -> bool:
        return all(a.status.done for a in self.assessments)


@dataclass
class GroupSummary:
    """A department's (单位) or a category's (类别) roll-up."""

    name: str
    assessments: list[Assessment]
    counts: Counter = field(default_factory=Counter)
    mean: Fraction = Fraction(0)  # mean completion, each indicator capped at 100%
    rank: int = 0
    submitted: bool = True
    funds_planned: Decimal = Decimal(0)
    funds_paid: Decimal = Decimal(0)

    @property
    def lagging(self) -> int:
        return self.counts[Status.LAGGING] + self.counts[Status.SEVERELY_LAGGING]


@dataclass
class Programme:
    """全局: the whole register's numbers, for the overview and the circular's opening."""

    period: Period
    tasks: int
    tasks_complete: int
    tasks_on_schedule: int
    tasks_lagging: int
    indicators: int
    counts: Counter
    funds_planned: Decimal
    funds_paid: Decimal
    units: int
    units_missing: int

    @property
    def funds_rate(self) -> Fraction | None:
        return Fraction(self.funds_paid) / Fraction(self.funds_planned) if self.funds_planned else None

    @property
    def sentence(self) -> str:
        """E.g. ``50项任务中已有12项完成全年任务目标，其余38项中30项序时推进、8项滞后。``"""
        rest = self.tasks - self.tasks_complete
        text = f"{self.tasks}项任务中已有{self.tasks_complete}项完成全年任务目标"
        if rest:
            parts = [f"{self.tasks_on_schedule}项序时推进", f"{self.tasks_lagging}项滞后"]
            unknown = rest - self.tasks_on_schedule - self.tasks_lagging
            if unknown:
                parts.append(f"{unknown}项因未报送、未填或数据有误无法判断")
            text += f"，其余{rest}项中" + "、".join(parts)
        return text + "。"


def summarize_tasks(register: Register, assessments: list[Assessment],
                    submissions: dict[str, Submission]) -> list[TaskSummary]:
    by_id = {a.indicator.id: a for a in assessments}
    result = []
    for task in register.tasks:
        items = [by_id[ind.id] for ind in task.indicators]
        paid = None
        if task.planned_funds is not None:
            sub = submissions.get(task.lead_units[0])
            if sub is not None and task.id in sub.funds_paid:
                paid = sub.funds_paid[task.id][0]
        result.append(TaskSummary(task, items, worst(a.status for a in items), paid))
    return result


def _group(name: str, items: list[Assessment]) -> GroupSummary:
    counts = Counter(a.status for a in items)
    mean = sum((capped(a.rate, a.status) for a in items), Fraction(0)) / len(items) if items else Fraction(0)
    return GroupSummary(name, items, counts, mean)


def summarize_units(register: Register, assessments: list[Assessment], tasks: list[TaskSummary],
                    submissions: dict[str, Submission]) -> list[GroupSummary]:
    """Departments ranked by mean completion (1, 2, 2, 4 for ties), best first."""
    by_unit: dict[str, list[Assessment]] = {unit: [] for unit in register.units}
    for a in assessments:
        by_unit[a.indicator.lead_unit].append(a)
    groups = {unit: _group(unit, items) for unit, items in by_unit.items()}
    for unit, group in groups.items():
        group.submitted = unit in submissions
    for summary in tasks:  # funds are reported by a task's first lead unit
        if summary.task.planned_funds is not None:
            group = groups[summary.task.lead_units[0]]
            group.funds_planned += summary.task.planned_funds
            group.funds_paid += summary.funds_paid or 0
    groups = list(groups.values())
    ordered = sorted(groups, key=lambda g: -g.mean)
    for i, group in enumerate(ordered):
        group.rank = ordered[i - 1].rank if i and group.mean == ordered[i - 1].mean else i + 1
    return ordered


def summarize_categories(register: Register, assessments: list[Assessment]) -> list[GroupSummary]:
    category_of = {ind.id: task.category for task in register.tasks for ind in task.indicators}
    by_category: dict[str, list[Assessment]] = {task.category: [] for task in register.tasks}
    for a in assessments:
        by_category[category_of[a.indicator.id]].append(a)
    return [_group(cat or "（未分类）", items) for cat, items in by_category.items()]


def summarize_programme(period: Period, tasks: list[TaskSummary], assessments: list[Assessment],
                        units: list[GroupSummary]) -> Programme:
    lagging = {Status.LAGGING, Status.SEVERELY_LAGGING, Status.NOT_STARTED, Status.NOT_MET}
    complete = sum(1 for t in tasks if t.complete)
    lag = sum(1 for t in tasks if not t.complete and t.status in lagging)
    planned = sum((t.task.planned_funds for t in tasks if t.task.planned_funds is not None), Decimal(0))
    paid = sum((t.funds_paid for t in tasks if t.funds_paid is not None), Decimal(0))
    return Programme(
        period=period, tasks=len(tasks), tasks_complete=complete,
        tasks_on_schedule=sum(1 for t in tasks if not t.complete and t.status in
                              (Status.ON_SCHEDULE, Status.MET)),
        tasks_lagging=lag, indicators=len(assessments),
        counts=Counter(a.status for a in assessments), funds_planned=planned, funds_paid=paid,
        units=len(units), units_missing=sum(1 for u in units if not u.submitted))


def progress_sentence(a: Assessment) -> str:
    """A computed sentence for the circular: ``完成任务77.8%`` / ``参保率96.4%,达到年度目标``."""
    ind = a.indicator
    if a.status in (Status.NOT_SUBMITTED, Status.NOT_FILLED, Status.DATA_ERROR):
        return f"{ind.name}{a.status.value}"
    if ind.type is IndicatorType.MILESTONE:
        return f"{ind.name}处于“{a.stage}”阶段"
    unit = ind.unit_of_measure
    shown = format_amount(a.value, unit)
    if ind.type is IndicatorType.RATE:
        verdict = "达到年度目标" if a.status is Status.MET else f"未达到年度目标{format_amount(ind.target, unit)}"
        return f"{ind.name}{shown}，{verdict}"
    if ind.type is IndicatorType.CEILING:
        verdict = "控制在目标以内" if a.status is Status.MET else "超出控制目标"
        return f"{ind.name}{shown}，{verdict}"
    return f"{ind.name}{shown}，完成任务{format_percent(a.rate)}"
