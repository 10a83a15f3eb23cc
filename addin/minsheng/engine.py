"""The completion engine (formats §4): 完成率, 状态, 标记 and roll-ups. Pure functions, no files.

Every comparison is exact, on integers: a value and a target are ratios of integers (a ``Decimal``
is one), the schedule is m/12, and ``gap ≤ 10`` is decided by cross-multiplying. Only what is
shown is rounded (half-up, one decimal). 25088 of 25100 shows as 100.0% and is still not 已完成.
The exact values are there as ``Fraction``s too (``rate``, ``gap``, ``change``) for whoever asks.

Roll-ups (task, unit, category, programme) are accumulated one task at a time (``RollUp``), so a
province's register is judged without holding every assessment.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache

from . import narrative
from .config import Thresholds
from .model import STATUS_ORDER, Flag, Indicator, IndicatorType, Period, Reported, Status, Submission, Task
from .numbers import percent_of

Stages = Mapping[str, Decimal]


@dataclass(frozen=True)
class Previous:
    """上期: what the ledger holds for an indicator from the latest earlier period."""

    period: Period
    value: Decimal  # for 里程碑 the stage's percent


@dataclass(frozen=True, slots=True)
class Assessment:
    """指标评估: one indicator's value judged against its target and the schedule.

    Ratios are kept as integer pairs (numerator, denominator); a denominator of 0 means "none".
    """

    indicator: Indicator
    status: Status
    value: Decimal | None = None  # 本期累计完成; for 里程碑 the chosen stage's percent
    rate_ratio: tuple[int, int] = (0, 0)  # 完成率; none for 上限 and when nothing was reported
    due: tuple[int, int] = (0, 1)  # 时序进度 for this indicator
    has_gap: bool = False  # 累计 and 里程碑 with a rate are compared with the schedule
    flags: tuple[Flag, ...] = ()
    previous: Previous | None = None
    before: tuple[int, int] = (0, 0)  # 上期完成率, for 环比
    reported: Reported | None = None
    source: str = ""  # the file the value came from

    @property
    def rate(self) -> Fraction | None:
        """完成率, exact."""
        n, d = self.rate_ratio
        return Fraction(n, d) if d else None

    @property
    def rate_percent(self) -> Decimal | None:
        """完成率 as shown: a percentage rounded half-up to one decimal."""
        n, d = self.rate_ratio
        return percent_of(n, d) if d else None

    @property
    def schedule(self) -> Fraction:
        """时序进度 for this indicator."""
        return Fraction(*self.due)

    @property
    def gap(self) -> Fraction | None:
        """时序进度 − 完成率, in percentage points."""
        n, d = self._gap
        return Fraction(100 * n, d) if d else None

    @property
    def gap_points(self) -> Decimal | None:
        """The gap as shown: percentage points, one decimal, half-up."""
        n, d = self._gap
        return percent_of(n, d) if d else None

    @property
    def _gap(self) -> tuple[int, int]:
        if not self.has_gap:
            return 0, 0
        (dn, dd), (rn, rd) = self.due, self.rate_ratio
        return dn * rd - rn * dd, dd * rd

    @property
    def change(self) -> Fraction | None:
        """环比: 完成率 − 上期完成率, in percentage points."""
        n, d = self._change
        return Fraction(100 * n, d) if d else None

    @property
    def change_points(self) -> Decimal | None:
        n, d = self._change
        return percent_of(n, d) if d else None

    @property
    def _change(self) -> tuple[int, int]:
        (rn, rd), (bn, bd) = self.rate_ratio, self.before
        if not (rd and bd):
            return 0, 0
        return rn * bd - bn * rd, rd * bd

    @property
    def stage(self) -> str:
        return self.reported.stage if self.reported else ""


def schedule(period: Period, deadline: dt.date | None) -> Fraction:
    """时序进度: the share of the time to the deadline that has passed (m/12 by default).

    A task due before year-end (完成时限 2020-10-31) is due in full by October: m/10, capped at 1.
    """
    return Fraction(*_due(period, deadline))


def _due(period: Period, deadline: dt.date | None) -> tuple[int, int]:
    if deadline is not None and deadline.year < period.year:
        return 1, 1
    months = deadline.month if deadline is not None and deadline.year == period.year else 12
    return (1, 1) if period.month >= months else (period.month, months)


@lru_cache(maxsize=256)
def _ratio(number: Decimal) -> tuple[int, int]:
    return number.as_integer_ratio()


@dataclass(frozen=True)
class Rules:
    """Thresholds and stages in the form the hot path uses, made once per consolidation."""

    lag: tuple[int, int]
    severe: tuple[int, int]
    outlier: tuple[int, int]
    stages: Mapping[str, Decimal]

    @classmethod
    def of(cls, thresholds: Thresholds, stages: Stages | Iterable[tuple[str, Decimal]]) -> Rules:
        return cls(_ratio(thresholds.lag_points), _ratio(thresholds.severe_lag_points),
                   _ratio(thresholds.outlier_percent), dict(stages))


def assess(indicator: Indicator, reported: Reported | None, submitted: bool, period: Period, rules: Rules,
           deadline: dt.date | None = None, previous: Previous | None = None, source: str = "",
           others: tuple[str, ...] = ()) -> Assessment:
    """Judge one indicator (formats §4) by ``rules``, made once per consolidation. ``others``: the
    names of its task's other indicators, which the same 进展情况 may report on too."""
    due = _due(period, deadline)
    if not submitted:
        return Assessment(indicator, Status.NOT_SUBMITTED, due=due, previous=previous, reported=reported,
                          source=source)
    if reported is not None and reported.error:
        return Assessment(indicator, Status.DATA_ERROR, due=due, previous=previous, reported=reported,
                          source=source)
    kind = indicator.type
    if kind is IndicatorType.MILESTONE:
        stage = reported.stage if reported else ""
        value = rules.stages.get(stage) if stage else None
        if value is None:
            return Assessment(indicator, Status.NOT_FILLED, due=due, previous=previous, reported=reported,
                              source=source)
        vn, vd = _ratio(value)
        rate = (vn, vd * 100)
    else:
        value = reported.value if reported else None
        if value is None:
            return Assessment(indicator, Status.NOT_FILLED, due=due, previous=previous, reported=reported,
                              source=source)
        vn, vd = _ratio(value)
        tn, td = _ratio(indicator.target)
        rate = (vn * td, vd * tn) if tn else (0, 0)

    has_gap = False
    if kind is IndicatorType.RATE:
        status = Status.MET if value >= indicator.target else Status.NOT_MET
    elif kind is IndicatorType.CEILING:
        status = Status.MET if value <= indicator.target else Status.NOT_MET
        rate = (0, 0)  # "at most" has no completion share
    else:
        has_gap = True
        rn, rd = rate
        if value >= (indicator.target if kind is IndicatorType.CUMULATIVE else 100):
            status = Status.COMPLETE
        elif value == 0:
            status = Status.NOT_STARTED
        else:
            # gap = 100 (due − rate), compared with a threshold L = ln/ld by cross-multiplying.
            dn, dd = due
            gap_n, gap_d = 100 * (dn * rd - rn * dd), dd * rd
            if gap_n * rules.lag[1] <= rules.lag[0] * gap_d:
                status = Status.ON_SCHEDULE
            elif gap_n * rules.severe[1] <= rules.severe[0] * gap_d:
                status = Status.LAGGING
            else:
                status = Status.SEVERELY_LAGGING

    flags = []
    rn, rd = rate
    if rd and 100 * rn * rules.outlier[1] > rules.outlier[0] * rd:
        flags.append(Flag.DOUBTFUL)
    before = (0, 0)
    if previous is not None:
        if kind in (IndicatorType.CUMULATIVE, IndicatorType.MILESTONE) and value < previous.value:
            flags.append(Flag.DECREASED)
        if rd:
            pn, pd = _ratio(previous.value)
            if kind is IndicatorType.MILESTONE:
                before = (pn, pd * 100)
            else:
                tn, td = _ratio(indicator.target)
                before = (pn * td, pd * tn)
    if reported is not None and reported.progress and text_conflict(
            indicator, reported.progress, value, percent_of(rn, rd) if rd else None, others):
        flags.append(Flag.TEXT_MISMATCH)
    return Assessment(indicator, status, value, rate, due, has_gap, tuple(flags), previous, before, reported, source)


def text_conflict(indicator: Indicator, text: str, value: Decimal | None, rate_percent: Decimal | None,
                  others: tuple[str, ...] = ()) -> str:
    """What the department's words state against its figures, or "": a completion share more than
    a point off the computed one (``80%`` against 61.9%), or for a rate a level other than the value
    typed (formats §4). Sub-items after 其中 never count."""
    if "%" not in text and "％" not in text:  # every conflict is about a percentage
        return ""
    return narrative.statement(narrative.read_figures(text), indicator.name, indicator.type,
                               indicator.unit_of_measure, value, rate_percent, others).conflict


_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}


def worst(statuses: Iterable[Status]) -> Status:
    return min(statuses, key=_RANK.__getitem__)


def capped(a: Assessment) -> tuple[int, int]:
    """An indicator's share in a mean: its rate capped at 100%; 上限 达标 counts 100%, a 上限 exceeded
    target ÷ value (4.8 against a cap of 4.5 is 93.75%, not nothing), nothing else 0%."""
    n, d = a.rate_ratio
    if not d:
        if a.status is Status.MET:
            return 1, 1
        if a.indicator.type is IndicatorType.CEILING and a.value and a.value > 0:
            share = Fraction(a.indicator.target) / Fraction(a.value)
            return share.numerator, share.denominator
        return 0, 1
    return (1, 1) if n >= d else (n, d)


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


def assess_tasks(register, submission_of: Callable[[str], Submission | None], period: Period,
                 rules: Rules, previous_of: Callable[[str], Mapping[str, Previous]]) -> Iterator[TaskSummary]:
    """Every task of the register, in order, judged from the accepted submission of each unit.

    ``submission_of(unit)`` and ``previous_of(unit)`` are asked for each indicator's unit; they
    keep at hand what they like (the collection reads submissions back from its spool).
    """
    for task in register.iter_tasks():
        items = []
        others = sibling_names(task)
        for ind in task.indicators:
            sub = submission_of(ind.lead_unit)
            reported = sub.values.get(ind.id) if sub else None
            items.append(assess(ind, reported, sub is not None, period, rules, ind.deadline,
                                previous_of(ind.lead_unit).get(ind.id), sub.name if sub else "", others))
        paid = None
        if task.planned_funds is not None:  # reported by the task's first lead unit
            sub = submission_of(task.lead_units[0])
            if sub is not None and task.id in sub.funds_paid:
                paid = sub.funds_paid[task.id][0]
        yield TaskSummary(task, items, worst(a.status for a in items), paid)


def sibling_names(task: Task) -> tuple[str, ...]:
    """The names of a task's indicators, when it has several (a 进展情况 may report on each)."""
    return tuple(ind.name for ind in task.indicators) if len(task.indicators) > 1 else ()


@dataclass
class GroupSummary:
    """A department's (单位) or a category's (类别) roll-up."""

    name: str
    counts: Counter = field(default_factory=Counter)
    indicators: int = 0
    tasks: int = 0
    rank: int = 0
    submitted: bool = True
    funds_planned: Decimal = Decimal(0)
    funds_paid: Decimal = Decimal(0)
    # The capped rates' sum, kept as numerators by denominator: exact, and cheap to add to.
    _shares: dict[int, int] = field(default_factory=dict, repr=False)

    @cached_property
    def mean(self) -> Fraction:
        """Mean completion, each indicator capped at 100% (asked once all indicators are in)."""
        if not self.indicators:
            return Fraction(0)
        return sum((Fraction(n, d) for d, n in self._shares.items()), Fraction(0)) / self.indicators

    @property
    def reported(self) -> int:
        """Indicators with a usable figure (not 未报送, 未填 or 数据有误)."""
        return self.indicators - sum(self.counts[s] for s in NO_FIGURE)

    @property
    def reported_mean(self) -> Fraction | None:
        """Mean completion of the indicators with a figure (the others count 0 in ``mean``)."""
        if not self.reported:
            return None
        return self.mean * self.indicators / self.reported

    @property
    def lagging(self) -> int:
        return self.counts[Status.LAGGING] + self.counts[Status.SEVERELY_LAGGING]

    def add(self, statuses: Sequence[Status], shares: Sequence[tuple[int, int]]) -> None:
        """Indicators' statuses and capped shares."""
        self.counts.update(statuses)
        self.indicators += len(statuses)
        for n, d in shares:
            if n:
                self._shares[d] = self._shares.get(d, 0) + n


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


NO_FIGURE = (Status.NOT_SUBMITTED, Status.NOT_FILLED, Status.DATA_ERROR)
_BEHIND = {Status.LAGGING, Status.SEVERELY_LAGGING, Status.NOT_STARTED, Status.NOT_MET}
_DONE = {status for status in Status if status.done}


class RollUp:
    """Units, categories and the programme, accumulated one ``TaskSummary`` at a time."""

    def __init__(self, units: Iterable[str], period: Period):
        self.period = period
        self._units = {unit: GroupSummary(unit) for unit in units}
        self._categories: dict[str, GroupSummary] = {}
        self._counts: Counter = Counter()
        self._tasks = self._complete = self._on_schedule = self._lagging = 0
        self._planned = self._paid = Decimal(0)

    def add(self, category_name: str, planned_funds: Decimal | None, first_lead: str, units: Sequence[str],
            statuses: Sequence[Status], shares: Sequence[tuple[int, int]], funds_paid: Decimal | None) -> None:
        """One task: its category, funds and first lead unit, and its indicators' lead units,
        statuses and capped shares, in order."""
        category = self._categories.get(category_name)
        if category is None:
            category = self._categories[category_name] = GroupSummary(category_name)
        category.tasks += 1
        category.add(statuses, shares)
        self._counts.update(statuses)
        groups = self._units
        one_unit = units.count(units[0]) == len(units)  # the usual case
        for unit in dict.fromkeys(units):
            group = groups[unit]
            group.tasks += 1
            if one_unit:
                group.add(statuses, shares)
            else:
                mine = [i for i, u in enumerate(units) if u == unit]
                group.add([statuses[i] for i in mine], [shares[i] for i in mine])
        self._tasks += 1
        status = worst(statuses)
        if all(s in _DONE for s in statuses):
            self._complete += 1
        elif status in (Status.ON_SCHEDULE, Status.MET):
            self._on_schedule += 1
        elif status in _BEHIND:
            self._lagging += 1
        if planned_funds is not None:  # funds are reported by a task's first lead unit
            group = groups[first_lead]
            group.funds_planned += planned_funds
            group.funds_paid += funds_paid or 0
            self._planned += planned_funds
            self._paid += funds_paid or 0

    def units(self, submitted: Iterable[str]) -> list[GroupSummary]:
        """Departments ranked by mean completion (1, 2, 2, 4 for ties), best first."""
        sent = set(submitted)
        groups = list(self._units.values())
        for group in groups:
            group.submitted = group.name in sent
        ordered = sorted(groups, key=lambda g: -g.mean)
        for i, group in enumerate(ordered):
            group.rank = ordered[i - 1].rank if i and group.mean == ordered[i - 1].mean else i + 1
        return ordered

    def categories(self) -> list[GroupSummary]:
        """类别 in register order; a register without categories has one, named ""."""
        return list(self._categories.values())

    def programme(self, units: list[GroupSummary]) -> Programme:
        return Programme(self.period, self._tasks, self._complete, self._on_schedule, self._lagging,
                         sum(self._counts.values()), self._counts, self._planned, self._paid, len(units),
                         sum(1 for u in units if not u.submitted))
