"""File-system helpers: safe names built from unit names, and atomic writes."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Iterator

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME = 60  # characters of a unit name kept in a file name; Windows paths stay well under 260


class OutputLockedError(Exception):
    """The target file is open in another program (usually Excel) and cannot be replaced."""


def safe_name(text: str, fallback: str = "未命名单位") -> str:
    """A file-name part that is valid on Windows, macOS and Linux and says the same thing."""
    text = unicodedata.normalize("NFC", text)
    text = " ".join(text.split())  # newlines and tabs inside a cell become single spaces
    text = _FORBIDDEN.sub("_", text)
    text = text.strip(" .")
    if text.upper().split(".")[0] in _RESERVED:
        text = f"_{text}"
    return text[:MAX_NAME].rstrip(" .") or fallback


def unique_names(names: list[str]) -> dict[str, str]:
    """Map each original name to a safe one, numbering those that collide after cleaning."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        candidate = base = safe_name(name)
        n = 2
        while candidate.casefold() in taken:  # Windows file names ignore case
            candidate = f"{base}_{n}"
            n += 1
        taken.add(candidate.casefold())
        result[name] = candidate
    return result


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one step.

    Nothing is left half-written: on any error the temporary file is removed and ``target`` is
    untouched. If ``target`` is open in Excel (locked on Windows), ``OutputLockedError`` says so.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".~tmp_", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        try:
            os.replace(tmp, target)
        except PermissionError as exc:
            raise OutputLockedError(
                f"{target} 正被其他程序（通常是 Excel 或 WPS）打开，无法覆盖；请关闭该文件后重试") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
