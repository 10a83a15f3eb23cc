"""The circular's variables (formats §6): every value already formatted as the circular shows it.

Numbers, percentages, ``1.37万人``, dates and ordinals are all formatted here (the sentences in
``paragraphs``, the annex's pages in ``annex``), so the office's template holds no logic beyond
loops and conditions.
"""

from __future__ import annotations

import datetime as dt

from ..assess import words
from ..assess.result import PeriodResult
from ..config import Config
from ..numbers import format_percent
from . import annex
from . import paragraphs as wording

# The template's variables: what ``build_context`` gives it.
KNOWN = {"title", "period_label", "period_end", "schedule", "issuer", "overview", "funds", "categories",
         "lagging_units", "lagging_count", "missing_units", "missing_count", "refused_units", "refused_count",
         "internal", "ranking", "deadline", "annex", "date", "chart", "lagging_title", "lagging_intro", "progress",
         "on_time"}


def build_context(result: PeriodResult, config: Config, today: dt.date | None = None) -> dict:
    """The template's variables (``KNOWN``). ``notes`` (not a variable) says what the clerk should know."""
    missing, refused = wording.submission(result)
    date, date_note = wording.issue_date(config, today)
    internal = not config.public
    lagging = wording.lagging_units(result)
    kinds = wording.lagging_kinds(result)
    return {
        "title": wording.title(result),
        "period_label": result.period.label,
        "period_end": f"{result.period.month}月底",
        "schedule": format_percent(wording.schedule(result)),
        "issuer": config.issuer,
        "overview": wording.overview(result, config.public),
        "funds": wording.funds(result),
        "categories": wording.categories(result),
        "lagging_title": wording.lagging_title(kinds),
        "lagging_intro": wording.lagging_intro(kinds),
        "progress": wording.progress_since(result),
        "on_time": wording.on_time(result, config),
        "lagging_units": lagging,
        "lagging_count": str(sum(int(item["count"]) for item in lagging)),
        "missing_units": missing if internal else "",
        "missing_count": str(len(missing.split("、"))) if missing else "",
        "refused_units": refused if internal else "",
        "refused_count": str(len(refused.split("、"))) if refused else "",
        "internal": internal,
        "ranking": wording.ranking(result, config) if internal else "",
        "deadline": wording.deadline(config),
        "annex": [{"units": annex.by_unit(page)} for page in annex.paginate(annex_rows(result, config))],
        "date": date,
        "chart": "",
        "notes": [note for note in (date_note, _mismatch_note(result)) if note],
    }


def _mismatch_note(result: PeriodResult) -> str:
    """The annex prints a department's words as they are, also a percentage our figures do not bear
    out (formats §6): whoever signs must hear of each before the circular goes out."""
    found = result.mismatches
    if not found:
        return ""
    listed = "；".join(found[:5]) + (f"等 {len(found)} 处" if len(found) > 5 else "")
    return (f"单位原文中的百分比与核算结果不一致：{listed}；附件中内部版标注“待核实”，对外版不印这些数字。"
            f"发文前请与这些单位核实，必要时请其改正后重新报送（详见汇总表“问题清单”）")


def annex_rows(result: PeriodResult, config: Config) -> list[annex.Row]:
    """序号 | 实施单位 | 项目名称 | 年度目标任务 | 进展情况: each unit's projects, in register order.
    进展情况 follows ``words.progress``; the public circular holds no internal remark, so a unit
    that sent nothing usable reads ``暂无进展数据。`` there rather than ``未报送。``."""
    rows = []
    serial: dict[str, int] = {}
    public = config.public
    for project in result.projects:
        number = serial.setdefault(project.unit, len(serial) + 1)
        if result.submitted(project.unit):
            progress = words.progress(project.said, config.computed_sentences, public=public)
        else:
            progress = words.NOTHING if public else wording.unit_progress_missing(result, project.unit)
        # The register's words too: its half-width marks beside the circular's full-width ones.
        rows.append(annex.Row(str(number), project.unit, project.name, words.punctuate(project.target), progress))
    return rows
