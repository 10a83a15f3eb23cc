"""The circular says only what the data bear out (formats §6): 完成全年任务 counts levels only at the
year's end, a level not yet reached mid-year is its own sentence, praise only for units with nothing
short or to check, 请加快推进 only where something lags, 按时报送 only against a deadline every file
met, each lagging item's own schedule, and a paragraph on progress since the last period."""

from __future__ import annotations

import dataclasses
import shutil
import time

import docx
import pytest
from conftest import fill
from minsheng.model import Period
from minsheng.pipeline import make_circular, make_templates, run_consolidation


def text_of(path) -> str:
    """Every paragraph, then every cell of the annex."""
    doc = docx.Document(str(path))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def cycle(config, period: Period, values: dict[str, dict[str, object]], **changes):
    config = dataclasses.replace(config, period=period, **changes)
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    for unit, filled in values.items():
        fill(sent[unit], config.inbox() / f"{unit}.xlsx", filled)
    run_consolidation(config)
    return config, text_of(make_circular(config).path)


JUNE = {"市教育局": {"7-1": 6, "7-2": 494, "8-1": "开工实施"},  # all at the schedule
        "市医保局": {"17-1": 96, "22-2": 0.2},  # a rate at its level, a cap kept
        "市民政局": {"22-1": "前期准备"}}  # 20 % against 50 %


def test_a_level_held_mid_year_is_on_track_not_the_years_target_reached(config):
    _, june = cycle(config, Period(2020, 6), JUNE)
    # 市医保局's two tasks hold their levels in June: on track, not complete.
    assert "全市4项民生工程任务中，3项序时推进、1项进度滞后。" in june
    _, december = cycle(config, Period(2020, 12), {
        "市教育局": {"7-1": 12, "7-2": 988, "8-1": "全面完成"}, "市医保局": {"17-1": 96, "22-2": 0.2},
        "市民政局": {"22-1": "全面完成"}})
    assert "全市4项民生工程任务中，已有4项完成全年任务目标。" in december


def test_a_rate_below_its_level_mid_year_is_not_called_lagging(config):
    values = {**JUNE, "市医保局": {"17-1": 92.3, "22-2": 0.2}}
    _, june = cycle(config, Period(2020, 6), values)
    assert "1项尚未达到年度目标水平" in june
    assert "进度滞后和尚未达到年度目标水平的指标" in june
    assert "城乡居民基本医疗保险参保率92.3%（目标95%）" in june
    assert "1个指标进度滞后或尚未启动，1个指标尚未达到年度目标水平" in june


def test_only_units_with_nothing_short_are_praised_and_only_lagging_ones_pushed(config):
    values = {"市教育局": {"7-1": 12, "7-2": 988, "8-1": "全面完成"},  # all done: praised
              "市医保局": {"17-1": 92.3, "22-2": 0.2},  # mean 98.6 % but a level short: not praised
              "市民政局": {"22-1": "前期准备"}}  # lagging: named lowest and pushed
    config = dataclasses.replace(config, top_units=1)
    _, june = cycle(config, Period(2020, 6), values)
    ranking = next(line for line in june.splitlines() if "相对较低的是" in line or "没有滞后、未达标或待核实指标的是" in line)
    assert ranking.startswith("平均完成率较高且没有滞后、未达标或待核实指标的是市教育局（100.0%）；")
    assert "市医保局（" not in ranking.split("；")[0]
    assert "相对较低的是市民政局（20.0%），请加快推进" in ranking


def test_a_unit_whose_words_contradict_its_figures_is_not_praised(config):
    values = {**JUNE, "市教育局": {"7-1": 12, "7-2": 988, "8-1": "全面完成"}}
    config = dataclasses.replace(config, top_units=1)
    config_june = dataclasses.replace(config, period=Period(2020, 6))
    sent = {p.name.split("_")[1]: p for p in make_templates(config_june).paths}

    def says_half(book):
        ws = book["填报"]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "7-2")
        ws.cell(row, 12).value = "资助幼儿已完成任务的50%"

    for unit, filled in values.items():
        fill(sent[unit], config_june.inbox() / f"{unit}.xlsx", filled, edit=says_half if unit == "市教育局" else None)
    run_consolidation(config_june)
    june = text_of(make_circular(config_june).path)
    ranking = next(line for line in june.splitlines() if "相对较低的是" in line or "没有滞后、未达标或待核实指标的是" in line)
    assert "指标的是市教育局" not in ranking


@pytest.mark.parametrize("deadline, said", [
    ("", "各牵头单位均已报送进展情况。"),
    ("2099年7月5日", "各牵头单位均已于7月5日前报送进展情况。"),
    ("2000-07-05", "各牵头单位均已报送进展情况。"),  # files saved after it: not 按时
])
def test_on_time_is_said_only_against_a_deadline_every_file_met(config, deadline, said):
    _, june = cycle(config, Period(2020, 6), JUNE, deadline=deadline)
    assert said in june and "按时报送" not in june


def test_a_lagging_item_with_its_own_deadline_shows_its_own_schedule(config):
    values = {**JUNE, "市教育局": {"7-1": 6, "7-2": 494, "8-1": "前期准备"}}  # 8-1 is due in October
    _, june = cycle(config, Period(2020, 6), values)
    assert "加强义务教育经费保障处于“前期准备”阶段" in june
    _, august = cycle(config, Period(2020, 8), {**values, "市教育局": {"7-1": 8, "7-2": 660, "8-1": "前期准备"}})
    # 8 of 10 months to its deadline: 80.0 %, against the programme's 66.7 %.
    assert "加强义务教育经费保障处于“前期准备”阶段（时序进度80.0%，严重滞后）" in august


def test_a_paragraph_on_progress_since_the_last_period(config):
    _, may = cycle(config, Period(2020, 5), {"市教育局": {"7-1": 2, "7-2": 300, "8-1": "前期准备"},
                                              "市医保局": {"17-1": 96, "22-2": 0.2}, "市民政局": {"22-1": "前期准备"}})
    assert "与2020年1-" not in may  # nothing earlier in the year
    june_config, june = cycle(config, Period(2020, 6), JUNE)
    paragraph = next(line for line in june.splitlines() if line.startswith("与2020年1-5月相比"))
    assert "指标平均完成率由" in paragraph and "进展较快的是市教育局（提高" in paragraph
    # The same document two months later, from the record: nothing is read again.
    shutil.rmtree(june_config.inbox())
    time.sleep(0.01)
    assert text_of(make_circular(june_config).path) == june


def test_the_public_circular_gives_no_internal_reason(config):
    values = {**JUNE, "市医保局": {"17-1": "十二", "22-2": 0.2}}  # 数据有误 in one, 市民政局 sent nothing
    del values["市民政局"]
    _, internal = cycle(config, Period(2020, 6), values)
    _, public = cycle(config, Period(2020, 6), values, public=True)
    assert "数据有误" in internal and "未报送。" in internal and "市民政局尚未报送" in internal
    for word in ("未填报", "数据有误", "待核实", "未报送。", "市民政局未", "相对较低的是", "没有滞后、未达标或待核实指标的是"):
        assert word not in public, word
    assert "暂无数据" in public


def test_no_unit_of_the_demo_is_both_praised_and_listed_as_behind(tmp_path):
    import re

    from minsheng.pipeline import run_demo

    demo = run_demo(tmp_path / "演示")
    text = text_of(demo.circular.path)
    ranking = next(line for line in text.splitlines() if "相对较低的是" in line or "没有滞后、未达标或待核实指标的是" in line)
    praised = re.findall(r"(市[^（、；，]+)（", ranking.split("相对较低的是")[0])
    section = text.split("的指标\n", 1)[1]  # the lagging section, named for what it lists
    listed = set(re.findall(r"^(市[^：\n]+)：", section.split("报送情况")[0], re.M))
    assert praised and listed and not set(praised) & listed, (praised, listed)
    pushed = re.search(r"请(.*?)加快推进", ranking)
    if pushed and pushed.group(1):
        assert set(pushed.group(1).split("、")) <= listed
