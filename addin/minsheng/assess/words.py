"""A project's 进展情况 as the circular's annex prints it (formats §6): the department's words
verbatim, then, for each indicator, a computed sentence only as far as the words do not already
state its figures, and never a second, different figure beside the department's.

What an indicator's sentence is made from (``Said``) is taken where the indicator is judged, from
its one assessment; the sentence itself is written when a circular is, from the record. (Reading
every text's figures costs a consolidation a third more time, for a circular it may never make.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from ..model import IndicatorType, Status
from ..numbers import format_amount
from . import narrative
from .status import Assessment

_END = ("。", ".", "！", "!", "；", ";", "？", "?")


class Said(NamedTuple):
    """An indicator of a submitted project as its sentence needs it: plain text, numbers as text."""

    words: str  # the department's 进展情况
    name: str
    type: str  # ``IndicatorType`` value
    unit: str  # 计量单位
    target: str | None
    status: str  # ``Status`` value
    value: str | None
    rate_percent: str | None
    stage: str

    def text(self) -> str:
        """As JSON (how the record and the run's scratch keep it)."""
        return json.dumps(self, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def of(cls, a: Assessment) -> Said:
        ind = a.indicator
        return cls(a.reported.progress if a.reported else "", ind.name, ind.type.value, ind.unit_of_measure,
                   _text(ind.target), a.status.value, _text(a.value), _text(a.rate_percent), a.stage)


def _text(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def words(texts: Iterable[str]) -> str:
    """The department's 进展情况 of a project's indicators, each once, each ending a sentence."""
    kept = dict.fromkeys(text.strip() for text in texts if text.strip())
    return "".join(w if w.endswith(_END) else w + "。" for w in kept)


def progress(said: Iterable[Said], sentences: bool = True) -> str:
    """A project's 进展情况 from each of its indicators' ``Said``; without ``sentences``, the
    department's words alone when there are any."""
    said = list(said)
    text = words(s.words for s in said)
    if text and not sentences:
        return text
    figures = narrative.read_figures(text)
    others = tuple(s.name for s in said) if len(said) > 1 else ()  # a text may report on each
    parts = [part for s in said if (part := _sentence(s, text, figures, others))]
    return text + ("；".join(parts) + "。" if parts else "")


def _sentence(s: Said, text: str, figures, others: tuple[str, ...]) -> str:
    kind, status = IndicatorType(s.type), Status(s.status)
    if status is Status.NOT_FILLED:
        return f"{s.name}未填报"
    if status is Status.DATA_ERROR:
        return f"{s.name}填报的数据有误，待核实"
    if kind is IndicatorType.MILESTONE:
        return "" if s.stage and s.stage in text else f"{s.name}处于“{s.stage}”阶段"
    value, rate_percent = _number(s.value), _number(s.rate_percent)
    stated = narrative.statement(figures, s.name, kind, s.unit, value,
                                 rate_percent if kind is IndicatorType.CUMULATIVE else None, others)
    if stated.conflict:
        return ""  # the department's own figure stands alone; the clerk is told (文字与数据不符)
    shown = format_amount(value, s.unit)
    if kind in (IndicatorType.RATE, IndicatorType.CEILING):
        if status is Status.MET:
            return "" if stated.value else f"{s.name}{shown}，{'达到年度目标' if kind is IndicatorType.RATE else '控制在目标以内'}"
        verdict = missed(kind, _number(s.target), s.unit)
        return f"{s.name}{verdict}" if stated.value else f"{s.name}{shown}，{verdict}"
    if status is Status.NOT_STARTED or (status is Status.UNFINISHED and not value):  # never 完成0个
        return "" if stated.value else f"{s.name}尚未启动"
    share = "" if stated.rate else f"完成任务{rate_percent}%"
    if stated.value:
        return f"{s.name}{share}" if share else ""
    return f"{s.name}{shown}" + (f"，{share}" if share else "")


def missed(kind: IndicatorType, target, unit: str) -> str:
    """未达标 said the right way round: a 比率 falls short of its target, a 上限 goes over its cap."""
    if kind is IndicatorType.CEILING:
        return f"超出控制目标{format_amount(target, unit)}"
    return f"未达到年度目标{format_amount(target, unit)}"
