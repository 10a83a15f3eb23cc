"""Reading numbers as people type them into Excel or WPS (数值识别).

``parse_value`` turns a cell's content into a ``Decimal``. What it can read without guessing it
reads, and says in ``notice`` what it changed (``12所`` → 12, ``1.2万`` → 12000); what it cannot
read comes back with ``error`` set and no value. It never raises for user input.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .cells import cell_text

# Cells that mean "nothing reported" rather than zero.
_PLACEHOLDERS = {"-", "--", "—", "——", "/", "\\", "无", "暂无", "空", "n/a", "na", "null"}
# Words people put before a number that do not change it.
_HEDGES = ("大约", "约为", "约", "近", "累计", "共计", "共", "达到", "达")
_MULTIPLIERS = {"千": Decimal(10) ** 3, "万": Decimal(10) ** 4, "亿": Decimal(10) ** 8}
# Full-width ASCII (what a Chinese input method types: １２，％) and the ideographic space; not
# NFKC, which would also make ² or ① a digit.
_HALF_WIDTH = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}
_NUMBER_RE = re.compile(r"^[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$")  # ASCII digits only


@dataclass(frozen=True)
class Parsed:
    """The outcome of reading one cell: a value, nothing (未填), or an error."""

    value: Decimal | None = None
    notice: str = ""  # what was corrected, for the problem list
    error: str = ""  # why it could not be read; value is None then

    @property
    def empty(self) -> bool:
        return self.value is None and not self.error


def to_decimal(number: int | float) -> Decimal:
    """An exact Decimal for a number read from a workbook (shortest repr of the float)."""
    if isinstance(number, int):
        return Decimal(number)
    result = Decimal(repr(number))
    return tidy(result)


def tidy(value: Decimal) -> Decimal:
    """Drop a meaningless fractional zero: 12.0 → 12, keep 12.50 → 12.5."""
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def _unit_scale(unit_of_measure: str) -> tuple[Decimal, str]:
    """Split a unit like ``万人`` into its multiplier (10⁴) and base (``人``)."""
    for word, factor in _MULTIPLIERS.items():
        if unit_of_measure.startswith(word) and len(unit_of_measure) > 1:
            return factor, unit_of_measure[len(word):]
    return Decimal(1), unit_of_measure


# Excel keeps 15 significant digits; anything this large is a typing accident (or hostile), and
# would overflow a float on its way into the consolidated workbook.
TOO_LARGE = Decimal(10) ** 15


def parse_value(raw: object, unit_of_measure: str = "") -> Parsed:
    """Read one cell's content as a non-negative number in the register's unit of measure."""
    if raw is None or raw == "":
        return Parsed()
    if isinstance(raw, bool):
        return Parsed(error=f"“{cell_text(raw)}”是逻辑值（是/否），不是数字，请填写数字")
    if isinstance(raw, (dt.date, dt.time, dt.timedelta)):
        return Parsed(error=f"“{cell_text(raw)}”是日期或时间，不是数字；可能是 Excel 把输入识别成了日期，"
                            f"请把单元格格式改为“常规”后重新填写数字")
    if isinstance(raw, (int, float)):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return Parsed(error="单元格中是无穷大或无效的数值，请重新填写数字")
        return _checked(to_decimal(raw), cell_text(raw))
    if not isinstance(raw, str):
        return Parsed(error=f"“{shown(cell_text(raw))}”不是数字，请填写数字")
    return _parse_text(raw, unit_of_measure)


def _checked(value: Decimal, shown: str, notice: str = "") -> Parsed:
    if value < 0:
        return Parsed(error=f"“{shown}”是负数，累计完成数不能为负，请改正")
    if value >= TOO_LARGE:
        return Parsed(error=f"“{shown}”数值过大（超过 15 位数字），请核对后重新填写")
    return Parsed(value, notice=notice)


_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")  # zero-width and soft hyphens
_SPLIT_DIGITS = re.compile(r"[0-9.,]\s+[0-9]")
_UNIT_LIKE = re.compile(r"^(%|[^\W\d_]+)$")  # letters of any script, or a percent sign


def shown(text: str, limit: int = 40) -> str:
    """A cell's text as a message quotes it: long texts cut."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_text(raw: str, unit_of_measure: str) -> Parsed:
    quoted = shown(raw)
    changes = []
    cleaned = _INVISIBLE.sub("", raw)
    if cleaned != raw:
        changes.append("去掉了看不见的字符")
    normal = cleaned.translate(_HALF_WIDTH).strip()
    if normal == "":
        return Parsed()
    if "".join(normal.split()).lower() in _PLACEHOLDERS:
        return Parsed(notice=f"“{quoted}”按未填处理；如已有完成数请填写数字")
    if normal != cleaned.strip():
        changes.append("全角字符换成了半角")
    if _SPLIT_DIGITS.search(normal):
        return Parsed(error=f"“{quoted}”中的数字被空格隔开，无法确定是一个数还是几个数，请只填写一个数字")
    text = "".join(normal.split())
    if text != normal:
        changes.append("去掉了空格")
    for hedge in _HEDGES:
        if text.startswith(hedge) and len(text) > len(hedge):
            text = text[len(hedge):]
            changes.append(f"去掉了“{hedge}”")
            break

    unit_factor, unit_base = _unit_scale(unit_of_measure)
    number_part, suffix = _split_suffix(text)
    if re.fullmatch(r"[+-]?\.[0-9]+", number_part):  # .5, as a calculator would take it
        number_part = number_part.replace(".", "0.", 1)
        changes.append("补上了小数点前的 0")
    elif re.fullmatch(r"[+-]?[0-9]+\.", number_part):
        number_part = number_part[:-1]
        changes.append("去掉了末尾的小数点")
    if not number_part or not _NUMBER_RE.match(number_part) or (suffix and not _UNIT_LIKE.match(suffix)):
        if number_part and "," in number_part and _NUMBER_RE.match(number_part.replace(",", "")):
            return Parsed(error=f"“{quoted}”的千位分隔符位置不对，无法确定数值，请只填写数字")
        return Parsed(error=f"“{quoted}”不是数字，请只填写阿拉伯数字（如 12）")
    value = Decimal(number_part.replace(",", ""))
    if "," in number_part:
        changes.append("去掉了千位分隔符")
    if value < 0:
        return _checked(value, quoted)

    if suffix:
        scaled = _apply_suffix(value, suffix, unit_of_measure, unit_factor, unit_base)
        if scaled is None:
            unit = unit_of_measure or "（无）"
            return Parsed(error=f"“{quoted}”带有单位“{suffix}”，与计量单位“{unit}”不符，请按计量单位只填写数字")
        changes.append(f"“{suffix}”已按计量单位“{unit_of_measure}”换算" if scaled != value
                       else f"去掉了单位“{suffix}”")
        value = scaled
    value = tidy(value)
    notice = f"“{quoted}”已按 {value} 读取（{'，'.join(changes)}），请核对" if changes else ""
    return _checked(value, quoted, notice)


def _split_suffix(text: str) -> tuple[str, str]:
    match = re.match(r"^([+-]?[0-9.,]*)(.*)$", text, re.DOTALL)
    assert match is not None  # the pattern matches every string
    return match.group(1), match.group(2)


def _apply_suffix(value: Decimal, suffix: str, unit: str, unit_factor: Decimal,
                  unit_base: str) -> Decimal | None:
    """Scale ``value`` typed with ``suffix`` into the register's unit, or None if ambiguous."""
    if suffix == "%":
        return value if unit == "%" else None
    if suffix == unit:
        return value
    factor = Decimal(1)
    rest = suffix
    if rest[:1] in _MULTIPLIERS:
        factor, rest = _MULTIPLIERS[rest[:1]], rest[1:]
    if rest not in ("", unit_base):
        return None
    if rest == "" and unit.startswith(suffix):
        # "1.2万" where the unit is 万人: the unit written short, not a multiplier.
        return value
    return value * factor / unit_factor


def percent_of(numerator: int, denominator: int) -> Decimal:
    """numerator/denominator as a percentage rounded half-up (away from zero) to one decimal,
    in integers only: percent_of(7, 9) → 77.8. ``denominator`` must be positive."""
    magnitude = (2000 * abs(numerator) + denominator) // (2 * denominator)  # floor(x + 1/2): half-up
    return Decimal(magnitude if numerator >= 0 else -magnitude).scaleb(-1)


def percent(fraction: Decimal | Fraction) -> Decimal:
    """A fraction as a percentage rounded half-up (away from zero) to one decimal: 7/9 → 77.8.

    Works on the exact value (a ``Fraction`` or ``Decimal``), so no binary rounding can tip a
    boundary: 0.0005 → 0.1, 0.7775 → 77.8.
    """
    n, d = fraction.as_integer_ratio()
    return percent_of(n, d)


def format_percent(fraction: Decimal | Fraction) -> str:
    """``77.8%``: the one way percentages are shown to people."""
    return f"{percent(fraction)}%"


_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """Chinese numeral for 1–99, as in headings 一、 十二、: 10 → 十, 21 → 二十一."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return (_DIGITS[tens] if tens > 1 else "") + "十" + (_DIGITS[ones] if ones else "")


def chinese_date(day) -> str:
    """``2020年7月10日``: the form a circular's date takes (GB/T 9704: Arabic numerals)."""
    return f"{day.year}年{day.month}月{day.day}日"


def _trim(value: Decimal, places: int) -> str:
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Units whose large amounts read better in 万: 13700 人 → 1.37万人.
_COUNTED = ("人", "人次", "户", "元", "件", "条", "亩", "册", "份", "次", "张")


def format_amount(value: Decimal, unit: str) -> str:
    """A quantity as a circular writes it: ``1.37万人``, ``37.05亿元``, ``12所``, ``96.4%``, ``13/10万``.

    A unit that opens with a digit is never glued to the number: a rate per so many (``1/10万``,
    13 per 100,000) reads ``13/10万`` as published figures do, never ``131/10万``; any other such unit
    goes in brackets (``5（100人）``)."""
    if unit == "%":
        return f"{_trim(value, 2)}%"
    if unit[:1].isdigit() or unit[:1] == "/":
        per = unit[1:] if unit.startswith("1/") else unit
        return f"{_trim(value, 3)}{per}" if per.startswith("/") else f"{_trim(value, 3)}（{unit}）"
    if unit == "万元" and value >= 10000:
        return f"{_trim(value / 10000, 2)}亿元"
    if unit in _COUNTED and value >= 10000:
        return f"{_trim(value / 10000, 2)}万{unit}"
    return f"{_trim(value, 3)}{unit}"
