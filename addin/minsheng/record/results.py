"""A period's result (``PeriodResult``) as the record keeps it: JSON, numbers as exact text. The
short part is one document; each lagging indicator and each project is a row of its own.

JSON, not pickle: the record sits in a shared folder, and reading it must never run anything.
``VERSION`` is written with the data; a result in another form is refused (``ValueError``): the
period is consolidated again rather than misread.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from ..assess.lagging import Lagging
from ..assess.result import PeriodResult, Project
from ..assess.rollup import GroupSummary, Programme
from ..assess.words import Said
from ..model import Period, Status

VERSION = 1


def dumps(result: PeriodResult, lagging: int, projects: int) -> str:
    """The result's short part (roll-ups, notes) as JSON; its long lists are rows of their own, and
    how many of each there are is written here, so that a list cut short is never read as whole."""
    return _json({
        "version": VERSION,
        "lagging": lagging,
        "projects": projects,
        "period": str(result.period),
        "generated_at": result.generated_at.isoformat(),
        "fingerprint": result.fingerprint,
        "units": [_group(g) for g in result.units],
        "categories": [_group(g) for g in result.categories],
        "programme": _programme(result.programme),
        "unit_order": result.unit_order,
        "refused": result.refused,
        "mismatches": result.mismatches,
        "files": [list(f) for f in result.files],
    })


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(head: str, lagging: Iterable[str] | None, projects: Iterable[tuple[str, str, str, str, str]] | None
          ) -> PeriodResult:
    """A result from ``dumps``'s document and the rows of its lists (each lagging indicator's stored
    values as JSON; each project as (unit, task id, name, target, its Said as JSON)); ``ValueError``
    for anything else. With both lists None: the roll-ups alone, the lists left empty."""
    data = json.loads(head)
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("not a period's result of this version")
    whole = lagging is not None or projects is not None
    lagging, projects = list(lagging or ()), list(projects or ())
    if whole and (len(lagging), len(projects)) != (data["lagging"], data["projects"]):
        raise ValueError("rows of the result are missing or added")
    period = Period.parse(data["period"])
    return PeriodResult(
        period, dt.datetime.fromisoformat(data["generated_at"]), data["fingerprint"],
        [_group_of(g) for g in data["units"]], [_group_of(g) for g in data["categories"]],
        _programme_of(data["programme"], period), list(data["unit_order"]),
        [Lagging.of_stored(json.loads(text)) for text in lagging],
        [Project(unit, task_id, name, target, tuple(Said(*fields) for fields in json.loads(said)))
         for unit, task_id, name, target, said in projects],
        data["refused"], data["mismatches"], [(name, modified) for name, modified in data["files"]])


def _counts(counts: Counter) -> dict[str, int]:
    return {status.value: n for status, n in counts.items() if n}


def _counts_of(data: dict[str, int]) -> Counter:
    return Counter({Status(name): n for name, n in data.items()})


def _group(g: GroupSummary) -> dict:
    return {"name": g.name, "counts": _counts(g.counts), "indicators": g.indicators, "tasks": g.tasks,
            "rank": g.rank, "submitted": g.submitted, "funds_planned": str(g.funds_planned),
            "funds_paid": str(g.funds_paid), "mean": [g.mean.numerator, g.mean.denominator]}


def _group_of(data: dict) -> GroupSummary:
    group = GroupSummary(data["name"], _counts_of(data["counts"]), data["indicators"], data["tasks"], data["rank"],
                         data["submitted"], Decimal(data["funds_planned"]), Decimal(data["funds_paid"]))
    group.mean = Fraction(*data["mean"])  # the exact mean, as it was worked out (sets the cached value)
    return group


def _programme(p: Programme) -> dict:
    return {"tasks": p.tasks, "tasks_complete": p.tasks_complete, "tasks_on_schedule": p.tasks_on_schedule,
            "tasks_lagging": p.tasks_lagging, "indicators": p.indicators, "counts": _counts(p.counts),
            "funds_planned": str(p.funds_planned), "funds_paid": str(p.funds_paid), "units": p.units,
            "units_missing": p.units_missing, "tasks_below_level": p.tasks_below_level}


def _programme_of(data: dict, period: Period) -> Programme:
    return Programme(period, data["tasks"], data["tasks_complete"], data["tasks_on_schedule"], data["tasks_lagging"],
                     data["indicators"], _counts_of(data["counts"]), Decimal(data["funds_planned"]),
                     Decimal(data["funds_paid"]), data["units"], data["units_missing"],
                     data.get("tasks_below_level", 0))  # results recorded before it was counted: none
