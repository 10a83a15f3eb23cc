"""File-system helpers: safe names built from unit names, and atomic writes."""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import xlsxwriter

from .errors import MinshengError, OutputLockedError, write_failure

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME = 60  # characters of a unit name kept in a file name; Windows paths stay well under 260


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


TEMP_PREFIX = ".~tmp_"
_STARTED = time.time()
# Windows locks a file that Excel or WPS has open: replacing it fails with PermissionError. Other
# systems do not lock, and a PermissionError there means what it says.
LOCKING = os.name == "nt"


def _current_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


# Files we write get the mode any other program would give them, so colleagues on a shared folder
# can open them (mkstemp alone would make them 0600).
FILE_MODE = 0o666 & ~_current_umask()


def os_error_in(exc: BaseException) -> OSError | None:
    """The ``OSError`` behind an exception: itself, or the one a library wrapped (xlsxwriter does)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError):
            return exc
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc = inner or exc.__cause__ or exc.__context__
        seen += 1
    return None


def run_started() -> None:
    """This process now holds the working folder (its lock): a temporary file older than this is
    an interrupted run's, even in a process that lives on between runs (the add-in's)."""
    global _STARTED
    _STARTED = time.time()


def remove_stale_temporaries(folder: Path) -> None:
    """Delete temporary files that an earlier, interrupted run left behind in ``folder``."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if (entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_mtime < _STARTED):
                os.unlink(entry.path)
        except OSError:
            continue  # someone else's file, or already gone


OWNER_FILE_BYTES = 1024  # Excel's, Word's and WPS's ~$ owner files are about 165 bytes


def owner_files(target: Path) -> list[Path]:
    """The ``~$`` owner files Excel, Word or WPS would make beside ``target`` while it is open:
    ``~$`` before the name, or in place of its first one or two characters (Word, long names)."""
    name = target.name
    return [target.with_name("~$" + part) for part in dict.fromkeys((name, name[1:], name[2:]))]


def refuse_if_open(target: Path) -> None:
    """Before writing ``target``: is it open in Excel, Word or WPS? Then nothing is written.

    On Windows they lock the file, so opening it for writing fails. Everywhere, the owner file
    beside it tells: one made after the file was last written (Excel made it on opening), or one
    held locked, means the file is open. An owner file older than the file is what a crashed
    Excel left behind, and no lock."""
    try:
        written = target.stat().st_mtime
    except OSError:
        return  # nothing to replace
    if _held(target):
        raise OutputLockedError(f"{target} 正被其他程序（通常是 Excel 或 WPS）打开，或没有写入权限，无法更新；"
                                f"请关闭该文件后重试")
    for owner in owner_files(target):
        try:
            st = owner.stat()
        except OSError:
            continue
        if st.st_size >= OWNER_FILE_BYTES:
            continue  # a file of its own (a workbook named so), not an owner file
        if st.st_mtime >= written or _held(owner):
            program = "Word 或 WPS" if target.suffix.lower() in (".docx", ".doc") else "Excel 或 WPS"
            raise OutputLockedError(f"{target} 正在 {program} 中打开（旁边有它的占用文件 {owner.name}），未写入；"
                                    f"请关闭该文件后重试；如果它其实没有打开，请删除 {owner.name} 后重试")


def _held(path: Path) -> bool:
    """A file another program holds open (Windows refuses to open it for writing). Any other
    failure to open is left for the write itself to say."""
    if not LOCKING:
        return False
    try:
        os.close(os.open(path, os.O_RDWR))
    except PermissionError:
        return True
    except OSError:
        pass
    return False


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one step.

    Nothing is left half-written: on any error the temporary file is removed and ``target`` is
    untouched. A disk that is full or read-only becomes an ``OutputError`` in Chinese; a target
    open in Excel (locked on Windows) an ``OutputLockedError``.
    """
    refuse_if_open(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix, dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise write_failure(target, exc) from exc
    tmp = Path(tmp_name)
    replacing = False
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        replacing = True
        os.replace(tmp, target)
    except MinshengError:
        raise
    except Exception as exc:
        cause = os_error_in(exc)
        if cause is None:
            raise
        if replacing and isinstance(cause, PermissionError) and LOCKING:
            raise OutputLockedError(f"{target} 正被其他程序（通常是 Excel 或 WPS）打开，无法覆盖；"
                                    f"请关闭该文件后重试") from exc
        raise write_failure(target, cause) from exc
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def new_workbook() -> xlsxwriter.Workbook:
    """An xlsxwriter workbook built in memory. Text is never turned into a formula, a link or a
    number: what a register or a department wrote stays text."""
    return xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True, "strings_to_formulas": False,
                                              "strings_to_urls": False, "strings_to_numbers": False})


def save_workbook(book: xlsxwriter.Workbook, path: Path) -> None:
    """Finish a ``new_workbook`` and write it to ``path`` with one write of our own, so that a full
    disk is an ordinary ``OSError`` (xlsxwriter's own zip file would leave a half-closed object)."""
    try:
        book.close()
    finally:
        book.fileclosed = True  # a failed close is not retried by the destructor
    path.write_bytes(book.filename.getvalue())


def display_name(path_text: str) -> str:
    """A file name as it can be shown and stored. On Linux a name may be bytes that are no UTF-8:
    most often GBK, from an archive made on Chinese Windows, and read so; anything else becomes
    ``�`` instead of breaking the workbook, CSV or ledger."""
    raw = path_text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
