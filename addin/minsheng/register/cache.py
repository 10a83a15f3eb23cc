"""The register's cache database (台账缓存), and ``Register``, which reads from it.

A validated register is written once per content (SHA-256 of the workbook's bytes) into a small
SQLite file in the user's cache folder. Every later command with the same register opens it
instead of parsing the workbook again, and reads only what it needs: a unit's tasks when checking
that unit's file, the tasks one after another when consolidating. So a province's register of
75,000 indicators costs the consolidating process next to no memory, and each worker process
opens the file on its own.

The files are never changed once written (a new content is a new file), so they are opened
read-only and ``immutable``: no locks, safe to share between processes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import tempfile
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from .. import __version__
from ..files import FILE_MODE
from ..model import Indicator, IndicatorType, Period, Task

STORE_VERSION = 3  # 2: indicators keep their own 完成时限; 3: adjustments, renames, cancellations
KEEP = 16  # cache files kept; older ones are removed
_UNIT_VIEWS = 256  # units whose tasks a process keeps at hand

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE units (position INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE tasks (position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, category TEXT NOT NULL,
    name TEXT NOT NULL, annual_target TEXT NOT NULL, partners TEXT NOT NULL, planned_funds TEXT,
    deadline TEXT, first_lead TEXT NOT NULL);
CREATE TABLE indicators (position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, task INTEGER NOT NULL,
    name TEXT NOT NULL, unit_of_measure TEXT NOT NULL, type TEXT NOT NULL, target TEXT,
    lead_unit TEXT NOT NULL, row INTEGER NOT NULL, extra TEXT NOT NULL, deadline TEXT,
    adjusted_target TEXT, adjusted_from TEXT NOT NULL, former_id TEXT NOT NULL);
CREATE INDEX indicators_of_unit ON indicators (lead_unit, position);
CREATE TABLE cancelled (position INTEGER PRIMARY KEY, id TEXT NOT NULL, task_id TEXT NOT NULL,
    task_name TEXT NOT NULL, name TEXT NOT NULL, unit_of_measure TEXT NOT NULL, type TEXT NOT NULL,
    target TEXT, lead_unit TEXT NOT NULL, row INTEGER NOT NULL);
"""
_TASK = "t.position, t.id, t.category, t.name, t.annual_target, t.partners, t.planned_funds, t.deadline, t.first_lead"
_INDICATOR = ("i.id, i.name, i.unit_of_measure, i.type, i.target, i.lead_unit, i.row, i.extra, i.position, i.deadline, "
              "i.adjusted_target, i.adjusted_from, i.former_id")
_JOINED = f"SELECT {_TASK}, {_INDICATOR} FROM tasks t JOIN indicators i ON i.task = t.position"


def cache_dir() -> Path:
    """Where register caches live: ``MINSHENG_CACHE``, else the user's cache folder."""
    override = os.environ.get("MINSHENG_CACHE")
    if override:
        return Path(override)
    local = os.environ.get("LOCALAPPDATA")  # Windows
    if local:
        return Path(local) / "minsheng" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minsheng"


def store_name(sha256: str) -> str:
    return f"register-{sha256[:32]}-v{STORE_VERSION}-{__version__}.sqlite"


def find_store(sha256: str) -> Path | None:
    """The cache file of the register with this content, if there is a sound one. A damaged one
    (a disk error, a copy cut short) is removed, so that the register is read again and the cache
    written anew, instead of every command failing on it."""
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / "minsheng"):
        path = folder / store_name(sha256)
        if path.is_file():
            if not _sound(path):
                try:
                    path.unlink()
                except OSError:
                    continue  # not ours to remove: read the register again all the same
                continue
            try:
                os.utime(path)  # recently used: kept when old caches are removed
            except OSError:
                pass
            return path
    return None


def _sound(path: Path) -> bool:
    """SQLite finds no damage in the file, and it holds a complete register."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                return False
            meta = dict(conn.execute("SELECT key, value FROM meta"))
            counted = conn.execute("SELECT (SELECT COUNT(*) FROM tasks), (SELECT COUNT(*) FROM indicators)").fetchone()
            return counted == (int(meta["tasks"]), int(meta["indicators"])) and "fingerprint" in meta
        finally:
            conn.close()
    except (sqlite3.Error, KeyError, ValueError, TypeError):
        return False


def write_store(sha256: str, tasks: list[Task], fingerprint: str, extra_columns: tuple[str, ...]) -> Path:
    """Write a validated register into a new cache file; returns its path."""
    last_error: OSError | None = None
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / "minsheng"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".register-", suffix=".sqlite", dir=folder)
            os.close(fd)
        except OSError as exc:
            last_error = exc
            continue
        try:
            _fill(Path(tmp), tasks, fingerprint, extra_columns)
            os.chmod(tmp, FILE_MODE)
            target = folder / store_name(sha256)
            os.replace(tmp, target)
        except (OSError, sqlite3.Error) as exc:
            Path(tmp).unlink(missing_ok=True)
            last_error = exc if isinstance(exc, OSError) else OSError(str(exc))
            continue
        _evict(folder)
        return target
    raise last_error or OSError("no cache folder")


def _fill(path: Path, tasks: list[Task], fingerprint: str, extra_columns: tuple[str, ...]) -> None:
    # Cancelled indicators are kept aside: every view of the register (templates, the pass of a
    # consolidation, the circular) is of the indicators in force, numbered without gaps.
    cancelled = [(t, i) for t in tasks for i in t.indicators if i.cancelled]
    tasks = [replace(t, indicators=[i for i in t.indicators if not i.cancelled]) for t in tasks]
    tasks = [t for t in tasks if t.indicators]
    units: dict[str, None] = {}
    for task in tasks:
        for ind in task.indicators:
            units.setdefault(ind.lead_unit)
    years = Counter(d.year for t in tasks for i in t.indicators for d in (i.deadline,) if d is not None)
    conn = sqlite3.connect(str(path))
    try:
        with conn:
            conn.executescript(_SCHEMA)
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("fingerprint", fingerprint), ("extra_columns", json.dumps(list(extra_columns), ensure_ascii=False)),
                ("tasks", str(len(tasks))), ("indicators", str(sum(len(t.indicators) for t in tasks))),
                # The programme year: the year most deadlines fall in (the earliest of equals).
                ("year", str(min(years, key=lambda y: (-years[y], y))) if years else "")])
            conn.executemany("INSERT INTO units VALUES (?, ?)", enumerate(units))
            conn.executemany("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                (n, t.id, t.category, t.name, t.annual_target, "、".join(t.partner_units), _text(t.planned_funds),
                 t.deadline.isoformat() if t.deadline else None, t.lead_units[0])
                for n, t in enumerate(tasks)))
            conn.executemany("INSERT INTO indicators VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                (position, i.id, n, i.name, i.unit_of_measure, i.type.value, _text(i.target), i.lead_unit, i.row,
                 json.dumps([value for _, value in i.extra], ensure_ascii=False),
                 i.deadline.isoformat() if i.deadline else None, _text(i.adjusted_target), i.adjusted_from,
                 i.former_id)
                for position, (n, i) in enumerate((n, i) for n, t in enumerate(tasks) for i in t.indicators)))
            conn.executemany("INSERT INTO cancelled VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                (n, i.id, t.id, t.name, i.name, i.unit_of_measure, i.type.value, _text(i.target), i.lead_unit, i.row)
                for n, (t, i) in enumerate(cancelled)))
    finally:
        conn.close()


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _evict(folder: Path) -> None:
    try:
        stores = sorted(folder.glob("register-*.sqlite"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in stores[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


class Place(NamedTuple):
    """A task's place in the register: enough to put its indicators' rows where they belong."""

    task_id: str
    category: str
    planned_funds: Decimal | None
    first_lead: str  # the task's first lead unit, who reports its funds
    first: int  # the position of its first indicator; the others follow it
    units: list[str]  # each indicator's 牵头单位, in order

    @property
    def positions(self) -> range:
        return range(self.first, self.first + len(self.units))


class Cancelled(NamedTuple):
    """An indicator the register marks 已撤销: what 汇总 lists of it."""

    id: str
    task_id: str
    task_name: str
    name: str
    unit_of_measure: str
    type: str
    lead_unit: str


class Register:
    """任务台账: the year's tasks and indicators, as loaded and validated (formats §2).

    Reads from its cache database. ``tasks_of``, ``lookup`` and ``iter_tasks`` read what they need;
    ``tasks``, ``indicators``, ``indicator`` and ``by_unit()`` load the whole register the first time
    they are used (fine for an office's 100 tasks; consolidation at province scale avoids them).
    """

    def __init__(self, path: str, store: Path, period: Period | None = None):
        self.path = path  # the register workbook, for messages
        self.store = store
        self.period = period  # the period it is read for: adjusted targets count from their period on
        self.source: bytes | None = None  # the workbook's bytes, when it was read from one here
        self._pid = -1
        self._conn: sqlite3.Connection | None = None
        self._views: OrderedDict[str, list[Task]] = OrderedDict()
        meta = dict(self._query("SELECT key, value FROM meta"))
        self.fingerprint: str = meta["fingerprint"]
        self.extra_columns: tuple[str, ...] = tuple(json.loads(meta["extra_columns"]))
        self.task_count = int(meta["tasks"])
        self.indicator_count = int(meta["indicators"])
        self.units: list[str] = [name for (name,) in self._query("SELECT name FROM units ORDER BY position")]
        self.year: int | None = int(meta["year"]) if meta.get("year") else None  # from its 完成时限

    def at(self, period: Period) -> Register:
        """The register as period ``period`` reads it."""
        register = Register(self.path, self.store, period)
        register.source = self.source
        return register

    # Pickled into spawned worker processes: the path travels, the connection is opened there.
    def __getstate__(self) -> dict:
        return {"path": self.path, "store": self.store, "period": self.period}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], state["store"], state.get("period"))

    def __repr__(self) -> str:
        return f"Register({self.path!r}, {self.task_count} tasks, {self.indicator_count} indicators)"

    def _query(self, sql: str, params: Iterable = ()) -> sqlite3.Cursor:
        if self._conn is None or self._pid != os.getpid():  # a forked worker opens its own
            self._conn = sqlite3.connect(f"{self.store.as_uri()}?mode=ro&immutable=1", uri=True,
                                         check_same_thread=False)
            self._pid = os.getpid()
        return self._conn.execute(sql, tuple(params))

    # -- reading what is needed ------------------------------------------------------------------

    def iter_tasks(self) -> Iterator[Task]:
        """Every task with all its indicators, in register order, one at a time."""
        yield from _tasks(self._query(f"{_JOINED} ORDER BY i.position"), self.extra_columns, period=self.period)

    def iter_places(self) -> Iterator[Place]:
        """Every task's place, in register order, without building tasks: what a pass over a large
        register needs when the indicators' rows were made elsewhere."""
        rows = self._query("SELECT t.id, t.category, t.planned_funds, t.first_lead, MIN(i.position), "
                           "COUNT(*), MIN(i.lead_unit), MAX(i.lead_unit) FROM tasks t JOIN indicators i "
                           "ON i.task = t.position GROUP BY t.position ORDER BY t.position")
        funds_of: dict[str | None, Decimal | None] = {None: None}  # each amount's Decimal, made once
        for task_id, category, funds, first_lead, first, count, unit, last_unit in rows:
            planned = funds_of.get(funds)
            if planned is None and funds is not None:
                planned = funds_of[funds] = Decimal(funds)
            # Indicators are numbered task by task (see _fill): a task's are consecutive.
            units = ([unit] * count if unit == last_unit else  # a range of the primary key, not a scan
                     [u for (u,) in self._query("SELECT lead_unit FROM indicators WHERE position >= ? AND position < ? "
                                                "ORDER BY position", (first, first + count))])
            yield Place(task_id, category, planned, first_lead, first, units)

    def tasks_of(self, unit: str) -> list[Task]:
        """The unit's tasks, each holding only the indicators that unit leads.

        A task led by several units keeps its planned funds only in its first lead unit's view:
        that unit reports the funds paid, so they are counted once.
        """
        view = self._views.get(unit)
        if view is None:
            # Indicators are numbered task by task, so their order is the tasks' order too.
            rows = self._query(f"{_JOINED} WHERE i.lead_unit = ? ORDER BY i.position", (unit,))
            view = list(_tasks(rows, self.extra_columns, unit, self.period))
            self._views[unit] = view
            if len(self._views) > _UNIT_VIEWS:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(unit)
        return view

    def lookup(self, ids: Iterable[str]) -> dict[str, Indicator]:
        """The indicators among ``ids`` (指标编号) that the register has."""
        found: dict[str, Indicator] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = self._query(f"SELECT i.task, t.id, {_INDICATOR} FROM indicators i JOIN tasks t "
                               f"ON t.position = i.task WHERE i.id IN ({','.join('?' * len(chunk))})", chunk)
            for row in rows:
                ind = _indicator(row[1], row[2:], self.extra_columns, self.period)
                found[ind.id] = ind
        return found

    def task(self, task_id: str) -> Task:
        rows = self._query(f"{_JOINED} WHERE t.id = ? ORDER BY i.position", (task_id,))
        for task in _tasks(rows, self.extra_columns, period=self.period):
            return task
        raise KeyError(task_id)

    # -- the whole register, for small registers and tests ---------------------------------------

    @cached_property
    def tasks(self) -> list[Task]:
        return list(self.iter_tasks())

    @cached_property
    def indicators(self) -> list[Indicator]:
        return [ind for task in self.tasks for ind in task.indicators]

    @cached_property
    def indicator(self) -> dict[str, Indicator]:
        """Indicators by 指标编号."""
        return {ind.id: ind for ind in self.indicators}

    @cached_property
    def indicators_of(self) -> dict[str, list[Indicator]]:
        """Each lead unit's indicators, in register order."""
        result: dict[str, list[Indicator]] = {unit: [] for unit in self.units}
        for ind in self.indicators:
            result[ind.lead_unit].append(ind)
        return result

    @cached_property
    def cancelled(self) -> list[Cancelled]:
        """Indicators the register marks 已撤销, in register order."""
        return [Cancelled(*row) for row in self._query(
            "SELECT id, task_id, task_name, name, unit_of_measure, type, lead_unit FROM cancelled ORDER BY position")]

    @cached_property
    def renamed(self) -> dict[str, str]:
        """原指标编号 → the id the indicator has now."""
        return dict(self._query("SELECT former_id, id FROM indicators WHERE former_id != ''"))

    @cached_property
    def cancelled_ids(self) -> frozenset[str]:
        return frozenset(c.id for c in self.cancelled)

    def by_unit(self) -> dict[str, list[Task]]:
        """Every lead unit's view of the register (see ``tasks_of``)."""
        return {unit: self.tasks_of(unit) for unit in self.units}


_KINDS = {kind.value: kind for kind in IndicatorType}


def _indicator(task_id: str, row: tuple, extra_columns: tuple[str, ...], period: Period | None) -> Indicator:
    (ind_id, name, measure, kind, target, lead, line, extra, position, deadline, adjusted, adjusted_from,
     former) = row
    ind = Indicator(ind_id, task_id, name, measure, _KINDS[kind], None if target is None else Decimal(target),
                    lead, line, tuple(zip(extra_columns, json.loads(extra))) if extra_columns else (), position,
                    _date(deadline), None if adjusted is None else Decimal(adjusted), adjusted_from, former)
    return ind.in_period(period) if adjusted_from and period is not None else ind


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _tasks(rows: Iterable[tuple], extra_columns: tuple[str, ...], unit: str | None = None,
           period: Period | None = None) -> Iterator[Task]:
    """Tasks from joined task/indicator rows ordered by task. With ``unit``: that unit's view."""
    current: Task | None = None
    position = None
    for row in rows:
        if row[0] != position:
            if current is not None:
                yield current
            position = row[0]
            _, task_id, category, name, target_text, partners, funds, deadline, first_lead = row[:9]
            keeps_funds = unit is None or unit == first_lead
            current = Task(task_id, category, name, target_text, tuple(p for p in partners.split("、") if p),
                           Decimal(funds) if funds is not None and keeps_funds else None,
                           _date(deadline))
        current.indicators.append(_indicator(current.id, row[9:], extra_columns, period))
    if current is not None:
        yield current
