"""A project's 进展情况 as the circular's annex prints it (formats §6): the department's words,
then a computed sentence for each indicator the words do not already speak of with its own figures,
never a second, different figure beside the department's, and only what the data bear out.

The rules, in the order they apply to a project's cell:

1. **The department's words**, each indicator's once, with the circular's punctuation: half-width
   ``, ; : ( ) ! ?`` beside Chinese become full-width (``1,234``, ``3.5``, ``10:30``, ``PM2.5`` stay), no
   doubled end marks (``。）。``, ``。。``, ``；。``), each text ending a sentence.
2. **A figure once.** The words are read for every figure they hold, in any form (``narrative``).
   An indicator whose value or completion share they state (``23268户`` or ``2.33万户``; ``完成任务78.1%``;
   ``26场`` for 26次 in a clause naming it) gets no computed sentence: the department has spoken of it.
   One whose completion share (or, for a rate, its level) they state otherwise than the data
   (62.3% against 62.4%) gets none either: that is 文字与数据不符, for the clerk (问题清单 and the
   run's notes), never two figures side by side.
3. **Only what the data bear out.** An indicator flagged 数据存疑 or 文字与数据不符 is never printed as
   a plain fact. The internal circular marks it ``（待核实）``: after its computed sentence
   (``完成任务739.3%（待核实）``), and after the clause of the department's words that states the
   doubtful or contradicted figure. The public circular prints no computed sentence for it and
   leaves out each of the department's sentences that states such a figure.
4. **Public: no internal remark.** No ``未填报``, ``数据有误`` or ``待核实`` (an indicator without a
   figure just has no sentence; a department sentence holding one of those words is left out), and
   a project left with nothing to say reads ``暂无进展数据。``.

What an indicator's sentence is made from (``Said``) is taken where the indicator is judged, from
its one assessment; the sentence itself is written when a circular is, from the record. (Reading
every text's figures costs a consolidation a third more time, for a circular it may never make.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from ..model import Flag, IndicatorType, Status
from ..numbers import format_amount
from . import narrative
from .status import Assessment

_END = ("。", "！", "？", "!", "?", ".")
TO_CHECK = "（待核实）"
NOTHING = "暂无进展数据。"  # a project with nothing to say in the public circular
_REMARKS = re.compile(r"未填报|数据有误|待核实")  # the office's words, not for release


class Said(NamedTuple):
    """An indicator of a submitted project as its sentence needs it: plain text, numbers as text.
    Stored as a JSON array; fields added later have defaults, so older records still load."""

    words: str  # the department's 进展情况
    name: str
    type: str  # ``IndicatorType`` value
    unit: str  # 计量单位
    target: str | None
    status: str  # ``Status`` value
    value: str | None
    rate_percent: str | None
    stage: str
    flags: str = ""  # its 标记, joined by 、 (数据存疑, 文字与数据不符, 较上期减少)
    stated: str = ""  # the figure its words state against the data (``Assessment.stated``)

    def text(self) -> str:
        """As JSON (how the record and the run's scratch keep it)."""
        return json.dumps(self, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def of(cls, a: Assessment) -> Said:
        ind = a.indicator
        return cls(a.reported.progress if a.reported else "", ind.name, ind.type.value, ind.unit_of_measure,
                   _text(ind.target), a.status.value, _text(a.value), _text(a.rate_percent), a.stage,
                   "、".join(flag.value for flag in a.flags), a.stated)

    @property
    def doubtful(self) -> bool:
        return Flag.DOUBTFUL.value in self.flags.split("、")

    @property
    def contradicted(self) -> bool:
        return Flag.TEXT_MISMATCH.value in self.flags.split("、")


def _text(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


# --- punctuation ------------------------------------------------------------------------------

_FULL = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）"}
# Chinese beside a mark: ideographs, full-width marks and %, not curly quotes (English has them too).
_CHINESE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uffee%％]")
_HALF = re.compile(r"[,;:!?().]")
_SPACED = re.compile(r"[ \t]*([，；：！？（）。、])[ \t]*")
_CLOSING = "）」』”’》"
_DOUBLED = re.compile(rf"[，、；：][。！？]|[。！？][，、；：。]|[。！？][{_CLOSING}]+[。；，]")
_MARKS = re.compile(r"[，、；：]*([。！？])[，、；：。]*")
_AFTER_CLOSING = re.compile(rf"([。！？][{_CLOSING}]+)[。；，]")


@lru_cache(maxsize=8192)
def punctuate(text: str) -> str:
    """A department's text with the circular's punctuation: half-width ``, ; : ! ? ( )`` and a
    sentence's ``.`` beside Chinese become full-width, doubled end marks one. Never a word or a
    number changed: ``1,234``, ``3.5``, ``10:30``, ``PM2.5`` and ``f(x)`` stay as they are."""
    if not _HALF.search(text):
        return _end_marks(text)
    if not _CHINESE.search(text):
        return text
    out = list(text)
    n = len(text)

    def near(i: int, step: int) -> str:
        j = i + step
        while 0 <= j < n and text[j] in " \t":
            j += step
        return text[j] if 0 <= j < n else ""

    def beside_chinese(i: int) -> bool:
        before, after = near(i, -1), near(i, 1)
        return bool(_CHINESE.match(before) or _CHINESE.match(after) or not after or not before)

    opened: list[int] = []
    for i, c in enumerate(text):
        if c == "(":
            opened.append(i)
        elif c == ")":
            start = opened.pop() if opened else None
            inside = text[start + 1:i] if start is not None else ""
            if _CHINESE.search(inside) or beside_chinese(i) or (start is not None and beside_chinese(start)):
                out[i] = "）"
                if start is not None:
                    out[start] = "（"
        elif c in ",;:!?":
            before, after = near(i, -1), near(i, 1)
            if c in ",:" and before.isascii() and before.isdigit() and after.isascii() and after.isdigit():
                continue  # 1,234 and 10:30
            if c == ":" and after in ("/", "\\"):
                continue  # http://, D:\
            if beside_chinese(i):
                out[i] = _FULL[c]
        elif c == ".":
            before, after = near(i, -1), near(i, 1)
            if (_CHINESE.match(before) and (not after or _CHINESE.match(after) or after in _CLOSING)) or (
                    not after and before):
                out[i] = "。"  # a sentence's full stop, never a decimal point
    for i in opened:  # an unclosed ( beside Chinese
        if beside_chinese(i):
            out[i] = "（"
    return _end_marks(_SPACED.sub(r"\1", "".join(out)))


def _end_marks(text: str) -> str:
    """No doubled end marks: ``。。``, ``；。``, ``，。`` → ``。``; ``。）。`` → ``。）``."""
    if _DOUBLED.search(text):
        text = _MARKS.sub(lambda m: m.group(1), text)
        text = _AFTER_CLOSING.sub(lambda m: m.group(1), text)
    return text.lstrip("，、；：。")


def _ended(text: str) -> str:
    """A text ending a sentence: ``…120%；`` → ``…120%。``; ``（…200万元。）`` as it is."""
    if text.endswith(_END) or re.search(rf"[。！？][{_CLOSING}]+$", text):
        return text
    return text.rstrip("，、；：,;: ") + "。"


def words(texts: Iterable[str]) -> str:
    """The department's 进展情况 of a project's indicators, each once, each ending a sentence, with
    the circular's punctuation (``punctuate``)."""
    kept = dict.fromkeys(punctuate(text.strip()) for text in texts if text.strip())
    return "".join(_ended(w) for w in kept if w)


# --- the cell ---------------------------------------------------------------------------------

def progress(said: Iterable[Said], sentences: bool = True, public: bool = False) -> str:
    """A project's 进展情况 from each of its indicators' ``Said`` (the rules above); without
    ``sentences``, the department's words alone when there are any. ``public``: the circular
    for release."""
    said = list(said)
    text = words(s.words for s in said)
    reading = narrative.read(text)
    marked: list[narrative.Figure] = []  # the department's figures the data do not bear out
    parts = []
    for s, stated in zip(said, narrative.statements(reading, tuple(_subject(s) for s in said))):
        contradicted = bool(stated.conflict) or s.contradicted
        if contradicted:
            marked += stated.disagreeing or _figures_of(reading, s.stated)
        if s.doubtful:
            marked += stated.stating
        part = _sentence(s, stated, text, contradicted, public)
        if part:
            parts.append(part)
    if public:
        text = _without(reading, marked)
    elif marked:
        text = _marked(reading, marked)
    if text and not sentences:
        return text or NOTHING
    cell = _end_marks(text + ("；".join(parts) + "。" if parts else ""))
    return cell or NOTHING


def _subject(s: Said) -> narrative.Subject:
    kind = IndicatorType(s.type)
    rate = _number(s.rate_percent) if kind in (IndicatorType.CUMULATIVE, IndicatorType.MILESTONE) else None
    value = None if kind is IndicatorType.MILESTONE else _number(s.value)
    return narrative.Subject(s.name, kind, s.unit, value, rate)


def _figures_of(reading: narrative.Reading, stated: str) -> list[narrative.Figure]:
    """The figures ``stated`` (``62.3%``, as the narrative check quoted it) in the text."""
    return [f for f in reading.figures if stated and not f.sub_item and f.shown() == stated]


def _marked(reading: narrative.Reading, figures: list[narrative.Figure]) -> str:
    """The text with ``（待核实）`` after the clause of each sentence's last figure to check (before
    a bracket that follows it: ``完成率62.3%（待核实）（其中…）``)."""
    text = reading.text
    ends: dict[int, int] = {}
    for f in figures:
        clause = reading.clauses[f.clause]
        stop = min([clause.end] + [k for k in (text.find("（", f.end, clause.end), text.find("(", f.end, clause.end))
                                   if k != -1])
        ends[clause.sentence] = max(ends.get(clause.sentence, 0), stop)
    for end in sorted(set(ends.values()), reverse=True):
        text = text[:end] + TO_CHECK + text[end:]
    return text


def _without(reading: narrative.Reading, figures: list[narrative.Figure]) -> str:
    """The text without each clause that states a figure to check (``开工312套，完工率62.3%`` keeps
    ``开工312套``) and without each sentence that holds an office remark."""
    text = reading.text
    spans: list[tuple[int, int]] = []
    for f in figures:
        clause = reading.clauses[f.clause]
        start, end = clause.start, clause.end
        if end < len(text) and text[end] in "，,、":  # the clause and the mark after it
            end += 1
        elif start > 0 and text[start - 1] in "，,、":  # the last clause: the mark before it
            start -= 1
        spans.append((start, end))
    for start, end in reading.sentences:
        if _REMARKS.search(text[start:end]):
            spans.append((start, end + 1 if end < len(text) and text[end] in "。；;！!？?\n" else end))
    kept = []
    cursor = 0
    for start, end in sorted(spans):
        if start >= cursor:
            kept.append(text[cursor:start])
        cursor = max(cursor, end)
    kept.append(text[cursor:])
    left = _end_marks("".join(kept))
    return "" if not left.strip("。；，、 ") else left


def _sentence(s: Said, stated: narrative.Statement, text: str, contradicted: bool, public: bool) -> str:
    kind, status = IndicatorType(s.type), Status(s.status)
    if status is Status.NOT_FILLED:
        return "" if public else f"{s.name}未填报"
    if status is Status.DATA_ERROR:
        return "" if public else f"{s.name}填报的数据有误，待核实"
    if kind is IndicatorType.MILESTONE:
        return "" if s.stage and s.stage in text else f"{s.name}处于“{s.stage}”阶段"
    if contradicted:
        return ""  # the department's own figure, marked or left out; the clerk is told (文字与数据不符)
    if s.doubtful and public:
        return ""
    sentence = _computed(s, kind, status, stated)
    return sentence + TO_CHECK if sentence and s.doubtful else sentence


def _computed(s: Said, kind: IndicatorType, status: Status, stated: narrative.Statement) -> str:
    value, rate_percent = _number(s.value), _number(s.rate_percent)
    shown = format_amount(value, s.unit)
    if kind in (IndicatorType.RATE, IndicatorType.CEILING):
        if status is Status.MET:
            return "" if stated.value else f"{s.name}{shown}，{'达到年度目标' if kind is IndicatorType.RATE else '控制在目标以内'}"
        verdict = missed(kind, _number(s.target), s.unit)
        return f"{s.name}{verdict}" if stated.value else f"{s.name}{shown}，{verdict}"
    if stated.value or stated.rate:
        return ""  # the department speaks of it with its own figure, and that figure agrees
    if status is Status.NOT_STARTED or (status is Status.UNFINISHED and not value):  # never 完成0个
        return f"{s.name}尚未启动"
    return f"{s.name}{shown}" + (f"，完成任务{rate_percent}%" if rate_percent is not None else "")


def missed(kind: IndicatorType, target, unit: str) -> str:
    """未达标 said the right way round: a 比率 falls short of its target, a 上限 goes over its cap."""
    if kind is IndicatorType.CEILING:
        return f"超出控制目标{format_amount(target, unit)}"
    return f"未达到年度目标{format_amount(target, unit)}"
