"""The one error family (错误) of the tool, and Chinese words for what the operating system says.

Every error a user can act on is a ``MinshengError`` whose message is one Chinese sentence naming
the file (and sheet and cell where there is one) and saying what to do. The edges (``cli``,
``addin``) catch ``MinshengError`` once; anything else is a bug and goes to the error log.

Problems found *in* a department's file are not errors: they are ``Problem`` entries (问题清单)
and the run goes on.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .model import Problem


class MinshengError(Exception):
    """A command could not do its job; ``str(exc)`` is what to tell the user, in Chinese.
    ``problems`` (if any) are listed below it, each with its file, sheet and cell."""

    problems: list[Problem] = []


class ConfigError(MinshengError):
    """``config.ini`` cannot be used."""


class RegisterError(MinshengError):
    """The register cannot be used as it is; ``problems`` says where and why, every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        if len(problems) == 1:
            super().__init__(str(problems[0]))
        else:
            super().__init__(f"任务台账有 {len(problems)} 处问题，请逐一改正后重试：" if problems else "任务台账有误")


class OutputError(MinshengError):
    """An output could not be written (disk full, read-only folder…); the old outputs are intact."""


class OutputLockedError(OutputError):
    """The target file is open in another program (usually Excel) and cannot be replaced."""


class ConsolidationError(MinshengError):
    """Consolidation could not run at all (as opposed to problems found in submissions)."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


class PeriodError(MinshengError):
    """The period is not one the register can be read for (outside its year)."""


class TemplateError(MinshengError):
    """The Word template of the circular cannot be used."""


class ExtractError(MinshengError):
    """The plan given to ``minsheng extract`` cannot be read as text."""


class LedgerError(MinshengError):
    """The history ledger cannot be used or written."""


class FolderInUseError(MinshengError):
    """Another run holds the working folder (its ``.minsheng.lock``); the message says who and since when."""


class AddinError(MinshengError):
    """The Excel add-in could not be built, installed or run."""


# What the OS says, in the words of a Chinese Windows user. Anything not listed falls back to
# a general sentence, never to English system text.
_ERRNO_TEXT = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有访问权限",
    errno.EPERM: "没有操作权限",
    errno.ENOSPC: "磁盘空间已满",
    errno.EROFS: "所在磁盘或文件夹是只读的",
    errno.EBUSY: "正被其他程序使用",
    errno.ELOOP: "是循环的符号链接（快捷方式指向自己）",
    errno.ENOTDIR: "路径中有一部分不是文件夹",
    errno.EISDIR: "是文件夹，不是文件",
    errno.EEXIST: "已存在同名文件",
    errno.ENAMETOOLONG: "路径过长",
    errno.EMFILE: "同时打开的文件过多",
    errno.EIO: "磁盘读写出错",
    errno.EFBIG: "文件过大，超出了允许的大小",
    errno.EINVAL: "路径或文件名无效",
    errno.ENXIO: "不是普通文件（设备或管道）",
}
if hasattr(errno, "EDQUOT"):
    _ERRNO_TEXT[errno.EDQUOT] = "磁盘配额已用完"


def os_error_text(exc: OSError) -> str:
    """A Chinese phrase for an ``OSError``: ``磁盘空间已满``, ``没有访问权限``…"""
    winerror = getattr(exc, "winerror", None)
    if winerror in (32, 33):  # ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION
        return "正被其他程序（通常是 Excel 或 WPS）打开"
    if winerror == 112:  # ERROR_DISK_FULL
        return _ERRNO_TEXT[errno.ENOSPC]
    return _ERRNO_TEXT.get(exc.errno, "读写出错")


def write_failure(target: Path, exc: OSError) -> OutputError:
    """The error for an output that could not be written: what happened and what to do."""
    reason = os_error_text(exc)
    if _space(exc):
        hint = "请清理磁盘空间后重试"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "请检查文件夹是否只读、是否有写入权限，或在 config.ini 中改用别的输出文件夹"
    else:
        hint = "请检查文件夹后重试"
    return OutputError(f"无法写入 {target}（{reason}），原有文件未改动；{hint}")


def _space(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EFBIG) or getattr(exc, "winerror", None) == 112


def os_failure(exc: OSError) -> str:
    """One Chinese sentence for an OS error that stopped a command (outside the outputs' own writes)."""
    where = f" {exc.filename}" if exc.filename else ""
    if _space(exc):
        return (f"无法写入{where or '临时文件'}（{os_error_text(exc)}），本次未完成，原有文件未改动；"
                f"请清理磁盘空间后重试")
    return f"读写文件{where}出错（{os_error_text(exc)}）；请检查文件是否存在、是否被其他程序打开"
