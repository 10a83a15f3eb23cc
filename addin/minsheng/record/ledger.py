"""The history ledger (历史数据库): SQLite, one snapshot per period plus an append-only audit log.

The schema is versioned with ``PRAGMA user_version``; ``MIGRATIONS[i]`` takes a file from version i
to i + 1, so an old ledger is brought up to date when it is opened. Values are stored as text to
keep ``Decimal`` exact.

A damaged ledger never loses a run: the file is kept aside under a new name (never deleted), a
fresh ledger is started, and a note says what was lost. Notes are Chinese sentences appended to
the ``notes`` list the caller passes.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from contextlib import closing
from decimal import Decimal
from pathlib import Path

from ..assess.lagging import LaggingList
from ..assess.period import Consolidation, ProjectWords
from ..assess.result import PeriodResult
from ..assess.status import Previous
from ..errors import LedgerError, os_error_text
from ..files import FILE_MODE
from ..model import Period
from ..register.cache import Register
from . import results, versions
from .revisions import Recorder

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
    """
    CREATE INDEX accepted_by_unit ON accepted_values (period, unit);
    """,
    # The period's result as each run left it (``results.dumps``): what its circular says.
    """
    CREATE TABLE results (
        run_id INTEGER PRIMARY KEY REFERENCES runs(id), period TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX results_by_period ON results (period, run_id);
    CREATE TABLE result_lagging (run_id INTEGER NOT NULL REFERENCES runs(id), item TEXT NOT NULL);
    CREATE INDEX result_lagging_by_run ON result_lagging (run_id);
    CREATE TABLE result_projects (
        run_id INTEGER NOT NULL REFERENCES runs(id), unit TEXT NOT NULL, task_id TEXT NOT NULL,
        name TEXT NOT NULL, target TEXT NOT NULL, said TEXT NOT NULL);
    CREATE INDEX result_projects_by_run ON result_projects (run_id);
    """,
    # Revisions: a re-run adds its values beside the earlier run's, never over them (formats §6.1);
    # a period's values are those of its latest run. And the register each period is read with.
    """
    CREATE TABLE revised_values (
        run_id INTEGER NOT NULL REFERENCES runs(id), period TEXT NOT NULL, indicator_id TEXT NOT NULL,
        unit TEXT NOT NULL, value TEXT, stage TEXT, status TEXT NOT NULL, source_file TEXT, sheet TEXT, cell TEXT,
        sha256 TEXT, PRIMARY KEY (run_id, indicator_id));
    INSERT INTO revised_values SELECT run_id, period, indicator_id, unit, value, stage, status, source_file,
        sheet, cell, sha256 FROM accepted_values;
    DROP TABLE accepted_values;
    ALTER TABLE revised_values RENAME TO accepted_values;
    CREATE INDEX runs_by_period ON runs (period, id);
    CREATE INDEX files_by_run ON files (run_id);
    CREATE INDEX problems_by_run ON problems (run_id);
    CREATE TABLE registers (
        fingerprint TEXT PRIMARY KEY, name TEXT NOT NULL, workbook BLOB NOT NULL, at TEXT NOT NULL);
    CREATE TABLE period_registers (
        period TEXT PRIMARY KEY, fingerprint TEXT NOT NULL REFERENCES registers(fingerprint),
        how TEXT NOT NULL, at TEXT NOT NULL);
    ALTER TABLE runs ADD COLUMN changed INTEGER;
    """,
]
# The latest run of each period: its revision in force.
LATEST = "SELECT MAX(id) FROM runs GROUP BY period"


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the ledger."""
    if path.is_dir():
        raise LedgerError(f"历史数据库的位置 {path} 是一个文件夹，不是数据库文件；请把这个文件夹改名，"
                          f"或在 config.ini 的 [paths] ledger 中换一个文件名")
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
            raise sqlite3.DatabaseError("not a minsheng ledger: tables without a version")
        if version > len(MIGRATIONS):
            raise LedgerError(f"历史数据库 {path} 由更新版本的 minsheng 创建（版本 {version}），请升级 minsheng")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with conn:
                conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    except BaseException:
        conn.close()
        raise
    if created:
        os.chmod(path, FILE_MODE)  # SQLite makes it 0644 whatever the umask allows
    return conn


# A file that SQLite reads but whose tables are not ours (another program's database under this
# name, or ours with a table dropped by hand) is treated as damaged: set aside, never written into.
_FOREIGN = ("no such table", "no such column", "already exists", "has no column", "not a minsheng ledger")


def _damaged(exc: sqlite3.Error) -> bool:
    return (getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
            or any(text in str(exc) for text in _FOREIGN))


_SQLITE_TEXT = {"SQLITE_FULL": "磁盘空间已满", "SQLITE_READONLY": "文件或文件夹是只读的",
                "SQLITE_BUSY": "正被另一次汇总使用，请稍后重试", "SQLITE_LOCKED": "正被另一次汇总使用，请稍后重试",
                "SQLITE_CANTOPEN": "无法打开（文件夹不存在或没有权限）", "SQLITE_IOERR": "磁盘读写出错",
                "SQLITE_PERM": "没有访问权限"}


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return os_error_text(exc)
    name = getattr(exc, "sqlite_errorname", "")
    return next((text for code, text in _SQLITE_TEXT.items() if name.startswith(code)), "数据库出错")


def set_aside(path: Path) -> Path:
    """Rename a damaged ledger (and its journal) with a timestamp; returns the new name."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.stem}.损坏-{stamp}{path.suffix}")
    n = 2
    while kept.exists():
        kept = path.with_name(f"{path.stem}.损坏-{stamp}-{n}{path.suffix}")
        n += 1
    os.replace(path, kept)
    for suffix in ("-journal", "-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.replace(companion, kept.with_name(kept.name + suffix))
    return kept


def _set_aside_noting(path: Path, notes: list[str]) -> None:
    try:
        kept = set_aside(path)
    except OSError as exc:
        raise LedgerError(f"历史数据库 {path} 已损坏，且无法改名另存（{os_error_text(exc)}）；"
                          f"请把它移到别处后重试") from exc
    notes.append(f"历史数据库 {path.name} 已损坏（或不是本软件的数据库），已改名保存为 {kept.name}（未删除），并新建了历史数据库；"
                 f"本次无法与上期对比（上期累计、环比、较上期减少为空）")


def previous_values(path: Path, period: Period, notes: list[str] | None = None,
                    register: Register | None = None) -> dict[str, Previous]:
    """上期 of every indicator, by indicator id (see ``PreviousValues``)."""
    lookup = PreviousValues(path, period, notes, register)
    try:
        return lookup.all()
    finally:
        lookup.close()


class PreviousValues:
    """上期: each indicator's value in the latest earlier period of the same year that has one, as
    that period's latest revision holds it.

    History follows the indicator, never the unit: a transferred indicator keeps its 上期, a renamed
    one finds it under its 原指标编号, and one its unit did not report last month is compared with
    the last month that did (``Previous.period`` says which). 上期 never crosses the year.

    A ledger that can't be read gives no previous values and a note; it never stops the run. A
    damaged one is set aside at once, so that this run's record starts a fresh ledger.
    """

    def __init__(self, path: Path, period: Period, notes: list[str] | None = None, register: Register | None = None):
        self.path, self.notes, self.register = path, ([] if notes is None else notes), register
        self.period = period
        self._conn: sqlite3.Connection | None = None
        self._runs: dict[int, Period] = {}  # the revision in force of each earlier period of the year
        self._cache: OrderedDict[str, dict[str, Previous]] = OrderedDict()
        if not path.exists():
            return
        try:
            self._conn = connect(path)
            self._runs = {run: Period.parse(p) for p, run in self._conn.execute(
                "SELECT period, MAX(id) FROM runs WHERE period >= ? AND period < ? GROUP BY period",
                (f"{period.year:04d}-01", str(period)))}
        except (sqlite3.Error, LedgerError, OSError, ValueError) as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        self.close()
        self._runs = {}
        if isinstance(exc, sqlite3.DatabaseError) and _damaged(exc):
            _set_aside_noting(self.path, self.notes)
        elif isinstance(exc, LedgerError):
            self.notes.append(f"{exc}；本次不与上期对比")
        else:
            self.notes.append(f"历史数据库 {self.path} 无法读取（{_reason(exc)}），本次不与上期对比")

    def __call__(self, unit: str) -> dict[str, Previous]:
        """The previous values of the indicators the unit leads now, by indicator id."""
        if not self._runs or self.register is None:
            return {}
        found = self._cache.get(unit)
        if found is None:
            found = self._read([(i.id, i.former_id) for t in self.register.tasks_of(unit) for i in t.indicators])
            self._cache[unit] = found
            if len(self._cache) > 256:
                self._cache.popitem(last=False)
        return found

    def all(self) -> dict[str, Previous]:
        if not self._runs:
            return {}
        if self.register is None:
            return self._read(None)
        return self._read([(i.id, i.former_id) for i in self.register.indicators])

    def _read(self, wanted: list[tuple[str, str]] | None) -> dict[str, Previous]:
        """``wanted``: (id, former id) pairs; None for every indicator under its own id."""
        runs = ",".join(str(run) for run in self._runs)
        latest: dict[str, tuple[Period, str]] = {}
        try:
            if self._conn is None:  # closed while the ledger was written; open it again
                self._conn = connect(self.path)
            ids = None if wanted is None else sorted({i for pair in wanted for i in pair if i})
            for start in range(0, 1 if ids is None else len(ids), 500):
                where, params = ("", ()) if ids is None else (
                    f"AND indicator_id IN ({','.join('?' * len(ids[start:start + 500]))})", ids[start:start + 500])
                for indicator_id, run, value in self._conn.execute(
                        f"SELECT indicator_id, run_id, value FROM accepted_values WHERE run_id IN ({runs}) "
                        f"AND value IS NOT NULL {where}", params):
                    period = self._runs[run]
                    if indicator_id not in latest or latest[indicator_id][0] < period:
                        latest[indicator_id] = (period, value)
        except (sqlite3.Error, OSError) as exc:
            self._fail(exc)
            return {}
        values: dict[str, Previous] = {}
        for indicator_id, former in wanted if wanted is not None else ((i, "") for i in latest):
            # Under its own id first; its old id's history counts up to the rename.
            candidates = [latest[i] for i in (indicator_id, former) if i and i in latest]
            if not candidates:
                continue
            period, value = max(candidates, key=lambda c: c[0])
            try:
                values[indicator_id] = Previous(period, Decimal(value), period != self.period.previous())
            except (ArithmeticError, TypeError, ValueError):
                continue  # a value we did not write; the ledger is ours, the edit is not
        return values

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Withdrawn(Exception):
    """The run's outputs were not written: its record is taken back."""


def bind_for_templates(path: Path, period: Period, register: Register) -> None:
    """Templates of the period go out: their register becomes the period's (``versions``). A
    ledger that can't be written is a ``LedgerError``."""
    try:
        with closing(connect(path)) as conn, conn:
            versions.bind(conn, period, register, versions.TEMPLATES)
    except (sqlite3.Error, OSError) as exc:
        raise LedgerError(f"下发填报表所用的任务台账未能记入历史数据库（{path}：{_reason(exc)}）") from exc


def record_run(path: Path, result: Consolidation, recorder: Recorder, notes: list[str] | None = None,
               confirm: Callable[[], bool] | None = None, adopted: bool = False) -> int | None:
    """Add this run as the period's latest revision, and append to the audit log; returns the run
    id. The period's register is bound to the one used, if it had none (or ``adopted``).

    ``confirm()`` is asked just before the record is committed (the outputs are written meanwhile,
    in another thread); when it says no, nothing is recorded and None is returned. A damaged
    ledger is set aside and a fresh one written (with a note); a ledger that cannot be written at
    all (disk full, read-only) is a ``LedgerError``.
    """
    notes = [] if notes is None else notes
    try:
        try:
            return _record(path, result, recorder, confirm, adopted)
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise
            _set_aside_noting(path, notes)
            return _record(path, result, recorder, confirm, adopted)
    except _Withdrawn:
        return None
    except (sqlite3.Error, OSError) as exc:
        raise LedgerError(f"本期数据未能记入历史数据库 {path}（{_reason(exc)}）；请处理后重新汇总") from exc


def _record(path: Path, result: Consolidation, recorder: Recorder, confirm: Callable[[], bool] | None = None,
            adopted: bool = False) -> int:
    now = dt.datetime.now().isoformat(timespec="seconds")
    p = str(result.period)
    counts, received, problems = result.counts, result.received, result.problems
    fingerprint = result.register.fingerprint
    values = recorder.rows()
    with closing(connect(path)) as conn, conn:
        _attach_lists(conn, result)  # before the transaction begins: SQLite attaches outside one
        before = conn.execute("SELECT COUNT(*) FROM runs WHERE period = ?", (p,)).fetchone()[0]
        run_id = conn.execute(
            "INSERT INTO runs (period, at, fingerprint, files_read, files_rejected, indicators_accepted,"
            " problems, units_missing, changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (p, now, fingerprint, counts.files_read, counts.files_rejected, counts.indicators_accepted,
             counts.problems, counts.units_missing,
             len(result.corrections) + adopted if before else None)).lastrowid
        if adopted or not versions.is_bound(conn, result.period):
            versions.bind(conn, result.period, result.register, versions.ADOPTED if adopted else versions.FIRST_RUN)
        conn.executemany(
            "INSERT INTO files (period, run_id, name, unit, sha256, outcome) VALUES (?, ?, ?, ?, ?, ?)",
            [(p, run_id, item.name, item.unit, item.sha256, item.outcome) for item in received])
        conn.executemany(
            "INSERT INTO accepted_values (period, indicator_id, unit, value, stage, status, source_file,"
            " sheet, cell, sha256, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # never over an earlier run's
            ((p, *row, run_id) for row in values))
        conn.executemany(
            "INSERT INTO problems (period, run_id, file, sheet, cell, severity, message, raw, indicator_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(p, run_id, x.file, x.sheet, x.cell, x.severity.value, x.message, x.raw, x.indicator)
             for x in problems])
        action = "重新汇总" if before else "汇总"
        changed = f"与上次汇总相比有 {len(result.corrections)} 个数值变化，" if before else ""
        conn.execute("INSERT INTO audit (at, period, action, detail) VALUES (?, ?, ?, ?)",
                     (now, p, action, f"运行 {run_id}（第 {before + 1} 次汇总本期）：采用 {counts.indicators_accepted} 个数值，{changed}"
                                      f"读取 {counts.files_read} 个文件，拒收 {counts.files_rejected} 个，"
                                      f"问题 {counts.problems} 条，未报送单位 {counts.units_missing} 个"))
        if confirm is not None and not confirm():
            raise _Withdrawn  # leaves the ``with conn`` block: rolled back
        _record_result(conn, run_id, result)
    return run_id


def _attach_lists(conn: sqlite3.Connection, result: Consolidation) -> None:
    """The run's lagging list and projects' words (scratch databases) and the register's cache, so
    that the period's long lists go into the record row by row inside SQLite."""
    conn.execute("ATTACH DATABASE ? AS lag", (result.lagging.path,))
    conn.execute("ATTACH DATABASE ? AS words", (result.words.path,))
    conn.execute("ATTACH DATABASE ? AS reg", (str(result.register.store),))


def _record_result(conn: sqlite3.Connection, run_id: int, result: Consolidation) -> None:
    lagging = conn.execute(f"INSERT INTO result_lagging (run_id, item) SELECT ?, item FROM lag.lagging "
                           f"{LaggingList.ORDER}", (run_id,)).rowcount
    projects = conn.execute("INSERT INTO result_projects (run_id, unit, task_id, name, target, said) "
                            f"SELECT {run_id:d}, * FROM ({ProjectWords.PROJECTS})").rowcount
    conn.execute("INSERT INTO results (run_id, period, data) VALUES (?, ?, ?)",
                 (run_id, str(result.period), results.dumps(result.period_result, lagging, projects)))


def period_result(path: Path, period: Period, lists: bool = True) -> PeriodResult | None:
    """The result the period's last consolidation recorded, or None: no ledger, or no run of that
    period since results are kept. One that cannot be read is a ``LedgerError``. Without ``lists``,
    its roll-ups only (no lagging list, no projects): what a later circular compares with."""
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(str(path))) as conn:  # only read: a SELECT writes nothing
            if conn.execute("PRAGMA user_version").fetchone()[0] < 4:
                return None
            row = conn.execute("SELECT run_id, data FROM results WHERE period = ? ORDER BY run_id DESC LIMIT 1",
                               (str(period),)).fetchone()
            if row is not None and lists:
                lagging = [item for (item,) in conn.execute(
                    "SELECT item FROM result_lagging WHERE run_id = ? ORDER BY rowid", (row[0],))]
                projects = conn.execute("SELECT unit, task_id, name, target, said FROM result_projects "
                                        "WHERE run_id = ? ORDER BY rowid", (row[0],)).fetchall()
    except sqlite3.Error as exc:
        raise LedgerError(f"历史数据库 {path} 无法读取（{_reason(exc)}）；请重新汇总本期后再生成通报") from exc
    if row is None:
        return None
    try:
        return results.loads(row[1], lagging, projects) if lists else results.loads(row[1], None, None)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:  # edited, damaged, other version
        raise LedgerError(f"历史数据库 {path} 中{period.label}的汇总结果无法读取（内容不完整或被改动过）；"
                          f"请重新汇总本期后再生成通报") from exc
