"""Filled templates (written with openpyxl as a department would) read back and checked."""

import hashlib
from decimal import Decimal

import openpyxl
import pytest
from conftest import fill, read_submission
from minsheng.model import Period, Severity
from minsheng.pipeline import make_templates, validate_files
from minsheng.register.workbook import load_register


@pytest.fixture
def outbox(config):
    paths = make_templates(config).paths
    return {p.name.split("_")[1]: p for p in paths}


def read(path, config, period=None):
    register = load_register(config.register)
    return read_submission(path, register, period or config.period, config.stages)


def test_a_well_filled_template_is_read_exactly(outbox, config, tmp_path):
    path = fill(outbox["市教育局"], tmp_path / "edu.xlsx",
                {"7-1": 9, "7-2": "1,234", "8-1": "开工实施"},
                edit=lambda book: book["填报"].cell(4, 16, 300))
    sub, problems = read(path, config)
    assert sub.unit == "市教育局" and sub.period == Period(2020, 6)
    assert sub.values["7-1"].value == Decimal(9) and sub.values["7-1"].cell == "J4"
    assert sub.values["7-1"].progress == "7-1 按计划推进"
    assert sub.values["7-2"].value == Decimal(1234)
    assert sub.values["8-1"].stage == "开工实施" and sub.values["8-1"].value is None
    assert sub.funds_paid == {"7": (Decimal(300), "P4")}
    assert sub.sign_off["填报人"] == "张三" and sub.sign_off["联系电话"] == "0555-2345678"
    assert str(sub.filled_on) == "2020-07-05"
    assert [(p.cell, p.severity) for p in problems] == [("J5", Severity.NOTICE)]


def test_messy_values_give_file_sheet_cell_and_raw_text(outbox, config, tmp_path):
    path = fill(outbox["市教育局"], tmp_path / "2020-06_市教育局_填报表.xlsx",
                {"7-1": "十二所", "7-2": "１２", "8-1": "快完成了"})
    _, problems = read(path, config)
    by_cell = {p.cell: p for p in problems}
    assert str(by_cell["J4"]) == "2020-06_市教育局_填报表.xlsx 填报!J4：“十二所”不是数字，请只填写阿拉伯数字（如 12）"
    assert by_cell["J4"].severity is Severity.ERROR and by_cell["J4"].raw == "十二所"
    assert by_cell["J5"].severity is Severity.NOTICE
    assert "快完成了" in by_cell["J6"].message and "下拉列表" in by_cell["J6"].message


def test_target_typed_over_is_ignored_and_noted(outbox, config, tmp_path):
    path = fill(outbox["市教育局"], tmp_path / "e.xlsx", {"7-1": 6},
                edit=lambda book: book["填报"].cell(4, 8, 20))
    sub, problems = read(path, config)
    assert sub.values["7-1"].value == Decimal(6)
    (note,) = [p for p in problems if p.cell == "H4"]
    assert note.severity is Severity.NOTICE and "12" in note.message


def test_wrong_period_is_refused(outbox, config, tmp_path):
    path = fill(outbox["市教育局"], tmp_path / "e.xlsx", {"7-1": 6})
    sub, problems = read(path, config, Period(2020, 9))
    assert sub is None
    assert "2020-06" in problems[0].message and "2020-09" in problems[0].message


def test_a_unit_named_in_meta_that_is_not_in_the_register_is_read_by_its_rows(outbox, config, tmp_path):
    def rename(book):
        book["_meta"]["B4"] = "市外事办"
    path = fill(outbox["市教育局"], tmp_path / "e.xlsx", {"7-1": 6}, edit=rename)
    sub, problems = read(path, config)
    assert sub.unit == "市教育局" and sub.claimed_unit == "市外事办"
    assert sub.values["7-1"].value == 6
    named = [p for p in problems if "市外事办" in p.message]
    assert len(named) == 1 and "市教育局" in named[0].message and "不是任务台账中的牵头单位" in named[0].message


def test_rows_that_belong_to_no_unit_are_refused(outbox, config, tmp_path):
    def strange_rows(book):
        ws = book["填报"]
        for r in range(4, 7):
            ws.cell(r, 2).value = f"99-{r}"
    path = fill(outbox["市教育局"], tmp_path / "e.xlsx", {}, edit=strange_rows)
    sub, problems = read(path, config)
    assert sub is None and "市教育局" in problems[0].message and "没有任务台账里的指标编号" in problems[0].message


def test_file_without_meta_is_matched_by_its_indicator_ids(outbox, config, tmp_path):
    path = fill(outbox["市医保局"], tmp_path / "e.xlsx", {"17-1": 96.4, "22-2": 0.25},
                edit=lambda book: book.remove(book["_meta"]))
    sub, problems = read(path, config)
    assert sub.unit == "市医保局"
    assert sub.values["17-1"].value == Decimal("96.4")
    assert any("_meta" in p.message and p.severity is Severity.NOTICE for p in problems)


def test_deleted_and_inserted_rows_are_reported(outbox, config, tmp_path):
    def edit(book):
        ws = book["填报"]
        ws.delete_rows(5)  # 7-2 removed
        ws["B6"] = "99-1"  # a row added by hand, below 8-1
        ws["J6"] = 3
    path = fill(outbox["市教育局"], tmp_path / "e.xlsx", {"7-1": 6}, edit=edit)
    sub, problems = read(path, config)
    assert set(sub.values) == {"7-1", "8-1"}
    messages = " ".join(p.message for p in problems)
    assert "7-2" in messages and "被删除" in messages
    assert "99-1" in messages and "不在任务台账" in messages


def test_not_a_workbook_and_empty_files_are_problems_not_crashes(config, tmp_path):
    junk = tmp_path / "说明.xlsx"
    junk.write_text("这不是表格", encoding="utf-8")
    sub, problems = read(junk, config)
    assert sub is None and "不是 Excel/WPS 表格文件" in problems[0].message
    blank = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(blank)
    sub, problems = read(blank, config)
    assert sub is None and "指标编号" in problems[0].message


def test_validate_lists_unfilled_cells_and_sign_off_and_never_changes_the_file(outbox, config, tmp_path):
    path = fill(outbox["市教育局"], tmp_path / "e.xlsx", {"7-1": 6}, sign_off=False)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    (checked,) = validate_files(config, [path])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    notices = [p for p in checked.problems if p.severity is Severity.NOTICE]
    assert {p.cell for p in notices if p.cell} == {"J5", "J6"}
    assert sum("未填写" in p.message for p in notices) == 5
    assert checked.errors == []


def test_a_percentage_typed_with_a_percent_sign_is_read_as_a_percent_number(outbox, config, tmp_path):
    # Typing “96.4%” in Excel stores 0.964 in a percent-formatted cell; the register counts 95 for 95%.
    def percent_cell(book):
        ws = book["填报"]
        ws["J4"] = 0.964
        ws["J4"].number_format = "0.0%"
    path = fill(outbox["市医保局"], tmp_path / "yb.xlsx", {"22-2": 0.25}, edit=percent_cell)
    sub, problems = read(path, config)
    assert sub.values["17-1"].value == Decimal("96.4")
    (note,) = [p for p in problems if p.cell == "J4"]
    assert note.severity is Severity.NOTICE and "96.4" in note.message
    assert sub.values["22-2"].value == Decimal("0.25")  # 万元, not a percentage: untouched
