"""Templates read back with openpyxl (structure, protection, validation) and python-calamine."""

import shutil
import subprocess
import zipfile
from decimal import Decimal

import openpyxl
import pytest
import python_calamine
from conftest import HEADERS, ROWS, write_register_xlsx
from minsheng.forms.layout import SIGN_OFF, template_id
from minsheng.forms.writer import write_forms
from minsheng.model import Period
from minsheng.register.workbook import load_register, write_register

SECTION4 = ["序号", "指标编号", "项目名称", "年度目标任务", "指标名称", "计量单位", "指标类型", "年度目标值",
            "上期累计", "本期累计完成", "完成率", "进展情况", "存在问题", "下步措施"]


@pytest.fixture
def made(config):
    register = load_register(config.register)
    paths = write_forms(register, config)
    return register, {p.name: p for p in paths}


def form(path):
    book = openpyxl.load_workbook(path)
    ws = book["填报"]
    cols = {ws.cell(3, c).value: c for c in range(1, ws.max_column + 1)}
    rows = {ws.cell(r, 2).value: r for r in range(4, ws.max_row + 1) if ws.cell(r, 2).value}
    return book, ws, cols, rows


def validation_at(ws, ref):
    return [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]


def test_one_template_per_lead_unit_with_safe_names(made, config):
    register, paths = made
    assert sorted(paths) == sorted(f"2020-06_{u}_填报表.xlsx" for u in register.units)
    assert all(p.parent == config.outbox() for p in paths.values())
    assert not list(config.outbox().glob(".~tmp_*"))


def test_sheets_and_section4_headers(made):
    _, paths = made
    book, ws, cols, rows = form(paths["2020-06_市教育局_填报表.xlsx"])
    assert book.sheetnames == ["填报说明", "填报", "_meta"]
    assert book["_meta"].sheet_state == "veryHidden"
    assert list(cols)[:14] == SECTION4
    assert list(cols)[14:] == ["年度计划资金(万元)", "累计拨付资金(万元)"]
    assert list(rows) == ["7-1", "7-2", "8-1", *(label for label, _ in SIGN_OFF)]
    assert ws.cell(rows["7-1"], cols["年度目标值"]).value == 12
    assert ws.cell(rows["7-1"], cols["年度计划资金(万元)"]).value == 1500
    assert ws.cell(rows["8-1"], cols["年度目标值"]).value == "全面完成"
    assert "时序进度：50.0%" in ws["A2"].value and "市教育局" in ws["A2"].value


def test_funds_of_a_shared_task_are_reported_by_its_first_lead_unit_only(made):
    _, paths = made
    _, _, civil_cols, _ = form(paths["2020-06_市民政局_填报表.xlsx"])
    _, _, medical_cols, _ = form(paths["2020-06_市医保局_填报表.xlsx"])
    assert "累计拨付资金(万元)" in civil_cols
    assert "累计拨付资金(万元)" not in medical_cols


def test_only_input_cells_are_unlocked_and_the_sheet_is_protected(made):
    _, paths = made
    _, ws, cols, rows = form(paths["2020-06_市教育局_填报表.xlsx"])
    assert ws.protection.sheet is True
    r = rows["7-1"]
    unlocked = {h for h, c in cols.items() if not ws.cell(r, c).protection.locked}
    assert unlocked == {"本期累计完成", "进展情况", "存在问题", "下步措施", "累计拨付资金(万元)"}
    # Funds are entered once per task: the task's second row has no input.
    assert ws.cell(rows["7-2"], cols["累计拨付资金(万元)"]).protection.locked
    assert not ws.cell(rows["填报人"], 3).protection.locked
    assert not ws.cell(rows["填报日期"], 3).protection.locked


def test_validation_rules(made):
    _, paths = made
    _, ws, cols, rows = form(paths["2020-06_市教育局_填报表.xlsx"])
    letter = openpyxl.utils.get_column_letter
    value = f"{letter(cols['本期累计完成'])}{rows['7-1']}"
    (dv,) = validation_at(ws, value)
    assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert dv.errorStyle in (None, "stop")  # absent means stop: a wrong entry is refused
    assert "所" in dv.prompt
    (stage,) = validation_at(ws, f"{letter(cols['本期累计完成'])}{rows['8-1']}")
    assert stage.type == "list" and "开工实施" in stage.formula1
    (text,) = validation_at(ws, f"{letter(cols['进展情况'])}{rows['7-1']}")
    assert (text.type, text.operator, text.formula1) == ("textLength", "lessThanOrEqual", "500")
    (date,) = validation_at(ws, f"C{rows['填报日期']}")
    assert date.type == "date"


def test_rate_column_is_a_live_formula_with_percent_format(made):
    _, paths = made
    _, ws, cols, rows = form(paths["2020-06_市教育局_填报表.xlsx"])
    rate = ws.cell(rows["7-1"], cols["完成率"])
    assert rate.value == f'=IF(J{rows["7-1"]}="","",J{rows["7-1"]}/H{rows["7-1"]})'
    assert rate.number_format == "0.0%"
    milestone = ws.cell(rows["8-1"], cols["完成率"]).value
    assert "MATCH" in milestone and '"开工实施"' in milestone
    _, ws, cols, rows = form(paths["2020-06_市医保局_填报表.xlsx"])
    assert '"达标","未达标"' in ws.cell(rows["22-2"], cols["完成率"]).value


def test_stored_formula_results_are_empty_not_zero(made):
    _, paths = made
    sheet = python_calamine.CalamineWorkbook.from_path(str(paths["2020-06_市教育局_填报表.xlsx"])) \
        .get_sheet_by_name("填报")
    rows = sheet.to_python(skip_empty_area=False)
    assert rows[3][10] == ""  # K4: formula over an empty input


def test_unfilled_inputs_are_tinted_by_conditional_format(made):
    _, paths = made
    _, ws, cols, rows = form(paths["2020-06_市教育局_填报表.xlsx"])
    letter = openpyxl.utils.get_column_letter
    (tinted,) = ws.conditional_formatting
    assert [rule.type for rule in tinted.rules] == ["containsBlanks"]
    areas = str(tinted.sqref).split()
    value = letter(cols["本期累计完成"])
    assert f"{value}{rows['7-1']}:{value}{rows['8-1']}" in areas
    assert f"{letter(cols['累计拨付资金(万元)'])}{rows['7-1']}" in areas
    assert f"C{rows['填报日期']}:D{rows['填报日期']}" in areas


def test_print_setup(made):
    _, paths = made
    _, ws, _, _ = form(paths["2020-06_市教育局_填报表.xlsx"])
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$3:$3"
    # One page wide (fitToWidth absent = 1), as many pages tall as needed.
    assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.freeze_panes == "A4"


def test_meta_identifies_register_unit_period_and_rows(made, config):
    register, paths = made
    book, _, _, rows = form(paths["2020-06_市医保局_填报表.xlsx"])
    meta = book["_meta"]
    pairs = {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, 9)}
    assert pairs["台账指纹"] == register.fingerprint
    assert pairs["填报单位"] == "市医保局"
    assert pairs["统计期"] == "2020-06"
    assert pairs["模板编号"] == template_id(register.fingerprint, "市医保局", Period(2020, 6))
    start = next(r for r in range(1, meta.max_row + 1) if meta.cell(r, 1).value == "指标编号")
    listed = {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(start + 1, meta.max_row + 1)}
    assert listed == {"17-1": rows["17-1"], "22-2": rows["22-2"]}
    # The layout the reader trusts when the fingerprint matches: header row, columns, sign-off rows.
    layout = {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, start)}
    assert layout["表头行"] == "3"
    assert layout["列位置"].startswith("序号=A|指标编号=B|") and "本期累计完成=J" in layout["列位置"]
    assert layout["签字行"] == "|".join(f"{label}={rows['17-1'] + 2 + 1 + i}"
                                       for i, (label, _) in enumerate(SIGN_OFF))


def test_previous_cumulative_is_filled_when_given(config):
    register = load_register(config.register)
    paths = write_forms(register, config, previous={"7-1": Decimal(5)})
    _, ws, cols, rows = form(next(p for p in paths if "市教育局" in p.name))
    assert ws.cell(rows["7-1"], cols["上期累计"]).value == 5
    assert ws.cell(rows["7-2"], cols["上期累计"]).value is None


def test_register_text_never_becomes_a_formula(workfolder, config):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("项目名称")] = '=HYPERLINK("http://x","点我")'
    rows[1][HEADERS.index("项目名称")] = '=HYPERLINK("http://x","点我")'
    # Written as text cells, as a register typed in Excel with a leading apostrophe would hold it.
    write_register(workfolder / "任务台账.xlsx", [dict(zip(HEADERS, r)) for r in rows])
    paths = write_forms(load_register(config.register), config)
    path = next(p for p in paths if "市教育局" in p.name)
    with zipfile.ZipFile(path) as zf:
        sheet_xml = zf.read("xl/worksheets/sheet2.xml").decode("utf-8")
        strings = zf.read("xl/sharedStrings.xml").decode("utf-8")
    assert "HYPERLINK" not in sheet_xml
    assert "=HYPERLINK" in strings


def test_unit_names_that_are_not_file_names_are_made_safe(workfolder, config):
    rows = [list(r) for r in ROWS]
    for row in rows:
        row[HEADERS.index("牵头单位")] = {"市教育局": "市教育局/体育局", "市医保局": "CON",
                                         "市民政局": "市民政局?"}[row[HEADERS.index("牵头单位")]]
    write_register_xlsx(workfolder / "任务台账.xlsx", rows)
    paths = write_forms(load_register(config.register), config)
    assert sorted(p.name for p in paths) == sorted([
        "2020-06_市教育局_体育局_填报表.xlsx", "2020-06__CON_填报表.xlsx", "2020-06_市民政局__填报表.xlsx"])


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_templates_open_in_libreoffice(made, tmp_path):
    _, paths = made
    path = paths["2020-06_市教育局_填报表.xlsx"]
    result = subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, timeout=180)
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / (path.stem + ".pdf")
    assert pdf.is_file() and pdf.stat().st_size > 5000


def test_large_registers_are_written_by_a_process_pool_with_the_same_result(config, monkeypatch):
    import minsheng.forms.writer as templates

    register = load_register(config.register)
    serial = {p.name: form(p)[1] for p in write_forms(register, config)}
    monkeypatch.setattr(templates, "PARALLEL_FROM", 2)
    pooled = {p.name: form(p)[1] for p in write_forms(register, config, period=Period(2020, 7))}
    assert sorted(n.replace("2020-07", "2020-06") for n in pooled) == sorted(serial)
    for name, ws in pooled.items():
        other = serial[name.replace("2020-07", "2020-06")]
        assert [c.value for c in ws["B"]] == [c.value for c in other["B"]]
