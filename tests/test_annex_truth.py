"""The annex's 进展情况 says each figure once and only what the data bear out (formats §6): the cases
an official found when signing the circular of the demo and of a 43-task programme, one by one on
``words.progress``, then through a real consolidation and circular, then over the whole demo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest
from conftest import HEADERS, fill, write_register_xlsx
from docx import Document
from minsheng.assess import narrative
from minsheng.assess.status import Rules, assess
from minsheng.assess.words import NOTHING, Said, missed, progress, punctuate
from minsheng.circular import context
from minsheng.config import Thresholds, load_config
from minsheng.model import Flag, Indicator, IndicatorType, Period, Reported
from minsheng.numbers import format_amount
from minsheng.pipeline import consolidated, make_circular, make_templates, run_consolidation, run_demo
from minsheng.workfolder import init_workfolder

REMARKS = ("未填报", "数据有误", "待核实")


def said(words="", name="实施自然村公厕改造", unit="户", target="29800", status="序时推进", value="23268",
         rate="78.1", kind="累计", flags="", stated="") -> Said:
    return Said(words, name, kind, unit, target, status, value, rate, "", flags, stated)


# ---------------------------------------------------------------------------------------------
# 1. A figure once.

@pytest.mark.parametrize("words", [
    "已建成23268户,完成任务78.1%",
    "已建成23268户。",  # the value alone: the department has spoken of it
    "已建成2.33万户。",  # to its written precision
    "已建成2.3万户。",
    "已建成2.3万余户。",
    "已建成两万三千户。",  # Chinese numerals
    "改造完成率78.1%。",  # the share alone
    "完成任务百分之七十八点一。",
])
def test_a_figure_the_words_state_in_any_form_is_not_stated_again(words):
    cell = progress([said(words)])
    assert "实施自然村公厕改造" not in cell and "2.33万户" not in cell.replace(words, ""), cell
    assert "待核实" not in cell


def test_an_indicator_the_words_give_no_figure_of_gets_its_sentence():
    assert progress([said("已建成1.5万户。")]) == "已建成1.5万户。实施自然村公厕改造2.33万户，完成任务78.1%。"
    assert progress([said("")]) == "实施自然村公厕改造2.33万户，完成任务78.1%。"


def test_the_same_share_is_not_repeated_for_a_named_indicator_among_several():
    # 培训完成率30.9% belongs to 新型职业农民培训 (the clause before names it), not to its sibling.
    cell = progress([said("新型职业农民培训1054人，培训完成率30.9%。", "新型职业农民培训", "人", "3411", "滞后", "1054",
                          "30.9"),
                     said("", "技能脱贫培训", "人", "150", "滞后", "56", "37.3")])
    assert cell == "新型职业农民培训1054人，培训完成率30.9%。技能脱贫培训56人，完成任务37.3%。"


@pytest.mark.parametrize("words", ["开展农村体育活动26场。", "开展农村体育活动二十六场。"])
def test_the_same_count_in_another_unit_word_for_the_same_indicator_is_stated(words):
    cell = progress([said(words, "农村体育健身活动", "次", "100", "滞后", "26", "26.0")])
    assert cell == words


def test_a_count_in_another_unit_word_for_another_indicator_is_not():
    cell = progress([said("开展文艺演出26场。", "文艺演出", "场", "50", "滞后", "26", "52.0"),
                     said("", "农村体育健身活动", "次", "100", "滞后", "26", "26.0")])
    assert cell == "开展文艺演出26场。农村体育健身活动26次，完成任务26.0%。"


def test_two_indicators_of_the_same_value_are_told_apart_by_name():
    cell = progress([said("新建体育健身路径3个。", "新建体育健身路径", "个", "10", "滞后", "3", "30.0"),
                     said("", "新建社区体育俱乐部", "个", "6", "序时推进", "3", "50.0")])
    assert cell == "新建体育健身路径3个。新建社区体育俱乐部3个，完成任务50.0%。"


ROAD = "农村公路养护提升工程完工44.3公里,完工率62.3%"  # the department's name for 县乡公路大中修


def road(words=ROAD, flags=""):
    return [said("农村公路扩面延伸工程250.15公里", "农村公路扩面延伸工程", "公里", "344", "序时推进", "250.15", "72.7"),
            said(words, "县乡公路大中修", "公里", "71", "序时推进", "44.3", "62.4", flags=flags)]


def test_a_share_the_words_state_otherwise_is_a_mismatch_never_a_second_figure():
    for flags in ("", "文字与数据不符"):  # found in the cell, or by the narrative check
        cell = progress(road(flags=flags))
        assert "62.4" not in cell and "县乡公路大中修" not in cell, cell
        assert cell == "农村公路扩面延伸工程250.15公里。农村公路养护提升工程完工44.3公里，完工率62.3%（待核实）。"


def indicator(name, unit, target, kind=IndicatorType.CUMULATIVE):
    return Indicator("1-2", "1", name, unit, kind, Decimal(target), "市交运局", 3)


RULES = Rules.of(Thresholds(), {"未启动": Decimal(0), "全面完成": Decimal(100)})


@pytest.mark.parametrize("text, target, value, stated", [
    (ROAD, "71", "44.3", "62.3%"),  # 62.4 computed: a tenth apart is another figure
    ("完成任务98%", "1000", "977", "98%"),  # 97.7
    ("完成任务132.1%", "1000", "1320", "132.1%"),  # 132.0
    ("完成任务62.4%", "71", "44.3", ""),
    ("完成任务132%", "1000", "1320", ""),  # 132 is 132.0
])
def test_the_narrative_check_compares_shares_at_one_decimal(text, target, value, stated):
    others = ("农村公路扩面延伸工程", "县乡公路大中修", "具备条件的乡镇和建制村通客车率")
    a = assess(indicator("县乡公路大中修", "公里", target), Reported("1-2", Decimal(value), "", text), True,
               Period(2020, 6), RULES, others=others)
    assert a.stated == stated and (Flag.TEXT_MISMATCH in a.flags) is bool(stated)


def test_a_level_is_compared_with_the_value_at_one_decimal():
    a = assess(indicator("参保率", "%", "95", IndicatorType.RATE), Reported("1-2", Decimal("97.7"), "", "参保率98%"),
               True, Period(2020, 6), RULES)
    assert a.stated == "98%"


# ---------------------------------------------------------------------------------------------
# 2. Only what the data bear out.

def doubtful(words=""):
    return said(words, "培训农村实用人才", "人", "1000", "已完成", "7393", "739.3", flags="数据存疑")


def test_a_doubtful_figure_is_marked_in_the_internal_circular_and_left_out_of_the_public_one():
    assert progress([doubtful()]) == "培训农村实用人才7393人，完成任务739.3%（待核实）。"
    assert progress([doubtful()], public=True) == NOTHING
    # The department's own sentence stating it: marked inside, left out outside; the rest stays.
    words = "培训工作有序开展。已培训7393人，完成任务739.3%。"
    assert progress([doubtful(words)]) == "培训工作有序开展。已培训7393人，完成任务739.3%（待核实）。"
    assert progress([doubtful(words)], public=True) == "培训工作有序开展。"


def test_a_contradicted_figure_is_left_out_of_the_public_circular():
    cell = progress(road(), public=True)
    assert cell == "农村公路扩面延伸工程250.15公里。农村公路养护提升工程完工44.3公里。"  # only the contradicted clause goes


def test_an_old_record_without_flags_still_loads():
    fields = ["完成1个", "新建", "累计", "个", "2", "序时推进", "1", "50.0", ""]
    old = Said(*fields)
    assert old.flags == "" and old.stated == "" and progress([old]) == "完成1个。"


# ---------------------------------------------------------------------------------------------
# 3. Public: no internal remark.

def test_the_public_variant_holds_no_internal_remark():
    unfilled = said("", "资助困难群众参保", "人", "1000", "未填", None, None)
    wrong = said("", "微型企业劳动者培训", "人", "100", "数据有误", None, None)
    assert progress([unfilled]) == "资助困难群众参保未填报。"
    assert progress([unfilled, wrong]) == "资助困难群众参保未填报；微型企业劳动者培训填报的数据有误，待核实。"
    assert progress([unfilled, wrong], public=True) == NOTHING == "暂无进展数据。"
    mixed = [said("已建成23268户。"), unfilled]
    assert progress(mixed, public=True) == "已建成23268户。"
    # The department's own remark of that kind stays out too.
    assert progress([said("已建成23268户。部分数据待核实。")], public=True) == "已建成23268户。"


# ---------------------------------------------------------------------------------------------
# 4. Editorial.

def test_a_per_hundred_thousand_unit_is_never_glued_to_its_number():
    assert format_amount(Decimal(13), "1/10万") == "13/10万"
    assert format_amount(Decimal(13), "/10万") == "13/10万"
    assert format_amount(Decimal(5), "‰") == "5‰" and format_amount(Decimal(35), "微克/立方米") == "35微克/立方米"
    assert format_amount(Decimal(600), "元/人·年") == "600元/人·年"
    assert format_amount(Decimal(5), "100人") == "5（100人）"
    assert missed(IndicatorType.CEILING, Decimal(12), "1/10万") == "超出控制目标12/10万"
    cell = progress([said("", "孕产妇死亡率", "1/10万", "12", "未达标", "13", None, kind="上限")])
    assert cell == "孕产妇死亡率13/10万，超出控制目标12/10万。"
    # The department writing it so states it.
    assert progress([said("孕产妇死亡率13/10万。", "孕产妇死亡率", "1/10万", "12", "未达标", "13", None,
                          kind="上限")]) == "孕产妇死亡率13/10万。孕产妇死亡率超出控制目标12/10万。"


@pytest.mark.parametrize("typed, printed", [
    ("完工44.3公里,完工率62.3%;资金(含省级)到位:200万元", "完工44.3公里，完工率62.3%；资金（含省级）到位：200万元"),
    ("PM2.5浓度35微克/立方米,完成1,234户,10:30召开会议", "PM2.5浓度35微克/立方米，完成1,234户，10:30召开会议"),
    ("完成投资3.5亿元.下步继续推进", "完成投资3.5亿元。下步继续推进"),
    ("完成任务120% ;", "完成任务120%；"),
    ("已完成。。", "已完成。"),
    ("已完成；。", "已完成。"),
    ("（含中央资金200万元。)。", "（含中央资金200万元。）"),
    ("f(x) and g(y)", "f(x) and g(y)"),
])
def test_the_departments_half_width_marks_become_full_width_and_end_marks_are_single(typed, printed):
    assert punctuate(typed) == printed


def test_a_cell_never_doubles_its_end_marks():
    cell = progress([said("完成投资(含中央资金200万元。)"), said("新建公厕;", "新建公厕", "座", "10", "序时推进", "5", "50.0")])
    assert "。）。" not in cell and "；。" not in cell and "。。" not in cell, cell
    assert cell.startswith("完成投资（含中央资金200万元。）新建公厕。")


# ---------------------------------------------------------------------------------------------
# Through a real consolidation and circular.

ROWS = [
    ["1", "", "加强四好农村路建设", "农村公路扩面延伸工程344公里，县乡公路大中修71公里", "市交运局", "", "1-1",
     "农村公路扩面延伸工程", "公里", "累计", 344, None, None],
    ["1", "", "加强四好农村路建设", "农村公路扩面延伸工程344公里，县乡公路大中修71公里", "市交运局", "", "1-2",
     "县乡公路大中修", "公里", "累计", 71, None, None],
    ["2", "", "实施农民培训", "培训农村实用人才1000人", "市农业农村局", "", "2-1", "培训农村实用人才", "人", "累计", 1000,
     None, None],
    ["2", "", "实施农民培训", "培训农村实用人才1000人", "市农业农村局", "", "2-2", "资助困难群众参保", "人", "累计", 500,
     None, None],
    ["3", "", "职业病防治", "培训劳动者100人", "市农业农村局", "", "3-1", "微型企业劳动者培训", "人", "累计", 100, None, None],
]
TEXTS = {"1-1": "农村公路扩面延伸工程250.15公里", "1-2": ROAD, "2-1": "已培训7393人，完成任务739.3%。",
         "3-1": "开展培训。"}
VALUES = {"市交运局": {"1-1": 250.15, "1-2": 44.3}, "市农业农村局": {"2-1": 7393, "3-1": "十二人"}}


@pytest.fixture(scope="module")
def programme(tmp_path_factory):
    folder = tmp_path_factory.mktemp("市") / "工作"
    init_workfolder(folder, today=dt.date(2020, 7, 1))
    write_register_xlsx(folder / "任务台账.xlsx", ROWS, HEADERS)
    config = load_config(folder / "config.ini")
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    for unit, values in VALUES.items():
        def texts(book, values=values):
            ws = book["填报"]
            header = next(r for r in range(1, 10) if ws.cell(r, 2).value == "指标编号")
            column = next(c for c in range(1, ws.max_column + 1) if ws.cell(header, c).value == "进展情况")
            for r in range(header + 1, ws.max_row + 1):
                if ws.cell(r, 2).value in values or ws.cell(r, 2).value in TEXTS:
                    ws.cell(r, column).value = TEXTS.get(ws.cell(r, 2).value)
        fill(sent[unit], config.inbox() / f"{unit}.xlsx", values, edit=texts)
    return config, run_consolidation(config).result


def cells(config, result, public=False):
    rendered = make_circular(dataclasses.replace(config, chart=False, public=public), result=result.period_result)
    doc = Document(str(rendered.path))
    return {r.cells[2].text: r.cells[4].text for t in doc.tables for r in t.rows[1:]}, rendered.notes


def test_a_share_a_tenth_off_reaches_the_problem_list_and_the_signer(programme):
    config, result = programme
    (told,) = [p for p in result.problems if p.indicator == "1-2"]
    assert "62.3%" in told.message and "62.4%" in told.message and told.severity.value == "提示"
    assert any("县乡公路大中修" in m and "62.3%" in m for m in result.period_result.mismatches)
    internal, notes = cells(config, result)
    assert any("县乡公路大中修" in n and "62.3%" in n and "62.4%" in n for n in notes), notes
    road_cell = internal["加强四好农村路建设"]
    assert "完工率62.3%（待核实）" in road_cell and "62.4" not in road_cell, road_cell
    public, _ = cells(config, result, public=True)
    assert public["加强四好农村路建设"] == "农村公路扩面延伸工程250.15公里。农村公路养护提升工程完工44.3公里。"


def test_a_doubtful_figure_is_never_a_plain_fact(programme):
    config, result = programme
    internal, _ = cells(config, result)
    assert "完成任务739.3%（待核实）" in internal["实施农民培训"]
    public, _ = cells(config, result, public=True)
    assert "739.3" not in public["实施农民培训"] and "7393" not in public["实施农民培训"]


def test_the_public_circular_holds_no_internal_remark(programme):
    config, result = programme
    internal, _ = cells(config, result)
    assert "资助困难群众参保未填报" in internal["实施农民培训"]
    assert "微型企业劳动者培训填报的数据有误，待核实" in internal["职业病防治"]
    public, _ = cells(config, result, public=True)
    for name, text in public.items():
        assert not any(remark in text for remark in REMARKS), (name, text)
    assert public["职业病防治"] == "开展培训。" and public["实施农民培训"] == NOTHING


# ---------------------------------------------------------------------------------------------
# The demo, read whole.

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "演示")


@pytest.mark.parametrize("public", [False, True])
def test_no_demo_annex_cell_states_a_figure_twice_or_two_shares_for_one_indicator(demo, public):
    config = dataclasses.replace(demo.config, chart=False, public=public)
    result = consolidated(config).period_result
    rows = context.annex_rows(result, config)
    doc = Document(str(make_circular(config, result=result).path))
    printed = {r.cells[4].text for t in doc.tables for r in t.rows[1:] if r.cells[4].text}
    assert printed <= {row.progress for row in rows}
    checked = 0
    for project, row in zip(result.projects, rows):
        cell = row.progress
        if public:
            assert not any(remark in cell for remark in REMARKS), cell
        subjects = [narrative.Subject(s.name, IndicatorType(s.type), s.unit,
                                      None if s.value is None else Decimal(s.value),
                                      Decimal(s.rate_percent) if s.rate_percent and s.type == "累计" else None)
                    for s in project.said]
        words = "".join(s.words for s in project.said)
        for i, me in enumerate(subjects):
            others = tuple(subjects[:i] + subjects[i + 1:])
            in_cell = narrative.statement(cell, *me, others)
            in_words = narrative.statement(punctuate(words), *me, others)
            # Two different shares for one indicator never stand in one cell.
            shares = {narrative.one_decimal(f.value) for f in in_cell.stating + in_cell.disagreeing if f.percent}
            assert len(shares) <= 1 or me.kind is not IndicatorType.CUMULATIVE, (me.name, cell)
            # What the department states is not stated again by the computed sentence: its value
            # and its share each at most once, or as often as the department itself wrote them.
            for percent in (False, True):
                again = [f for f in in_cell.stating if f.percent is percent]
                own = [f for f in in_words.stating if f.percent is percent]
                assert len(again) <= max(1, len(own)), (me.name, cell)
            checked += 1
        for whole, unit in re.findall(r"(?<![\d.])(\d{5,})([人户个次套]+)", cell):
            short = f"{Decimal(whole) / 10000:.2f}".rstrip("0").rstrip(".")
            assert f"{short}万{unit}" not in cell, cell
        for p in re.findall(r"(\d+(?:\.\d+)?)%", cell):
            assert "." in p or f"{p}.0%" not in cell, cell
    assert checked > 50
