"""Entry points of the Excel add-in: the ribbon's buttons, called through xlwings' RunPython.

Every button calls ``dispatch(tag)``. A handler finds ``config.ini`` beside the workbook the button
was pressed in, runs the same pipeline function the CLI runs, writes a short result into Excel's
status bar and opens what it produced. Every error becomes a Chinese message box naming the file
and cell; the traceback goes to ``minsheng-错误日志.txt`` in the working folder, never to the user.

Excel itself is reached only through ``ExcelSide`` so that tests can pass a stand-in.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from .circular.place import circular_name
from .config import CONFIG_NAME, Config, load_config
from .errors import AddinError, MinshengError
from .intake.collect import find_files
from .model import Severity
from .pipeline import make_circular, make_templates, run_consolidation, validate_files
from .report.summary import output_names

LOG_NAME = "minsheng-错误日志.txt"
TITLE = "民生工程"
MAX_LISTED = 10  # problems shown in a message box; the rest are in the files


class ExcelSide(Protocol):
    """What the add-in needs from Excel."""

    def caller_path(self) -> Path: ...  # the workbook whose ribbon button was pressed
    def status(self, text: str) -> None: ...  # Excel's status bar
    def message(self, text: str, error: bool = False) -> None: ...  # a message box
    def open(self, path: Path) -> None: ...  # open a produced file (workbook in Excel, others by type)


class XlwingsExcel:
    """The real Excel, through xlwings (Windows and macOS only)."""

    def __init__(self):
        import xlwings as xw

        self.book = xw.Book.caller()
        self.app = self.book.app

    def caller_path(self) -> Path:
        return Path(self.book.fullname)

    def status(self, text: str) -> None:
        self.app.status_bar = text or False  # False hands the status bar back to Excel

    def message(self, text: str, error: bool = False) -> None:
        self.app.alert(text, title=TITLE, mode="critical" if error else "info")

    def open(self, path: Path) -> None:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".csv"):
            self.app.books.open(str(path))
        elif sys.platform == "win32":
            os.startfile(str(path))  # Word for .docx, Notepad for .ini
        else:
            subprocess.run(["open", str(path)], check=False)


class AddinProblem(AddinError):
    """Something the user can fix from Excel; the message says what."""


def find_config(workbook: Path) -> Config:
    """``config.ini`` beside the calling workbook (the register usually), or in the folder above."""
    for folder in (workbook.parent, workbook.parent.parent):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return load_config(candidate)
    raise AddinProblem(f"在 {workbook.parent} 中没有找到 {CONFIG_NAME}。请打开工作文件夹中的“任务台账.xlsx”"
                       f"后再点按钮；还没有工作文件夹时，请先运行 minsheng init 新建")


def _status_progress(excel: ExcelSide, label: str) -> Callable[[Iterable], Iterable]:
    def progress(items: Iterable) -> Iterable:
        items = list(items)
        for done, item in enumerate(items):
            excel.status(f"{label}：{done + 1}/{len(items)} …")
            yield item
    return progress


# ---------------------------------------------------------------------------------------------
# One handler per button. Each returns the text for the status bar.

def on_templates(config: Config, excel: ExcelSide) -> str:
    result = make_templates(config, _status_progress(excel, "生成填报模板"))
    folder = result.paths[0].parent if result.paths else config.outbox()
    excel.message("\n".join([f"已为 {len(result.paths)} 个牵头单位生成 {result.period.label} 填报模板，保存在：\n{folder}",
                             *result.notes]))
    return f"已生成 {len(result.paths)} 份填报模板"


def on_validate(config: Config, excel: ExcelSide) -> str:
    inbox = config.inbox()
    files = find_files(inbox) if inbox.is_dir() else []
    if not files:
        raise AddinProblem(f"收件文件夹 {inbox} 中还没有填报表；请把各单位报回的文件放进去后再校验")
    checked = validate_files(config, files, _status_progress(excel, "校验填报表"))
    bad = [c for c in checked if c.failed]
    lines = [f"共校验 {len(checked)} 个文件，{len(bad)} 个有错误。"]
    listed = [p for c in checked for p in c.problems if p.severity is Severity.ERROR]
    lines += [f"· {p}" for p in listed[:MAX_LISTED]]
    if len(listed) > MAX_LISTED:
        lines.append(f"……另有 {len(listed) - MAX_LISTED} 处错误，汇总后见汇总表的“问题清单”")
    excel.message("\n".join(lines), error=bool(bad))
    return f"已校验 {len(checked)} 个文件，{len(bad)} 个有错误"


def on_consolidate(config: Config, excel: ExcelSide) -> str:
    done = run_consolidation(config, _status_progress(excel, "汇总"))
    counts = done.result.counts
    told = done.result.notes + ([done.ledger_error] if done.ledger_error else [])
    if told:
        excel.message("\n".join(told), error=bool(done.ledger_error))
    excel.open(done.outputs[0])
    return (f"汇总完成：读取 {counts.files_read} 个文件，采用 {counts.indicators_accepted} 个数值，"
            f"问题 {counts.problems} 条，未报送 {counts.units_missing} 个单位")


def on_open_summary(config: Config, excel: ExcelSide) -> str:
    path = config.output() / output_names(config.period)[0]
    if not path.is_file():
        raise AddinProblem(f"还没有 {config.period.label} 的汇总表（{path}）；请先点“汇总”")
    excel.open(path)
    return f"已打开 {path.name}"


def on_circular(config: Config, excel: ExcelSide) -> str:
    rendered = make_circular(config)
    if rendered.notes:
        excel.message("\n".join(rendered.notes))
    excel.open(rendered.path)
    return f"通报已生成：{rendered.path.name}"


def on_open_circular(config: Config, excel: ExcelSide) -> str:
    path = config.output() / circular_name(config.period)
    if not path.is_file():
        raise AddinProblem(f"还没有 {config.period.label} 的通报（{path}）；请先点“生成通报”")
    excel.open(path)
    return f"已打开 {path.name}"


def on_settings(config: Config, excel: ExcelSide) -> str:
    excel.open(config.path)
    return "已打开 config.ini；修改保存后，下次点按钮时生效"


HANDLERS: dict[str, Callable[[Config, ExcelSide], str]] = {
    "templates": on_templates,
    "validate": on_validate,
    "consolidate": on_consolidate,
    "open_summary": on_open_summary,
    "circular": on_circular,
    "open_circular": on_open_circular,
    "settings": on_settings,
}

def dispatch(tag: str, excel: ExcelSide | None = None) -> None:
    """Run the handler of the ribbon button ``tag``. Never raises: errors become message boxes."""
    workbook = None
    try:
        excel = excel or XlwingsExcel()
        workbook = excel.caller_path()
        handler = HANDLERS.get(tag)
        if handler is None:
            raise AddinProblem(f"按钮“{tag}”没有对应的功能；请重新安装加载项（minsheng addin install）")
        config = find_config(workbook)
        excel.status(f"{TITLE}：正在处理……")
        excel.status(handler(config, excel))
    except MinshengError as exc:
        _tell(excel, _with_details(exc))
    except Exception:  # a bug: the user gets one sentence, the details go to the log
        log = _log(workbook, tag)
        where = f"详细信息已写入 {log}" if log else "且无法写入日志文件"
        _tell(excel, f"出现意外错误，操作未完成；{where}。请把该文件发给技术支持。")


def _with_details(exc: MinshengError) -> str:
    """The message, and below it the problems it stands for (each with its cell)."""
    if [str(p) for p in exc.problems] == [str(exc)] or not exc.problems:
        return str(exc)
    lines = [str(p) for p in exc.problems[:MAX_LISTED]]
    if len(exc.problems) > MAX_LISTED:
        lines.append(f"……另有 {len(exc.problems) - MAX_LISTED} 处问题")
    return f"{exc}\n" + "\n".join(lines)


def _tell(excel: ExcelSide | None, text: str) -> None:
    if excel is None:  # not even Excel could be reached: nothing else to tell
        return
    try:
        excel.status("")
        excel.message(text, error=True)
    except Exception:
        pass


def _log(workbook: Path | None, tag: str) -> Path | None:
    folder = workbook.parent if workbook is not None else Path.home()
    log = folder / LOG_NAME
    try:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"==== {dt.datetime.now():%Y-%m-%d %H:%M:%S} 按钮 {tag} ====\n{traceback.format_exc()}\n")
        return log
    except OSError:
        return None
