"""Fixtures built by code: registers written with openpyxl, working folders, filled templates."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import zipfile
from pathlib import Path

import openpyxl
import pytest
from minsheng.config import load_config
from minsheng.lock import LOCK_NAME
from minsheng.workfolder import init_workfolder

SHARED = Path(__file__).resolve().parents[2] / "shared"
HEADERS = ["任务编号", "类别", "项目名称", "年度目标任务", "牵头单位", "协同单位", "指标编号", "指标名称",
           "计量单位", "指标类型", "年度目标值", "年度计划资金(万元)", "完成时限"]

# A small register in the shape of seed 004: two units, a task with two lead units, every type.
ROWS = [
    ["7", "二、办好人民满意教育", "推进学前教育促进工程", "新建改扩建公办幼儿园12所,资助幼儿988人次", "市教育局", "",
     "7-1", "新建改扩建公办幼儿园", "所", "累计", 12, 1500, None],
    ["7", "二、办好人民满意教育", "推进学前教育促进工程", "新建改扩建公办幼儿园12所,资助幼儿988人次", "市教育局", "",
     "7-2", "资助幼儿", "人次", "累计", 988, None, None],
    ["8", "二、办好人民满意教育", "加强义务教育经费保障", "继续实施校舍维修改造", "市教育局", "市财政局",
     "8-1", "加强义务教育经费保障", "阶段", "里程碑", None, None, dt.date(2020, 10, 31)],
    ["17", "四、做好社会保障工作", "实施城乡居民基本医疗保险制度", "参保率稳定在95%以上", "市医保局", "",
     "17-1", "城乡居民基本医疗保险参保率", "%", "比率", 95, None, None],
    ["22", "四、做好社会保障工作", "实施困难人员救助暨困难职工帮扶", "保障农村低保对象基本生活", "市民政局", "",
     "22-1", "困难人员救助", "阶段", "里程碑", None, 800, None],
    ["22", "四、做好社会保障工作", "实施困难人员救助暨困难职工帮扶", "保障农村低保对象基本生活", "市医保局", "",
     "22-2", "贫困人口自付费用", "万元", "上限", 0.3, None, None],
]


def write_register_xlsx(path: Path, rows=ROWS, headers=HEADERS, sheet="任务台账", above=0) -> Path:
    """A register as an office would keep it, written with openpyxl."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for _ in range(above):
        ws.append(["2020年民生工程任务台账"])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


@pytest.fixture(autouse=True, scope="session")
def register_cache(tmp_path_factory):
    """Register caches of the test run go to a folder of their own, not the user's cache."""
    import os

    folder = tmp_path_factory.mktemp("register-cache")
    old = os.environ.get("MINSHENG_CACHE")
    os.environ["MINSHENG_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("MINSHENG_CACHE", None)
    else:
        os.environ["MINSHENG_CACHE"] = old


@pytest.fixture
def workfolder(tmp_path: Path) -> Path:
    """A working folder from ``init`` holding the small register above."""
    folder = tmp_path / "工作"
    init_workfolder(folder, today=dt.date(2020, 7, 1))  # period 2020-06
    (folder / "任务台账.xlsx").unlink()
    write_register_xlsx(folder / "任务台账.xlsx")
    return folder


@pytest.fixture
def config(workfolder: Path):
    return load_config(workfolder / "config.ini")


def fill(template: Path, target: Path, values: dict[str, object], sign_off: bool = True,
         edit=None) -> Path:
    """Fill a template as a department would, with openpyxl; ``values`` maps 指标编号 → 本期累计完成."""
    book = openpyxl.load_workbook(template)
    ws = book["填报"]
    header = next(r for r in range(1, 10) if ws.cell(r, 2).value == "指标编号")
    cols = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    for r in range(header + 1, ws.max_row + 1):
        indicator_id = ws.cell(r, cols["指标编号"]).value
        if indicator_id in values:
            ws.cell(r, cols["本期累计完成"]).value = values[indicator_id]
            ws.cell(r, cols["进展情况"]).value = f"{indicator_id} 按计划推进"
        if sign_off and indicator_id == "填报人":
            ws.cell(r, 3).value = "张三"
        if sign_off and indicator_id == "联系电话":
            ws.cell(r, 3).value = "0555-2345678"
        if sign_off and indicator_id == "填报日期":
            ws.cell(r, 3).value = dt.date(2020, 7, 5)
    if edit:
        edit(book)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def rewrite_member(path: Path, member: str, change) -> Path:
    """Rewrite one part of a workbook's zip package in place: ``change(text) -> text``."""
    with zipfile.ZipFile(path) as package:
        parts = [(info, package.read(info.filename)) for info in package.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for info, data in parts:
            if info.filename == member:
                data = change(data.decode("utf-8")).encode("utf-8")
            package.writestr(info.filename, data)
    return path


def replace_cell(path: Path, ref: str, xml: str, sheet: str = "xl/worksheets/sheet2.xml") -> Path:
    """Put raw cell XML at ``ref`` of a workbook written by openpyxl (填报 is its second sheet)."""
    pattern = re.compile(rf'<c r="{ref}"(?: [^>]*)?(?:/>|>.*?</c>)', re.S)

    def change(text: str) -> str:
        assert pattern.search(text), ref
        return pattern.sub(xml.replace("\\", "\\\\"), text, count=1)

    return rewrite_member(path, sheet, change)


def register_of(tasks, fingerprint: str = "", extra_columns: tuple[str, ...] = ()):
    """A register made in code, cached by its content like one read from a workbook."""
    import hashlib

    from minsheng.register.cache import Register, find_store, write_store

    digest = hashlib.sha256(repr((tasks, fingerprint, extra_columns)).encode("utf-8")).hexdigest()
    store = find_store(digest) or write_store(digest, tasks, fingerprint or digest[:16], extra_columns)
    return Register("任务台账.xlsx", store)


def read_submission(path: Path, register, period, stages):
    """One workbook read in this process, as a worker reads it: ``(submission or None, problems)``."""
    from minsheng.files import display_name
    from minsheng.intake.reader import read_workbook
    from minsheng.model import Problem
    from minsheng.untrusted.guard import MAX_FILE_BYTES
    from minsheng.untrusted.inbox import Unreadable, read_regular

    name = display_name(path.name)
    try:
        data, _ = read_regular(path, MAX_FILE_BYTES)
    except Unreadable as exc:
        return None, [Problem(name, str(exc))]
    submission, problems, _ = read_workbook(path, register, period, stages, data, name)
    return submission, problems


def judged_again(result, config) -> list:
    """Every task of a consolidation judged again from the accepted submissions (``TaskSummary``s):
    an oracle for the tests; the tool itself judges each indicator once, where its file is read."""
    from minsheng.assess.rollup import assess_tasks
    from minsheng.assess.status import Rules

    rules = Rules.of(config.thresholds, config.stages)
    return list(assess_tasks(result.register, result.collection.submission, result.period, rules, result.previous_of))


def assessments_again(result, config) -> list:
    """``judged_again``'s assessments, in register order."""
    return [a for summary in judged_again(result, config) for a in summary.assessments]


def write_lock(folder: Path, pid: int, host: str | None = None, since: dt.datetime | None = None,
               user: str = "张三", command: str = "汇总") -> Path:
    """The lock a run of ``pid`` on this computer (or ``host``) holds on the working folder."""
    record = {"host": host or socket.gethostname(), "user": user, "pid": pid, "command": command,
              "since": (since or dt.datetime.now().astimezone()).isoformat(timespec="seconds")}
    path = folder / LOCK_NAME
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return path
