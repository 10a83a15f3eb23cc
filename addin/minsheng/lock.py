"""One run at a time per working folder (运行锁): the file ``.minsheng.lock`` beside ``config.ini``.

A working folder often sits on a shared network folder that several clerks open from their own
computers, where SQLite's and ``fcntl``'s locks are not to be trusted (SMB and NFS servers honour
them partly or not at all). So the lock is a plain file, created with ``O_CREAT | O_EXCL``, which
every file server performs atomically: whoever creates it holds the folder. It says who (JSON:
``host``, ``user``, ``pid``, ``command``, ``since``), so that a second run can tell the user whom to
ask, and so that a lock left by a run that died can be recognised as stale and taken over:

- a lock of a process on this computer that no longer runs;
- a lock older than an hour (``STALE_AFTER``; a run takes a minute, even at province scale);
- a file that cannot be read as a lock (after ``SETTLING`` seconds, in case it is being written).

Two runs that find the same stale lock must not both take it: the taker renames the file to a name
of its own first (only one rename of a file can succeed), checks that what it moved is what it
judged stale, and only then creates its own lock with ``O_EXCL`` again.

The lock is re-entrant within one thread of one process (``run`` consolidates, then writes the
circular, under one lock), and it is removed when the outermost holder ends: normally, by an
exception or by Ctrl-C; only if the file is still the one this run wrote.
"""

from __future__ import annotations

import datetime as dt
import errno
import getpass
import json
import os
import secrets
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FolderInUseError, os_error_text

LOCK_NAME = ".minsheng.lock"
STALE_AFTER = dt.timedelta(hours=1)
SETTLING = 2.0  # seconds a new lock file may be empty or half-written while its maker writes it
_ATTEMPTS = 20  # takeovers and retries before giving up (each one another run's doing)


@dataclass
class Held:
    """The lock a run holds (``data`` is what it wrote; ``None`` when it had to run without one)."""

    path: Path
    data: bytes | None
    notes: list[str] = field(default_factory=list)  # what the run should say about the lock, once
    thread: int = 0

    def take_notes(self) -> list[str]:
        """The notes not yet said (a takeover), for the first result that prints notes."""
        notes, self.notes = self.notes, []
        return notes


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as its file says."""

    host: str
    user: str
    pid: int
    command: str
    since: dt.datetime

    @property
    def who(self) -> str:
        return f"{self.user}（电脑 {self.host}，进程 {self.pid}）" if self.user else f"电脑 {self.host} 上的进程 {self.pid}"

    @property
    def started(self) -> str:
        return f"于 {self.since:%Y-%m-%d %H:%M} 开始的“{self.command or '运行'}”"


_registry_lock = threading.Lock()
_held: dict[str, Held] = {}  # lock file (normalised) → held by this process
_ours: Counter[bytes] = Counter()  # what this process writes into lock files it has not let go of


@contextmanager
def working_folder(folder: Path, command: str) -> Iterator[Held]:
    """Hold ``folder``'s lock while the block runs; ``command`` names the run (Chinese) to others.

    Raises ``FolderInUseError`` (one Chinese line: who, since when, what to do) when another run
    holds it. A stale lock is taken over, and ``Held.notes`` says so."""
    path = Path(folder) / LOCK_NAME
    key = os.path.normcase(os.path.realpath(path))  # one folder by whatever name it is reached
    me = threading.get_ident()
    with _registry_lock:
        held = _held.get(key)
    if held is not None and held.thread == me:
        yield held  # this thread holds it already: the outer holder releases it
        return
    held = _acquire(path, command)
    held.thread = me
    with _registry_lock:
        _held.setdefault(key, held)
    try:
        yield held
    finally:
        with _registry_lock:
            if _held.get(key) is held:
                del _held[key]
        _release(held)


def _acquire(path: Path, command: str) -> Held:
    now = dt.datetime.now().astimezone().replace(microsecond=0)
    record = {"host": _HOST, "user": _user(), "pid": os.getpid(), "command": command, "since": now.isoformat()}
    data = json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
    notes: list[str] = []
    _own(data, 1)  # before the file exists: another thread of ours must never find it stale
    try:
        held = _create(path, data, notes)
    except BaseException:
        _own(data, -1)
        raise
    if held.data is None:
        _own(data, -1)
    return held


def _own(data: bytes, change: int) -> None:
    with _registry_lock:
        _ours[data] += change
        if _ours[data] <= 0:
            del _ours[data]


def _create(path: Path, data: bytes, notes: list[str]) -> Held:
    settle_until = time.monotonic() + SETTLING
    attempts = 0
    while attempts < _ATTEMPTS:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            pass
        except PermissionError as exc:
            # Windows says "access denied" for a name whose file is being deleted; else it means it.
            if not os.path.lexists(path):
                return Held(path, None, notes + [_unlocked(path, exc)])
        except OSError as exc:  # a read-only folder, a full disk: the run decides what it can write
            return Held(path, None, notes + [_unlocked(path, exc)])
        else:
            try:
                _write_all(fd, data)
            except OSError as exc:
                os.close(fd)
                _remove(path)
                return Held(path, None, notes + [_unlocked(path, exc)])
            os.close(fd)
            return Held(path, data, notes)
        raw = _read(path)
        if raw is None:
            attempts += 1
            continue  # gone since: try again
        holder = _parse(raw)
        if holder is None and time.monotonic() < settle_until and _fresh(path):
            time.sleep(0.05)  # perhaps being written this very moment
            continue
        reason = _stale(holder, raw)
        if reason is None:
            raise FolderInUseError(f"工作文件夹正由 {holder.who}{holder.started}使用，请等它结束后再试；"
                                   f"如确认没有在运行，可删除 {path}")
        attempts += 1
        if _take_over(path, raw):
            notes.append(f"工作文件夹的运行锁 {path} " + (
                f"是 {holder.who}{holder.started}留下的，{reason}，已由本次运行接管" if holder is not None
                else "内容无法识别（可能是运行中断时留下的），已由本次运行接管"))
    raise FolderInUseError(f"工作文件夹的运行锁 {path} 刚被其他运行取得，请稍后再试")


def _stale(holder: Holder | None, raw: bytes) -> str | None:
    """Why the lock no longer holds anything, or ``None`` when its run is alive."""
    if holder is None:
        return "无法识别"
    if holder.host.casefold() == _HOST.casefold():
        if holder.pid == os.getpid():
            with _registry_lock:  # another thread of this very process is running on the folder
                if raw in _ours:
                    return None
            return "该进程已结束"  # a process before this one had the same number
        if not _alive(holder.pid):
            return "该进程已结束"
    now = dt.datetime.now().astimezone()
    since = holder.since if holder.since.tzinfo else holder.since.astimezone()
    if now - since >= STALE_AFTER:
        return f"已超过 {STALE_AFTER.seconds // 3600} 小时，视为已失效"
    return None


def _take_over(path: Path, raw: bytes) -> bool:
    """Remove the stale lock whose content is ``raw``; ``False`` when another run was quicker."""
    aside = path.with_name(f"{LOCK_NAME}.{os.getpid()}-{secrets.token_hex(4)}.old")
    try:
        os.rename(path, aside)  # of two takers, only one moves the file
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise FolderInUseError(f"工作文件夹的运行锁 {path} 已失效，但无法删除（{os_error_text(exc)}）；"
                               f"请确认没有在运行后手动删除它再试") from None
    if _read(aside) == raw:
        _remove(aside)
        return True
    # Between reading it and moving it, another run took the stale lock over and made its own:
    # it goes back where it was, unless a third run has taken the place since.
    try:
        if os.name == "nt":
            os.rename(aside, path)  # never replaces a file on Windows
        else:
            os.link(aside, path)  # never replaces a file either
            _remove(aside)
    except OSError:
        _remove(aside)
    return False


def _release(held: Held) -> None:
    if held.data is None:
        return
    try:
        _remove_if_ours(held)
    finally:
        _own(held.data, -1)


def _remove_if_ours(held: Held) -> None:
    for _ in range(5):
        try:
            if _read(held.path) == held.data:  # still ours: not taken over as stale meanwhile
                os.unlink(held.path)
            return
        except PermissionError:  # Windows: someone is reading it this instant
            time.sleep(0.05)
        except OSError:
            return


def read_holder(folder: Path) -> Holder | None:
    """Who holds ``folder``'s lock according to its file, if anyone (for messages and tests)."""
    raw = _read(Path(folder) / LOCK_NAME)
    return _parse(raw) if raw is not None else None


def _parse(raw: bytes) -> Holder | None:
    try:
        record = json.loads(raw.decode("utf-8"))
        pid = record["pid"]
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            return None
        since = dt.datetime.fromisoformat(record["since"])
        host, user, command = (record.get(k, "") for k in ("host", "user", "command"))
        if not isinstance(host, str) or not host or not isinstance(user, str) or not isinstance(command, str):
            return None
        return Holder(host, user, pid, command, since)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        return None


def _read(path: Path) -> bytes | None:
    """The file's bytes; ``None`` if it is gone; ``b""`` if it cannot be read (garbage, then)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(64 * 1024)
    except FileNotFoundError:
        return None
    except OSError:
        return b""


def _fresh(path: Path) -> bool:
    try:
        return abs(time.time() - os.stat(path).st_mtime) < SETTLING
    except OSError:
        return False


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _unlocked(path: Path, exc: OSError) -> str:
    return (f"无法在工作文件夹中建立运行锁 {path}（{os_error_text(exc)}），本次运行未加锁；"
            f"请确认没有别人同时在这个工作文件夹中运行")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name to be had (a service, a container)
        return ""


_HOST = socket.gethostname() or "localhost"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this computer (``True`` when unsure)."""
    if sys.platform == "win32":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OSError as exc:
        return exc.errno != errno.ESRCH
    return True


def _alive_windows(pid: int) -> bool:
    # os.kill(pid, 0) would end the process on Windows: ask whether it is still active instead.
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
    kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists, and is not ours
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
