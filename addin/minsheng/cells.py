"""Small helpers for cells read with python-calamine: addresses, text, header matching."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata


def column_letter(col: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """0-based (row, col) → ``B7``."""
    return f"{column_letter(col)}{row + 1}"


def cell_text(value: object) -> str:
    """A cell's content as the text a person sees: 7.0 → ``7``, dates as ``2020-12-31``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value != value:
            return "非数字"
        if value in (math.inf, -math.inf):
            return "无穷大" if value > 0 else "负无穷大"
        if abs(value) >= 1e15 or 0 < abs(value) < 1e-9:
            return f"{value:.15G}"  # as Excel shows it: 1E+308, not 309 digits
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10] if not isinstance(value, dt.datetime) or not (
            value.hour or value.minute or value.second) else value.isoformat(sep=" ")
    return str(value).strip()


def header_key(value: object) -> str:
    """Normalised header text, so ``年度计划资金（万元）`` and ``年度计划资金(万元)`` match."""
    return plain(cell_text(value))


def plain(text: str) -> str:
    """Text as people read it, for ids and names: NFKC (``７－１`` is ``7-1``, the ideographic space
    a space), every kind of hyphen or dash a ``-``, with no white space and no invisible character (zero-width space, BOM, soft hyphen)
    anywhere: ``市　残联`` and ``市总工会\u200b`` are ``市残联`` and ``市总工会``."""
    if text.isascii():
        return "".join(text.split()) if " " in text or not text.isprintable() else text
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


# Hyphens and dashes a keyboard, Word's autocorrect or a web page put where ``-`` was meant.
_DASHES = dict.fromkeys((0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE58), "-")


def as_date(value: object) -> dt.date | None:
    """A date from a date cell or from text such as ``2020-07-05``, ``2020/7/5``, ``2020年7月5日``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value).replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def display_width(text: str) -> int:
    """Width in Excel's units of a character '0': Chinese characters (and the full-width quotes
    a Chinese font draws) count two. Their GBK encoding has exactly that many bytes."""
    return len(text.encode("gbk", "replace"))


def row_height(texts: list[tuple[str, float]], line: float = 16, least: float = 30) -> float:
    """Height that shows every wrapped text in full (Excel does not grow set-height rows)."""
    lines = 1
    for text, width in texts:
        count = sum(math.ceil(display_width(part) / max(width - 2, 1)) or 1
                    for part in str(text).split("\n"))
        lines = max(lines, count)
    return min(409, max(least, line * lines + 6))
