"""Building, installing and removing the Excel add-in ``minsheng.xlam`` (formats §7).

The add-in is made, without Excel, from the pre-built ``quickstart_addin_ribbon.xlam`` that ships
inside the installed xlwings package (its ``xlwings`` VBA module holds RunPython) plus this
project's text sources: ``addin/vba/*.bas`` and ``addin/ribbon/customUI14.xml``. VBA modules are
written with pyOpenVBA; the ribbon is a plain zip/XML edit. Every zip entry gets a fixed time and
order, so building twice gives the same bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from .errors import AddinError
from .files import atomic_path

ADDIN_NAME = "minsheng.xlam"
PROJECT_NAME = "minsheng"  # xlwings reads its settings from %USERPROFILE%\.minsheng\minsheng.conf
BASE_NAME = "quickstart_addin_ribbon.xlam"
BASE_RIBBON_MODULE = "RibbonMyAddin"
RIBBON_PART = "customUI/customUI14.xml"
RIBBON_RELATIONSHIP = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
ZIP_TIME = (2020, 1, 1, 0, 0, 0)
CORE_PROPERTIES = (  # File > Info: ours, not the skeleton author's
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<dc:title>民生工程</dc:title><dc:creator>minsheng</dc:creator><cp:lastModifiedBy>minsheng</cp:lastModifiedBy>'
    '<dcterms:created xsi:type="dcterms:W3CDTF">2020-01-01T00:00:00Z</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">2020-01-01T00:00:00Z</dcterms:modified>'
    '</cp:coreProperties>')


def base_xlam() -> Path:
    """The add-in skeleton shipped inside the installed xlwings package."""
    try:
        import xlwings
    except ImportError as exc:  # pragma: no cover - xlwings is a dependency
        raise AddinError("未安装 xlwings，无法生成加载项；请先运行 pip install xlwings") from exc
    path = Path(xlwings.__file__).parent / BASE_NAME
    if not path.is_file():
        raise AddinError(f"xlwings {xlwings.__version__} 中没有 {BASE_NAME}，无法生成加载项；请安装 0.30 以上版本的 xlwings")
    return path


def vba_sources() -> dict[str, str]:
    """Module name → source as it goes into the project, from ``addin/vba/*.bas`` (UTF-8)."""
    folder = resources.files("minsheng.vba")
    sources = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".bas"):
            text = entry.read_text(encoding="utf-8")
            match = re.search(r'Attribute VB_Name = "([^"]+)"', text)
            sources[match.group(1) if match else entry.name[:-4]] = ascii_vba(text, entry.name)
    return sources


_VBA_LITERAL = re.compile(r'"(?:[^"]|"")*"')


def ascii_vba(source: str, name: str = "") -> str:
    """VBA source with every string literal that holds Chinese written as ``U("8BF7 5148")``.

    The project's code page is 1252 (inherited from the xlwings skeleton), so a Chinese literal
    would come out as question marks; ``U`` in the module rebuilds the text with ``ChrW``. Anything
    else that is not ASCII (a comment, a name) is refused, so nothing is garbled silently."""
    lines = []
    for number, line in enumerate(source.splitlines(), start=1):
        out, rest = [], line
        while rest:
            quote, comment = rest.find('"'), rest.find("'")
            if quote < 0 or 0 <= comment < quote:  # no literal left on this line
                out.append(rest)
                break
            literal = _VBA_LITERAL.match(rest, quote)
            if literal is None:
                raise AddinError(f"{name} 第 {number} 行的字符串缺少结尾的引号")
            text = literal.group()[1:-1].replace('""', '"')
            out.append(rest[:quote])
            out.append(literal.group() if text.isascii() else f'U("{" ".join(f"{ord(c):04X}" for c in text)}")')
            rest = rest[literal.end():]
        converted = "".join(out)
        if not converted.isascii():
            raise AddinError(f"{name} 第 {number} 行在字符串以外有中文或其他非 ASCII 字符（VBA 工程为代码页 1252）；"
                             f"请把它写进字符串，或改成英文")
        lines.append(converted)
    return "\r\n".join(lines) + "\r\n"


def ribbon_xml() -> bytes:
    return resources.files("minsheng.ribbon").joinpath("customUI14.xml").read_bytes()


def build_xlam(out: Path) -> Path:
    """Write ``minsheng.xlam`` to ``out`` (atomically) and return it."""
    import pyopenvba

    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "staged.xlam"
        shutil.copyfile(base_xlam(), staged)
        with pyopenvba.ExcelFile(staged) as book:
            project = book.vba_project()
            if BASE_RIBBON_MODULE in project.module_names():
                project.delete_module(BASE_RIBBON_MODULE)
            for name, source in vba_sources().items():
                project.add_module(name, source)
            core = book.get_module("xlwings")
            core = re.sub(r'(Public Const PROJECT_NAME As String = )"[^"]*"', rf'\1"{PROJECT_NAME}"', core)
            book.set_module("xlwings", core)
            book.save(Path(tmp) / "with_vba.xlam")
        with atomic_path(Path(out)) as target:
            _repackage(Path(tmp) / "with_vba.xlam", target)
    return Path(out)


def _repackage(source: Path, target: Path) -> None:
    """Swap in the ribbon, rename the config sheet, and write every entry with a fixed time."""
    with zipfile.ZipFile(source) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    parts = {name: data for name, data in parts.items() if not name.startswith("customUI/")}
    parts[RIBBON_PART] = ribbon_xml()
    parts["xl/vbaProject.bin"] = _renamed_project(parts["xl/vbaProject.bin"], PROJECT_NAME)
    rels = parts["_rels/.rels"].decode("utf-8")
    rels = re.sub(r'<Relationship [^>]*ui/extensibility"[^>]*/>', "", rels)
    rels = rels.replace("</Relationships>", f'<Relationship Id="rIdMinshengRibbon" Type="{RIBBON_RELATIONSHIP}" '
                                            f'Target="{RIBBON_PART}" /></Relationships>')
    parts["_rels/.rels"] = rels.encode("utf-8")
    # The skeleton's settings sheet; a leading underscore keeps it inactive, as in xlwings' own.
    workbook = parts["xl/workbook.xml"].replace(b"_myaddin.conf", f"_{PROJECT_NAME}.conf".encode())
    # The skeleton remembers where its author saved it; File > Info would show that folder.
    parts["xl/workbook.xml"] = re.sub(rb"<mc:AlternateContent[^>]*>\s*<mc:Choice[^>]*>\s*<x15ac:absPath[^>]*/>"
                                      rb"\s*</mc:Choice>\s*</mc:AlternateContent>", b"", workbook)
    parts["docProps/core.xml"] = CORE_PROPERTIES.encode("utf-8")
    first = ["[Content_Types].xml", "_rels/.rels"]
    order = first + sorted(name for name in parts if name not in first)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            out.writestr(info, parts[name])


def _renamed_project(vba_project: bytes, name: str) -> bytes:
    """The VBA project renamed (the skeleton's is ``MyAddin``): the ``Name=`` line of the
    ``PROJECT`` stream and the PROJECTNAME record of the ``dir`` stream (MS-OVBA 2.3.4.2.1.6)."""
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import compress, decompress

    cfb = CFB.from_bytes(vba_project)
    project = cfb.get_stream("PROJECT")
    cfb.write_stream("PROJECT", re.sub(rb'(?m)^Name="[^"]*"', f'Name="{name}"'.encode("ascii"), project, count=1))
    directory = decompress(cfb.get_stream_in_storage("VBA", "dir"))
    cfb.write_stream_in_storage("VBA", "dir", compress(_dir_with_name(directory, name.encode("ascii"))))
    return cfb.to_bytes()


def _dir_with_name(directory: bytes, name: bytes) -> bytes:
    """The dir stream's records with PROJECTNAME set, ending at the terminator (pyOpenVBA 6.5
    writes four more zero bytes after it, which MS-OVBA 2.3.4.2 does not allow)."""
    out, at = [], 0
    while at < len(directory):
        record, size = struct.unpack_from("<HI", directory, at)
        length = 6 if record == 0x0009 else size  # PROJECTVERSION: its size field says 4, 6 bytes follow
        if record == 0x0004:
            out.append(struct.pack("<HI", 0x0004, len(name)) + name)
        else:
            out.append(directory[at:at + 6 + length])
        at += 6 + length
        if record == 0x0010:  # the terminator
            break
    else:
        raise AddinError("xlwings 骨架中的 VBA 工程不完整（缺少结束标记），无法生成加载项；请重新安装 xlwings")
    return b"".join(out)


# ---------------------------------------------------------------------------------------------
# Installing for the current Windows user.

def xlstart_folder() -> Path:
    """Excel opens every workbook in this folder when it starts."""
    appdata = os.environ.get("APPDATA")
    if not appdata:
        raise AddinError("找不到 Windows 用户目录（APPDATA）；加载项只能安装在装有 Excel 的 Windows 电脑上")
    return Path(appdata) / "Microsoft" / "Excel" / "XLSTART"


def user_config() -> Path:
    """The xlwings settings file of this add-in: %USERPROFILE%\\.minsheng\\minsheng.conf."""
    home = os.environ.get("USERPROFILE") or str(Path.home())
    return Path(home) / f".{PROJECT_NAME}" / f"{PROJECT_NAME}.conf"


def interpreter() -> Path:
    """pythonw.exe beside the running interpreter (no console window flashes), else python itself."""
    here = Path(sys.executable)
    windowless = here.with_name("pythonw.exe")
    return windowless if windowless.is_file() else here


def install_addin() -> tuple[Path, Path]:
    """Build the add-in into XLSTART and point it at this Python; returns (add-in, settings file)."""
    folder = xlstart_folder()
    folder.mkdir(parents=True, exist_ok=True)
    addin = build_xlam(folder / ADDIN_NAME)
    settings = user_config()
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_bytes(settings_bytes(str(interpreter()), os.environ, _ansi_code_page()))
    return addin, settings


# Folders Windows names by a variable, most specific first: a Python under one of them is written
# as %LOCALAPPDATA%\Programs\Python\…, whatever the user's name.
_FOLDER_VARIABLES = ("LOCALAPPDATA", "APPDATA", "USERPROFILE", "ProgramFiles(x86)", "ProgramFiles", "ProgramData")


def settings_bytes(python: str, environ: Mapping[str, str], code_page: str) -> bytes:
    """The xlwings settings file ``minsheng.conf`` that points the add-in at ``python``.

    xlwings' VBA reads it with ``Open … For Input``, in the ANSI code page, and expands
    ``%VARIABLES%`` in its values. So the folder part is written as a variable (the file stays
    ASCII for ``C:\\Users\\张三``), and what remains is encoded in the ANSI code page."""
    python = portable_path(python, environ)
    lines = [f'"INTERPRETER_WIN","{python}"', '"USE UDF SERVER","False"', '"SHOW CONSOLE","False"']
    text = "\r\n".join(lines) + "\r\n"
    try:
        return text.encode(code_page)
    except UnicodeEncodeError as exc:
        raise AddinError(f"Python 的安装路径 {python} 中有本机 Excel 读不出的字符；请把 Python 安装到"
                         f"只含英文字母、数字或中文的文件夹（如 C:\\Python311）后重新运行 minsheng addin install") from exc


def portable_path(path: str, environ: Mapping[str, str]) -> str:
    """``path`` with the longest folder that an environment variable names written as ``%NAME%``."""
    best = ("", "")
    for variable in _FOLDER_VARIABLES:
        folder = (environ.get(variable) or "").rstrip("\\/")
        if folder and len(folder) > len(best[1]) and path.lower().startswith(folder.lower()) \
                and path[len(folder):len(folder) + 1] in ("\\", "/"):
            best = (variable, folder)
    variable, folder = best
    return f"%{variable}%{path[len(folder):]}" if variable else path


def _ansi_code_page() -> str:
    """The code page Excel's VBA reads text files in (cp936 on Chinese Windows)."""
    if sys.platform == "win32":
        import locale

        return locale.getencoding()
    return "utf-8"


def uninstall_addin() -> list[Path]:
    """Remove the add-in and its settings; returns what was removed."""
    removed = []
    for path in (xlstart_folder() / ADDIN_NAME, user_config()):
        if path.exists():
            try:
                path.unlink()
            except PermissionError as exc:
                raise AddinError(f"{path} 正被 Excel 使用，无法删除；请先关闭 Excel 再卸载") from exc
            removed.append(path)
    folder = user_config().parent
    try:
        folder.rmdir()  # only when empty: the user may have put something of their own there
        removed.append(folder)
    except OSError:
        pass
    return removed
