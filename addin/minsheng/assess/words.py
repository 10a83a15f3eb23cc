"""A project's 进展情况 as the circular's annex prints it (formats §6): the department's words
verbatim, then, for each indicator, a computed sentence only as far as the words do not already
state its figures, and never a second, different figure beside the department's.

Worked out where the indicators are judged, from the same assessments, so that every output says
what the judgement says. ``said`` gives each indicator's part; the circular joins them.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import IndicatorType, Status
from ..numbers import format_amount, format_percent
from . import narrative
from .status import Assessment

_END = ("。", ".", "！", "!", "；", ";", "？", "?")


def words(texts: Iterable[str]) -> str:
    """The department's 进展情况 of a project's indicators, each once, each ending a sentence."""
    kept = dict.fromkeys(text.strip() for text in texts if text.strip())
    return "".join(w if w.endswith(_END) else w + "。" for w in kept)


def progress(said: Iterable[tuple[str, str]], sentences: bool = True) -> str:
    """A project's 进展情况 from its indicators' ``(words, computed sentence)``; without
    ``sentences``, the department's words alone when there are any."""
    said = list(said)
    text = words(w for w, _ in said)
    if text and not sentences:
        return text
    parts = [part for _, part in said if part]
    return text + ("；".join(parts) + "。" if parts else "")


def said(assessments: list[Assessment], others: tuple[str, ...]) -> list[tuple[str, str]]:
    """Each indicator of one project (one lead unit's part of a task): its department's words and
    the sentence computed beside them. ``others``: the names of the project's indicators, when
    several (a text may report on each)."""
    texts = [a.reported.progress if a.reported else "" for a in assessments]
    text = words(texts)
    figures = narrative.read_figures(text)
    return [(own, _sentence(a, text, figures, others)) for own, a in zip(texts, assessments)]


def _sentence(a: Assessment, text: str, figures, others: tuple[str, ...]) -> str:
    ind = a.indicator
    unit = ind.unit_of_measure
    if a.status is Status.NOT_FILLED:
        return f"{ind.name}未填报"
    if a.status is Status.DATA_ERROR:
        return f"{ind.name}填报的数据有误，待核实"
    if ind.type is IndicatorType.MILESTONE:
        return "" if a.stage and a.stage in text else f"{ind.name}处于“{a.stage}”阶段"
    stated = narrative.statement(figures, ind.name, ind.type, unit, a.value,
                                 a.rate_percent if ind.type is IndicatorType.CUMULATIVE else None, others)
    if stated.conflict:
        return ""  # the department's own figure stands alone; the clerk is told (文字与数据不符)
    shown = format_amount(a.value, unit)
    if ind.type in (IndicatorType.RATE, IndicatorType.CEILING):
        if a.status is Status.MET:
            return "" if stated.value else f"{ind.name}{shown}，{'达到年度目标' if ind.type is IndicatorType.RATE else '控制在目标以内'}"
        verdict = missed(ind.type, ind.target, unit)
        return f"{ind.name}{verdict}" if stated.value else f"{ind.name}{shown}，{verdict}"
    if a.status is Status.NOT_STARTED:
        return "" if stated.value else f"{ind.name}尚未启动"
    share = "" if stated.rate else f"完成任务{format_percent(a.rate)}"
    if stated.value:
        return f"{ind.name}{share}" if share else ""
    return f"{ind.name}{shown}" + (f"，{share}" if share else "")


def missed(kind: IndicatorType, target, unit: str) -> str:
    """未达标 said the right way round: a 比率 falls short of its target, a 上限 goes over its cap."""
    if kind is IndicatorType.CEILING:
        return f"超出控制目标{format_amount(target, unit)}"
    return f"未达到年度目标{format_amount(target, unit)}"
