import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from conftest import HEADERS, ROWS, write_register_xlsx
from minsheng.model import IndicatorType, Period
from minsheng.register.workbook import RegisterError, load_register, write_register


def test_good_register_becomes_tasks_indicators_and_units(tmp_path):
    register = load_register(write_register_xlsx(tmp_path / "任务台账.xlsx"))
    assert [t.id for t in register.tasks] == ["7", "8", "17", "22"]
    assert register.units == ["市教育局", "市医保局", "市民政局"]
    task7 = register.task("7")
    assert task7.category == "二、办好人民满意教育"
    assert task7.planned_funds == Decimal(1500)
    assert [i.id for i in task7.indicators] == ["7-1", "7-2"]
    first = task7.indicators[0]
    assert (first.name, first.unit_of_measure, first.type, first.target, first.lead_unit, first.row) == (
        "新建改扩建公办幼儿园", "所", IndicatorType.CUMULATIVE, Decimal(12), "市教育局", 2)
    assert register.task("8").deadline == dt.date(2020, 10, 31)
    assert register.task("8").partner_units == ("市财政局",)
    assert register.task("8").indicators[0].target is None
    assert register.task("22").indicators[1].type is IndicatorType.CEILING
    assert register.task("22").indicators[1].target == Decimal("0.3")


def test_task_with_several_lead_units_splits_by_unit(tmp_path):
    register = load_register(write_register_xlsx(tmp_path / "r.xlsx"))
    assert register.task("22").lead_units == ["市民政局", "市医保局"]
    medical = register.tasks_of("市医保局")
    assert [t.id for t in medical] == ["17", "22"]
    assert [i.id for i in medical[1].indicators] == ["22-2"]


def test_places_name_every_indicator_in_order_with_its_own_lead_unit(tmp_path):
    """The consolidation pass walks tasks by place: each indicator, in register order, with its lead unit,
    also in a task led by several units; and a task's funds once."""
    register = load_register(write_register_xlsx(tmp_path / "r.xlsx"))
    places = list(register.iter_places())
    assert [(p.task_id, list(p.positions), p.units) for p in places] == [
        (t.id, [i.position for i in t.indicators], [i.lead_unit for i in t.indicators]) for t in register.tasks]
    assert places[-1].units == ["市民政局", "市医保局"] and places[-1].first_lead == "市民政局"
    assert [p.planned_funds for p in places] == [t.planned_funds for t in register.tasks]


def test_columns_in_any_order_with_title_rows_and_unknown_columns_kept(tmp_path):
    order = list(reversed(range(len(HEADERS))))
    headers = [HEADERS[i] for i in order] + ["备注"]
    rows = [[row[i] for i in order] + [f"备注{n}"] for n, row in enumerate(ROWS)]
    path = write_register_xlsx(tmp_path / "r.xlsx", rows, headers, above=2)
    register = load_register(path)
    assert register.extra_columns == ("备注",)
    assert register.task("7").indicators[1].extra == (("备注", "备注1"),)
    assert register.task("7").indicators[1].row == 5
    assert len(register.indicators) == 6


def test_fingerprint_is_stable_and_changes_with_content(tmp_path):
    a = load_register(write_register_xlsx(tmp_path / "a.xlsx"))
    b = load_register(write_register_xlsx(tmp_path / "b.xlsx"))
    assert a.fingerprint == b.fingerprint and len(a.fingerprint) == 16
    rows = [list(r) for r in ROWS]
    rows[0][10] = 13
    c = load_register(write_register_xlsx(tmp_path / "c.xlsx", rows))
    assert c.fingerprint != a.fingerprint


def test_merged_task_cells_are_carried_down(tmp_path):
    path = write_register_xlsx(tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book.active
    for col in "ABCD":  # 任务编号, 类别, 项目名称, 年度目标任务 merged over task 7's two rows
        ws[f"{col}3"] = None
        ws.merge_cells(f"{col}2:{col}3")
    book.save(path)
    register = load_register(path)
    assert [i.id for i in register.task("7").indicators] == ["7-1", "7-2"]


def test_bundled_writer_round_trips(tmp_path):
    rows = [dict(zip(HEADERS, row)) for row in ROWS]
    path = tmp_path / "w.xlsx"
    write_register(path, rows)
    register = load_register(path)
    assert [i.id for i in register.indicators] == ["7-1", "7-2", "8-1", "17-1", "22-1", "22-2"]
    assert register.fingerprint == load_register(write_register_xlsx(tmp_path / "o.xlsx")).fingerprint


def broken(tmp_path, row: int, col: str, value):
    rows = [list(r) for r in ROWS]
    rows[row][HEADERS.index(col)] = value
    return write_register_xlsx(tmp_path / "任务台账.xlsx", rows)


@pytest.mark.parametrize("row, col, value, cell, words", [
    (1, "指标编号", "7-1", "G3", ["7-1", "重复", "第 2 行"]),
    (0, "指标名称", None, "H2", ["指标名称", "必填"]),
    (0, "牵头单位", "  ", "E2", ["牵头单位", "必填"]),
    (0, "年度目标值", "十二", "K2", ["十二", "不是数字"]),
    (0, "年度目标值", "12所", "K2", ["12所", "不是数字"]),
    (0, "年度目标值", None, "K2", ["累计类指标必须填写年度目标值"]),
    (3, "年度目标值", 0, "K5", ["须大于 0"]),
    (0, "指标类型", "数量", "J2", ["数量", "无法识别", "累计、比率、上限、里程碑"]),
    (1, "项目名称", "学前教育", "C3", ["任务编号 7", "学前教育", "推进学前教育促进工程"]),
    (0, "牵头单位", "市教育局、市财政局", "E2", ["只能有一个牵头单位"]),
    (0, "指标编号", dt.datetime(2020, 7, 1), "G2", ["日期", "文本"]),
    (2, "完成时限", "年底", "M4", ["年底", "不是日期"]),
    (0, "年度计划资金(万元)", "一千五百", "L2", ["一千五百", "不是数字"]),
    (1, "年度计划资金(万元)", 1600, "L3", ["年度计划资金", "1600", "1500"]),
])
def test_each_bad_case_names_file_sheet_and_cell(tmp_path, row, col, value, cell, words):
    with pytest.raises(RegisterError) as info:
        load_register(broken(tmp_path, row, col, value))
    problem = info.value.problems[0]
    assert (problem.file, problem.sheet, problem.cell) == ("任务台账.xlsx", "任务台账", cell)
    assert str(problem).startswith(f"任务台账.xlsx 任务台账!{cell}：")
    for word in words:
        assert word in problem.message


def test_a_zero_ceiling_is_allowed(tmp_path):
    register = load_register(broken(tmp_path, 5, "年度目标值", 0))
    assert register.task("22").indicators[1].target == Decimal(0)


def test_all_problems_are_reported_together(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("年度目标值")] = "很多"
    rows[3][HEADERS.index("指标类型")] = "其他"
    with pytest.raises(RegisterError) as info:
        load_register(write_register_xlsx(tmp_path / "r.xlsx", rows))
    assert [p.cell for p in info.value.problems] == ["K2", "J5"]
    assert str(info.value) == "任务台账有 2 处问题，请逐一改正后重试："  # then each, listed with its cell


def test_missing_required_columns_are_listed(tmp_path):
    headers = [h for h in HEADERS if h not in ("指标类型", "计量单位")]
    rows = [[v for h, v in zip(HEADERS, r) if h in headers] for r in ROWS]
    with pytest.raises(RegisterError, match="计量单位、指标类型"):
        load_register(write_register_xlsx(tmp_path / "r.xlsx", rows, headers))


def test_no_header_no_sheet_no_rows_no_file(tmp_path):
    with pytest.raises(RegisterError, match="没有找到表头"):
        load_register(write_register_xlsx(tmp_path / "a.xlsx", ROWS,
                                          [h.replace("指标编号", "编号") for h in HEADERS]))
    with pytest.raises(RegisterError, match="没有名为“任务台账”的工作表"):
        load_register(write_register_xlsx(tmp_path / "b.xlsx", sheet="Sheet1"))
    with pytest.raises(RegisterError, match="没有任何指标行"):
        load_register(write_register_xlsx(tmp_path / "c.xlsx", []))
    with pytest.raises(RegisterError, match="找不到任务台账"):
        load_register(tmp_path / "none.xlsx")
    (tmp_path / "d.xlsx").write_text("这不是 Excel 文件", encoding="utf-8")
    with pytest.raises(RegisterError, match="无法读取任务台账"):
        load_register(tmp_path / "d.xlsx")


@pytest.mark.parametrize("damage", ["half", "empty", "header", "middle"])
def test_a_damaged_register_cache_is_read_again_not_a_failure_every_time(tmp_path, damage):
    """A cache file cut short or overwritten (a disk error, a sync tool) must not make every later
    command fail with an internal error: the register is read again and the cache written anew."""
    path = write_register_xlsx(tmp_path / "r.xlsx")
    first = load_register(path)
    expected = [(t.id, [i.id for i in t.indicators]) for t in first.tasks]
    store = first.store
    data = store.read_bytes()
    damaged = {"half": data[:len(data) // 2], "empty": b"",
               "header": b"\0" * 100 + data[100:],
               "middle": data[:4096] + b"\xff" * 4096 + data[8192:]}[damage]
    store.write_bytes(damaged)
    again = load_register(path)
    assert [(t.id, [i.id for i in t.indicators]) for t in again.tasks] == expected
    assert again.tasks_of("市医保局")[0].id == "17"


# ---------------------------------------------------------------------------------------------
# Registers that look right but aren't: ids and names as people read them, every 完成时限 used,
# formulas without results named as what they are.

@pytest.mark.parametrize("first, second, words", [
    ("7-1", "７－１", ["７－１", "第 2 行（G2）", "“7-1”", "全角与半角"]),
    ("A-1", "a-1", ["a-1", "第 2 行（G2）", "“A-1”", "大小写"]),
    ("7-1", "7-1\u200b", ["第 2 行（G2）", "“7-1”"]),
])
def test_ids_people_read_as_one_are_one_and_both_cells_are_named(tmp_path, first, second, words):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("指标编号")] = first
    rows[1][HEADERS.index("指标编号")] = second
    with pytest.raises(RegisterError) as info:
        load_register(write_register_xlsx(tmp_path / "任务台账.xlsx", rows))
    [problem] = info.value.problems
    assert problem.cell == "G3" and "每个指标编号只能出现一次" in problem.message
    for word in words:
        assert word in problem.message


def test_a_full_width_id_is_read_as_people_read_it(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("指标编号")] = "７－１"
    rows[0][HEADERS.index("任务编号")] = "７"
    register = load_register(write_register_xlsx(tmp_path / "任务台账.xlsx", rows))
    assert [i.id for i in register.task("7").indicators] == ["7-1", "7-2"]


def test_unit_names_with_invisible_differences_are_one_unit(tmp_path, monkeypatch):
    from minsheng.config import load_config
    from minsheng.pipeline import make_templates
    from minsheng.workfolder import init_workfolder

    rows = [list(r) for r in ROWS]
    lead, partners = HEADERS.index("牵头单位"), HEADERS.index("协同单位")
    rows[0][lead] = "市教育局\u3000"  # a trailing full-width space
    rows[1][lead] = "市\u200b教育局"  # a zero-width space copied from a web page
    rows[2][lead] = "\ufeff市教育局"
    rows[2][partners] = "市财政局\u00a0、 市\u3000残联"
    folder = tmp_path / "工作"
    init_workfolder(folder, today=dt.date(2020, 7, 1))
    write_register_xlsx(folder / "任务台账.xlsx", rows)
    register = load_register(folder / "任务台账.xlsx")
    assert register.units == ["市教育局", "市医保局", "市民政局"]
    assert register.task("8").partner_units == ("市财政局", "市残联")
    made = make_templates(load_config(folder / "config.ini"))
    assert sorted(p.name for p in made.paths) == sorted(
        f"2020-06_{unit}_填报表.xlsx" for unit in ("市教育局", "市医保局", "市民政局"))


def test_a_deadline_on_a_later_row_of_a_task_applies_to_that_rows_indicator(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("完成时限")] = dt.date(2020, 5, 31)  # 7-2 only; 7-1 runs to the year's end
    register = load_register(write_register_xlsx(tmp_path / "任务台账.xlsx", rows))
    first, second = register.task("7").indicators
    assert (first.deadline, second.deadline) == (None, dt.date(2020, 5, 31))
    assert register.task("8").indicators[0].deadline == dt.date(2020, 10, 31)  # a task's own: its rows'


def test_a_deadline_on_a_later_row_is_used_in_judging_and_shown(workfolder, config):
    import csv

    from conftest import fill
    from minsheng.pipeline import make_templates, run_consolidation

    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("完成时限")] = dt.date(2020, 5, 31)
    write_register_xlsx(workfolder / "任务台账.xlsx", rows)
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    fill(sent["市教育局"], config.inbox() / "edu.xlsx", {"7-1": 6, "7-2": 494, "8-1": "开工实施"})
    run_consolidation(config)
    with open(config.output() / "指标明细_2020-06.csv", encoding="utf-8-sig", newline="") as handle:
        detail = {row["指标编号"]: row for row in csv.DictReader(handle)}
    # Both stand at 50 %: 7-1 is on schedule for December, 7-2 was due in May and its time is up.
    assert (detail["7-1"]["完成时限"], detail["7-1"]["时序进度"], detail["7-1"]["状态"]) == ("", "50.0%", "序时推进")
    assert (detail["7-2"]["完成时限"], detail["7-2"]["时序进度"], detail["7-2"]["状态"]) == (
        "2020-05-31", "100.0%", "未完成")


def _register_with_cell(tmp_path, ref: str, cell_xml: str):
    from conftest import replace_cell

    path = write_register_xlsx(tmp_path / "任务台账.xlsx")
    return replace_cell(path, ref, cell_xml, sheet="xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("ref, cell_xml, words", [
    ("E2", '<c r="E2"><f>VLOOKUP(A2,单位表!A:B,2,0)</f></c>',
     ["公式“=VLOOKUP(A2,单位表!A:B,2,0)”", "没有保存它的计算结果"]),
    ("K2", '<c r="K2"><f>SUM(K3:K4)</f></c>', ["公式“=SUM(K3:K4)”", "没有保存它的计算结果"]),
    ("K3", '<c r="K3" t="e"><f>K2/0</f><v>#DIV/0!</v></c>', ["错误值“#DIV/0!”"]),
])
def test_a_register_formula_without_a_result_is_named_not_called_empty(tmp_path, ref, cell_xml, words):
    with pytest.raises(RegisterError) as info:
        load_register(_register_with_cell(tmp_path, ref, cell_xml))
    [problem] = [p for p in info.value.problems if p.cell == ref]
    assert "空的" not in problem.message and "必须填写" not in problem.message
    for word in words:
        assert word in problem.message


def test_a_shared_formula_is_quoted_by_its_master_text(tmp_path):
    from conftest import replace_cell

    path = _register_with_cell(tmp_path, "K2", '<c r="K2"><f t="shared" ref="K2:K3" si="0">L2/100</f></c>')
    replace_cell(path, "K3", '<c r="K3"><f t="shared" si="0"/></c>', sheet="xl/worksheets/sheet1.xml")
    with pytest.raises(RegisterError) as info:
        load_register(path)
    messages = {p.cell: p.message for p in info.value.problems}
    assert "公式“=L2/100”" in messages["K2"] and "公式“=L2/100”" in messages["K3"]
    assert "公式“=”" not in messages["K3"] and "公式“”" not in messages["K3"]


def test_a_binary_workbook_named_xlsx_is_said_to_be_one(tmp_path):
    import zipfile

    path = tmp_path / "任务台账.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("xl/workbook.bin", b"\x83\x01\x00")
    with pytest.raises(RegisterError) as info:
        load_register(path)
    assert ".xlsb" in str(info.value) and "另存为“Excel 工作簿(*.xlsx)”" in str(info.value)
    assert "Word" not in str(info.value)


@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2012", "\u2013", "\u2212", "\ufe63", "\uff0d"])
def test_an_id_typed_with_another_dash_is_the_same_id(tmp_path, dash):
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("指标编号")] = f"7{dash}1"  # Word's autocorrect makes 7–1 of 7-1
    with pytest.raises(RegisterError) as info:
        load_register(write_register_xlsx(tmp_path / "任务台账.xlsx", rows))
    [problem] = info.value.problems
    assert problem.cell == "G3" and "第 2 行（G2）" in problem.message


def test_a_text_formula_without_a_result_is_named(tmp_path):
    with pytest.raises(RegisterError) as info:
        load_register(_register_with_cell(tmp_path, "G3", '<c r="G3" t="str"><f>"7-"&amp;2</f></c>'))
    [problem] = [p for p in info.value.problems if p.cell == "G3"]
    assert '公式“="7-"&2”' in problem.message and "空的" not in problem.message


def test_a_project_name_that_differs_only_invisibly_is_the_same_name(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("项目名称")] = "推进学前教育促进工程\u200b"
    register = load_register(write_register_xlsx(tmp_path / "任务台账.xlsx", rows))
    assert [i.id for i in register.task("7").indicators] == ["7-1", "7-2"]


def test_full_width_numbers_in_the_register_are_read_as_typed_with_a_chinese_input_method(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("年度目标值")] = "１２"
    rows[0][HEADERS.index("年度计划资金(万元)")] = "１５００"
    register = load_register(write_register_xlsx(tmp_path / "r.xlsx", rows))
    assert register.indicator["7-1"].target == 12 and register.task("7").planned_funds == 1500


def test_the_years_change_columns_are_checked_cell_by_cell(tmp_path):
    headers = [*HEADERS, "调整后目标值", "调整起始期", "原指标编号", "状态"]
    rows = [[*r, None, None, None, None] for r in ROWS]
    rows[0][-4:] = [16, None, None, None]  # an adjusted target without its period
    rows[1][-4:] = [None, None, "7-1", None]  # an old id that is still another indicator's
    rows[2][-4:] = [None, None, None, "撤消"]
    rows[3][-4:] = [96, dt.date(2020, 9, 1), None, None]  # a date cell is its month
    with pytest.raises(RegisterError) as caught:
        load_register(write_register_xlsx(tmp_path / "r.xlsx", rows, headers))
    told = [str(p) for p in caught.value.problems]
    assert any("O2" in t and "调整起始期" in t for t in told)
    assert any("P3" in t and "原指标编号“7-1”仍是本台账中另一个指标的编号" in t for t in told)
    assert any("Q4" in t and "状态“撤消”无法识别" in t for t in told)
    assert len(told) == 3
    rows[0][-4:] = rows[1][-4:] = rows[2][-4:] = [None] * 4
    register = load_register(write_register_xlsx(tmp_path / "r.xlsx", rows, headers))
    ind = register.indicator["17-1"]
    assert (ind.target, ind.adjusted_target, ind.adjusted_from) == (95, 96, "2020-09")
    assert register.at(Period(2020, 8)).indicator["17-1"].target == 95
    assert register.at(Period(2020, 9)).indicator["17-1"].target == 96


def test_a_tasks_later_rows_may_leave_its_own_columns_empty(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][HEADERS.index("项目名称")] = rows[1][HEADERS.index("年度目标任务")] = None  # 7-2, task 7's second row
    register = load_register(write_register_xlsx(tmp_path / "r.xlsx", rows))
    assert register.task("7").name == "推进学前教育促进工程" and len(register.task("7").indicators) == 2
    rows[0][HEADERS.index("年度目标任务")] = None  # a task's first row still needs it
    with pytest.raises(RegisterError, match="D2"):
        load_register(write_register_xlsx(tmp_path / "r.xlsx", rows))
