"""Roll-ups (汇总统计) of judged indicators: a task's worst status, each unit's and category's
counts and mean completion (capped at 100%), and the programme's totals and sentence.

They are accumulated one task at a time (``RollUp``), so a province's register is judged without
holding every assessment. Means are exact (``Fraction``), shown rounded half-up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from ..model import STATUS_ORDER, IndicatorType, Period, Status, Submission, Task
from .status import Assessment, Previous, Rules, assess, sibling_names

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
        """Indicators behind schedule, or short of their target with the time up (未完成)."""
        return self.counts[Status.LAGGING] + self.counts[Status.SEVERELY_LAGGING] + self.counts[Status.UNFINISHED]

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
    # Mid-year, tasks whose only shortfall is a 比率/上限 not yet at its level (尚未达到年度目标水平):
    # not behind a schedule, for a level has none. At the year's end they are 未达标, in tasks_lagging.
    tasks_below_level: int = 0

    @property
    def funds_rate(self) -> Fraction | None:
        return Fraction(self.funds_paid) / Fraction(self.funds_planned) if self.funds_planned else None

    @property
    def year_end(self) -> bool:
        return self.period.month == 12

    @property
    def behind(self) -> str:
        """What the tasks counted in ``tasks_lagging`` are: 进度滞后; 到期未完成 once an indicator's
        time is up short of its target; 未达标 at the year's end."""
        c = self.counts
        kinds = [word for word, there in (
            ("进度滞后", any(c[s] for s in (Status.LAGGING, Status.SEVERELY_LAGGING, Status.NOT_STARTED))),
            ("到期未完成", c[Status.UNFINISHED]), ("未达标", self.year_end and c[Status.NOT_MET])) if there]
        if len(kinds) > 1:
            return "、".join(kinds[:-1]) + "或" + kinds[-1]
        return kinds[0] if kinds else "进度滞后"

    def parts(self) -> list[tuple[int, str]]:
        """The tasks not complete, by what they are (zeros included: the caller leaves them out)."""
        unknown = (self.tasks - self.tasks_complete - self.tasks_on_schedule - self.tasks_lagging
                   - self.tasks_below_level)
        return [(self.tasks_on_schedule, "序时推进"), (self.tasks_lagging, self.behind),
                (self.tasks_below_level, "尚未达到年度目标水平"), (unknown, "因未报送、未填或数据有误暂无法判断")]

    @property
    def sentence(self) -> str:
        """E.g. ``50项任务中已有12项完成全年任务目标，其余38项中30项序时推进、8项进度滞后。``"""
        rest = self.tasks - self.tasks_complete
        parts = "、".join(f"{n}项{what}" for n, what in self.parts() if n)
        if not self.tasks_complete:
            return f"{self.tasks}项任务中尚无完成全年任务目标的，{parts}。"
        text = f"{self.tasks}项任务中已有{self.tasks_complete}项完成全年任务目标"
        return text + (f"，其余{rest}项中{parts}。" if rest else "。")


NO_FIGURE = (Status.NOT_SUBMITTED, Status.NOT_FILLED, Status.DATA_ERROR)
_BEHIND = {Status.LAGGING, Status.SEVERELY_LAGGING, Status.NOT_STARTED, Status.UNFINISHED, Status.NOT_MET}


class RollUp:
    """Units, categories and the programme, accumulated one ``TaskSummary`` at a time."""

    def __init__(self, units: Iterable[str], period: Period):
        self.period = period
        self._units = {unit: GroupSummary(unit) for unit in units}
        self._categories: dict[str, GroupSummary] = {}
        self._counts: Counter = Counter()
        self._tasks = self._complete = self._on_schedule = self._lagging = self._below_level = 0
        # 完成全年任务: a 比率/上限 at its level mid-year is on track, not done; only at the year's end.
        self._done = {Status.COMPLETE, Status.MET} if period.month == 12 else {Status.COMPLETE}
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
        if all(s in self._done for s in statuses):
            self._complete += 1
        elif status in (Status.ON_SCHEDULE, Status.MET):
            self._on_schedule += 1
        elif status is Status.NOT_MET and self.period.month != 12:
            self._below_level += 1
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
                         sum(1 for u in units if not u.submitted), self._below_level)
