"""What the circular says (通报用语, formats §6): every sentence the template shows, written from the
consolidated result as a released circular words it.

Conventions kept here, each pinned by a test: counts that are zero are left out of sentences; an
indicator at zero reads 尚未启动; a department's 进展情况 is printed verbatim and followed by a
computed sentence only for what it does not already state (and never by a second, different
figure for the same thing); lagging items are grouped by unit, the most serious first; a unit is
praised only when it is at or ahead of the schedule; a register without categories has no
category section; all punctuation is full-width.
"""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction

from ..assess.lagging import Lagging
from ..assess.result import PeriodResult
from ..assess.rollup import GroupSummary
from ..assess.words import missed
from ..cells import as_date
from ..config import Config
from ..model import IndicatorType, Status
from ..numbers import chinese_date, chinese_number, format_amount, format_percent, percent

_LEADING_ORDINAL = re.compile(r"^[一二三四五六七八九十]+[、.．]\s*")
_END = ("。", ".", "！", "!", "；", ";", "？", "?")


def title(result: PeriodResult) -> str:
    p = result.period
    span = "1月份" if p.month == 1 else f"1-{p.month}月份"
    return f"{p.year}年{span}民生工程项目进展情况"


def schedule(result: PeriodResult) -> Fraction:
    return Fraction(result.period.month, 12)


# ---------------------------------------------------------------------------------------------
# The body.

def overview(result: PeriodResult, public: bool = False) -> str:
    """``全市50项民生工程任务中，已有13项完成全年任务目标，其余37项中14项序时推进、21项进度滞后。
    97个考核指标中已完成或达标36个。`` Zeros are left out; mid-year a 比率/上限 below its level is
    尚未达到年度目标水平, not behind a schedule, and a task is complete only when every indicator is
    (a level held mid-year is not the year's target reached). The public circular says of tasks
    without figures only that there are none (暂无数据), no reason why."""
    prog = result.programme
    rest = prog.tasks - prog.tasks_complete
    parts = [f"{n}项{'暂无数据' if public and what.endswith('暂无法判断') else what}" for n, what in prog.parts() if n]
    if prog.tasks_complete:
        text = f"全市{prog.tasks}项民生工程任务中，已有{prog.tasks_complete}项完成全年任务目标"
        if rest:
            text += f"，其余{rest}项中" + "、".join(parts)
    else:
        text = f"全市{prog.tasks}项民生工程任务中，" + "、".join(parts)
    done = prog.counts[Status.COMPLETE] + prog.counts[Status.MET]
    text += f"。{prog.indicators}个考核指标中"
    text += f"已完成或达标{done}个。" if done else "尚无完成或达标的。"
    return text


def funds(result: PeriodResult) -> str:
    """``全年计划安排资金3.2亿元，累计拨付资金1.5亿元，占全年计划的46.9%。`` (亿元 from 1亿)."""
    prog = result.programme
    if not prog.funds_planned:
        return ""
    text = f"全年计划安排资金{format_amount(prog.funds_planned, '万元')}"
    if prog.funds_paid:
        text += (f"，累计拨付资金{format_amount(prog.funds_paid, '万元')}，"
                 f"占全年计划的{format_percent(prog.funds_rate)}")
    else:
        text += "，各单位尚未报送拨付情况"
    return text + "。"


def categories(result: PeriodResult) -> list[dict]:
    """One entry per category, or none when the register has no categories."""
    groups = result.categories
    if not any(g.name.strip() for g in groups):
        return []
    year_end = result.period.month == 12
    return [{"ordinal": chinese_number(i), "name": _LEADING_ORDINAL.sub("", g.name) or "其他",
             "summary": _group_summary(g, year_end)} for i, g in enumerate(groups, start=1)]


def _group_summary(group: GroupSummary, year_end: bool = True) -> str:
    """Counts by status (a level not yet reached mid-year is 尚未达标, not 未达标) and the mean."""
    c = group.counts
    counted = ((c[Status.COMPLETE] + c[Status.MET], "已完成或达标"), (c[Status.ON_SCHEDULE], "序时推进"),
               (c[Status.LAGGING] + c[Status.SEVERELY_LAGGING], "滞后"), (c[Status.NOT_STARTED], "未启动"),
               (c[Status.UNFINISHED], "到期未完成"), (c[Status.NOT_MET], "未达标" if year_end else "尚未达标"), (c[Status.NOT_SUBMITTED] + c[Status.NOT_FILLED] + c[Status.DATA_ERROR],
                                             "暂无数据"))
    text = f"{group.indicators}个指标中，" + "、".join(f"{what}{n}个" for n, what in counted if n)
    mean = group.reported_mean
    if mean is None:
        return text + "，暂无可计算完成率的数据。"
    label = "平均完成率" if group.reported == group.indicators else "有数据的指标平均完成率"
    return text + f"；{label}{format_percent(mean)}。"


# What each lagging status is called in the section's title and opening sentence.
_BEHIND_SCHEDULE = (Status.LAGGING, Status.SEVERELY_LAGGING, Status.NOT_STARTED)


def lagging_kinds(result: PeriodResult) -> list[tuple[str, int]]:
    """(what they are, how many) of the listed indicators: 进度滞后 (or not started), 到期未完成,
    and a 比率/上限 short of its level — 尚未达到年度目标水平 mid-year, 未达标 at the year's end.
    The lagging list is read once for the section's title and its opening sentence."""
    statuses = [item.status for item in result.lagging]
    level = "未达到年度目标" if result.period.month == 12 else "尚未达到年度目标水平"
    counted = [("进度滞后或尚未启动", sum(s in _BEHIND_SCHEDULE for s in statuses)),
               ("到期未完成", statuses.count(Status.UNFINISHED)), (level, statuses.count(Status.NOT_MET))]
    return [(what, n) for what, n in counted if n]


def lagging_title(kinds: list[tuple[str, int]]) -> str:
    """The section is named for what it lists: ``进度滞后的指标``, ``进度滞后和尚未达到年度目标水平的指标``."""
    words = [what.removesuffix("或尚未启动") for what, _ in kinds]
    if not words:
        return ""
    return ("、".join(words[:-1]) + "和" + words[-1] if len(words) > 1 else words[0]) + "的指标"


def lagging_intro(kinds: list[tuple[str, int]]) -> str:
    """``以下5个指标进度滞后或尚未启动，2个指标尚未达到年度目标水平，请有关单位加快推进：``"""
    if not kinds:
        return ""
    counted = "，".join(f"{n}个指标{what}" for what, n in kinds)
    return f"以下{counted}，请有关单位加快推进："  # the schedule is in the overview, just above


def lagging_units(result: PeriodResult) -> list[dict]:
    """滞后: one paragraph per unit naming its lagging items; the unit with the most serious first."""
    by_unit: dict[str, list[Lagging]] = {}
    for item in result.lagging:  # already the most serious status and the largest gap first
        by_unit.setdefault(item.unit, []).append(item)
    due = format_percent(schedule(result))
    year_end = result.period.month == 12
    return [{"unit": unit, "text": "；".join(_lagging_text(item, due, year_end) for item in items) + "。",
             "count": str(len(items))}
            for unit, items in by_unit.items()]


def _lagging_text(item: Lagging, due: str = "", year_end: bool = False) -> str:
    """``残疾儿童康复救助完成率4.8%（严重滞后）``: the schedule is stated once, above the list, and
    again for an item whose deadline gives it another (``（时序进度75.0%）``). An item whose time
    is up says so: ``…完成率100.0%，尚差0.166万元，到期未完成`` (the shortfall, as a rate so near
    its target rounds to 100.0%). A 比率 mid-year is short of a level, not behind a schedule."""
    unit = item.unit_of_measure
    name = item.indicator_name
    if item.status is Status.NOT_MET:
        if item.type is IndicatorType.RATE and not year_end:
            return f"{name}{format_amount(item.value, unit)}（目标{format_amount(item.target, unit)}）"  # said above
        return f"{name}{format_amount(item.value, unit)}，{missed(item.type, item.target, unit)}"
    if item.status is Status.UNFINISHED:
        if item.type is IndicatorType.MILESTONE:
            return f"{name}处于“{item.stage}”阶段，到期未完成"
        if not item.value:
            return f"{name}尚未启动，到期未完成"
        short = format_amount(item.target - item.value, unit)
        return f"{name}完成率{item.rate_percent}%，尚差{short}，到期未完成"
    if item.status is Status.NOT_STARTED:
        return f"{name}尚未启动"
    done = f"处于“{item.stage}”阶段" if item.type is IndicatorType.MILESTONE else f"完成率{item.rate_percent}%"
    own = (f"时序进度{item.schedule_percent}%" if item.schedule_percent is not None and due
           and f"{item.schedule_percent}%" != due else "")
    marks = "，".join(m for m in (own, "严重滞后" if item.status is Status.SEVERELY_LAGGING else "") if m)
    return f"{name}{done}" + (f"（{marks}）" if marks else "")


_SHORT = (Status.LAGGING, Status.SEVERELY_LAGGING, Status.NOT_STARTED, Status.UNFINISHED, Status.NOT_MET)


def to_check(result: PeriodResult) -> set[str]:
    """Units with a figure to be checked (待核实): 数据存疑, or words that contradict the figures."""
    return {project.unit for project in result.projects for said in project.said if said.doubtful or said.contradicted}


def ranking(result: PeriodResult, config: Config) -> str:
    """Units are praised only when at or ahead of the schedule with nothing lagging, unfinished,
    short of its level or to be checked; the lowest are named when behind it, and asked to speed
    up only when they have something lagging."""
    submitted = [u for u in result.units if u.submitted]
    if not submitted:
        return ""
    due = schedule(result)
    n = max(1, min(config.top_units, len(submitted) // 2))
    checked = to_check(result)
    clean = [u for u in submitted if u.mean >= due and not any(u.counts[s] for s in _SHORT) and u.name not in checked]
    ahead = _with_ties(clean, n)
    behind = _with_ties([u for u in reversed(submitted) if u.mean < due and u not in ahead], n)
    # Said which units are ranked, so that no reader looks for a higher mean the sentence leaves out.
    sentences = [f"平均完成率较高且没有滞后、未达标或待核实指标的是{_named(ahead)}" if ahead else
                 f"各单位指标平均完成率均未达到时序进度（{format_percent(due)}）" if all(u.mean < due for u in submitted) else
                 "各单位均有滞后、未达标或待核实的指标"]
    if behind:
        pushed = [u for u in behind if any(u.counts[s] for s in _SHORT)]
        push = ("，请加快推进" if len(pushed) == len(behind) else
                f"，请{'、'.join(u.name for u in pushed)}加快推进" if pushed else "")
        sentences.append(f"相对较低的是{_named(behind)}{push}")
    return "；".join(sentences) + "。"


def _with_ties(groups: list[GroupSummary], n: int) -> list[GroupSummary]:
    """The first ``n``, and whoever stands level with the last of them (两个 93.3% are both named)."""
    if len(groups) <= n:
        return groups
    last = format_percent(groups[n - 1].mean)
    return groups[:n] + [g for g in groups[n:] if format_percent(g.mean) == last]


def _named(groups: list[GroupSummary]) -> str:
    return "、".join(f"{g.name}（{format_percent(g.mean)}）" for g in groups)


def progress_since(result: PeriodResult) -> str:
    """One short paragraph on what changed since the latest earlier period of the year: tasks
    complete, the mean completion, and the units that moved most. Empty without one."""
    before = result.earlier
    if before is None:
        return ""
    parts = []
    was, now = before.programme.tasks_complete, result.programme.tasks_complete
    if now != was:
        parts.append(f"完成全年任务目标的任务由{was}项{'增至' if now > was else '减至'}{now}项")
    both = {u.name for u in before.units if u.submitted} & {u.name for u in result.units if u.submitted}
    mean_was, mean_now = _mean(before, both), _mean(result, both)  # units that reported both times
    if mean_was is not None and mean_now is not None and format_percent(mean_was) != format_percent(mean_now):
        rose = "提高到" if mean_now > mean_was else "降至"
        parts.append(f"{'' if len(both) == len(result.units) else '两期都报送的单位'}指标平均完成率由"
                     f"{format_percent(mean_was)}{rose}{format_percent(mean_now)}")
    earlier = {u.name: u.mean for u in before.units if u.submitted}
    moved = sorted(((u.mean - earlier[u.name], u.name) for u in result.units if u.submitted and u.name in earlier),
                   reverse=True)
    fastest = [(delta, name) for delta, name in moved[:3] if percent(delta) > 0]
    if not parts and not fastest:
        return ""
    text = f"与{before.period.label}相比，" + "，".join(parts) if parts else f"与{before.period.label}相比"
    if fastest:
        text += "；进展较快的是" + "、".join(f"{name}（提高{percent(delta)}个百分点）" for delta, name in fastest)
    return text + "。"


def _mean(result: PeriodResult, units: set[str]) -> Fraction | None:
    """The mean completion of ``units``' indicators: each indicator's capped share, over them all."""
    groups = [u for u in result.units if u.name in units]
    count = sum(u.indicators for u in groups)
    return sum((u.mean * u.indicators for u in groups), Fraction(0)) / count if count else None


def on_time(result: PeriodResult, config: Config) -> str:
    """The deadline every unit met, as the circular names it (``7月5日``), or "" when that can't be
    said: no deadline configured or readable, a unit missing, or a file saved after it."""
    if result.missing_units or not result.files:
        return ""
    due = _deadline_date(config.deadline, result.period)
    if due is None:
        return ""
    end = dt.datetime.combine(due, dt.time.max).timestamp()
    if any(modified > end for _, modified in result.files):
        return ""
    return f"{due.month}月{due.day}日"


def _deadline_date(text: str, period) -> dt.date | None:
    """``[office] deadline`` as a date: ``2020-07-05``, ``2020年7月5日`` or ``7月5日`` (the month after
    the period's, so December's deadline falls in January)."""
    text = text.strip().removesuffix("前")
    found = as_date(text)
    if found is not None:
        return found
    match = re.fullmatch(r"(\d{1,2})月(\d{1,2})日", text)
    if not match:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    year = period.year + 1 if period.month == 12 and month < 12 else period.year
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def submission(result: PeriodResult) -> tuple[str, str]:
    """报送情况: units that sent nothing, and units whose files could not be used."""
    missing = [u.name for u in result.missing_units if not result.refused.get(u.name)]
    refused = [u.name for u in result.missing_units if result.refused.get(u.name)]
    return "、".join(missing), "、".join(refused)


def deadline(config: Config) -> str:
    when = config.deadline.strip().removesuffix("前")
    return f"请各牵头单位于{when}前报送进展情况。" if when else ""


def issue_date(config: Config, today: dt.date | None = None) -> tuple[str, str]:
    """The date of the signature, and a note when ``[office] date`` is empty (the run says which)."""
    if config.issue_date is not None:
        return chinese_date(config.issue_date), ""
    day = today or dt.date.today()
    return chinese_date(day), (f"config.ini 中 [office] date（发文日期）为空，通报落款用了今天的日期 {chinese_date(day)}；"
                               f"如需别的日期，请填写后重新生成")


# ---------------------------------------------------------------------------------------------
# The annex.

def unit_progress_missing(result: PeriodResult, unit: str) -> str:
    """A unit without figures: it sent nothing, or nothing usable."""
    if result.refused.get(unit):
        return "报送的报表未能汇总（格式或内容不符合要求），待重新报送。"
    return "未报送。"
