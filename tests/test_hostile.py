"""The hostile gallery: what an office inbox really holds, and what one bad input may never do.

Every case runs the real command (``minsheng consolidate``) on a working folder whose inbox holds
three good department files, built from the product's own templates and filled with openpyxl, plus
the hostile input. Every case must end with exit 0 (unless it is about a failure to write), the
good values exact, the hostile input named (with its cell where it has one) in 问题清单, the inputs
byte-identical, no error log, and the accounting invariant: every entry of the inbox is either the
source of consolidated values or named in 问题清单, and every indicator that is not consolidated
has a reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from conftest import fill, replace_cell, rewrite_member
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from minsheng.cli import main
from minsheng.files import display_name
from minsheng.intake.collect import collect_inbox
from minsheng.pipeline import make_templates
from minsheng.register.workbook import load_register

LOG = "minsheng-错误日志.txt"
PERIOD = "2020-06"
# What the three good files hold, and how 指标明细 must show it.
GOOD = {"市教育局": {"7-1": 6, "7-2": 500, "8-1": "开工实施"},
        "市医保局": {"17-1": 96.4, "22-2": 0.2},
        "市民政局": {"22-1": "前期准备"}}
SHOWN = {"7-1": "6", "7-2": "500", "8-1": "开工实施", "17-1": "96.4", "22-2": "0.2", "22-1": "前期准备"}
FUNDS = {"市教育局": ("P4", 900), "市民政局": ("P4", 300)}  # 累计拨付资金 of tasks 7 and 22


@dataclass
class Office:
    folder: Path
    config: object
    templates: dict[str, Path]
    inbox: Path

    def good(self, unit: str, name: str | None = None, values: dict | None = None, edit=None,
             day: dt.date | None = None) -> Path:
        """A department's correctly filled file, as openpyxl (like Excel) would save it."""
        def edits(book):
            ws = book["填报"]
            if unit in FUNDS:
                ws[FUNDS[unit][0]] = FUNDS[unit][1]
            if day is not None:
                row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "填报日期")
                ws.cell(row, 3).value = day
            if edit:
                edit(book)
        target = self.inbox / (name or f"{PERIOD}_{unit}_填报表.xlsx")
        return fill(self.templates[unit], target, GOOD[unit] if values is None else values, edit=edits)


@pytest.fixture
def office(workfolder, config) -> Office:
    templates = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    o = Office(workfolder, config, templates, config.inbox())
    for unit in GOOD:
        o.good(unit)
    return o


@dataclass
class Run:
    code: int
    out: str
    err: str
    detail: dict[str, dict[str, str]]  # 指标编号 → row of 指标明细_P.csv
    problems: list[dict[str, str]]  # rows of 问题清单

    def about(self, file: str) -> list[dict[str, str]]:
        return [p for p in self.problems if p["文件"] == file]


def inbox_state(inbox: Path) -> dict[str, str]:
    """What every regular file holds and every other entry is, without following or opening specials."""
    state = {}
    for folder, dirs, files in os.walk(inbox):
        for name in dirs + files:
            path = Path(folder) / name
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_size < 1 << 20:
                state[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                state[str(path)] = f"{stat.filemode(st.st_mode)} {st.st_size}"
    return state


def consolidate(office: Office, monkeypatch, capsys, expect_code: int = 0) -> Run:
    monkeypatch.chdir(office.folder)
    before = inbox_state(office.inbox)
    code = main(["consolidate"])
    out, err = capsys.readouterr()
    assert code == expect_code, (out, err)
    assert inbox_state(office.inbox) == before  # inputs are never changed
    assert not (office.folder / LOG).exists() and "程序内部出错" not in err
    output = office.config.output()
    with open(output / f"指标明细_{PERIOD}.csv", encoding="utf-8-sig", newline="") as handle:
        detail = {row["指标编号"]: row for row in csv.DictReader(handle)}
    book = openpyxl.load_workbook(output / f"汇总_{PERIOD}.xlsx", read_only=True)
    rows = list(book["问题清单"].iter_rows(values_only=True))
    book.close()
    problems = [{h: ("" if v is None else str(v)) for h, v in zip(rows[0], row)} for row in rows[1:]]
    run = Run(code, out, err, detail, problems)
    _accounted(office, run)
    return run


def _accounted(office: Office, run: Run) -> None:
    """accepted + listed = submitted, for files and for indicators; messages are Chinese."""
    sources = {row["来源文件"] for row in run.detail.values() if row["来源文件"]}
    named = {p["文件"] for p in run.problems}
    for folder, dirs, files in os.walk(office.inbox):
        for name in dirs + files:
            path = Path(folder) / name
            if name.startswith(("~$", ".")) or (path.is_dir() and not path.is_symlink()):
                continue
            shown = display_name(os.path.relpath(path, office.inbox))
            assert shown in sources or shown in named, f"{shown} is neither consolidated nor listed"
    for indicator_id, row in run.detail.items():
        if row["状态"] == "数据有误":
            assert any(p["指标编号"] == indicator_id and p["级别"] == "错误" and p["单元格"]
                       and p["文件"] == row["来源文件"] for p in run.problems), indicator_id
        if row["来源文件"] == "":
            assert row["状态"] == "未报送", indicator_id
    for p in run.problems:
        english = re.findall(r"[A-Za-z]{4,}", p["问题及处理办法"].replace(p["原始内容"], ""))
        assert not [w for w in english if w not in ("Excel", "Word", "meta", "xlsx", "xlsb", "minsheng", "config")], p


def assert_good(run: Run, *except_units: str) -> None:
    """The good files' values are consolidated exactly (but those of ``except_units``)."""
    for unit, values in GOOD.items():
        if unit in except_units:
            continue
        for indicator_id in values:
            assert run.detail[indicator_id]["本期累计完成"] == SHOWN[indicator_id], indicator_id
            assert run.detail[indicator_id]["进展情况"] == f"{indicator_id} 按计划推进", indicator_id


def workbook_bytes(**cells) -> bytes:
    book = openpyxl.Workbook()
    for ref, value in cells.items():
        book.active[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Whole files that must be refused, and nothing else lost.

def _entity(text):  # an entity that is never defined
    return text.replace("<c r=\"B4\"", "<c r=\"Z99\" t=\"inlineStr\"><is><t>&x;</t></is></c><c r=\"B4\"", 1)


def _external_entity(text):
    doctype = '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    return _entity(text.replace("<worksheet", doctype + "<worksheet", 1))


def _entity_bomb(text):
    entities = '<!ENTITY a0 "哈哈哈哈哈哈哈哈">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    return text.replace("<worksheet", f"<!DOCTYPE worksheet [{entities}]><worksheet", 1).replace(
        "<c r=\"B4\"", "<c r=\"Z99\" t=\"inlineStr\"><is><t>&a9;</t></is></c><c r=\"B4\"", 1)


def _lying_dimension(text):
    # The sheet says A1:P11 but holds a cell at the last address: calamine allocates 512 GB and aborts.
    return text.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>')


def _declared_huge(text):
    return re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', text)


def _bad_number(text):
    return re.sub(r'<c r="J4"[^>]*>.*?</c>', '<c r="J4" t="n"><v>六</v></c>', text, count=1)


XML_CASES = {
    "undefined_entity": _entity,
    "external_entity": _external_entity,
    "entity_expansion_bomb": _entity_bomb,
    "sheet_xml_cut_in_half": lambda text: text[: len(text) // 2],
    "number_cell_holding_text": _bad_number,
}


@pytest.mark.parametrize("case", list(XML_CASES))
def test_a_broken_or_hostile_sheet_costs_only_its_own_file(office, monkeypatch, capsys, case):
    path = office.good("市医保局")
    rewrite_member(path, "xl/worksheets/sheet2.xml", XML_CASES[case])
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run, "市医保局")
    assert {run.detail[i]["状态"] for i in GOOD["市医保局"]} == {"未报送"}
    listed = run.about(path.name)
    assert len(listed) == 1 and listed[0]["级别"] == "错误", listed
    assert "root:" not in listed[0]["问题及处理办法"]  # no file of this machine ever leaks in


@pytest.mark.parametrize("case", ["lying_dimension", "declared_huge"])
def test_a_stray_cell_far_outside_the_form_is_named_and_the_form_still_read(office, monkeypatch, capsys, case):
    # A value at XFD1048576 (the sheet may even say A1:P11): a reader would allocate the whole
    # rectangle up to it (512 GB) and die. The form is read without it, and the cell is named.
    path = office.good("市医保局")
    stray = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>多余的字</t></is></c></row></sheetData>'
    change = {"lying_dimension": lambda text: text.replace("</sheetData>", stray),
              "declared_huge": lambda text: _declared_huge(text).replace("</sheetData>", stray)}[case]
    rewrite_member(path, "xl/worksheets/sheet2.xml", change)
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    (named,) = run.about(path.name)
    assert named["单元格"] == "XFD1048576" and named["级别"] == "提示" and "多余的字" in named["问题及处理办法"]


BLOBS = {
    "zero_bytes": (b"", "空文件"),
    "random_bytes": (bytes(range(256)) * 40, "不是 Excel/WPS 表格文件"),
    "pdf_named_xlsx": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "不是 Excel/WPS 表格文件"),
    "text_named_xlsx": ("指标编号,本期累计完成\n7-1,6\n".encode("gbk"), "不是 Excel/WPS 表格文件"),
    "truncated_zip": (None, "已损坏"),
    "encrypted_workbook": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512 + "EncryptedPackage".encode("utf-16-le"),
                           "打开密码"),
    "ole_header_then_garbage": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x07" * 3000, "无法读取该文件"),
    "zip_bomb": (None, "压缩比异常"),
    "too_many_parts": (None, "内部结构异常"),
    "word_document": (None, "不是电子表格"),
    "workbook_without_sheets": (None, "无法读取该文件"),
    "binary_workbook_named_xlsx": (None, "是 Excel 二进制工作簿（.xlsb"),
}


def _blob(case: str, office: Office) -> bytes:
    data, _ = BLOBS[case]
    if data is not None:
        return data
    out = io.BytesIO()
    if case == "truncated_zip":
        good = office.good("市教育局", name="副本.xlsx").read_bytes()
        (office.inbox / "副本.xlsx").unlink()
        return good[: len(good) // 2]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        if case == "word_document":
            package.writestr("word/document.xml", "<w:document/>")
        elif case == "binary_workbook_named_xlsx":  # what Excel writes for .xlsb
            package.writestr("[Content_Types].xml", "<Types/>")
            package.writestr("xl/workbook.bin", b"\x83\x01\x00")
            package.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
        else:
            package.writestr("xl/workbook.xml", "<workbook/>")
        if case == "zip_bomb":
            package.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))
        if case == "too_many_parts":
            for i in range(2100):
                package.writestr(f"xl/media/{i}.bin", b"")
    return out.getvalue()


@pytest.mark.parametrize("case", list(BLOBS))
def test_a_file_that_is_no_workbook_is_named_and_skipped(office, monkeypatch, capsys, case):
    (office.inbox / f"{case}.xlsx").write_bytes(_blob(case, office))
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    listed = run.about(f"{case}.xlsx")
    assert len(listed) == 1 and BLOBS[case][1] in listed[0]["问题及处理办法"], listed


# ---------------------------------------------------------------------------------------------
# What is in the folder but is not a file.

def test_a_symlink_loop_is_listed_not_followed(office, monkeypatch, capsys):
    (office.inbox / "loop.xlsx").symlink_to("loop.xlsx")
    (office.inbox / "up").symlink_to("..")  # a folder loop
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert "循环的符号链接" in run.about("loop.xlsx")[0]["问题及处理办法"]
    assert "符号链接" in run.about("up")[0]["问题及处理办法"]


def test_a_dangling_symlink_is_listed(office, monkeypatch, capsys):
    (office.inbox / "已删除.xlsx").symlink_to("/nowhere/at/all.xlsx")
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert "指向的文件不存在" in run.about("已删除.xlsx")[0]["问题及处理办法"]


def test_a_link_to_dev_zero_is_never_read(office, monkeypatch, capsys):
    (office.inbox / "zero.xlsx").symlink_to("/dev/zero")
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert "符号链接" in run.about("zero.xlsx")[0]["问题及处理办法"]


def test_a_link_to_a_good_file_elsewhere_is_listed_not_read(office, monkeypatch, capsys, tmp_path):
    elsewhere = office.good("市教育局", name="x.xlsx")
    moved = elsewhere.rename(tmp_path / "x.xlsx")
    (office.inbox / "链接.xlsx").symlink_to(moved)
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert "复制到收件文件夹" in run.about("链接.xlsx")[0]["问题及处理办法"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_does_not_hang_the_run(office, monkeypatch, capsys):
    os.mkfifo(office.inbox / "pipe.xlsx")
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert "不是普通文件" in run.about("pipe.xlsx")[0]["问题及处理办法"]


def test_an_eight_gigabyte_sparse_file_is_refused_by_its_size(office, monkeypatch, capsys):
    with open(office.inbox / "巨大.xlsx", "wb") as handle:
        handle.truncate(8 * 1024 ** 3)  # sparse: no disk used, nothing to read but zeros
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert "文件过大" in run.about("巨大.xlsx")[0]["问题及处理办法"]


@pytest.mark.skipif(sys.platform == "win32" or sys.platform == "darwin", reason="Linux file names are bytes")
def test_a_file_name_that_is_not_valid_text_still_gets_consolidated(office, monkeypatch, capsys):
    good = office.inbox / f"{PERIOD}_市医保局_填报表.xlsx"
    os.rename(good, os.path.join(os.fsencode(office.inbox), b"\xb8\xdf\xd0\xa3.xlsx"))  # GBK bytes for 高校
    os.rename(office.inbox / f"{PERIOD}_市教育局_填报表.xlsx", os.path.join(os.fsencode(office.inbox), b"\xff\xfe.xlsx"))
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert run.detail["17-1"]["来源文件"] == "高校.xlsx"  # an archive unpacked from Chinese Windows
    assert run.detail["7-1"]["来源文件"] == "��.xlsx"  # no encoding at all: still consolidated, and said
    (told,) = run.about("��.xlsx")
    assert told["级别"] == "提示" and "无法识别的字符" in told["问题及处理办法"]


# ---------------------------------------------------------------------------------------------
# Cells that cannot be read: the row is 数据有误, never dropped, and the cell is named.

def _value_error(office, monkeypatch, capsys, typed=None, cell_xml=None, unit="市教育局",
                 indicator="7-1", ref="J4"):
    values = dict(GOOD[unit])
    if typed is not None:
        values[indicator] = typed
    path = office.good(unit, values=values)
    if cell_xml is not None:
        replace_cell(path, ref, cell_xml)
    run = consolidate(office, monkeypatch, capsys)
    row = run.detail[indicator]
    assert row["状态"] == "数据有误", row
    assert row["进展情况"] == f"{indicator} 按计划推进"  # the row's words are kept
    listed = [p for p in run.about(path.name) if p["单元格"] == ref and p["指标编号"] == indicator]
    assert len(listed) == 1 and listed[0]["级别"] == "错误"
    if unit in FUNDS:  # the task's money is kept too
        assert run.detail[indicator]["来源文件"] == path.name
    assert_good(run, unit)
    return run, listed[0]


def test_chinese_numerals_keep_the_rows_text_and_funds(office, monkeypatch, capsys):
    run, listed = _value_error(office, monkeypatch, capsys, typed="十二")
    assert listed["原始内容"] == "十二" and "阿拉伯数字" in listed["问题及处理办法"]
    with open(office.config.output() / f"指标明细_{PERIOD}.csv", encoding="utf-8-sig") as handle:
        assert "十二" not in handle.read()  # nothing unread is shown as if it were a value
    book = openpyxl.load_workbook(office.config.output() / f"汇总_{PERIOD}.xlsx", read_only=True)
    ranking = {row[1]: row for row in book["单位排名"].iter_rows(values_only=True)}
    assert ranking["市教育局"][-3] == 900  # 累计拨付资金 of task 7, from the row with the bad value
    book.close()


@pytest.mark.parametrize("error", ["#DIV/0!", "#REF!", "#N/A", "#VALUE!"])
def test_an_error_value_is_named_not_taken_for_empty(office, monkeypatch, capsys, error):
    _, listed = _value_error(office, monkeypatch, capsys,
                             cell_xml=f'<c r="J4" t="e"><f>H4/0</f><v>{error}</v></c>')
    assert error in listed["问题及处理办法"] and listed["原始内容"] == error


def test_a_formula_saved_without_its_result_is_named(office, monkeypatch, capsys):
    _, listed = _value_error(office, monkeypatch, capsys, typed="=H4*0.5")
    assert "没有保存计算结果" in listed["问题及处理办法"] and listed["原始内容"] == "=H4*0.5"


def test_a_date_in_a_value_cell(office, monkeypatch, capsys):
    _, listed = _value_error(office, monkeypatch, capsys, typed=dt.datetime(2020, 6, 30))
    assert "日期" in listed["问题及处理办法"] and "2020-06-30" in listed["原始内容"]


def test_a_boolean_in_a_value_cell(office, monkeypatch, capsys):
    _, listed = _value_error(office, monkeypatch, capsys, typed=True)
    assert "逻辑值" in listed["问题及处理办法"] and listed["原始内容"] == "是"


def test_one_e308_no_longer_stops_the_workbook(office, monkeypatch, capsys):
    _, listed = _value_error(office, monkeypatch, capsys, typed=1e308)
    assert "数值过大" in listed["问题及处理办法"]


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN"])
def test_a_non_finite_number_in_the_xml(office, monkeypatch, capsys, literal):
    _, listed = _value_error(office, monkeypatch, capsys, cell_xml=f'<c r="J4" t="n"><v>{literal}</v></c>')
    assert "无穷大或无效" in listed["问题及处理办法"]


def test_a_negative_number(office, monkeypatch, capsys):
    _, listed = _value_error(office, monkeypatch, capsys, typed=-5.0)
    assert listed["问题及处理办法"].startswith("“-5”是负数")  # not Python's -5.0


def test_a_stage_that_is_not_in_the_list_keeps_its_text(office, monkeypatch, capsys):
    _, listed = _value_error(office, monkeypatch, capsys, typed="差不多了", indicator="8-1", ref="J6")
    assert "下拉列表" in listed["问题及处理办法"]


def test_bad_funds_are_named_and_the_values_still_used(office, monkeypatch, capsys):
    path = office.good("市教育局", edit=lambda book: book["填报"].__setitem__("P4", "很多"))
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    listed = [p for p in run.about(path.name) if p["单元格"] == "P4"]
    assert len(listed) == 1 and "任务 7 的累计拨付资金" in listed[0]["问题及处理办法"] and listed[0]["原始内容"] == "很多"


def test_funds_holding_an_error_value_are_named(office, monkeypatch, capsys):
    path = office.good("市教育局")
    replace_cell(path, "P4", '<c r="P4" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert [p["原始内容"] for p in run.about(path.name) if p["单元格"] == "P4"] == ["#DIV/0!"]


def test_a_value_typed_in_a_row_without_indicator_id_is_named(office, monkeypatch, capsys):
    def insert(book):
        ws = book["填报"]
        ws["J7"], ws["L7"] = 40, "另外新增的工作"
    path = office.good("市教育局", edit=insert)
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    listed = [p for p in run.about(path.name) if p["单元格"] == "B7"]
    assert len(listed) == 1 and "“40”" in listed[0]["问题及处理办法"] and "另外新增的工作" in listed[0]["问题及处理办法"]


def test_formula_looking_text_stays_text_in_the_workbook_and_the_csv(office, monkeypatch, capsys):
    def evil(book):
        book["填报"]["L4"] = "=cmd|' /C calc'!A0"
        book["填报"]["L4"].data_type = "s"
    office.good("市教育局", edit=evil)
    run = consolidate(office, monkeypatch, capsys)
    assert run.detail["7-1"]["进展情况"] == "'=cmd|' /C calc'!A0"  # the apostrophe keeps a spreadsheet from running it
    book = openpyxl.load_workbook(office.config.output() / f"汇总_{PERIOD}.xlsx")
    ws = book["指标明细"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == "=cmd|' /C calc'!A0"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_control_characters_and_a_full_cell_of_text_come_through(office, monkeypatch, capsys):
    long_text = "进展顺利" * 8191 + "完"  # 32,765 characters: a full cell
    path = office.good("市教育局")
    replace_cell(path, "L4", '<c r="L4" t="inlineStr"><is><t>第一行_x0007_响铃_x001F_单元</t></is></c>')
    replace_cell(path, "M4", f'<c r="M4" t="inlineStr"><is><t>{long_text}</t></is></c>')
    run = consolidate(office, monkeypatch, capsys)
    assert run.detail["7-1"]["进展情况"] == "第一行响铃单元"  # the CSV leaves control characters out…
    assert run.detail["7-1"]["存在问题"] == long_text
    book = python_calamine.CalamineWorkbook.from_path(str(office.config.output() / f"汇总_{PERIOD}.xlsx"))
    rows = book.get_sheet_by_name("指标明细").to_python()
    row = next(r for r in rows if r[rows[0].index("指标编号")] == "7-1")
    assert row[rows[0].index("进展情况")] == "第一行\x07响铃\x1f单元"  # …the workbook keeps them
    assert not run.about(path.name)  # 32,765 characters: under the limit, nothing to say


def test_a_value_cell_merged_into_the_one_above_is_named(office, monkeypatch, capsys):
    def merge(book):
        book["填报"]["J5"] = None
        book["填报"].merge_cells("J4:J5")
    path = office.good("市教育局", edit=merge)
    run = consolidate(office, monkeypatch, capsys)
    (told,) = [p for p in run.about(path.name) if p["单元格"] == "J5"]
    assert told["级别"] == "提示" and "与 J4 合并" in told["问题及处理办法"] and told["指标编号"] == "7-2"
    assert run.detail["7-2"]["状态"] == "未填" and run.detail["7-1"]["本期累计完成"] == "6"


def test_text_as_long_as_a_cell_holds_is_a_notice(office, monkeypatch, capsys):
    path = office.good("市教育局")
    replace_cell(path, "M4", f'<c r="M4" t="inlineStr"><is><t>{"很长" * 20000}</t></is></c>')
    run = consolidate(office, monkeypatch, capsys)
    (told,) = run.about(path.name)
    assert told["单元格"] == "M4" and told["级别"] == "提示" and "上限" in told["问题及处理办法"]
    assert len(run.detail["7-1"]["存在问题"]) == 40000 and "CSV 中完整保留" in told["问题及处理办法"]


# ---------------------------------------------------------------------------------------------
# Identity: a file is unit X only if its rows are X's.

def _claim(unit: str):
    def edit(book):
        book["_meta"]["B4"] = unit
    return edit


def test_a_spoofed_meta_never_displaces_the_real_submission(office, monkeypatch, capsys):
    spoof = office.good("市医保局", name="更正版.xlsx", values={"17-1": 10, "22-2": 9},
                        edit=_claim("市教育局"), day=dt.date(2020, 7, 30))
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)  # 市教育局 keeps its own values, and 市医保局 its own real file's
    listed = run.about(spoof.name)
    assert len(listed) == 1 and "市教育局" in listed[0]["问题及处理办法"] and "市医保局" in listed[0]["问题及处理办法"]
    assert "未汇总" in listed[0]["问题及处理办法"]


def test_a_mislabelled_file_alone_is_read_as_the_unit_its_rows_belong_to(office, monkeypatch, capsys):
    (office.inbox / f"{PERIOD}_市医保局_填报表.xlsx").unlink()
    wrong = office.good("市医保局", name="发错了.xlsx", edit=_claim("市教育局"))
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert run.detail["17-1"]["来源文件"] == wrong.name
    listed = run.about(wrong.name)
    assert len(listed) == 1 and listed[0]["级别"] == "提示" and "市教育局" in listed[0]["问题及处理办法"]


def test_a_damaged_meta_sheet_falls_back_to_the_rows(office, monkeypatch, capsys):
    path = office.inbox / f"{PERIOD}_市医保局_填报表.xlsx"
    rewrite_member(path, "xl/worksheets/sheet3.xml", lambda text: text[: len(text) // 3])
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert any("_meta" in p["问题及处理办法"] and p["级别"] == "提示" for p in run.about(path.name))


@pytest.mark.parametrize("how", ["cut_in_transit", "another_period"])
def test_a_unit_whose_only_file_was_refused_is_not_said_to_have_sent_nothing(office, monkeypatch, capsys, how):
    (office.inbox / f"{PERIOD}_市医保局_填报表.xlsx").unlink()
    if how == "cut_in_transit":  # its unit is known by the file's name only
        path = office.good("市医保局")
        path.write_bytes(path.read_bytes()[:3000])
    else:  # named by its _meta
        path = office.good("市医保局", name="医保.xlsx", edit=lambda b: b["_meta"].__setitem__("B5", "2020-05"))
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run, "市医保局")
    assert "市医保局（收到的报表未能采用）" in run.out
    book = openpyxl.load_workbook(office.config.output() / f"汇总_{PERIOD}.xlsx", read_only=True)
    rows = {row[0]: row for row in book["未报送单位"].iter_rows(values_only=True)}
    book.close()
    assert rows["市医保局"][2].startswith(f"收到“{path.name}”，但未能采用")
    from docx import Document
    from minsheng.circular import chart
    from minsheng.pipeline import make_circular

    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    text = "\n".join(p.text for p in Document(str(make_circular(office.config).path)).paragraphs)
    assert "市医保局报送的报表未能汇总" in text and "市医保局尚未报送" not in text


def test_a_copy_from_another_period_is_refused(office, monkeypatch, capsys):
    office.good("市教育局", name="五月的.xlsx", values={"7-1": 1}, edit=lambda b: b["_meta"].__setitem__("B5", "2020-05"),
                day=dt.date(2020, 7, 31))
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert "2020-05" in run.about("五月的.xlsx")[0]["问题及处理办法"]


def test_an_older_copy_of_a_unit_is_a_notice(office, monkeypatch, capsys):
    office.good("市教育局", name="初稿.xlsx", values={"7-1": 1, "7-2": 1, "8-1": "前期准备"}, day=dt.date(2020, 7, 1))
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    assert [p["级别"] for p in run.about("初稿.xlsx")] == ["提示"]


@pytest.mark.parametrize("draft_day, final_day", [(dt.date(2020, 7, 1), "昨天"),
                                                  (dt.date(2021, 7, 1), dt.date(2020, 7, 5))])
def test_a_date_that_cannot_be_trusted_never_lets_an_older_draft_win(office, monkeypatch, capsys,
                                                                      draft_day, final_day):
    draft = office.good("市教育局", name="初稿.xlsx", values={"7-1": 1, "7-2": 1, "8-1": "前期准备"}, day=draft_day)
    os.utime(draft, (1_590_000_000, 1_590_000_000))  # saved long before the final one
    office.good("市教育局", day=final_day)
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    (superseded,) = run.about("初稿.xlsx")
    assert superseded["级别"] == "提示" and "修改时间较新" in superseded["问题及处理办法"]
    if final_day == "昨天":
        (told,) = run.about(f"{PERIOD}_市教育局_填报表.xlsx")
        assert "填报日期“昨天”不是日期" in told["问题及处理办法"]


# ---------------------------------------------------------------------------------------------
# The ledger and the outputs.

def _foreign(ledger: Path) -> None:
    ledger.unlink()
    with sqlite3.connect(ledger) as db:  # another program's database under the ledger's name
        db.execute("CREATE TABLE 台账 (编号 TEXT)")


def _table_dropped(ledger: Path) -> None:
    with sqlite3.connect(ledger) as db:
        db.execute("DROP TABLE accepted_values")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "foreign", "table_dropped"])
def test_a_damaged_ledger_is_set_aside_and_the_run_completes(office, monkeypatch, capsys, damage):
    monkeypatch.chdir(office.folder)
    assert main(["consolidate"]) == 0
    ledger = office.config.ledger
    data = ledger.read_bytes()
    if damage == "foreign":
        _foreign(ledger)
    elif damage == "table_dropped":
        _table_dropped(ledger)
    else:
        ledger.write_bytes(data[: len(data) // 2] if damage == "truncated" else os.urandom(len(data)))
    damaged = ledger.read_bytes()
    capsys.readouterr()
    run = consolidate(office, monkeypatch, capsys)
    assert_good(run)
    kept = [p for p in office.folder.iterdir() if p.name.startswith("history.损坏-")]
    assert len(kept) == 1 and kept[0].read_bytes() == damaged  # kept aside, never deleted
    assert "已损坏" in run.out and kept[0].name in run.out and "上期" in run.out
    with sqlite3.connect(ledger) as db:  # a fresh ledger holds this run
        assert db.execute("SELECT COUNT(*) FROM accepted_values").fetchone()[0] == 6


def test_a_folder_where_the_ledger_should_be_is_one_line_that_says_what_to_do(office, monkeypatch, capsys):
    office.config.ledger.unlink()  # made by the fixture's templates (it records their register)
    office.config.ledger.mkdir()
    run = consolidate(office, monkeypatch, capsys, expect_code=1)
    assert_good(run)
    assert "是一个文件夹，不是数据库文件" in run.err and "[paths] ledger" in run.err
    assert "是一个文件夹" in run.out  # said in the run's notes as well


def test_a_ledger_written_by_a_newer_version_does_not_lose_the_outputs(office, monkeypatch, capsys):
    with sqlite3.connect(office.config.ledger) as db:
        db.execute("PRAGMA user_version = 99")
    run = consolidate(office, monkeypatch, capsys, expect_code=1)
    assert_good(run)
    assert "汇总表已生成" in run.err and "升级 minsheng" in run.err


def _cli(office: Office, *argv: str, umask: int | None = None, file_limit: int | None = None):
    def limits():
        if umask is not None:
            os.umask(umask)
        if file_limit is not None:
            import resource
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG, as on a full disk
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "minsheng", *argv], cwd=office.folder, env=env,
                          capture_output=True, text=True, encoding="utf-8", preexec_fn=limits, timeout=120)


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
def test_a_full_disk_is_one_chinese_line_and_the_old_outputs_stay(office):
    assert _cli(office, "consolidate").returncode == 0
    output = office.config.output()
    before = {p.name: p.read_bytes() for p in output.iterdir()}
    done = _cli(office, "consolidate", file_limit=4096)
    assert done.returncode == 1
    assert done.stderr.startswith("错误：无法写入") and "原有文件未改动" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in output.iterdir()} == before  # no litter either
    assert not (office.folder / LOG).exists()


def test_an_output_folder_that_cannot_be_made_is_one_chinese_line(office, monkeypatch, capsys):
    office.config.output().parent.mkdir(parents=True, exist_ok=True)
    office.config.output().write_text("这里本应是文件夹")
    monkeypatch.chdir(office.folder)
    assert main(["consolidate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：无法写入") and len(err.strip().splitlines()) == 1
    assert not (office.folder / LOG).exists()


def test_temporary_files_of_an_interrupted_run_are_cleaned_up(office, monkeypatch, capsys):
    output = office.config.output()
    output.mkdir(parents=True)
    for name in (".~tmp_abc123.xlsx", ".~tmp_def456.csv"):
        (output / name).write_bytes(b"")
        os.utime(output / name, (1_600_000_000, 1_600_000_000))
    consolidate(office, monkeypatch, capsys)
    assert sorted(p.name for p in output.iterdir()) == [f"指标明细_{PERIOD}.csv", f"汇总_{PERIOD}.xlsx"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664)])
def test_outputs_follow_the_users_umask(office, umask, mode):
    office.config.ledger.unlink()  # made by the fixture's templates, in this process's umask
    assert _cli(office, "run", umask=umask).returncode == 0
    output = office.config.output()
    for path in [*output.iterdir(), office.config.ledger]:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path.name


# ---------------------------------------------------------------------------------------------
# Whatever is in the inbox, the good files come through exactly and every bad one is named.

GARBAGE = st.one_of(
    st.binary(max_size=3000),
    st.binary(max_size=2000).map(lambda b: b"PK\x03\x04" + b),
    st.binary(max_size=2000).map(lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b),
    st.text(max_size=500).map(lambda t: ("<?xml version='1.0'?>" + t).encode("utf-8", "replace")),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.lists(st.one_of(GARBAGE, st.floats(0.05, 0.95)), min_size=1, max_size=6))
def test_good_files_are_exact_and_every_garbage_file_is_named(office, garbage):
    for old in office.inbox.glob("垃圾*"):
        old.unlink()
    good = (office.inbox / f"{PERIOD}_市教育局_填报表.xlsx").read_bytes()
    for i, item in enumerate(garbage):
        # A float stands for a good file cut at that share of its length.
        data = good[: int(len(good) * item)] if isinstance(item, float) else item
        (office.inbox / f"垃圾{i}.xlsx").write_bytes(data)
    register = load_register(office.config.register)
    collection = collect_inbox(office.inbox, register, office.config.period, office.config.stages)
    assert sorted(collection.submissions) == sorted(GOOD)
    for unit, values in GOOD.items():
        sub = collection.submissions[unit]
        assert sub.name == f"{PERIOD}_{unit}_填报表.xlsx"
        for indicator_id, _typed in values.items():
            reported = sub.values[indicator_id]
            assert (reported.stage or str(reported.value)) == SHOWN[indicator_id]
    named = {p.file for p in collection.problems}
    assert {f"垃圾{i}.xlsx" for i in range(len(garbage))} <= named


# ---------------------------------------------------------------------------------------------
# Forms that look right but aren't.

def test_a_count_shown_as_a_percentage_is_named_not_taken(office, monkeypatch, capsys):
    """资助幼儿 is counted in 人次 (target 988); the cell holds 0.85 formatted 0%: Excel shows 85%."""
    def shown_as_percent(book):
        book["填报"]["J5"].number_format = "0%"
    path = office.good("市教育局", values={**GOOD["市教育局"], "7-2": 0.85}, edit=shown_as_percent)
    run = consolidate(office, monkeypatch, capsys)
    assert run.detail["7-2"]["状态"] == "数据有误" and run.detail["7-2"]["本期累计完成"] == ""
    [listed] = [p for p in run.about(path.name) if p["单元格"] == "J5"]
    assert listed["级别"] == "错误" and listed["指标编号"] == "7-2" and listed["原始内容"] == "85%"
    assert "显示为 85%，本指标单位是“人次”" in listed["问题及处理办法"]
    assert_good(run, "市教育局")


@pytest.mark.parametrize("number_format", ["General", "0.00", '0.0"%"'])
def test_a_small_count_not_shown_as_a_percentage_is_taken(office, monkeypatch, capsys, number_format):
    def formatted(book):
        book["填报"]["J5"].number_format = number_format  # '0.0"%"' prints a % sign, it is no percentage
    office.good("市教育局", values={**GOOD["市教育局"], "7-2": 0.85}, edit=formatted)
    run = consolidate(office, monkeypatch, capsys)
    assert run.detail["7-2"]["本期累计完成"] == "0.85" and run.detail["7-2"]["状态"] != "数据有误"


def test_a_percent_indicator_typed_with_a_percent_sign_is_still_read_as_a_percent(office, monkeypatch, capsys):
    def typed_percent(book):
        book["填报"]["J6"].number_format = "0.0%"
    office.good("市医保局", values={"17-1": 0.964, "22-2": 0.2}, edit=typed_percent)
    run = consolidate(office, monkeypatch, capsys)
    assert run.detail["17-1"]["本期累计完成"] == "96.4"


def test_a_shared_formula_without_a_result_is_quoted_by_its_master(office, monkeypatch, capsys):
    path = office.good("市教育局")
    replace_cell(path, "J4", '<c r="J4"><f t="shared" ref="J4:J5" si="3">H4*0.5</f></c>')
    replace_cell(path, "J5", '<c r="J5"><f t="shared" si="3"/></c>')
    run = consolidate(office, monkeypatch, capsys)
    listed = {p["单元格"]: p for p in run.about(path.name) if p["指标编号"] in ("7-1", "7-2")}
    assert "公式“=H4*0.5”" in listed["J4"]["问题及处理办法"]
    assert "公式“=H4*0.5”" in listed["J5"]["问题及处理办法"] and "公式“”" not in listed["J5"]["问题及处理办法"]
    assert run.detail["7-2"]["状态"] == "数据有误"


def test_a_package_with_two_parts_of_one_name_is_refused(office, monkeypatch, capsys):
    """Which of two sheet2.xml a reader takes depends on the reader: the file is refused whole."""
    path = office.good("市教育局")
    with zipfile.ZipFile(path) as package:
        sheet = package.read("xl/worksheets/sheet2.xml").replace(b"<v>6</v>", b"<v>12</v>")
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "a") as package:
        package.writestr("xl/worksheets/sheet2.xml", sheet)
    run = consolidate(office, monkeypatch, capsys)
    [listed] = run.about(path.name)
    assert "两个同名部件" in listed["问题及处理办法"]
    assert run.detail["7-1"]["本期累计完成"] == ""
    assert_good(run, "市教育局")


def test_a_percent_level_typed_as_a_fraction_in_text_is_read_as_a_percent(office, monkeypatch, capsys):
    path = office.good("市医保局", values={"17-1": "0.964", "22-2": 0.2})  # a text cell
    run = consolidate(office, monkeypatch, capsys)
    assert run.detail["17-1"]["本期累计完成"] == "96.4" and run.detail["17-1"]["状态"] == "达标"
    [listed] = [p for p in run.about(path.name) if p["单元格"] == "J4"]
    assert listed["级别"] == "提示" and "填写的是 0.964" in listed["问题及处理办法"]
