"""What a department's own words say (文字核对, formats §6 and §4): the figures in its 进展情况.

One reading of the text serves two readers. The narrative check flags a completion percentage the
department typed that disagrees with the computed one (``文字与数据不符``); the circular leaves out
of its computed sentence every figure the text already states, and never sets a second, different
figure beside the department's.

What counts: ``完成任务80%`` is a completion share; for a rate (比率/上限) ``参保率92.3%`` is the level
itself; figures after ``其中`` or in brackets are sub-items (``甲县完成率75%``) and never count;
``1.02万人`` states 10193 people to its written precision; years, months and days are no figures.
When a text reports several indicators, a figure belongs to the one its sentence names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from ..model import IndicatorType

_SCALE = {"万": Decimal(10) ** 4, "亿": Decimal(10) ** 8, "千": Decimal(10) ** 3}
_NUMBER = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*([万亿千])?\s*([%％])?")
_SENTENCES = re.compile(r"[^。；;！!？?\n]+")
_DATE_WORDS = ("年", "月", "日", "号", "时", "季度", "周", "批", "期", "类", "项", "级", "届", "版")
_COMPLETION = re.compile(r"完成|进度|序时|执行率|拨付率|到位率")
AGREE_POINTS = Decimal(1)  # a stated completion share within one point is the same figure, rounded


@dataclass(frozen=True)
class Figure:
    """A number in a text: its value (万 applied), how exactly it is written, and where it stands."""

    value: Decimal
    tolerance: Decimal  # half a unit of the last written digit, 万 applied: 1.02万 is 10150–10250
    percent: bool
    after: str  # the text right after the number (its unit, if any)
    sentence: str  # the sentence it stands in
    before: str  # the sentence's text before it
    sub_item: bool  # after 其中, or in brackets

    @property
    def completion(self) -> bool:
        """A share of the target (完成任务80%, 完成率61.9%), not a level (参保率92.3%)."""
        return self.percent and bool(_COMPLETION.search(self.before[-12:]))


@lru_cache(maxsize=4096)
def read_figures(text: str) -> tuple[Figure, ...]:
    """The figures of a department's text, in order (the same texts come back row after row)."""
    figures = []
    for sentence_match in _SENTENCES.finditer(text):
        sentence = sentence_match.group()
        for m in _NUMBER.finditer(sentence):
            digits, fraction, scale, percent_sign = m.groups()
            after = sentence[m.end():m.end() + 6]
            if not percent_sign and not scale and after.startswith(_DATE_WORDS):
                continue  # 2020年, 6月底, 12类: no quantity of the indicator
            number = Decimal(digits.replace(",", "") + (fraction or ""))
            step = Decimal(1).scaleb(-len(fraction) + 1) if fraction else Decimal(1)
            factor = _SCALE.get(scale, Decimal(1))
            # An integer written in full is exact; 1.02万 is as exact as its last digit.
            tolerance = (step / 2) * factor if (fraction or scale) else Decimal(0)
            before = sentence[:m.start()]
            figures.append(Figure(number * factor, tolerance, bool(percent_sign), after, sentence, before,
                                  _in_sub_item(sentence, m.start())))
    return tuple(figures)


def _in_sub_item(sentence: str, at: int) -> bool:
    head = sentence[:at]
    if "其中" in head:
        return True
    opened = max(head.rfind("（"), head.rfind("("))
    closed = max(head.rfind("）"), head.rfind(")"))
    return opened > closed


@dataclass(frozen=True)
class Statement:
    """What a text says about one indicator."""

    value: bool = False  # it states the value (612人次, 1.02万人, 参保率92.3%)
    rate: bool = False  # it states the completion share (完成任务61.9%, within a point)
    conflict: str = ""  # a completion share it states that disagrees (``80%``), for the clerk


def statement(figures: tuple[Figure, ...], name: str, kind: IndicatorType, unit: str, value: Decimal | None,
              rate_percent: Decimal | None, others: tuple[str, ...] = ()) -> Statement:
    """What ``figures`` say about the indicator ``name`` (value ``value``, completion ``rate_percent``).
    ``others`` are the names of the other indicators the same text may report on."""
    mine = [f for f in figures if not f.sub_item and _belongs(f.sentence, name, others)]
    stated_value = value is not None and any(_states_value(f, kind, unit, value) for f in mine)
    stated_rate, conflict = False, ""
    if kind in (IndicatorType.RATE, IndicatorType.CEILING):
        # The level itself (参保率92.3%) is compared with the value typed in the form.
        levels = [f for f in mine if f.percent] if unit == "%" and value is not None else []
        if levels and not stated_value:
            conflict = _shown(levels[0])
    elif rate_percent is not None:
        shares = [f for f in mine if f.completion]
        stated_rate = any(abs(f.value - rate_percent) <= AGREE_POINTS for f in shares)
        if shares and not stated_rate:
            conflict = _shown(shares[0])
    return Statement(stated_value, stated_rate, conflict)


def _belongs(sentence: str, name: str, others: tuple[str, ...]) -> bool:
    """A sentence is about the indicator whose name it shares most two-character words with
    (新建幼儿园6所 → 新建改扩建公办幼儿园); one that shares none is about all of them."""
    if not others:
        return True
    scores = _scores(sentence, others if name in others else (*others, name))
    best = max(scores.values())
    return best == 0 or scores[name] == best


@lru_cache(maxsize=1024)
def _scores(sentence: str, names: tuple[str, ...]) -> dict[str, int]:
    return {name: sum(1 for pair in _pairs(name) if pair in sentence) for name in names}


@lru_cache(maxsize=1024)
def _pairs(name: str) -> frozenset[str]:
    core = re.sub(r"[（(].*?[）)]", "", name)
    return frozenset(core[i:i + 2] for i in range(len(core) - 1))


def _states_value(f: Figure, kind: IndicatorType, unit: str, value: Decimal) -> bool:
    if unit == "%":  # a rate's level (参保率92.3%) states its value, however it is worded
        return f.percent and abs(f.value - value) <= max(f.tolerance, Decimal("0.05"))
    if f.percent or kind is IndicatorType.MILESTONE:
        return False  # a completion share never states a count
    # Units such as 万元 or 千米 count in ten thousands or thousands: 1200万元 is 1200 of them.
    scaled = unit[:1] in _SCALE and len(unit) > 1
    factor, base = (_SCALE[unit[0]], unit[1:]) if scaled else (Decimal(1), unit)
    if abs(f.value / factor - value) > f.tolerance / factor:
        return False
    # The same number with the indicator's unit after it (or its first character: 461人 for 人次),
    # or with no unit at all: 612人次, 1.02万人次, 612.
    return f.after.startswith(base[:1] or base) or not re.match(r"[^\s，,。；;、）)]", f.after)


def _shown(f: Figure) -> str:
    number = f.value.normalize()
    return f"{number:f}%"
