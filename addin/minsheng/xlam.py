"""Building, installing and removing the Excel add-in ``minsheng.xlam`` (SPEC §8).

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
import sys
import tempfile
import zipfile
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
    """Module name → source, from ``addin/vba/*.bas``."""
    folder = resources.files("minsheng.vba")
    sources = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".bas"):
            text = entry.read_text(encoding="utf-8")
            match = re.search(r'Attribute VB_Name = "([^"]+)"', text)
            sources[match.group(1) if match else entry.name[:-4]] = text
    return sources


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
    rels = parts["_rels/.rels"].decode("utf-8")
    rels = re.sub(r'<Relationship [^>]*ui/extensibility"[^>]*/>', "", rels)
    rels = rels.replace("</Relationships>", f'<Relationship Id="rIdMinshengRibbon" Type="{RIBBON_RELATIONSHIP}" '
                                            f'Target="{RIBBON_PART}" /></Relationships>')
    parts["_rels/.rels"] = rels.encode("utf-8")
    # The skeleton's settings sheet; a leading underscore keeps it inactive, as in xlwings' own.
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b"_myaddin.conf", f"_{PROJECT_NAME}.conf".encode())
    first = ["[Content_Types].xml", "_rels/.rels"]
    order = first + sorted(name for name in parts if name not in first)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            out.writestr(info, parts[name])


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
    lines = [f'"INTERPRETER_WIN","{interpreter()}"', '"USE UDF SERVER","False"', '"SHOW CONSOLE","False"']
    settings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return addin, settings


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
    return removed
