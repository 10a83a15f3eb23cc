"""The inbox (收件文件夹): which entries of a period's folder are read, and reading one safely.

An office inbox is a shared folder that anyone can drop anything into. Only regular files are
read. Links (a loop, a dangling link, a link to ``/dev/zero``), pipes and devices are listed with
a reason and never opened for reading; the size is checked on the open file before a byte is
read; a pipe swapped in at the last moment cannot block, because files are opened non-blocking.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import os_error_text
from ..files import OWNER_FILE_BYTES, TEMP_PREFIX, display_name
from ..model import Severity

# Files no department sends: Windows and macOS folder litter, and our own temporaries.
_SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}
MAX_DEPTH = 16  # sub-folder levels walked below the inbox
HIDDEN = {False: "是隐藏文件，未读取；如是填报表，请取消隐藏（或去掉名称开头的“.”）后重新汇总",
          True: "是隐藏文件夹，其中的文件都未读取；如有填报表，请取消隐藏（或去掉名称开头的“.”）后重新汇总"}


@dataclass(frozen=True)
class Entry:
    """One thing found in the inbox: a file to read, or something listed and skipped."""

    path: Path
    name: str  # relative to the inbox, as problems and outputs name it
    refusal: str = ""  # why it is not read; empty for a regular file
    severity: Severity = Severity.ERROR


def _litter(name: str, st: os.stat_result) -> bool:
    """Folder litter that is never a submission and is passed over without a word: system files,
    macOS resource forks, our own temporaries, and Excel's small ``~$`` owner files."""
    return (name.lower() in _SYSTEM_FILES or name.startswith(("._", TEMP_PREFIX))
            or (name.startswith("~$") and stat.S_ISREG(st.st_mode) and st.st_size < OWNER_FILE_BYTES))


# A ``~$`` file the size of a workbook is a temporary copy Excel or WPS left behind (or a form
# someone named so): never read, since it would stand beside the real file, but named.
TEMPORARY = ("文件名以“~$”开头，是 Excel 或 WPS 留下的临时文件，未读取；如果它其实是填报表，"
             "请去掉文件名开头的“~$”后重新汇总")


def is_litter(path: Path) -> bool:
    """``_litter`` for a path a wildcard matched (``*.xlsx`` also matches ``~$`` owner files)."""
    try:
        return _litter(path.name, os.lstat(path))
    except OSError:
        return False


def _hidden(st: os.stat_result) -> bool:
    attributes = getattr(st, "st_file_attributes", 0)  # Windows only
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _is_link(st: os.stat_result) -> bool:
    # A Windows junction is a reparse point that lstat does not always report as a link.
    reparse = getattr(st, "st_file_attributes", 0) & getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
    return stat.S_ISLNK(st.st_mode) or bool(reparse)


def _link_refusal(path: str) -> str:
    try:
        target = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "是循环的符号链接（指向自己，或几个链接互相指向），未读取；请删除该链接，把填报表本身放入收件文件夹"
        return "是符号链接，但指向的文件不存在，未读取；请把填报表本身放入收件文件夹"
    kind = "文件夹" if stat.S_ISDIR(target.st_mode) else "文件"
    return f"是指向别处{kind}的符号链接（快捷方式），未读取；请把填报表本身复制到收件文件夹"


def scan(inbox: Path) -> list[Entry]:
    """Every entry below ``inbox`` that might be a submission, sub-folders included, in name order."""
    found: list[Entry] = []
    _scan(inbox, inbox, 0, found)
    return found


def _scan(folder: Path, inbox: Path, depth: int, found: list[Entry]) -> None:
    def relative(path: str) -> str:
        return display_name(os.path.relpath(path, inbox))

    try:
        with os.scandir(folder) as listing:
            # A folder's own files first, then its sub-folders, each in name order.
            entries = sorted(listing, key=lambda e: (e.is_dir(follow_symlinks=False), e.name))
    except OSError as exc:
        found.append(Entry(folder, relative(str(folder)) + os.sep,
                           f"无法打开该文件夹（{os_error_text(exc)}），其中的文件未读取；请检查文件夹权限"))
        return
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            found.append(Entry(Path(entry.path), relative(entry.path), f"无法读取（{os_error_text(exc)}）"))
            continue
        if _litter(entry.name, st):
            continue
        name = relative(entry.path)
        if entry.name.startswith("~$"):
            found.append(Entry(Path(entry.path), name, TEMPORARY, Severity.NOTICE))
        elif entry.name.startswith(".") or _hidden(st):
            folder = stat.S_ISDIR(st.st_mode)
            found.append(Entry(Path(entry.path), name + (os.sep if folder else ""), HIDDEN[folder], Severity.NOTICE))
        elif _is_link(st):
            found.append(Entry(Path(entry.path), name, _link_refusal(entry.path)))
        elif stat.S_ISDIR(st.st_mode):
            if depth >= MAX_DEPTH:
                found.append(Entry(Path(entry.path), name + os.sep,
                                   f"文件夹层级过深（超过 {MAX_DEPTH} 层），其中的文件未读取；请把填报表放到浅一些的文件夹"))
            else:
                _scan(Path(entry.path), inbox, depth + 1, found)
        elif stat.S_ISREG(st.st_mode):
            found.append(Entry(Path(entry.path), name))
        else:
            found.append(Entry(Path(entry.path), name, "不是普通文件（是管道、设备等特殊文件），未读取"))


class Unreadable(Exception):
    """The file cannot be read; the message is the Chinese reason for the problem list."""


def read_regular(path: Path, limit: int) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most ``limit`` bytes, and its status.

    The file is opened without following a link and without blocking, then checked with
    ``fstat`` on the open descriptor: what is read is exactly what was checked.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link put there after the scan
            raise Unreadable("是符号链接（快捷方式），未读取；请把填报表本身放入收件文件夹") from exc
        raise Unreadable(f"无法打开该文件（{os_error_text(exc)}）；如正被其他程序占用，请关闭后重试") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable("不是普通文件（是管道、设备等特殊文件），未读取")
        if st.st_size > limit:
            raise Unreadable(f"文件过大（{st.st_size / 1024 / 1024:.0f} MB，上限 {limit // 1024 // 1024} MB），"
                             f"不像是填报表，未读取；请只保留填报表后重新保存")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while we read it
            raise Unreadable(f"文件过大（超过 {limit // 1024 // 1024} MB），未读取")
        return b"".join(chunks), st
    except OSError as exc:
        raise Unreadable(f"读取该文件时出错（{os_error_text(exc)}），请稍后重试") from exc
    finally:
        os.close(fd)
