"""滞后任务: the indicators behind schedule or below target (also those whose time is up short of
it, 未完成), and the run's list of them, most serious first (sorted on disk, so that a province's
thousands cost no memory)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, fields
from decimal import Decimal

from ..model import IndicatorType, Status
from ..spool import Scratch

# The statuses that put an indicator on the list, most serious first (未完成: its time is up).
ATTENTION = (Status.UNFINISHED, Status.SEVERELY_LAGGING, Status.LAGGING, Status.NOT_STARTED, Status.NOT_MET)


@dataclass(frozen=True)
class Lagging:
    """滞后任务: an indicator behind schedule or below target, as the lists of lagging tasks show it."""

    unit: str
    task_id: str
    task_name: str
    indicator_id: str
    indicator_name: str
    unit_of_measure: str
    type: IndicatorType
    target: Decimal | None
    value: Decimal | None  # 本期累计完成; for 里程碑 the stage's percent
    stage: str
    rate_percent: Decimal | None
    schedule_percent: Decimal | None
    gap_points: Decimal | None
    status: Status
    progress: str = ""
    issues: str = ""
    next_steps: str = ""

    @classmethod
    def of_stored(cls, stored) -> Lagging:
        """The item ``stored`` gave the values of."""
        values = dict(zip(_FIELDS, stored))
        for name in _DECIMALS:
            values[name] = None if values[name] is None else Decimal(values[name])
        values["type"], values["status"] = IndicatorType(values["type"]), Status(values["status"])
        return cls(**values)

    def stored(self) -> tuple:
        """The plain values ``LaggingList`` keeps, in field order (enums by value, numbers as text)."""
        return (self.unit, self.task_id, self.task_name, self.indicator_id, self.indicator_name, self.unit_of_measure,
                self.type.value, _text(self.target), _text(self.value), self.stage, _text(self.rate_percent),
                _text(self.schedule_percent), _text(self.gap_points), self.status.value, self.progress, self.issues,
                self.next_steps)


_DECIMALS = ("target", "value", "rate_percent", "schedule_percent", "gap_points")
_FIELDS = [f.name for f in fields(Lagging)]


def _text(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


class LaggingList:
    """The lagging indicators of a run, sorted on disk (a scratch database): the most serious status
    first, then the largest gap, then register order. Filled by one thread; once ``done``, read by
    any (the workbook's and the record's threads each through a connection of its own)."""

    def __init__(self) -> None:
        self._scratch = Scratch("lagging (rank INTEGER, gap REAL, position INTEGER, item TEXT, xml BLOB)", 5)
        self.count = 0

    @staticmethod
    def entry(item: Lagging, xml: bytes) -> tuple[int, float, bytes, bytes]:
        """What ``add`` takes (made where the item is judged): its sort keys, the item's plain
        values as JSON (``Lagging.stored``) and its 滞后任务 row."""
        gap = item.gap_points
        return (ATTENTION.index(item.status), -float(gap) if gap is not None else 0.0,
                json.dumps(item.stored(), ensure_ascii=False, separators=(",", ":")), xml)

    def add(self, entry: tuple[int, float, bytes, bytes], position: int) -> None:
        """One lagging indicator, as ``entry`` gives it, at its place in the register."""
        rank, gap, item, xml = entry
        self._scratch.add((rank, gap, position, item, xml))
        self.count += 1

    def done(self) -> None:
        """Every item is in."""
        self._scratch.done()

    ORDER = "ORDER BY rank, gap, position"  # of the table ``lagging``: the record copies it in this order

    @property
    def path(self) -> str:
        """The scratch database's file (table ``lagging``: rank, gap, position, item, xml)."""
        return self._scratch.path

    def __iter__(self) -> Iterator[Lagging]:
        return map(Lagging.of_stored, self.stored())

    def stored(self) -> Iterator[list]:
        """Their plain values (``Lagging.stored``), in order."""
        for (item,) in self._scratch.read(f"SELECT item FROM lagging {self.ORDER}"):
            yield json.loads(item)

    def rendered(self) -> Iterator[bytes]:
        """Their 滞后任务 rows in the same order, as ``entry`` was given them."""
        for (xml,) in self._scratch.read(f"SELECT xml FROM lagging {self.ORDER}"):
            yield xml

