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
from ..assess.rollup import GroupSummary, Programme
from ..assess.words import missed
from ..config import Config
from ..model import IndicatorType, Status
from ..numbers import chinese_date, chinese_number, format_amount, format_percent

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

def overview(result: PeriodResult) -> str:
    """``全市50项民生工程任务中，已有13项完成全年任务目标，其余37项中14项序时推进、21项进度滞后或
    未达标。97个考核指标中已完成或达标36个。`` Zeros are left out."""
    prog = result.programme
    rest = prog.tasks - prog.tasks_complete
    unknown = rest - prog.tasks_on_schedule - prog.tasks_lagging
    parts = [f"{n}项{what}" for n, what in ((prog.tasks_on_schedule, "序时推进"), (prog.tasks_lagging, _behind(prog)),
                                          (unknown, "因未报送、未填或数据有误暂无法判断")) if n]
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


def _behind(prog: Programme) -> str:
    """What the tasks behind are called: 进度滞后或未达标, and 到期未完成 once an indicator's time is
    up short of its target (at the year's end nothing is merely behind the schedule)."""
    c = prog.counts
    if not c[Status.UNFINISHED]:
        return "进度滞后或未达标"
    if any(c[s] for s in (Status.LAGGING, Status.SEVERELY_LAGGING, Status.NOT_STARTED)):
        return "进度滞后、到期未完成或未达标"
    return "到期未完成或未达标"


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
    return [{"ordinal": chinese_number(i), "name": _LEADING_ORDINAL.sub("", g.name) or "其他",
             "summary": _group_summary(g)} for i, g in enumerate(groups, start=1)]


def _group_summary(group: GroupSummary) -> str:
    c = group.counts
    counted = ((c[Status.COMPLETE] + c[Status.MET], "已完成或达标"), (c[Status.ON_SCHEDULE], "序时推进"),
               (c[Status.LAGGING] + c[Status.SEVERELY_LAGGING], "滞后"), (c[Status.NOT_STARTED], "未启动"),
               (c[Status.UNFINISHED], "到期未完成"), (c[Status.NOT_MET], "未达标"), (c[Status.NOT_SUBMITTED] + c[Status.NOT_FILLED] + c[Status.DATA_ERROR],
                                             "暂无数据"))
    text = f"{group.indicators}个指标中，" + "、".join(f"{what}{n}个" for n, what in counted if n)
    mean = group.reported_mean
    if mean is None:
        return text + "，暂无可计算完成率的数据。"
    label = "平均完成率" if group.reported == group.indicators else "有数据的指标平均完成率"
    return text + f"；{label}{format_percent(mean)}。"


def lagging_units(result: PeriodResult) -> list[dict]:
    """滞后: one paragraph per unit naming its lagging items; the unit with the most serious first."""
    by_unit: dict[str, list[Lagging]] = {}
    for item in result.lagging:  # already the most serious status and the largest gap first
        by_unit.setdefault(item.unit, []).append(item)
    return [{"unit": unit, "text": "；".join(_lagging_text(item) for item in items) + "。", "count": str(len(items))}
            for unit, items in by_unit.items()]


def _lagging_text(item: Lagging) -> str:
    """``残疾儿童康复救助完成率4.8%（严重滞后）``: the schedule is stated once, above the list. An
    item whose time is up says so: ``…完成率100.0%，尚差0.166万元，到期未完成`` (the shortfall, as a
    rate so near its target rounds to 100.0%)."""
    unit = item.unit_of_measure
    name = item.indicator_name
    if item.status is Status.NOT_MET:
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
    return f"{name}{done}" + ("（严重滞后）" if item.status is Status.SEVERELY_LAGGING else "")


def ranking(result: PeriodResult, config: Config) -> str:
    """Units named for praise only when at or ahead of the schedule (and with nothing whose time is
    up unfinished); the lowest, when behind it."""
    submitted = [u for u in result.units if u.submitted]
    if not submitted:
        return ""
    due = schedule(result)
    n = max(1, min(config.top_units, len(submitted) // 2))
    ahead = _with_ties([u for u in submitted if u.mean >= due and not u.counts[Status.UNFINISHED]], n)
    behind = _with_ties([u for u in reversed(submitted) if u.mean < due and u not in ahead], n)
    sentences = [f"完成情况较好的是{_named(ahead)}" if ahead else
                 f"各单位平均完成率均未达到时序进度（{format_percent(due)}）"]
    if behind:
        sentences.append(f"相对较低的是{_named(behind)}，请加快推进")
    return "按指标平均完成率排序，" + "；".join(sentences) + "。"


def _with_ties(groups: list[GroupSummary], n: int) -> list[GroupSummary]:
    """The first ``n``, and whoever stands level with the last of them (两个 93.3% are both named)."""
    if len(groups) <= n:
        return groups
    last = format_percent(groups[n - 1].mean)
    return groups[:n] + [g for g in groups[n:] if format_percent(g.mean) == last]


def _named(groups: list[GroupSummary]) -> str:
    return "、".join(f"{g.name}（{format_percent(g.mean)}）" for g in groups)


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
