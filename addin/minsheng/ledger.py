"""The history ledger (历史数据库): SQLite, one snapshot per period plus an append-only audit log.

The schema is versioned with ``PRAGMA user_version``; ``MIGRATIONS[i]`` takes a file from version i
to i + 1, so an old ledger is brought up to date when it is opened. Values are stored as text to
keep ``Decimal`` exact.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

from .consolidation import Consolidation
from .engine import Previous
from .model import Period

MIGRATIONS = [
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY, period TEXT NOT NULL, at TEXT NOT NULL, fingerprint TEXT NOT NULL,
        files_read INTEGER NOT NULL, files_rejected INTEGER NOT NULL,
        indicators_accepted INTEGER NOT NULL, problems INTEGER NOT NULL, units_missing INTEGER NOT NULL);
    CREATE TABLE files (
        period TEXT NOT NULL, run_id INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
        unit TEXT, sha256 TEXT, outcome TEXT NOT NULL);
    CREATE TABLE accepted_values (
        period TEXT NOT NULL, indicator_id TEXT NOT NULL, unit TEXT NOT NULL,
        value TEXT, stage TEXT, status TEXT NOT NULL, source_file TEXT, sheet TEXT, cell TEXT,
        sha256 TEXT, run_id INTEGER NOT NULL REFERENCES runs(id),
        PRIMARY KEY (period, indicator_id));
    CREATE TABLE problems (
        period TEXT NOT NULL, run_id INTEGER NOT NULL REFERENCES runs(id), file TEXT, sheet TEXT,
        cell TEXT, severity TEXT NOT NULL, message TEXT NOT NULL, raw TEXT);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, period TEXT NOT NULL, action TEXT NOT NULL,
        detail TEXT NOT NULL);
    CREATE INDEX files_by_period ON files(period);
    CREATE INDEX problems_by_period ON problems(period);
    """,
    """
    ALTER TABLE problems ADD COLUMN indicator_id TEXT;
    """,
]


class LedgerError(Exception):
    """The ledger cannot be used by this version of the tool."""


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the ledger."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA foreign_keys = ON")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        conn.close()
        raise LedgerError(f"历史数据库 {path} 由更新版本的 minsheng 创建（版本 {version}），请升级 minsheng")
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        with conn:
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    return conn


def previous_values(path: Path, period: Period) -> dict[str, Previous]:
    """The latest earlier period's accepted values (上期), by indicator id."""
    if not path.is_file():
        return {}
    with closing(connect(path)) as conn:
        row = conn.execute("SELECT MAX(period) FROM accepted_values WHERE period < ?", (str(period),)).fetchone()
        if not row or row[0] is None:
            return {}
        before = Period.parse(row[0])
        return {indicator_id: Previous(before, Decimal(value)) for indicator_id, value in conn.execute(
            "SELECT indicator_id, value FROM accepted_values WHERE period = ? AND value IS NOT NULL",
            (row[0],))}


def record_run(path: Path, result: Consolidation) -> int:
    """Replace the period's snapshot with this run's, and append to the audit log; returns the run id."""
    now = dt.datetime.now().isoformat(timespec="seconds")
    p = str(result.period)
    counts, received, problems = result.counts, result.received, result.problems
    fingerprint, assessments = result.register.fingerprint, result.assessments
    sha = {item.name: item.sha256 for item in received}
    with closing(connect(path)) as conn, conn:
        before = conn.execute("SELECT COUNT(*) FROM accepted_values WHERE period = ?", (p,)).fetchone()[0]
        run_id = conn.execute(
            "INSERT INTO runs (period, at, fingerprint, files_read, files_rejected, indicators_accepted,"
            " problems, units_missing) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (p, now, fingerprint, counts.files_read, counts.files_rejected, counts.indicators_accepted,
             counts.problems, counts.units_missing)).lastrowid
        for table in ("accepted_values", "problems", "files"):
            conn.execute(f"DELETE FROM {table} WHERE period = ?", (p,))
        conn.executemany(
            "INSERT INTO files (period, run_id, name, unit, sha256, outcome) VALUES (?, ?, ?, ?, ?, ?)",
            [(p, run_id, item.name, item.unit, item.sha256, item.outcome) for item in received])
        conn.executemany(
            "INSERT INTO accepted_values (period, indicator_id, unit, value, stage, status, source_file,"
            " sheet, cell, sha256, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            # For 里程碑 the value is the stage's percent, so the next period can compare with it.
            [(p, a.indicator.id, a.indicator.lead_unit, str(a.value), a.stage, a.status.value, a.source,
              "填报" if a.reported else "", a.reported.cell if a.reported else "", sha.get(a.source, ""), run_id)
             for a in assessments if a.reported is not None and a.value is not None])
        conn.executemany(
            "INSERT INTO problems (period, run_id, file, sheet, cell, severity, message, raw, indicator_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(p, run_id, x.file, x.sheet, x.cell, x.severity.value, x.message, x.raw, x.indicator)
             for x in problems])
        action = "重新汇总" if before else "汇总"
        conn.execute("INSERT INTO audit (at, period, action, detail) VALUES (?, ?, ?, ?)",
                     (now, p, action, f"运行 {run_id}：采用 {counts.indicators_accepted} 个数值（本期原有 {before} 个），"
                                      f"读取 {counts.files_read} 个文件，拒收 {counts.files_rejected} 个，"
                                      f"问题 {counts.problems} 条，未报送单位 {counts.units_missing} 个"))
    return run_id

