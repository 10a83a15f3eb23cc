"""Targets in a task's text (指标抽取): ``新建改扩建公办幼儿园12所,资助幼儿988人次`` → two proposed
indicators with name, unit, type and yearly target, each keeping the phrase it came from.

A number is a target when a measure word follows it (``12所``, ``1.2万人``, ``一千五百人``,
``95%``). Grammar, not wording, rules out the rest: years and dates (no measure word follows),
ordinals (``第四期``), names in quotes or titles (“六项机制”, 《…》), document numbers (〔2017〕58号),
conditions that describe who qualifies (``年网销额超1000万元的企业``: the measure word is followed by
``的``). What a person must judge is proposed and marked 需核对 with the reason: sub-items after
``其中``, per-capita standards, ranges, approximate figures, increases of a rate, several lead units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..model import IndicatorType

# Measure words after a number, longest first so that 万人次 wins over 万人 and 人.
_MEASURES = (
    "亿元 千元 元 平方米 平方公里 公顷 亩 公里 千米 米 立方米 吨 "
    "千瓦 兆瓦 人次 户 人 名 位 家 所 个百分点 个 座 处 套 间 张 台 辆 艘 条 件 项 剂次 剂 人份 例次 台次 "
    "场次 场 次 册 份 例 床 村 镇 支 块 栋 幢 盏 棵 株 头 只 箱 篇 部 门 班 类 批 % ‰"
).split()
_TIME = ("分钟", "小时", "个工作日", "工作日", "天")  # targets only as limits: 反应时间控制在12分钟以内
# Any measure word may take 万 (1.2万个学位, 20万名); money and areas have their own forms above.
_UNIT = "|".join(sorted([re.escape(m) for m in (*_MEASURES, *_TIME)]
                        + [f"万{re.escape(m)}" for m in _MEASURES if not m.startswith(("万", "亿", "%", "‰"))],
                        key=len, reverse=True))
_CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
_NUMBER = rf"(?:\d{{1,3}}(?:,\d{{3}})+(?![\d])|\d+(?:\.\d+)?|[{_CN_NUMERAL}]+(?:点[{_CN_NUMERAL}]+)?)"
TARGET_RE = re.compile(
    rf"(?P<first>{_NUMBER})(?:\s*(?:-|~|至|到)\s*(?P<second>{_NUMBER}))?\s*(?P<more>余|多)?(?P<unit>{_UNIT}|[万亿][余多](?:{_UNIT}))")
# Measure words that describe a set rather than count what gets done.
_DESCRIPTIVE = {"类", "批", "项", "部", "门", "班", "篇", "个百分点"}
_CAP_RE = re.compile(r"不超过|不高于|控制在|以内|以下|(?<!不)低于|压减至|压缩至|降至|降低到|降到")
_CHANGE_WORDS = ("提高", "增长", "增加", "下降", "降低", "提升", "同比", "高于", "增幅")
_PER_HEAD_RE = re.compile(r"人均|生均|户均|每[\u4e00-\u9fff]|标准(?:提高|提升|为|达到|不低于)|(?:补助|补贴|保障|经费|救助)标准")
_FUNDS_WORDS = ("资金", "投入", "投资", "安排", "筹集", "预算", "经费")
_LEADING = re.compile(r"^(?:\d{4}年度?|我市|全市|全区|全县|本市|年内|全年|今年|年底前?|力争|确保|争取|累计|共|计|并|和|及|"
                      r"以及|同时|其中|为|对|完成|实现|达到|达|约|超过|超|不少于|不低于|至少)+")
_TRAILING = re.compile(r"(?:稳定在|保持在|保持|提高到|提高至|达到|控制在|不低于|不少于|不超过|超过|以上|以下|以内|"
                       r"左右|分别|约|达|为|在|至|到|超|共|计|均|的)+$")
_CLAUSE_SPLIT = re.compile(r"[,，;；。:：!！?？]")


@dataclass
class Proposal:
    """One proposed indicator (拟设指标) of a task."""

    name: str
    unit: str
    type: IndicatorType
    target: Decimal
    phrase: str  # the exact words of the plan the number comes from
    check: str = ""  # 需核对: why a person should look, empty when nothing is doubtful
    funds: bool = False  # a money amount planned for the task (年度计划资金)


def number_value(text: str) -> Decimal | None:
    """``12`` ``1.5`` ``十二`` ``一千五百`` ``两`` → Decimal; anything else None."""
    try:
        return Decimal(text.replace(",", ""))  # 1,200: plans keep thousands separators
    except InvalidOperation:
        pass
    try:
        import cn2an  # imported here: only extract needs it, and it takes 0.15 s to load

        return Decimal(str(cn2an.cn2an(text, "normal")))  # "normal" also reads 两百, 两万
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return None


def _inside(text: str, start: int, opening: str, closing: str) -> bool:
    before = text[:start]
    return before.rfind(opening) > before.rfind(closing)


def _masked(text: str, start: int) -> bool:
    """Inside quotes, a title or a document number: a name, not a target."""
    return (_inside(text, start, "“", "”") or _inside(text, start, "《", "》") or _inside(text, start, "〔", "〕")
            or _inside(text, start, "[", "]"))


# One character for one, so that positions found in the read text are those of the written one.
_HALF_WIDTH = str.maketrans("０１２３４５６７８９％．～－", "0123456789%.~-")


def propose(text: str) -> list[Proposal]:
    """The targets a task's text states, in order; phrases are quoted from ``text`` as written."""
    proposals: list[Proposal] = []
    readable = text.translate(_HALF_WIDTH)
    for match in TARGET_RE.finditer(readable):
        proposal = _proposal(readable, match, text)
        if proposal is not None:
            proposals.append(proposal)
    return proposals


def _proposal(text: str, match: re.Match, written: str) -> Proposal | None:
    start, end = match.start(), match.end()
    first, unit = match.group("first"), match.group("unit")
    approximate = bool(match.group("more"))  # 5000余人
    if unit[1:2] in ("余", "多"):  # 3万余户: an approximate 3 万户
        unit, approximate = unit[0] + unit[2:], True
    before, after = text[max(0, start - 12):start], text[end:end + 6]
    if (before.endswith(("第", "每", "这", "那", "哪", "单")) or re.search(r"(?<![底日月年号])前$", before)
            or _masked(text, start)):
        return None  # 第四期, 每个县区, 前三季度 (but 年底前10家): not amounts
    value = number_value(first)
    if value is None:
        return None
    if first[0] in _CN_NUMERAL and value < 10 and unit in ("个", "项", "条", "次", "批", "类"):
        return None  # 三个环节, 两个确保, 一批: words, not counts to report on
    if after.startswith("的") or text[end:end + 3].startswith(("以上的", "以下的")):
        return None  # 年网销额超1000万元的企业: who qualifies, not what gets done
    clause_start = max((m.end() for m in _CLAUSE_SPLIT.finditer(text, 0, start)), default=0)
    clause_end_match = _CLAUSE_SPLIT.search(text, end)
    clause_end = clause_end_match.start() if clause_end_match else len(text)
    at_clause_end = re.fullmatch(r"\s*(?:以上|左右)?\s*", text[end:clause_end]) is not None
    if unit in _DESCRIPTIVE and not at_clause_end and not re.search(
            r"(?:实施|建设|完成|办理|开展|举办|新建|创建|打造|推出|培育|不少于|达到|超过|共)$", before):
        return None  # 12类重点人群, 71项重点任务 — but 加装电梯不少于150部 counts
    if unit in _TIME and not _CAP_RE.search(text[clause_start:clause_end]) and "缩短" not in text[clause_start:start]:
        return None  # 24小时服务, 15分钟生活圈: not limits to report on
    if re.match(r"(?:岁|级|周岁|年|月|日|号|期|届|轮|倍|时)", after):
        return None
    clause = text[clause_start:clause_end]
    sentence_start = max(text.rfind("。", 0, start), text.rfind("；", 0, start), text.rfind(";", 0, start))
    if re.search(r"(?<!较)(?:去年|上年度?|上一年)", text[sentence_start + 1:start]):
        return None  # 去年全市共保障低保对象3.1万人: what was done, not what is to be done
    if re.match(rf"[^,，;；。]*?的[^,，;；。]*?{_NUMBER}\s*%", text[end:clause_end]):
        return None  # 5个省级中心村……工程进度的70%: the count says what the rate is of
    checks = []
    if "其中" in text[sentence_start + 1:start]:
        checks.append("是“其中”后的分项，可能已含在前面的总数里")
    if match.group("second"):
        checks.append("原文是一个范围，取了下限")
    if approximate or re.search(r"[约近]", text[max(clause_start, start - 3):start]) or "左右" in text[end:end + 2]:
        checks.append("原文是约数")
    kind = IndicatorType.CUMULATIVE
    # 分别不超过0.3万元、0.5万元和1万元: a qualifier before the first item holds for the list.
    if _CAP_RE.search(text[clause_start:min(clause_end, end + 6)]):
        kind = IndicatorType.CEILING
        if unit not in ("%", "‰"):
            checks.append("看作不能超过的上限，请确认")
    elif unit in ("%", "‰"):
        kind = IndicatorType.RATE
    if unit in ("%", "‰", "个百分点") and any(w in text[max(clause_start, start - 8):start] for w in _CHANGE_WORDS):
        checks.append("是增减幅度，不是要达到的水平")
    money = unit in ("元", "千元", "万元", "亿元")
    per_head = (bool(_PER_HEAD_RE.search(clause[: start - clause_start])) or (unit == "元" and value < 10000)
                or re.match(r"\s*/\s*[\u4e00-\u9fff]", text[end:end + 3]) is not None)  # 3.5万元/户
    if per_head:
        checks.append("是人均、每单位的标准或补助标准，不是全年任务总量")
    left, right = _segment(text, clause_start, clause_end, start, end)
    return Proposal(name=_name(text, clause_start, left, right, start, end), unit=unit,
                    type=kind, target=value, phrase=written[left:right].strip(), check="；".join(checks),
                    funds=money and not per_head and any(w in clause for w in _FUNDS_WORDS))


def _segment(text: str, clause_start: int, clause_end: int, start: int, end: int) -> tuple[int, int]:
    """The part of the clause that holds the number: split at a 、 only where it separates targets
    (7个图书馆、6个文化馆), not inside a noun (补充中小学、幼儿园教师6000名) or quotes."""
    left = clause_start
    for mark in _list_marks(text, clause_start, start):
        if TARGET_RE.search(text, left, mark):
            left = mark + 1
    right = clause_end
    for mark in _list_marks(text, end, clause_end):
        if TARGET_RE.search(text, mark, clause_end):
            right = mark
            break
    return left, right


def _list_marks(text: str, begin: int, stop: int) -> list[int]:
    return [i for i in range(begin, stop) if text[i] == "、" and not _masked(text, i)]


def _name(text: str, clause_start: int, left: int, right: int, start: int, end: int) -> str:
    head = text[left:start]
    tail = text[end:right]
    if left > clause_start and not head.strip():
        # 7个公共图书馆、6个文化馆: the verb of the list's first item belongs to every item.
        first = text[clause_start:_list_marks(text, clause_start, start)[0]]
        number = TARGET_RE.search(first)
        head = _LEADING.sub("", first[: number.start()]) if number else ""
    head = _TRAILING.sub("", _LEADING.sub("", head.strip()))
    tail = _LEADING.sub("", _TRAILING.sub("", tail.strip()))
    tail = re.sub(r"^(?:以上|以下|以内|左右)", "", tail)
    name = re.sub(r"\s+", "", head + tail)
    name = _balanced(name)
    return name[:30] if len(name) >= 3 else ""


def _balanced(name: str) -> str:
    """Drop what a cut left of a bracket or quote: ``园区)卫生厕所普及率`` → ``卫生厕所普及率``."""
    for opening, closing in (("(", ")"), ("（", "）"), ("“", "”")):
        cut = name.find(closing)
        if cut >= 0 and opening not in name[:cut]:
            name = name[cut + 1:]
        cut = name.rfind(opening)
        if cut >= 0 and closing not in name[cut:]:
            name = name[:cut]
    return name.strip()
