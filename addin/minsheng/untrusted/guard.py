"""Checks made on a submitted file's bytes before any spreadsheet reader sees them (安全检查).

A hostile or broken file must be refused within bounded time and memory. Everything here is read
from the zip directory and the first bytes of a sheet's stream, so the check costs little next to
the read itself: the format by content (not by extension), sizes, compression ratios, encryption,
and, for each sheet about to be read, its declared extent (``<dimension>``). A sheet that lies about
its extent is caught by the reading process's memory limit instead (see ``sandbox``).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from .zipparts import prefix, sheet_part

MAX_FILE_BYTES = 20 * 1024 * 1024  # a department's workbook is ~20–200 KB
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed for one member; real sheets stay well under 50
MAX_MEMBERS = 2000
MAX_CELLS = 2_000_000  # rows × columns a reader would allocate for one sheet (a province's register: ~1 M)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?"')


@dataclass(frozen=True)
class Verdict:
    """What the bytes are: ``kind`` is xlsx, ods or xls (incl. WPS .et); ``refusal`` why not to read.
    For an xlsx, ``package`` is its zip directory, read once, for the checks of single sheets."""

    kind: str = ""
    refusal: str = ""
    package: zipfile.ZipFile | None = field(default=None, compare=False, repr=False)


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def inspect(data: bytes) -> Verdict:
    """Tell the format of a file from its bytes and refuse what a reader must not open."""
    if len(data) > MAX_FILE_BYTES:
        return Verdict(refusal=f"文件过大（{len(data) // 1024 // 1024} MB，上限 {MAX_FILE_BYTES // 1024 // 1024} MB），"
                               f"请只保留填报表后重新保存")
    if not data:
        return Verdict(refusal="是空文件（0 字节），可能没有保存成功或传输中断；请报送单位重新发送")
    if data.startswith(_OLE2):
        if _ENCRYPTED in data:
            return Verdict(refusal=ENCRYPTED)
        return Verdict("xls")
    if not data.startswith(_ZIP):
        return Verdict(refusal="不是 Excel/WPS 表格文件，已跳过；如是填报表，请用 Excel 或 WPS 另存为 .xlsx 后重新报送")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return Verdict(refusal=DAMAGED)
    names = {m.filename for m in members}
    if "xl/workbook.xml" in names:
        kind = "xlsx"
    elif "content.xml" in names and b"opendocument.spreadsheet" in prefix(package, "mimetype", 200):
        kind = "ods"
    elif "xl/workbook.bin" in names:
        return Verdict(refusal=XLSB)
    else:
        return Verdict(refusal="不是电子表格（可能是 Word 等其他文件），已跳过")
    refusal = package_refusal(members)
    if refusal:
        return Verdict(refusal=refusal)
    return Verdict(kind, package=package if kind == "xlsx" else None)


def package_refusal(members: list[zipfile.ZipInfo], max_unpacked: int | None = None,
                    max_part: int | None = None) -> str:
    """Why a zip package (a workbook, a Word template) must not be read, from its directory alone:
    part count, sizes, compression ratio, encryption, and two parts of one name — which of them a
    reader takes depends on the reader, so such a package means different things to different
    programs. ``max_part`` bounds each XML part (what a reader holds in memory at once)."""
    if len(members) > MAX_MEMBERS:
        return f"文件内部结构异常（含 {len(members)} 个部件），已拒收"
    seen: set[str] = set()
    for m in members:
        name = m.filename.casefold()  # part names are compared without case (ECMA-376 part 2)
        if name in seen:
            return ("文件内部有两个同名部件，不同软件会读出不同的内容，已拒收；"
                    "请用 Excel、WPS 或 Word 打开后另存为新文件")
        seen.add(name)
    total = sum(m.file_size for m in members)
    if total > (max_unpacked or MAX_UNPACKED_BYTES):
        return f"文件解压后过大（{total // 1024 // 1024} MB），疑似异常文件，已拒收"
    for m in members:
        if m.flag_bits & 0x1:
            return ENCRYPTED
        if m.compress_size and m.file_size / m.compress_size > MAX_RATIO and m.file_size > 1024 * 1024:
            return "文件压缩比异常，疑似压缩炸弹，已拒收"
        if max_part is not None and m.file_size > max_part and m.filename.endswith((".xml", ".rels")):
            return (f"文件中的“{m.filename}”解压后有 {m.file_size // 1024 // 1024} MB，"
                    f"远超正常文档（上限 {max_part // 1024 // 1024} MB），已拒收")
    return ""


def sheet_refusal(verdict: Verdict, sheet: str) -> str:
    """Why the sheet ``sheet`` must not be read, from its declared extent (``<dimension>``); only
    the sheets that are read are checked, so a stray cell in another sheet costs nothing."""
    if verdict.package is None:
        return ""
    try:
        part = sheet_part(verdict.package, sheet)
    except Exception:  # noqa: BLE001 - a package the reader will refuse in its own words
        return ""
    if part is None:
        return ""
    match = _DIMENSION.search(prefix(verdict.package, part, 4096))
    if not match or not match.group(4):
        return ""
    rows, cols = int(match.group(4)), _column_number(match.group(3))
    if rows * cols > MAX_CELLS:
        return (f"工作表“{sheet}”的范围异常（达 {rows} 行 × {cols} 列），疑似异常文件，已拒收；"
                f"如是正常填报表，请删除表格以外的内容后重新保存")
    return ""


XLSB = ("是 Excel 二进制工作簿（.xlsb 格式，只是扩展名像 .xlsx），无法读取；"
        "请在 Excel 中打开后另存为“Excel 工作簿(*.xlsx)”再报送")
ENCRYPTED = "文件设置了打开密码，无法读取；请在 Excel 中取消密码（文件→信息→保护工作簿）后重新报送"
DAMAGED = "文件已损坏（压缩包结构无法读取），请报送单位重新保存后发送"
