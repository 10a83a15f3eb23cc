"""Table-driven tests of every rule and boundary of SPEC §5."""

import datetime as dt
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest
from conftest import register_of
from minsheng.assess.rollup import RollUp, assess_tasks, capped
from minsheng.assess.status import Previous, Rules, assess, at_deadline, schedule
from minsheng.config import Thresholds
from minsheng.model import Flag, Indicator, IndicatorType, Period, Reported, Status, Submission, Task

JUNE = Period(2020, 6)
STAGES = {"未启动": Decimal(0), "前期准备": Decimal(20), "开工实施": Decimal(50), "基本完成": Decimal(80),
          "全面完成": Decimal(100)}
RULES = Rules.of(Thresholds(), STAGES)


def indicator(kind="累计", target="100", unit="个", id="1-1", lead="市教育局", name="指标"):
    return Indicator(id, id.split("-")[0], name, unit, IndicatorType(kind),
                     None if target is None else Decimal(target), lead, 2)


def judge(kind, target, value, period=JUNE, previous=None, progress="", deadline=None, stage="", unit="个"):
    reported = Reported("1-1", None if value is None else Decimal(value), stage, progress=progress)
    return assess(indicator(kind, target, unit), reported, True, period, RULES, deadline, previous)


@pytest.mark.parametrize("kind, target, value, status", [
    # 累计 in June: 时序进度 50%.
    ("累计", "100", "100", Status.COMPLETE),
    ("累计", "100", "150", Status.COMPLETE),
    ("累计", "25100", "25088", Status.ON_SCHEDULE),  # 100.0% shown, not complete
    ("累计", "100", "0", Status.NOT_STARTED),
    ("累计", "100", "40", Status.ON_SCHEDULE),  # gap exactly 10 points
    ("累计", "100", "39.9", Status.LAGGING),  # gap 10.1
    ("累计", "100", "20", Status.LAGGING),  # gap exactly 30 points
    ("累计", "100", "19.9", Status.SEVERELY_LAGGING),
    ("累计", "100", "60", Status.ON_SCHEDULE),  # ahead of schedule
    ("比率", "95", "95", Status.MET),  # exactly at target
    ("比率", "95", "94.9", Status.NOT_MET),
    ("比率", "95", "0", Status.NOT_MET),
    ("上限", "0.3", "0.3", Status.MET),
    ("上限", "0.3", "0.31", Status.NOT_MET),
    ("上限", "0", "0", Status.MET),  # 零就业家庭动态清零
    ("累计", "100", None, Status.NOT_FILLED),
])
def test_status_rules_and_boundaries(kind, target, value, status):
    assert judge(kind, target, value).status is status


@pytest.mark.parametrize("month, target, value, status", [
    # Boundaries that binary or 28-digit decimal arithmetic would tip: 7/30 in April is exactly 10 points
    # behind 4/12.
    (4, "30", "7", Status.ON_SCHEDULE),
    (4, "3", "0.7", Status.ON_SCHEDULE),
    (1, "12", "0.0000001", Status.ON_SCHEDULE),
    (11, "3", "2.45", Status.ON_SCHEDULE),  # 11/12 − 49/60 is exactly 10 points
    (11, "3", "2.44", Status.LAGGING),
    (12, "3", "2.7", Status.UNFINISHED),  # the year's end: no schedule left to be on
    (9, "4", "1.8", Status.LAGGING),  # 75% − 45% = 30 points
    (9, "4", "1.79", Status.SEVERELY_LAGGING),
])
def test_exact_gap_boundaries_in_other_months(month, target, value, status):
    assert judge("累计", target, value, Period(2020, month)).status is status


@pytest.mark.parametrize("stage, status, rate", [
    ("全面完成", Status.COMPLETE, Fraction(1)),
    ("基本完成", Status.ON_SCHEDULE, Fraction(4, 5)),
    ("前期准备", Status.LAGGING, Fraction(1, 5)),  # 50% − 20% = exactly 30 points
    ("未启动", Status.NOT_STARTED, Fraction(0)),
    ("", Status.NOT_FILLED, None),
])
def test_milestone_stage_maps_to_a_percentage_then_as_cumulative(stage, status, rate):
    result = judge("里程碑", None, None, stage=stage)
    assert result.status is status and result.rate == rate


def test_rate_is_exact_and_shown_half_up():
    result = judge("累计", "9", "7")
    assert result.rate == Fraction(7, 9) and result.rate_percent == Decimal("77.8")
    assert judge("累计", "25100", "25088").rate_percent == Decimal("100.0")
    assert judge("累计", "2000", "1555").rate_percent == Decimal("77.8")  # 77.75 rounds up
    assert judge("上限", "0.3", "0.2").rate is None


def test_not_submitted():
    result = assess(indicator(), None, False, JUNE, RULES)
    assert result.status is Status.NOT_SUBMITTED and result.rate is None


@pytest.mark.parametrize("kind, target, value, flagged", [
    ("累计", "100", "300", False),  # exactly the limit
    ("累计", "100", "300.1", True),
    ("比率", "20", "61", True),
])
def test_outlier_flag(kind, target, value, flagged):
    assert (Flag.DOUBTFUL in judge(kind, target, value).flags) is flagged


def test_decrease_flag_and_change_in_points():
    before = Previous(Period(2020, 5), Decimal(45))
    fell = judge("累计", "100", "40", previous=before)
    assert Flag.DECREASED in fell.flags and fell.change == -5
    rose = judge("累计", "100", "52.5", previous=before)
    assert rose.flags == () and rose.change == Fraction(15, 2)
    milestone = judge("里程碑", None, None, previous=Previous(Period(2020, 5), Decimal(80)), stage="开工实施")
    assert Flag.DECREASED in milestone.flags and milestone.change == -30


@pytest.mark.parametrize("kind, target, value, progress, flagged", [
    ("累计", "100", "40", "目前已完成全年任务的80%", True),
    ("累计", "988", "612", "完成幼儿资助612人次，完成任务80%。", True),  # 61.9% computed
    ("累计", "100", "40", "已完成40%", False),
    ("累计", "100", "40", "已完成40.6%", True),  # compared at one decimal, as the circular shows it (formats §6)
    ("累计", "100", "40", "已完成40.0%", False),
    ("累计", "100", "40", "进展顺利", False),
    # A rate's level is its value, not a completion share (SPEC §9): 92.3 of 90 is no mismatch.
    ("比率", "90", "92.3", "城乡居民医保参保率92.3%", False),
    ("比率", "90", "92.3", "参保率完成92.3%", False),
    ("比率", "90", "85", "参保率92.3%", True),  # the level said is not the level typed
    # Sub-items after 其中 never count; the main figure still does.
    ("累计", "100", "68.2", "改造完成率68.2%(其中:甲县完成率75%,乙区完成率51.3%)", False),
    ("累计", "100", "61", "改造完成率68.2%（其中：甲县完成率75%）", True),
    ("累计", "100", "50", "2020年底前完成12所，6月底完成50%", False),  # a year is no figure
])
def test_text_that_disagrees_with_the_numbers_is_flagged(kind, target, value, progress, flagged):
    unit = "%" if kind == "比率" else "个"
    assert (Flag.TEXT_MISMATCH in judge(kind, target, value, progress=progress, unit=unit).flags) is flagged


def test_a_text_reporting_several_indicators_is_matched_by_name():
    text = "新建幼儿园6所，完成50%；培训教师461人，完成任务90%。"
    others = ("新建改扩建公办幼儿园", "培训幼儿教师")
    kindergartens = assess(indicator("累计", "12", name="新建改扩建公办幼儿园"), Reported("1-1", Decimal(6), "", text),
                           True, JUNE, RULES, others=others)
    teachers = assess(indicator("累计", "461", name="培训幼儿教师"), Reported("1-1", Decimal(461), "", text),
                      True, JUNE, RULES, others=others)
    assert Flag.TEXT_MISMATCH not in kindergartens.flags  # its 50% is its own, and right
    assert Flag.TEXT_MISMATCH in teachers.flags  # 90% said, 100.0% computed


@pytest.mark.parametrize("month, deadline, expected", [
    (6, None, Fraction(1, 2)),
    (6, dt.date(2020, 12, 31), Fraction(1, 2)),
    (6, dt.date(2020, 10, 31), Fraction(6, 10)),
    (11, dt.date(2020, 10, 31), Fraction(1)),
    (6, dt.date(2019, 12, 31), Fraction(1)),
])
def test_schedule_follows_the_deadline(month, deadline, expected):
    assert schedule(Period(2020, month), deadline) == expected


DECEMBER = Period(2020, 12)


@pytest.mark.parametrize("kind, target, value, period, deadline, status", [
    # At the year's end (no 完成时限) short is 未完成, however near: 344 of 344.166 shows 100.0%.
    ("累计", "344.166", "344", DECEMBER, None, Status.UNFINISHED),
    ("累计", "344.166", "344", Period(2020, 11), None, Status.ON_SCHEDULE),
    ("累计", "344.166", "344.166", DECEMBER, None, Status.COMPLETE),  # equal to the target
    ("累计", "344.166", "400", DECEMBER, None, Status.COMPLETE),
    ("累计", "100", "0", DECEMBER, None, Status.UNFINISHED),  # not 未启动: the time is up
    ("累计", "100", "5", DECEMBER, None, Status.UNFINISHED),  # not 严重滞后
    ("累计", "100", "95", DECEMBER, dt.date(2020, 12, 31), Status.UNFINISHED),
    # A 完成时限 within the year is reached in its month, whatever the day.
    ("累计", "100", "99", JUNE, dt.date(2020, 6, 30), Status.UNFINISHED),
    ("累计", "100", "99", JUNE, dt.date(2020, 6, 15), Status.UNFINISHED),
    ("累计", "100", "100", JUNE, dt.date(2020, 6, 30), Status.COMPLETE),
    ("累计", "100", "0", JUNE, dt.date(2020, 6, 30), Status.UNFINISHED),
    ("累计", "100", "50", JUNE, dt.date(2020, 3, 31), Status.UNFINISHED),  # long past it
    ("累计", "100", "50", JUNE, dt.date(2019, 12, 31), Status.UNFINISHED),  # a year past it
    # Before it, judged against the schedule to it as ever: 5/6 due in May.
    ("累计", "100", "80", Period(2020, 5), dt.date(2020, 6, 30), Status.ON_SCHEDULE),
    ("累计", "100", "50", Period(2020, 5), dt.date(2020, 6, 30), Status.SEVERELY_LAGGING),
    ("累计", "100", "0", Period(2020, 5), dt.date(2020, 6, 30), Status.NOT_STARTED),
    ("累计", "100", "99", JUNE, dt.date(2020, 7, 1), Status.ON_SCHEDULE),  # reached in July
    ("累计", "100", "99", DECEMBER, dt.date(2021, 6, 30), Status.ON_SCHEDULE),  # due next year
    # 比率 and 上限 are judged against their target as ever.
    ("比率", "95", "94.9", DECEMBER, None, Status.NOT_MET),
    ("比率", "95", "95", DECEMBER, None, Status.MET),
    ("上限", "0.3", "0.31", DECEMBER, None, Status.NOT_MET),
    ("上限", "0.3", "0.3", DECEMBER, None, Status.MET),
    ("比率", "95", "90", JUNE, dt.date(2020, 6, 30), Status.NOT_MET),
])
def test_short_of_the_target_at_or_past_the_deadline_is_unfinished(kind, target, value, period, deadline, status):
    unit = "%" if kind == "比率" else "万元"
    result = judge(kind, target, value, period, deadline=deadline, unit=unit)
    assert result.status is status


def test_an_unfinished_indicator_keeps_its_rate_and_gap():
    result = judge("累计", "344.166", "344", DECEMBER, unit="万元")
    assert result.status is Status.UNFINISHED and result.status.light == "red" and not result.status.done
    assert result.rate_percent == Decimal("100.0") and result.schedule == 1
    assert result.gap == 100 - Fraction(344000, 344166) * 100


@pytest.mark.parametrize("stage, deadline, period, status", [
    ("基本完成", None, DECEMBER, Status.UNFINISHED),  # short of the last stage
    ("未启动", None, DECEMBER, Status.UNFINISHED),
    ("全面完成", None, DECEMBER, Status.COMPLETE),
    ("开工实施", dt.date(2020, 10, 31), Period(2020, 10), Status.UNFINISHED),
    ("开工实施", dt.date(2020, 10, 31), Period(2020, 9), Status.SEVERELY_LAGGING),  # 90% due, 50% done
    ("基本完成", dt.date(2020, 10, 31), Period(2020, 9), Status.ON_SCHEDULE),
])
def test_a_milestone_short_of_its_last_stage_at_the_deadline_is_unfinished(stage, deadline, period, status):
    assert judge("里程碑", None, None, period, deadline=deadline, stage=stage).status is status


@pytest.mark.parametrize("period, deadline, reached", [
    (DECEMBER, None, True),
    (Period(2020, 11), None, False),
    (JUNE, dt.date(2020, 6, 30), True),
    (JUNE, dt.date(2020, 6, 15), True),
    (JUNE, dt.date(2020, 6, 1), True),
    (JUNE, dt.date(2020, 7, 1), False),
    (Period(2020, 5), dt.date(2020, 6, 30), False),
    (JUNE, dt.date(2019, 12, 31), True),
    (DECEMBER, dt.date(2021, 1, 31), False),
])
def test_the_deadline_is_reached_in_its_month(period, deadline, reached):
    assert at_deadline(period, deadline) is reached


def test_no_figure_at_the_deadline_stays_what_it_is():
    assert judge("累计", "100", None, DECEMBER).status is Status.NOT_FILLED
    assert judge("里程碑", None, None, DECEMBER, stage="").status is Status.NOT_FILLED
    assert assess(indicator(), None, False, DECEMBER, RULES).status is Status.NOT_SUBMITTED
    error = assess(indicator(), Reported("1-1", None, error="“十二” 不是数字"), True, DECEMBER, RULES)
    assert error.status is Status.DATA_ERROR


def small_register():
    tasks = [
        Task("1", "一、就业", "技能培训", "培训100人", (), Decimal(100), None,
             [indicator("累计", "100", id="1-1"), indicator("比率", "95", "%", id="1-2")]),
        Task("2", "一、就业", "见习岗位", "岗位10个", (), None, None, [indicator("累计", "10", id="2-1")]),
        Task("3", "二、教育", "幼儿园", "建园", (), Decimal(50), None,
             [indicator("里程碑", None, "阶段", id="3-1", lead="市住建局")]),
    ]
    return register_of(tasks, "f" * 16)


def judged(register, subs, period=JUNE):
    summaries = list(assess_tasks(register, subs.get, period, RULES, lambda unit: {}))
    roll = RollUp(register.units, period)
    for summary in summaries:
        task, assessments = summary.task, summary.assessments
        roll.add(task.category, task.planned_funds, task.lead_units[0], [a.indicator.lead_unit for a in assessments],
                 [a.status for a in assessments], [capped(a) for a in assessments], summary.funds_paid)
    return summaries, roll


def test_roll_ups_for_task_unit_category_programme_and_funds():
    register = small_register()
    sub = Submission("教育.xlsx", "市教育局", JUNE, "填报", values={
        "1-1": Reported("1-1", Decimal(100)), "1-2": Reported("1-2", Decimal(90)),
        "2-1": Reported("2-1", Decimal(6))}, funds_paid={"1": (Decimal(60), "P4")})
    subs = {"市教育局": sub}
    tasks, roll = judged(register, subs)
    assert [a.status for t in tasks for a in t.assessments] == [Status.COMPLETE, Status.NOT_MET, Status.ON_SCHEDULE,
                                                                Status.NOT_SUBMITTED]
    assert [(t.status, t.complete, t.funds_paid) for t in tasks] == [
        (Status.NOT_MET, False, Decimal(60)), (Status.ON_SCHEDULE, False, None),
        (Status.NOT_SUBMITTED, False, None)]
    units = roll.units(subs)
    assert [(u.name, u.rank, u.submitted) for u in units] == [("市教育局", 1, True), ("市住建局", 2, False)]
    # (1 + 90/95 + 0.6) / 3, each capped at 100%
    assert units[0].mean == (1 + Fraction(90, 95) + Fraction(6, 10)) / 3
    assert (units[0].indicators, units[0].tasks) == (3, 2)
    assert (units[0].funds_planned, units[0].funds_paid) == (Decimal(100), Decimal(60))
    categories = roll.categories()
    assert [(c.name, sum(c.counts.values()), c.tasks) for c in categories] == [("一、就业", 3, 2), ("二、教育", 1, 1)]
    programme = roll.programme(units)
    # Task 1's shortfall is a 比率 below its level in June: not behind a schedule, not lagging.
    assert (programme.tasks, programme.tasks_complete, programme.tasks_on_schedule, programme.tasks_lagging,
            programme.tasks_below_level, programme.units_missing) == (3, 0, 1, 0, 1, 1)
    assert programme.funds_rate == Fraction(60, 150)
    assert programme.sentence == ("3项任务中尚无完成全年任务目标的，1项序时推进、1项尚未达到年度目标水平、"
                                  "1项因未报送、未填或数据有误暂无法判断。")
    assert programme.counts == Counter({Status.COMPLETE: 1, Status.NOT_MET: 1, Status.ON_SCHEDULE: 1,
                                        Status.NOT_SUBMITTED: 1})


def test_tied_departments_share_a_rank():
    register = register_of([Task(str(i), "", f"t{i}", "", (), None, None,
                                         [indicator("累计", "10", id=f"{i}-1", lead=f"单位{i}")]) for i in range(4)])
    values = {"单位0": 5, "单位1": 8, "单位2": 8, "单位3": 2}
    subs = {u: Submission(u, u, JUNE, "填报", values={f"{u[-1]}-1": Reported(f"{u[-1]}-1", Decimal(v))})
            for u, v in values.items()}
    _, roll = judged(register, subs)
    assert [(u.name, u.rank) for u in roll.units(subs)] == [("单位1", 1), ("单位2", 1), ("单位0", 3), ("单位3", 4)]


def test_exact_values_are_there_for_whoever_asks():
    result = judge("累计", "3", "0.7", Period(2020, 4))
    assert result.rate == Fraction(7, 30) and result.schedule == Fraction(1, 3)
    assert result.gap == 10 and result.gap_points == Decimal("10.0")
    before = judge("累计", "9", "7", previous=Previous(Period(2020, 5), Decimal(8)))
    assert before.change == Fraction(-100, 9) and before.change_points == Decimal("-11.1")


def test_an_unfinished_indicator_is_behind_in_every_roll_up():
    register = small_register()
    sub = Submission("教育.xlsx", "市教育局", DECEMBER, "填报", values={
        "1-1": Reported("1-1", Decimal(100)), "1-2": Reported("1-2", Decimal(96)),
        "2-1": Reported("2-1", Decimal("9.99"))})
    subs = {"市教育局": sub, "市住建局": Submission("住建.xlsx", "市住建局", DECEMBER, "填报",
                                              values={"3-1": Reported("3-1", None, "全面完成")})}
    summaries, roll = judged(register, subs, DECEMBER)
    assert [(t.status, t.complete) for t in summaries] == [
        (Status.MET, True), (Status.UNFINISHED, False), (Status.COMPLETE, True)]
    units = roll.units(subs)
    education = next(u for u in units if u.name == "市教育局")
    assert education.counts[Status.UNFINISHED] == 1 and education.lagging == 1
    programme = roll.programme(units)
    assert (programme.tasks, programme.tasks_complete, programme.tasks_on_schedule, programme.tasks_lagging) == (3, 2, 0, 1)
    assert programme.sentence == "3项任务中已有2项完成全年任务目标，其余1项中1项到期未完成。"


def test_the_worst_status_puts_unfinished_after_no_figure_and_before_not_started():
    from minsheng.assess.rollup import worst
    from minsheng.model import STATUS_ORDER

    assert set(STATUS_ORDER) == set(Status)
    assert worst([Status.NOT_STARTED, Status.UNFINISHED, Status.SEVERELY_LAGGING]) is Status.UNFINISHED
    assert worst([Status.UNFINISHED, Status.NOT_FILLED]) is Status.NOT_FILLED
