import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from conftest import HEADERS, ROWS, write_register_xlsx
from minsheng.model import IndicatorType
from minsheng.register import RegisterError, load_register, write_register


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
