"""One period's result (本期汇总结果) as plain data: what the circular says, made once, where the
indicators were judged.

A consolidation leaves one ``PeriodResult``; the record keeps it (``record.results``), so the
circular of a period is written from the record, never from the inbox read and judged again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, TypeVar

from ..model import Period
from .lagging import Lagging
from .rollup import GroupSummary, Programme
from .words import Said

T = TypeVar("T")


class Replay(Generic[T]):
    """A sequence made afresh each time it is read: a fresh consolidation's long lists (every
    lagging indicator, every project's words) stay on disk until they are asked for."""

    def __init__(self, make: Callable[[], Iterable[T]]):
        self._make = make

    def __iter__(self) -> Iterator[T]:
        return iter(self._make())


@dataclass(frozen=True)
class Project:
    """A task as one lead unit carries it (项目), as the circular's annex shows it."""

    unit: str
    task_id: str
    name: str
    target: str  # 年度目标任务, as the register words it
    said: tuple[Said, ...] = ()  # each indicator's, when the unit's form was accepted


@dataclass
class PeriodResult:
    """The roll-ups, the lagging indicators, each project's 进展情况 and what the clerk must check."""

    period: Period
    generated_at: dt.datetime
    fingerprint: str  # the register's, when consolidated
    units: list[GroupSummary]  # ranked, best first
    categories: list[GroupSummary]
    programme: Programme
    unit_order: list[str]  # the units in register order
    lagging: Iterable[Lagging]  # the most serious and the largest gap first (a list, or the run's ``LaggingList``)
    projects: Iterable[Project]  # unit by unit in register order (a list, or a ``Replay``)
    refused: dict[str, list[str]] = field(default_factory=dict)  # unit without a usable file → the files it sent
    mismatches: list[str] = field(default_factory=list)  # 单位“指标”（原文80%，核算完成率40.0%）, in register order
    files: list[tuple[str, float]] = field(default_factory=list)  # (name, modified) of every file read
    # The latest earlier period's result of the same year, when a circular is made (not recorded
    # with this one): what its paragraph on progress since then compares with.
    earlier: PeriodResult | None = field(default=None, compare=False)

    @property
    def missing_units(self) -> list[GroupSummary]:
        """未报送单位 (nothing sent, or nothing usable), in register order."""
        order = {unit: i for i, unit in enumerate(self.unit_order)}
        return sorted((u for u in self.units if not u.submitted), key=lambda u: order.get(u.name, len(order)))

    def submitted(self, unit: str) -> bool:
        return unit in self._submitted

    @cached_property
    def _submitted(self) -> frozenset[str]:
        return frozenset(u.name for u in self.units if u.submitted)
