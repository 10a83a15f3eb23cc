"""Revisions of a period's record: what a run changes against the period's previous consolidation
(更正记录, formats §5.1), found as the run's rows pass on their way to the ledger."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

from ..assess.judge import Rows
from ..model import Period
from ..spool import BatchSpool


class Correction(NamedTuple):
    """更正记录: a value of the period that differs from its previous revision."""

    indicator_id: str
    unit: str
    old: str  # as the previous revision held it ("" when it had none)
    new: str  # as this run takes it ("" when it has none now)
    old_source: str  # file and cell
    new_source: str


def revision_values(path: Path, period: Period) -> dict[str, tuple[str, str, str]] | None:
    """The values the period's latest revision holds: indicator id → (unit, value, source); None
    when the period has no revision yet, or the ledger can't be read (``PreviousValues`` says so)."""
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(str(path))) as conn:
            run = conn.execute("SELECT MAX(id) FROM runs WHERE period = ?", (str(period),)).fetchone()[0]
            if run is None:
                return None
            rows = conn.execute("SELECT indicator_id, unit, value, stage, source_file, sheet, cell "
                                "FROM accepted_values WHERE run_id = ?", (run,)).fetchall()
    except sqlite3.Error:
        return None
    return {row[0]: (row[1], _shown(row[2], row[3]), _source(*row[4:])) for row in rows}


def _shown(value: str | None, stage: str | None) -> str:
    return stage or value or ""


def _source(file: str | None, sheet: str | None, cell: str | None) -> str:
    return f"{file} {sheet}!{cell}" if file and sheet and cell else (file or "")


class Recorder:
    """A consolidation sink: keeps this run's rows for the ledger on disk until ``record_run``, and
    compares each with the period's previous revision (``before``, from ``revision_values``)."""

    def __init__(self, before: dict[str, tuple[str, str, str]] | None = None,
                 renamed: dict[str, str] | None = None) -> None:
        self._spool = BatchSpool(1000)
        self.revised = before is not None  # the period has an earlier revision to compare with
        self._before = dict(before or {})
        self._former = {now: was for was, now in (renamed or {}).items()}  # a renamed indicator's old id
        self._changed: list[Correction] = []

    def add(self, rows: Rows) -> None:
        self._spool.extend(rows.ledger)
        if not self.revised:
            return
        for indicator_id, unit, value, stage, _status, file, sheet, cell, _sha in rows.ledger:
            old = self._before.pop(indicator_id, None)
            if old is None and indicator_id in self._former:
                old = self._before.pop(self._former[indicator_id], None)
            new, source = _shown(value, stage), _source(file, sheet, cell)
            if old is None or old[1] != new:
                self._changed.append(Correction(indicator_id, unit, old[1] if old else "", new,
                                                old[2] if old else "", source))

    def corrections(self) -> list[Correction]:
        """What differs from the previous revision: changed and new values, then values it had
        that this run has not (a file withdrawn, a cell emptied). Call once every row is added."""
        gone = [Correction(indicator_id, unit, value, "", source, "")
                for indicator_id, (unit, value, source) in self._before.items()]
        return self._changed + gone

    def rows(self):
        return iter(self._spool)

    def close(self) -> None:
        self._spool.close()
