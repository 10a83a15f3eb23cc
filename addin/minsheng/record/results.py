"""A period's result (``PeriodResult``) as the record keeps it: JSON text, numbers as exact text.

JSON, not pickle: the record sits in a shared folder, and reading it must never run anything.
``VERSION`` is written with the data; a result in another form is refused (``ValueError``): the
period is consolidated again rather than misread.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from fractions import Fraction

from ..assess.lagging import Lagging
from ..assess.result import PeriodResult, Project
from ..assess.rollup import GroupSummary, Programme
from ..model import IndicatorType, Period, Status

VERSION = 1
_DECIMALS = ("target", "value", "rate_percent", "schedule_percent", "gap_points")


def dumps(result: PeriodResult) -> str:
    return json.dumps({
        "version": VERSION,
        "period": str(result.period),
        "generated_at": result.generated_at.isoformat(),
        "fingerprint": result.fingerprint,
        "units": [_group(g) for g in result.units],
        "categories": [_group(g) for g in result.categories],
        "programme": _programme(result.programme),
        "lagging": [list(item.stored()) for item in result.lagging],
        "projects": [[p.unit, p.task_id, p.name, p.target, [list(s) for s in p.said]] for p in result.projects],
        "refused": result.refused,
        "mismatches": result.mismatches,
        "files": [list(f) for f in result.files],
    }, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> PeriodResult:
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("not a period's result of this version")
    fields = [f.name for f in Lagging.__dataclass_fields__.values()]
    lagging = []
    for stored in data["lagging"]:
        values = dict(zip(fields, stored))
        for name in _DECIMALS:
            values[name] = None if values[name] is None else Decimal(values[name])
        values["type"], values["status"] = IndicatorType(values["type"]), Status(values["status"])
        lagging.append(Lagging(**values))
    period = Period.parse(data["period"])
    return PeriodResult(
        period, dt.datetime.fromisoformat(data["generated_at"]), data["fingerprint"],
        [_group_of(g) for g in data["units"]], [_group_of(g) for g in data["categories"]],
        _programme_of(data["programme"], period), lagging,
        [Project(unit, task_id, name, target, tuple((w, s) for w, s in said))
         for unit, task_id, name, target, said in data["projects"]],
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
            "units_missing": p.units_missing}


def _programme_of(data: dict, period: Period) -> Programme:
    return Programme(period, data["tasks"], data["tasks_complete"], data["tasks_on_schedule"], data["tasks_lagging"],
                     data["indicators"], _counts_of(data["counts"]), Decimal(data["funds_planned"]),
                     Decimal(data["funds_paid"]), data["units"], data["units_missing"])
