"""The layout of a department form (填报表, formats §3): shared by the writer (``forms.writer``) and the
reader (``intake.reader``), so the two can never disagree about where things are.

A form carries its own layout in the very-hidden ``_meta`` sheet: the header row, the column of
every header, the row of every indicator and of every sign-off field. The reader takes positions
from there when the register's fingerprint matches and the cells it checks say the same; otherwise
(a form from an older register, moved columns, a hand-made copy) it finds them by their headers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..cells import cell_text, column_letter
from ..model import Period

FORM_SHEET = "填报"
GUIDE_SHEET = "填报说明"
META_SHEET = "_meta"
META_VERSION = "2"
FUNDS_PLANNED = "年度计划资金(万元)"
FUNDS_PAID = "累计拨付资金(万元)"
VALUE = "本期累计完成"
TEXTS = {"进展情况": "progress", "存在问题": "issues", "下步措施": "next_steps"}  # header → Reported field


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    wrap: bool = False


COLUMNS = (
    Column("序号", 5), Column("指标编号", 8), Column("项目名称", 16, True),
    Column("年度目标任务", 30, True), Column("指标名称", 18, True), Column("计量单位", 7, True),
    Column("指标类型", 7), Column("年度目标值", 10), Column("上期累计", 10),
    Column(VALUE, 12), Column("完成率", 8), Column("进展情况", 28, True),
    Column("存在问题", 18, True), Column("下步措施", 18, True),
)
FUNDS_COLUMNS = (Column(FUNDS_PLANNED, 11), Column(FUNDS_PAID, 11))
# The sign-off block under the table: label → maximum length (0: a date).
SIGN_OFF = (("填报人", 20), ("联系电话", 40), ("审核人", 20), ("填报日期", 0))
SIGN_OFF_LABELS = frozenset(label for label, _ in SIGN_OFF)
TEXT_LIMITS = {"进展情况": 500, "存在问题": 300, "下步措施": 300}
TITLE_ROW, INFO_ROW, HEADER_ROW = 0, 1, 2  # 0-based rows of the 填报 sheet
FIRST_DATA_ROW = HEADER_ROW + 1
SIGN_OFF_LABEL_COLUMN, SIGN_OFF_VALUE_COLUMN = 1, 2


def columns_for(has_funds: bool) -> tuple[Column, ...]:
    return COLUMNS + (FUNDS_COLUMNS if has_funds else ())


def template_name(period: Period, safe_unit: str) -> str:
    """``2020-06_市教育局_填报表.xlsx``."""
    return f"{period}_{safe_unit}_填报表.xlsx"


def template_id(fingerprint: str, unit: str, period: Period) -> str:
    return hashlib.sha256(f"{fingerprint}|{unit}|{period}".encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# _meta: a two-column sheet of key → value, then 指标编号 → 行号.

_COLUMNS_KEY, _SIGN_OFF_KEY, _HEADER_KEY = "列位置", "签字行", "表头行"


@dataclass
class Meta:
    """What a form's ``_meta`` sheet says about it. Rows and columns are 0-based sheet positions."""

    values: dict[str, str] = field(default_factory=dict)  # 填报单位, 统计期, 台账指纹, 模板编号…
    header_row: int | None = None
    columns: dict[str, int] = field(default_factory=dict)  # header → column
    rows: dict[str, int] = field(default_factory=dict)  # 指标编号 → row
    sign_off: dict[str, int] = field(default_factory=dict)  # 填报人… → row

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)


def meta_rows(fingerprint: str, unit: str, period: Period, generated: str, software: str,
              columns: tuple[Column, ...], rows: list[tuple[str, int]],
              sign_off: list[tuple[str, int]]) -> list[tuple[str, str | int]]:
    """The rows of ``_meta`` for a form whose indicator ``rows`` and ``sign_off`` rows are 0-based."""
    pairs: list[tuple[str, str | int]] = [
        ("格式版本", META_VERSION),
        ("模板编号", template_id(fingerprint, unit, period)),
        ("台账指纹", fingerprint),
        ("填报单位", unit),
        ("统计期", str(period)),
        ("生成时间", generated),
        ("生成软件", software),
        (_HEADER_KEY, str(HEADER_ROW + 1)),
        (_COLUMNS_KEY, "|".join(f"{c.header}={column_letter(i)}" for i, c in enumerate(columns))),
        (_SIGN_OFF_KEY, "|".join(f"{label}={row + 1}" for label, row in sign_off)),
        ("", ""),
        ("指标编号", "行号"),
    ]
    return pairs + [(indicator_id, row + 1) for indicator_id, row in rows]


def read_meta(rows: list[list]) -> Meta:
    """Parse ``_meta`` as calamine reads it. Anything malformed is left out, never raised."""
    meta = Meta()
    listing = False
    for row in rows:
        key = cell_text(row[0]) if row else ""
        value = row[1] if len(row) > 1 else ""
        if key == "指标编号":
            listing = True
            continue
        if not key:
            continue
        if listing:
            line = _row_number(value)
            if line is not None:
                meta.rows.setdefault(key, line)
        else:
            meta.values.setdefault(key, cell_text(value))
    meta.header_row = _row_number(meta.values.get(_HEADER_KEY, ""))
    meta.columns = {k: c for k, v in _pairs(meta.values.get(_COLUMNS_KEY, "")) if (c := _column(v)) is not None}
    meta.sign_off = {k: r for k, v in _pairs(meta.values.get(_SIGN_OFF_KEY, ""))
                     if (r := _row_number(v)) is not None}
    return meta


def _pairs(text: str) -> list[tuple[str, str]]:
    return [tuple(part.split("=", 1)) for part in text.split("|") if "=" in part]


def _row_number(value: object) -> int | None:
    """A 1-based row number as written in _meta → 0-based; None when it is not one."""
    text = cell_text(value)
    return int(text) - 1 if text.isdigit() and 0 < int(text) <= 1_048_576 else None


def _column(letters: str) -> int | None:
    if not (1 <= len(letters) <= 3 and letters.isascii() and letters.isalpha() and letters.isupper()):
        return None
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1
