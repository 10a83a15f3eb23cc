"""The circular's variables (formats §6): every value already formatted as the circular shows it.

Numbers, percentages, ``1.37万人``, dates and ordinals are all formatted here (the sentences in
``paragraphs``, the annex's pages in ``annex``), so the office's template holds no logic beyond
loops and conditions.
"""

from __future__ import annotations

import datetime as dt

from ..assess.period import Consolidation
from ..assess.status import Assessment, sibling_names, text_conflict
from ..config import Config
from ..model import Flag, IndicatorType
from ..numbers import format_amount, format_percent
from . import annex
from . import paragraphs as wording

# The template's variables: what ``build_context`` gives it.
KNOWN = {"title", "period_label", "period_end", "schedule", "issuer", "overview", "funds", "categories",
         "lagging_units", "lagging_count", "missing_units", "missing_count", "refused_units", "refused_count",
         "internal", "ranking", "deadline", "annex", "date", "chart"}


def build_context(result: Consolidation, config: Config, today: dt.date | None = None) -> dict:
    """The template's variables (``KNOWN``). ``notes`` (not a variable) says what the clerk should know."""
    missing, refused = wording.submission(result)
    date, date_note = wording.issue_date(config, today)
    internal = not config.public
    lagging = wording.lagging_units(result)
    assessments = list(result.iter_assessments())  # read once: the annex and the notes both go through them
    return {
        "title": wording.title(result),
        "period_label": result.period.label,
        "period_end": f"{result.period.month}月底",
        "schedule": format_percent(wording.schedule(result)),
        "issuer": config.issuer,
        "overview": wording.overview(result),
        "funds": wording.funds(result),
        "categories": wording.categories(result),
        "lagging_units": lagging,
        "lagging_count": str(sum(int(item["count"]) for item in lagging)),
        "missing_units": missing if internal else "",
        "missing_count": str(len(missing.split("、"))) if missing else "",
        "refused_units": refused if internal else "",
        "refused_count": str(len(refused.split("、"))) if refused else "",
        "internal": internal,
        "ranking": wording.ranking(result, config) if internal else "",
        "deadline": wording.deadline(config),
        "annex": [{"units": annex.by_unit(page)} for page in annex.paginate(_annex_rows(result, config, assessments))],
        "date": date,
        "chart": "",
        "notes": [note for note in (date_note, _mismatch_note(result, assessments)) if note],
    }


def _mismatch_note(result: Consolidation, assessments: list[Assessment]) -> str:
    """The annex prints a department's words as they are, also a percentage our figures do not bear
    out (formats §6): whoever signs must hear of each before the circular goes out."""
    found = []
    for a in assessments:
        if Flag.TEXT_MISMATCH in a.flags and a.reported is not None:
            ind = a.indicator
            stated = text_conflict(ind, a.reported.progress, a.value, a.rate_percent,
                                   sibling_names(result.register.task(ind.task_id)))
            computed = (format_amount(a.value, ind.unit_of_measure)
                        if ind.type in (IndicatorType.RATE, IndicatorType.CEILING) else f"完成率{a.rate_percent}%")
            found.append(f"{ind.lead_unit}“{ind.name}”（原文{stated}，核算{computed}）")
    if not found:
        return ""
    listed = "；".join(found[:5]) + (f"等 {len(found)} 处" if len(found) > 5 else "")
    return (f"附件照录了单位原文，其中百分比与核算结果不一致：{listed}；发文前请与这些单位核实，"
            f"必要时请其改正后重新报送（详见汇总表“问题清单”）")


def _annex_rows(result: Consolidation, config: Config, assessments: list[Assessment]) -> list[annex.Row]:
    """序号 | 实施单位 | 项目名称 | 年度目标任务 | 进展情况: each unit's projects, in register order."""
    by_project: dict[tuple[str, str], list[Assessment]] = {}
    for a in assessments:
        by_project.setdefault((a.indicator.lead_unit, a.indicator.task_id), []).append(a)
    rows = []
    for serial, unit in enumerate(result.register.units, start=1):
        submitted = unit in result.collection.chosen
        for task in result.register.tasks_of(unit):
            progress = (wording.project_progress(task, by_project[unit, task.id], config.computed_sentences)
                        if submitted else wording.unit_progress_missing(result, unit))
            rows.append(annex.Row(str(serial), unit, task.name, task.annual_target, progress))
    return rows
