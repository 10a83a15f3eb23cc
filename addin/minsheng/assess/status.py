"""The status rule (formats §4): one indicator's 完成率, 状态 and 标记 against the time schedule.
Pure functions, no files.

Every comparison is exact, on integers: a value and a target are ratios of integers (a ``Decimal``
is one), the schedule is m/12, and ``gap ≤ 10`` is decided by cross-multiplying. Only what is
shown is rounded (half-up, one decimal). 25088 of 25100 shows as 100.0% and is still not 已完成.
Once an indicator's 完成时限 (or the year's end) has come, a 累计/里程碑 indicator short of its target
is 未完成: there is no schedule left to be on.
The exact values are there as ``Fraction``s too (``rate``, ``gap``, ``change``) for whoever asks.

Roll-ups of many indicators are in ``rollup``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from ..config import Thresholds
from ..model import Flag, Indicator, IndicatorType, Period, Reported, Status, Task
from ..numbers import percent_of
from . import narrative

Stages = Mapping[str, Decimal]


@dataclass(frozen=True)
class Previous:
    """上期: what the ledger holds for an indicator from the latest earlier period."""

    period: Period
    value: Decimal  # for 里程碑 the stage's percent
    skipped: bool = False  # not last month's: none was reported then, so the last month that had one


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
    stated: str = ""  # a percentage its 进展情况 states that the figures do not bear out (文字与数据不符)

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


def at_deadline(period: Period, deadline: dt.date | None) -> bool:
    """The period has reached the 完成时限: it falls on or before the last day of the period's month
    (None means 31 December of the period's year). 2020-06-15 and 2020-06-30 are reached at
    2020-06; 2020-07-01 is not."""
    if deadline is None:
        return period.month == 12
    return (deadline.year, deadline.month) <= (period.year, period.month)


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
    """Judge one indicator (formats §4) by ``rules``, made once per consolidation. ``deadline``: its
    完成时限 (``Indicator.deadline``; None means 31 December). ``others``: the names of its task's
    other indicators, which the same 进展情况 may report on too."""
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
        elif at_deadline(period, deadline):  # the time is up: short is short, also at 0
            status = Status.UNFINISHED
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
    stated = (text_conflict(indicator, reported.progress, value, percent_of(rn, rd) if rd else None, others)
              if reported is not None and reported.progress else "")
    if stated:
        flags.append(Flag.TEXT_MISMATCH)
    return Assessment(indicator, status, value, rate, due, has_gap, tuple(flags), previous, before, reported, source,
                      stated)


def text_conflict(indicator: Indicator, text: str, value: Decimal | None, rate_percent: Decimal | None,
                  others: tuple[str, ...] = ()) -> str:
    """What the department's words state against its figures, or "": a completion share other than
    the computed one at one decimal (``80%`` against 61.9%, 62.3% against 62.4%), or for a rate a
    level other than the value typed (formats §4). Sub-items after 其中 never count; a clause that
    states this indicator's value is about it, whatever the department calls it (``narrative``)."""
    if "%" not in text and "％" not in text and "百分之" not in text:  # every conflict is about a percentage
        return ""
    return narrative.statement(text, indicator.name, indicator.type, indicator.unit_of_measure, value,
                               rate_percent, others).conflict


def sibling_names(task: Task) -> tuple[str, ...]:
    """The names of a task's indicators, when it has several (a 进展情况 may report on each)."""
    return tuple(ind.name for ind in task.indicators) if len(task.indicators) > 1 else ()


