"""The period's inbox (收集/P): every file read in isolation, matched to its unit, duplicates resolved.

Each file is read by ``reader.read_file`` in a worker process; what comes back is small, and each
unit's accepted submission waits in a spool until it is judged. A unit with several files keeps
the newest form (by 填报日期, then file time); the others are listed as 重复未采用.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..model import Period, Problem, Severity, Submission
from ..register.cache import Register
from ..spool import Slot, Spool
from ..untrusted.inbox import Entry, scan
from ..untrusted.sandbox import CRASHED, OUT_OF_MEMORY, TIMED_OUT, Pool
from .reader import RESEND, UNREADABLE, FileResult, Stages, read_file

FAILURES = {
    CRASHED: f"读取该文件时读取程序异常退出（文件结构异常，可能已损坏），未汇总；{RESEND}",
    TIMED_OUT: f"读取该文件用时过长，已中止，未汇总；{RESEND}",
    OUT_OF_MEMORY: f"读取该文件占用内存过多（文件结构异常），已中止，未汇总；{RESEND}",
}


def read_all(entries: list[Entry], register: Register, period: Period, stages: Stages,
             progress: Callable[[Iterable], Iterable] = iter,
             after: Callable[[FileResult], None] | None = None) -> Iterator[FileResult]:
    """``read_file`` for each entry, in order, each isolated from the others."""
    pool = Pool(read_file, (register, period, stages, after))
    for entry, outcome in zip(entries, pool.map(progress(entries))):
        if outcome.failure in (CRASHED, OUT_OF_MEMORY):
            # Most likely a stray cell far outside the form made the reader allocate the whole
            # rectangle: once more, without such cells (rare, so one worker of its own).
            outcome = next(Pool(read_file, (register, period, stages, after, True), processes=1).map([entry]))
        if outcome.failure:
            yield FileResult(entry.name, problems=[Problem(entry.name, FAILURES.get(outcome.failure, UNREADABLE))])
        else:
            yield outcome.result



@dataclass
class Received:
    """One file found in the inbox (收件), and what became of it. Its submission waits in the spool."""

    path: Path
    name: str  # relative to the inbox, as problems name it
    sha256: str
    outcome: str  # 采用 / 拒收 / 重复未采用
    unit: str = ""
    modified: float = 0.0
    filled_on: dt.date | None = None
    claimed_unit: str = ""  # the other unit its _meta names
    from_template: bool = False  # it carries our _meta
    slot: Slot | None = None  # its submission in the spool
    made_slot: Slot | None = None  # what the reader's ``after`` made of it, where it was read (opaque here)


_KEPT_SUBMISSIONS = 64  # units whose submission (and rows) are kept at hand while consolidating


class Collection:
    """Everything read from one period's inbox. Submissions wait in a spool on disk; the unit
    being consolidated is read back when needed, so thousands of files cost little memory."""

    def __init__(self, received: list[Received], problems: list[Problem], spool: Spool):
        self.received = received
        self.problems = problems
        self._spool = spool
        self.chosen: dict[str, Received] = {}  # the accepted file of each unit
        self._kept: dict[str, OrderedDict] = {"slot": OrderedDict(), "made_slot": OrderedDict()}

    def _read(self, unit: str, which: str):
        kept = self._kept[which]
        if unit in kept:
            kept.move_to_end(unit)
            return kept[unit]
        item = self.chosen.get(unit)
        slot = getattr(item, which) if item is not None else None
        found = self._spool.get(slot) if slot is not None else None
        kept[unit] = found
        if len(kept) > _KEPT_SUBMISSIONS:
            kept.popitem(last=False)
        return found

    def submission(self, unit: str) -> Submission | None:
        """The accepted submission of ``unit``, or None when it sent nothing usable."""
        return self._read(unit, "slot")

    def made(self, unit: str):
        """What ``after`` made of the unit's accepted file where it was read, if anything (the
        collection keeps it with the file it chose, and knows nothing of what it is)."""
        return self._read(unit, "made_slot")

    def sha256(self, unit: str) -> str:
        item = self.chosen.get(unit)
        return item.sha256 if item is not None else ""

    def refused_files(self, unit: str) -> list[str]:
        """The files of a unit none of which could be used: it did send something (未能采用)."""
        if unit in self.chosen:
            return []
        return [item.name for item in self.received if item.unit == unit and item.outcome == "拒收"]

    @property
    def submissions(self) -> dict[str, Submission]:
        """Every accepted submission by unit (reads them all; for small inboxes and tests)."""
        return {unit: self.submission(unit) for unit in self.chosen}

    def close(self) -> None:
        self._spool.close()


def find_files(inbox: Path) -> list[Path]:
    """The regular files below ``inbox`` that consolidation would read."""
    return [entry.path for entry in scan(inbox) if not entry.refusal]


def collect_inbox(inbox: Path, register: Register, period: Period, stages: Stages,
                  progress: Callable[[Iterable], Iterable] = iter,
                  after: Callable[[FileResult], None] | None = None) -> Collection:
    """Read every file of the inbox; nothing one file does stops or changes the others.
    ``after(result)`` runs where each file was read (see ``consolidation.Judge``)."""
    entries = scan(inbox)
    readable = [entry for entry in entries if not entry.refusal]
    results = read_all(readable, register, period, stages, progress, after)
    received: list[Received] = []
    problems: list[Problem] = []
    spool = Spool()
    for entry in entries:
        if entry.refusal:
            problems.append(Problem(entry.name, entry.refusal, severity=entry.severity))
            unit = unit_named_in(entry.name, register.units) if entry.severity is Severity.ERROR else ""
            received.append(Received(entry.path, entry.name, "", "拒收", unit))
            continue
        result = next(results)
        sub = result.submission
        problems += result.problems
        if "\ufffd" in entry.name:
            problems.append(Problem(entry.name, "文件名中有无法识别的字符（显示为“\ufffd”，可能是在其他系统中命名的），"
                                                "不便核对来源；请把文件改名后重新报送", severity=Severity.NOTICE))
        if sub is None:
            failed = any(p.severity is Severity.ERROR for p in result.problems)
            unit = result.unit_hint or (unit_named_in(entry.name, register.units) if failed else "")
            received.append(Received(entry.path, entry.name, result.sha256, "拒收", unit, result.modified))
            continue
        made = spool.add_pickled(result.made) if result.made is not None else None
        slot = spool.add_pickled(result.spooled) if result.spooled is not None else spool.add(sub)
        received.append(Received(entry.path, entry.name, result.sha256, "采用", sub.unit, result.modified,
                                 sub.filled_on, sub.claimed_unit, bool(sub.template_id), slot, made))
    collection = Collection(received, problems, spool)
    _choose(collection)
    return collection


def unit_named_in(name: str, units: Iterable[str]) -> str:
    """The unit a file's name names (``2020-06_市教育局_填报表.xlsx``), the longest if several do."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return max((unit for unit in units if unit and unit in base), key=len, default="")


def _choose(collection: Collection) -> None:
    """One file per unit: a file whose rows match its ``_meta`` first, then one made from our
    template, then the newer by 填报日期 and by modification time. The others are listed."""
    by_unit: dict[str, list[Received]] = {}
    for item in collection.received:
        if item.slot is not None:
            by_unit.setdefault(item.unit, []).append(item)
    for unit, items in by_unit.items():
        # 填报日期 decides only when every file has a plausible one; else the modification time.
        by_date = all(item.filled_on for item in items)
        items.sort(key=lambda item: _rank(item, by_date), reverse=True)
        kept = collection.chosen[unit] = items[0]
        for other in items[1:]:
            other.outcome = "重复未采用"
            collection.problems = [p for p in collection.problems if p.file != other.name]
            collection.problems.append(_duplicate(unit, kept, other, by_date))


def _rank(item: Received, by_date: bool) -> tuple:
    return (not item.claimed_unit, item.from_template, item.filled_on if by_date else dt.date.min, item.modified)


def _duplicate(unit: str, kept: Received, other: Received, by_date: bool) -> Problem:
    claimed = other.claimed_unit
    if claimed:
        return Problem(other.name, f"模板信息标明是“{claimed}”的报表，但表中的指标属于“{unit}”；"
                                   f"已采用“{unit}”的报表“{kept.name}”，本文件未汇总，"
                                   f"也没有顶替“{claimed}”的报表；请核对是否发错了文件")
    if _rank(kept, by_date) == _rank(other, by_date):
        why = "两个文件的填报日期和修改时间相同，无法判断哪份较新，已按文件名采用"
    elif by_date:
        why = "已采用较新的（按填报日期，日期相同再按文件修改时间）"
    else:
        why = "已采用文件修改时间较新的（有的文件填报日期没填或有误，未按填报日期比较）"
    return Problem(other.name, f"{unit} 报送了多个文件，{why}“{kept.name}”，本文件未汇总；"
                               f"如有误请删除多余的文件", severity=Severity.NOTICE)
