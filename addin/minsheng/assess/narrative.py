"""What a department's own words say (文字核对, formats §4 and §6): the figures in its 进展情况.

One reading of the text serves two readers. The narrative check flags a completion percentage the
department typed that disagrees with the computed one (``文字与数据不符``); the circular's annex
leaves out the computed sentence of every indicator whose figures the text already states, never
sets a second, different figure beside the department's, and knows which of the department's
sentences state a figure the data do not bear out.

What counts as a figure: ``23268``, ``1,234``, ``2.33万``, ``62.3%``, Chinese numerals with a unit
after them (``二十六场``, ``两万户``), ``百分之八十``. Years, months and days are no figures, nor
are ids such as ``7-1``. A figure is as exact as it is written: ``2.33万户`` states 23268 households
(23250–23350), ``2.3万户`` does too; ``23268户`` states 23268 and nothing else.

Whose figure it is: the text is read sentence by sentence (``。；！？``) and clause by clause
(``，``). A clause is about

1. the indicators whose name it holds word for word (``新建社区体育俱乐部3个``); else
2. the indicators whose value it states in their unit (``农村公路养护提升工程完工44.3公里`` is
   about 县乡公路大中修 when that is the indicator at 44.3公里, whatever the department calls it);
3. else the indicators whose name it shares most two-character words with (``新建幼儿园6所`` →
   新建改扩建公办幼儿园; words every name may hold, 完成 任务 工程…, decide nothing, and a tie goes to
   the one the clause before is about: ``…新型职业农民培训1054人，培训完成率30.9%``); else
4. the indicator of the clause before it in the same sentence (``…44.3公里，完工率62.3%``); else
5. the indicators whose completion share it states (``培训完成率30.9%``); else every indicator.

A clause's figures are then read for each indicator it is about:

- a value: the indicator's value in its unit (or, written in digits, with no unit at all); the same
  number with another unit word (``26场`` for 26次) counts only in a clause that names the indicator
  (rule 1 or 3); a count after 目标 or 计划 (``控制目标0.3万元``) is the target, never the value;
- for a 累计 indicator, a completion share (``完成任务62.3%``, ``完成率``, ``完工率``, ``完成年度任务的``…):
  the same as the computed 完成率 at one decimal, or a disagreement (62.3 against 62.4, 98 against
  97.7, 132.1 against 132.0: ``文字与数据不符``);
- for a 比率/上限 indicator counted in %, any percentage is the level itself (``参保率92.3%``),
  compared with the value typed, at one decimal.

Figures after ``其中`` or in brackets are sub-items (``甲县完成率75%``) and never count.

The narrative check (``status.text_conflict``) knows only its own indicator's figures and the other
indicators' names; the circular knows every indicator's figures of a project, so rule 2 there can
tell two indicators of the same value apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple

from ..model import IndicatorType

_SCALE = {"万": Decimal(10) ** 4, "亿": Decimal(10) ** 8, "千": Decimal(10) ** 3}
# Arabic figures; not a part of an id (7-1), a code (PM2.5's 2 is read, harmlessly) or a per-unit (/10万).
_NUMBER = re.compile(r"(?<![\d./\-])(\d{1,3}(?:,\d{3})+(?!\d)|\d+)(\.\d+)?(?![\d-])\s*(余)?([万亿千])?\s*([%％])?")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_PLACES = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10 ** 4, "亿": 10 ** 8}
_CHINESE = re.compile(r"(百分之)?([零〇一二两三四五六七八九十百千万亿]+(?:点[零〇一二三四五六七八九]+)?)")
_SENTENCES = re.compile(r"[^。；;！!？?\n]+")
_CLAUSES = re.compile(r"[^，,]+")
_DATE_WORDS = ("年", "月", "日", "号", "时", "季度", "周", "批", "期", "类", "项", "级", "届", "版", "是", "次会")
# Words that make a percentage a share of the target, in the dozen characters before it.
_COMPLETION = re.compile(r"完成|完工|竣工|开工率|建成率|进度|序时|执行率|拨付率|到位率|任务|目标|计划")
# Two-character words every indicator's sentence may hold: no evidence of which one it is.
_COMMON = frozenset({"完成", "任务", "年度", "目标", "全年", "截至", "累计", "工作", "进展", "推进", "实施",
                     "开展", "工程", "项目", "情况", "当年", "本年", "今年"})
_CHANGE = re.compile(r"增长|下降|提高|降低|减少|增加|上升|同比|环比|增幅|降幅|占比")  # a change or a part, no share
_TARGET = re.compile(r"(目标|计划)(任务|值|数|投资|资金|建设|新建|完成)?(为|是|的)?$")
_ONE_DECIMAL = Decimal("0.1")


def one_decimal(number: Decimal) -> Decimal:
    """A percentage as a circular shows it: one decimal, half-up."""
    return number.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


class Figure(NamedTuple):
    """A number in a text: its value (万 applied), how exactly it is written, and where it stands."""

    value: Decimal
    tolerance: Decimal  # half a unit of the last written digit, 万 applied: 1.02万 is 10150–10250
    percent: bool
    after: str  # the text right after the number (its unit, if any)
    sentence: str  # the sentence it stands in
    before: str  # the sentence's text before it
    sub_item: bool  # after 其中, or in brackets
    start: int = 0  # where it stands in the text
    end: int = 0
    clause: int = 0  # which clause of the text (``Reading.clauses``) holds it
    arabic: bool = True  # written in digits (a Chinese numeral needs a unit after it to state a value)

    @property
    def completion(self) -> bool:
        """A share of the target (完成任务80%, 完成率61.9%), not a level (参保率92.3%)."""
        return (self.percent and bool(_COMPLETION.search(self.before[-12:]))
                and not _CHANGE.search(self.before[-6:]))

    @property
    def target(self) -> bool:
        """A count after 目标 or 计划 (``控制目标0.3万元``, ``计划投资2000万元``): the target, not the value."""
        return not self.percent and bool(_TARGET.search(self.before[-8:]))

    @property
    def unit_word(self) -> str:
        """What follows the number, without 余 or 多: ``户`` of ``2.3万余户``."""
        return self.after.lstrip("余多 ")

    def shown(self) -> str:
        """The figure as a message quotes it: ``80%``."""
        number = self.value.normalize()
        return f"{number:f}%" if self.percent else f"{number:f}"


class Clause(NamedTuple):
    start: int
    end: int
    sentence: int  # which sentence of the text
    text: str


@dataclass(frozen=True)
class Reading:
    """A text read once: its sentences and clauses (spans) and its figures."""

    text: str
    sentences: tuple[tuple[int, int], ...]
    clauses: tuple[Clause, ...]
    figures: tuple[Figure, ...]


@lru_cache(maxsize=4096)
def read(text: str) -> Reading:
    """The sentences, clauses and figures of a department's text (the same texts come back row after row)."""
    sentences, clauses, figures = [], [], []
    for sentence_match in _SENTENCES.finditer(text):
        s_start, sentence = sentence_match.start(), sentence_match.group()
        number = len(sentences)
        sentences.append((s_start, sentence_match.end()))
        first = len(clauses)
        for clause in _CLAUSES.finditer(sentence):
            clauses.append(Clause(s_start + clause.start(), s_start + clause.end(), number, clause.group()))
        found = [*_arabic(sentence), *_chinese(sentence)]
        for start, end, value, tolerance, percent, arabic in sorted(found, key=lambda f: f[0]):
            after = sentence[end:end + 6]
            at = s_start + start
            clause = next(i for i in range(first, len(clauses)) if clauses[i].start <= at < clauses[i].end)
            figures.append(Figure(value, tolerance, percent, after, sentence, sentence[:start],
                                  _in_sub_item(sentence, start), at, s_start + end, clause, arabic))
    return Reading(text, tuple(sentences), tuple(clauses), tuple(figures))


def read_figures(text: str) -> tuple[Figure, ...]:
    """The figures of a department's text, in order."""
    return read(text).figures


def _arabic(sentence: str):
    for m in _NUMBER.finditer(sentence):
        digits, fraction, _, scale, percent_sign = m.groups()
        after = sentence[m.end():m.end() + 6]
        if not percent_sign and not scale and after.startswith(_DATE_WORDS):
            continue  # 2020年, 6月底, 12类: no quantity of the indicator
        number = Decimal(digits.replace(",", "") + (fraction or ""))
        step = Decimal(1).scaleb(-len(fraction) + 1) if fraction else Decimal(1)
        factor = _SCALE.get(scale, Decimal(1))
        # An integer written in full is exact; 1.02万 is as exact as its last digit.
        tolerance = (step / 2) * factor if (fraction or scale) else Decimal(0)
        yield m.start(), m.end(), number * factor, tolerance, bool(percent_sign), True


def _chinese(sentence: str):
    for m in _CHINESE.finditer(sentence):
        percent, numeral = m.groups()
        if not any(c in _CN_DIGITS for c in numeral.split("点")[0]) and not numeral.startswith("十"):
            continue  # 万一, 千万, 百姓: no number
        if len(numeral) == 1 and not percent and numeral in "一两":
            continue  # 一是, 一批, 两委: words, not counts
        if m.start() and sentence[m.start() - 1] in "第周星":
            continue  # 第三, 周五, 星期一
        after = sentence[m.end():m.end() + 6]
        if not percent and after.startswith(_DATE_WORDS):
            continue  # 二〇二〇年, 六月
        parsed = _chinese_value(numeral)
        if parsed is None:
            continue
        value, tolerance = parsed
        yield m.start(), m.end(), value, tolerance, bool(percent), False


def _chinese_value(numeral: str) -> tuple[Decimal, Decimal] | None:
    """``二十六`` → 26, ``两万`` → 20000 (as exact as 2万: ±5000), ``六十二点三`` → 62.3."""
    whole, _, fraction = numeral.partition("点")
    total = section = digit = 0
    last_place = 1
    for c in whole:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
            last_place = 1
        elif c in _CN_PLACES:
            section += (digit or 1) * _CN_PLACES[c]
            digit, last_place = 0, _CN_PLACES[c]
        elif c in _CN_BIG:
            section += digit
            total += (section or 1) * _CN_BIG[c]
            section = digit = 0
            last_place = _CN_BIG[c]
    value = Decimal(total + section + digit)
    if fraction:
        value += Decimal("0." + "".join(str(_CN_DIGITS[c]) for c in fraction))
        return value, Decimal(0)
    # 两万, 三千: a round number written so is as exact as its last place; 二十六, 一百 are exact.
    tolerance = Decimal(last_place) / 2 if last_place >= 1000 and whole[-1] in "千万亿" else Decimal(0)
    return value, tolerance


def _in_sub_item(sentence: str, at: int) -> bool:
    head = sentence[:at]
    if "其中" in head:
        return True
    opened = max(head.rfind("（"), head.rfind("("))
    closed = max(head.rfind("）"), head.rfind(")"))
    return opened > closed


class Subject(NamedTuple):
    """An indicator as its text is read: its name and, where known, its figures."""

    name: str
    kind: IndicatorType
    unit: str
    value: Decimal | None = None
    rate_percent: Decimal | None = None  # 完成率, for 累计 indicators


@dataclass(frozen=True)
class Statement:
    """What a text says about one indicator."""

    value: bool = False  # it states the value (612人次, 1.02万人, 参保率92.3%)
    rate: bool = False  # it states the completion share (完成任务61.9%)
    conflict: str = ""  # a figure it states that disagrees (``80%``), for the clerk
    stating: tuple[Figure, ...] = ()  # the figures that state the value or the share
    disagreeing: tuple[Figure, ...] = ()  # the figures that disagree


def statement(text: Reading | str, name: str, kind: IndicatorType, unit: str,
              value: Decimal | None, rate_percent: Decimal | None,
              others: tuple[str | Subject, ...] = ()) -> Statement:
    """What a text says about the indicator ``name`` (value ``value``, completion ``rate_percent``).
    ``others``: the other indicators the same text may report on, by name, or with their figures
    (a ``Subject``: then a clause stating their value is theirs, not this one's)."""
    return statements(text, _subjects(Subject(name, kind, unit, value, rate_percent), others))[0]


def statements(text: Reading | str, subjects: tuple[Subject, ...]) -> list[Statement]:
    """What a text says about each of ``subjects``: the indicators of one project, with their figures."""
    reading = text if isinstance(text, Reading) else read(text)
    about = _about(reading, subjects)
    return [_statement(reading, about, i, me) for i, me in enumerate(subjects)]


def _statement(reading: Reading, about: list, i: int, me: Subject) -> Statement:
    _, kind, unit, value, rate_percent = me
    stating, disagreeing = [], []
    stated_value = stated_rate = False
    shares: list[Figure] = []
    levels: list[Figure] = []
    for f in reading.figures:
        if f.sub_item:
            continue
        whose, how = about[f.clause]
        if whose is not None and i not in whose:
            continue
        if value is not None and _states_value(f, me, loosely=how == "name"):
            stated_value = True
            stating.append(f)
        if kind in (IndicatorType.RATE, IndicatorType.CEILING):
            if unit == "%" and value is not None and f.percent:
                levels.append(f)
        elif rate_percent is not None and f.completion:
            shares.append(f)
    if levels and not stated_value:
        disagreeing = levels
    if shares:
        agreeing = [f for f in shares if one_decimal(f.value) == rate_percent]
        stated_rate = bool(agreeing)
        stating += agreeing
        if not agreeing:
            disagreeing = shares
    conflict = disagreeing[0].shown() if disagreeing else ""
    return Statement(stated_value, stated_rate, conflict, tuple(sorted(stating, key=lambda f: f.start)),
                     tuple(disagreeing))


def _subjects(me: Subject, others: tuple[str | Subject, ...]) -> tuple[Subject, ...]:
    """``me`` first, then the others (once each, never ``me`` again)."""
    out = [me]
    for other in others:
        subject = other if isinstance(other, Subject) else Subject(other, IndicatorType.CUMULATIVE, "")
        if subject.name != me.name and all(subject.name != s.name for s in out):
            out.append(subject)
    return tuple(out)


def _about(reading: Reading, subjects: tuple[Subject, ...]) -> list[tuple[frozenset[int] | None, str]]:
    """For each clause: which of ``subjects`` (by index; None for all) it is about, and how that was
    decided (``name``, ``value``, ``before``, ``share``, ``all``)."""
    if len(subjects) == 1:
        return [(None, "name")] * len(reading.clauses)
    by_clause: dict[int, list[Figure]] = {}
    for f in reading.figures:
        if not f.sub_item:
            by_clause.setdefault(f.clause, []).append(f)
    cores = [_core(s.name) for s in subjects]
    pairs = [_pairs(s.name) for s in subjects]
    out: list[tuple[frozenset[int] | None, str]] = []
    for i, clause in enumerate(reading.clauses):
        figures = by_clause.get(i, [])
        named = frozenset(j for j, core in enumerate(cores) if core in clause.text)
        if named:
            out.append((named, "name"))
            continue
        valued = frozenset(j for j, s in enumerate(subjects)
                           if s.value is not None and any(_states_value(f, s, loosely=False) for f in figures))
        scores = [sum(1 for pair in mine if pair in clause.text) for mine in pairs]
        if valued:
            best = max(scores[j] for j in valued)
            out.append((frozenset(j for j in valued if scores[j] == best), "value"))
            continue
        best = max(scores)
        before = out[-1][0] if out and i and reading.clauses[i - 1].sentence == clause.sentence else ()
        if best > 0:
            named = frozenset(j for j, score in enumerate(scores) if score == best)
            # Words several names share (培训) decide nothing when the clause before named one of them.
            if len(named) > 1 and before and named & before:
                named = named & before
            out.append((named, "name"))
            continue
        if before != ():
            out.append((before, "before"))
            continue
        shared = frozenset(j for j, s in enumerate(subjects) if s.rate_percent is not None and any(
            f.completion and one_decimal(f.value) == s.rate_percent for f in figures))
        out.append((shared, "share") if shared else (None, "all"))
    return out


@lru_cache(maxsize=1024)
def _core(name: str) -> str:
    return re.sub(r"[（(].*?[）)]", "", name).strip() or name


@lru_cache(maxsize=1024)
def _pairs(name: str) -> frozenset[str]:
    core = _core(name)
    return frozenset(core[i:i + 2] for i in range(len(core) - 1)) - _COMMON


def per_unit(unit: str) -> str:
    """How a per-so-many unit follows its number: ``1/10万`` → ``/10万`` (13/10万)."""
    return unit[1:] if unit.startswith("1/") else unit


def _states_value(f: Figure, s: Subject, loosely: bool) -> bool:
    """Whether ``f`` states ``s``'s value. ``loosely``: the clause names the indicator, so the same
    number with another unit word (``26场`` for 26次) states it too."""
    value, unit = s.value, s.unit
    if value is None:
        return False
    if unit == "%":  # a rate's level (参保率92.3%) states its value, however it is worded
        return f.percent and (one_decimal(f.value) == one_decimal(value)
                              or abs(f.value - value) <= f.tolerance)
    if f.percent or f.target or s.kind is IndicatorType.MILESTONE:
        return False  # a completion share never states a count, nor does the target
    # Units such as 万元 or 千米 count in ten thousands or thousands: 1200万元 is 1200 of them.
    scaled = unit[:1] in _SCALE and len(unit) > 1
    factor, base = (_SCALE[unit[0]], unit[1:]) if scaled else (Decimal(1), per_unit(unit))
    if abs(f.value / factor - value) > f.tolerance / factor:
        return False
    word = f.unit_word
    # The same number with the indicator's unit after it (or its first character: 461人 for 人次),
    # or, written in digits, with no unit at all: 612人次, 1.02万人次, 612.
    if word.startswith(base[:1] or base) or (f.arabic and not re.match(r"[^\s，,。；;、）)]", word)):
        return True
    return loosely and bool(re.match(r"[^\W\d_]", word))
