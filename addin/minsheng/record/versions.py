"""Which register each period is read with (台账版本, formats §6.1), kept in the ledger.

A period's register is the one its templates were made from, else the one of its first
consolidation. The workbook's bytes are kept as they were (the register format of formats §2 is
the interface that lasts), once per content (its fingerprint), so that re-running an old period
months later reads its files against the register they were made from.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..errors import LedgerError, PeriodError, RegisterError
from ..model import Period
from ..register.cache import Register
from ..register.changes import changes, summary
from ..register.workbook import load_register, register_of_bytes

TEMPLATES = "下发填报表"  # how a period came by its register
FIRST_RUN = "首次汇总"
ADOPTED = "采用当前任务台账"


class Bound(NamedTuple):
    """A period's register as the ledger keeps it."""

    fingerprint: str
    name: str  # the workbook's file name then
    workbook: bytes
    how: str  # TEMPLATES, FIRST_RUN or ADOPTED
    at: str  # when it became the period's


def bound(path: Path, period: Period) -> Bound | None:
    """The register the period is read with, or None: not yet bound (or a ledger from before
    registers were kept). A ledger that can't be read is a ``LedgerError``."""
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(str(path))) as conn:
            if conn.execute("PRAGMA user_version").fetchone()[0] < 5:
                return None
            row = conn.execute("SELECT r.fingerprint, r.name, r.workbook, p.how, p.at FROM period_registers p "
                               "JOIN registers r ON r.fingerprint = p.fingerprint WHERE p.period = ?",
                               (str(period),)).fetchone()
    except sqlite3.Error as exc:
        raise LedgerError(f"历史数据库 {path} 无法读取（{exc}），无法确定本期所用的任务台账") from exc
    return Bound(row[0], row[1], bytes(row[2]), row[3], row[4]) if row else None


def bind(conn: sqlite3.Connection, period: Period, register: Register, how: str) -> None:
    """Make ``register`` the period's (inside the caller's transaction); the change is audited."""
    now = dt.datetime.now().isoformat(timespec="seconds")
    conn.execute("INSERT OR IGNORE INTO registers (fingerprint, name, workbook, at) VALUES (?, ?, ?, ?)",
                 (register.fingerprint, Path(register.path).name, register.source, now))
    before = conn.execute("SELECT fingerprint FROM period_registers WHERE period = ?", (str(period),)).fetchone()
    if before is not None and before[0] == register.fingerprint:
        return
    conn.execute("INSERT OR REPLACE INTO period_registers (period, fingerprint, how, at) VALUES (?, ?, ?, ?)",
                 (str(period), register.fingerprint, how, now))
    was = f"（原为 {before[0]}）" if before else ""
    conn.execute("INSERT INTO audit (at, period, action, detail) VALUES (?, ?, ?, ?)",
                 (now, str(period), "任务台账", f"本期所用任务台账：{register.fingerprint}{was}，{how}"))


def is_bound(conn: sqlite3.Connection, period: Period) -> bool:
    return conn.execute("SELECT 1 FROM period_registers WHERE period = ?", (str(period),)).fetchone() is not None


class Stale(NamedTuple):
    """What a period's changed values left out of date."""

    periods: list[Period]  # later periods of the year consolidated before the change: their 上期
    changed_at: str  # when the period's values last changed ("" if never since its first run)


def stale_after(path: Path, period: Period) -> Stale:
    """The later periods of ``period``'s year whose latest consolidation is older than the last
    run that changed ``period``'s values: they stay named until they are consolidated again."""
    if not path.is_file():
        return Stale([], "")
    try:
        with closing(sqlite3.connect(str(path))) as conn:
            last = conn.execute("SELECT id, at FROM runs WHERE period = ? AND changed > 0 ORDER BY id DESC LIMIT 1",
                                (str(period),)).fetchone()
            if last is None:
                return Stale([], "")
            rows = conn.execute("SELECT period FROM runs WHERE period > ? AND period <= ? GROUP BY period "
                                "HAVING MAX(id) < ? ORDER BY period",
                                (str(period), f"{period.year:04d}-12", last[0])).fetchall()
    except sqlite3.Error:
        return Stale([], "")
    return Stale([Period.parse(p) for (p,) in rows], last[1])


@dataclass
class PeriodRegister:
    """The register a command reads period P with, and what the clerk must know about it."""

    register: Register  # read as of P (``Register.at``)
    notes: list[str] = field(default_factory=list)
    adopted: bool = False  # P leaves its own register for the current one (``--adopt-register``)
    changes: list[str] = field(default_factory=list)  # from P's own register to the current one
    previous: Register | None = None  # P's own register, when it is left


def period_register(ledger: Path, register_file: Path, period: Period, year: int | None = None,
                    adopt: bool = False, remake: bool = False, command: str = "consolidate") -> PeriodRegister:
    """P's own register (formats §6.1): the one recorded for P, else the current file.

    When the file has changed since P's register was recorded, the changes are listed and none is
    applied, unless ``adopt``; ``remake`` (templates made again for a P not yet consolidated) takes
    the file as it is, saying what changed. A P outside the register's year is refused.
    ``command`` is the one the notes tell the clerk to run to adopt the current register.
    """
    notes: list[str] = []
    try:
        own = bound(ledger, period)
    except LedgerError as exc:
        own = None
        notes.append(f"{exc}；本次按当前任务台账")
    try:
        current = load_register(register_file)
    except RegisterError as exc:
        if own is None or adopt or command == "templates":  # making forms: the clerk is at the register
            raise
        # A slip in today's register (being edited for next month) does not hold up a late file
        # for a period that has its own.
        first = f"{exc.problems[0]}" + (f" 等 {len(exc.problems)} 处" if len(exc.problems) > 1 else "")
        notes.append(f"当前任务台账有误（{first}），{period.label}按历史数据库中记录的本期任务台账处理；"
                     f"其他统计期须先改正任务台账")
        return PeriodRegister(_kept(own, period, register_file).at(period), notes)
    if own is None or own.fingerprint == current.fingerprint:
        _check_year(current, year, period)
        return PeriodRegister(current.at(period), notes)
    kept = _kept(own, period, register_file)
    found = changes(kept, current)
    since = f"{period.label}的任务台账（{own.how}时记录，{own.at[:16].replace('T', ' ')}）"
    if adopt or remake:
        _check_year(current, year, period)
        why = "（--adopt-register）" if adopt else "：本期尚未汇总，重新生成的填报表采用当前任务台账"
        notes.append(f"本期改按当前任务台账{why}；与{since}相比：{summary(found)}")
        return PeriodRegister(current.at(period), notes, True, found, kept.at(period))
    notes.append(f"任务台账在{since}之后有改动：{summary(found)}。本期仍按原来的任务台账处理，这些改动未用于"
                 f"{period.label}；确需本期也按当前任务台账时，请运行 minsheng {command} --period {period} "
                 f"--adopt-register")
    return PeriodRegister(kept.at(period), notes, False, found)


def _kept(own: Bound, period: Period, register_file: Path) -> Register:
    return register_of_bytes(own.workbook, f"{period} 所用的任务台账（历史数据库中保存的 {own.name}）",
                             str(register_file))


def _check_year(register: Register, year: int | None, period: Period) -> None:
    """A period outside the register's programme year is refused: its deadlines would all have
    passed (or not begun), and 上期 would cross the year."""
    year = register.year or year
    if year is None or year == period.year:
        return
    source = "按完成时限" if register.year else "按 config.ini 的 [period] year"
    raise PeriodError(f"统计期 {period} 不在任务台账的年度内（任务台账{source}属于 {year} 年）；"
                      f"请改正 --period 或 config.ini 的 current，新的一年请用新一年的任务台账另建工作文件夹"
                      f"（minsheng init 文件夹）")


def consolidated_runs(path: Path, period: Period) -> int:
    """How many times the period has been consolidated."""
    if not path.is_file():
        return 0
    try:
        with closing(sqlite3.connect(str(path))) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs WHERE period = ?", (str(period),)).fetchone()[0]
    except sqlite3.Error:
        return 0
