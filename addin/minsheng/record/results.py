"""A period's result (``PeriodResult``) as the record keeps it: JSON, numbers as exact text,
compressed (zlib).

JSON, not pickle: the record sits in a shared folder, and reading it must never run anything.
``VERSION`` is written with the data; a result in another form is refused (``ValueError``): the
period is consolidated again rather than misread.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal
from fractions import Fraction

from ..assess.lagging import Lagging
from ..assess.result import PeriodResult, Project
from ..assess.rollup import GroupSummary, Programme
from ..assess.words import Said
from ..model import Period, Status

VERSION = 1


def dumps(result: PeriodResult) -> bytes:
    """The result as compressed JSON, written a batch at a time: a province's thousands of lagging
    indicators and projects never stand in memory at once."""
    head = {
        "version": VERSION,
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
    }
    stored = getattr(result.lagging, "stored", None)  # a fresh run's list gives its plain values as they are
    lagging = stored() if stored is not None else (item.stored() for item in result.lagging)
    projects = ((p.unit, p.task_id, p.name, p.target, p.said) for p in result.projects)
    out = zlib.compressobj(1)
    parts = [out.compress(_json(head)[:-1].encode())]  # the object, left open for the long lists
    for name, items in (("lagging", lagging), ("projects", projects)):
        parts.append(out.compress(f',"{name}":['.encode()))
        for n, batch in enumerate(batched(items, 512)):
            parts.append(out.compress((b"," if n else b"") + _json(batch)[1:-1].encode()))
        parts.append(out.compress(b"]"))
    parts.append(out.compress(b"}"))
    parts.append(out.flush())
    return b"".join(parts)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def batched(items: Iterable, n: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def loads(data: bytes) -> PeriodResult:
    """A result ``dumps`` wrote; ``ValueError`` for anything else."""
    try:
        text = zlib.decompress(data)
    except (zlib.error, TypeError) as exc:
        raise ValueError("not a compressed result") from exc
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("not a period's result of this version")
    period = Period.parse(data["period"])
    return PeriodResult(
        period, dt.datetime.fromisoformat(data["generated_at"]), data["fingerprint"],
        [_group_of(g) for g in data["units"]], [_group_of(g) for g in data["categories"]],
        _programme_of(data["programme"], period), list(data["unit_order"]),
        [Lagging.of_stored(stored) for stored in data["lagging"]],
        [Project(unit, task_id, name, target, tuple(Said(*fields) for fields in said))
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
