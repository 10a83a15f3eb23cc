"""Domain objects shared by every stage of the pipeline. They know nothing of files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple


class IndicatorType(str, enum.Enum):
    """指标类型: how an indicator's value is judged against its target."""

    CUMULATIVE = "累计"  # a count that grows to the target
    RATE = "比率"  # a level that must reach the target
    CEILING = "上限"  # must stay at or below the target
    MILESTONE = "里程碑"  # a chosen stage, mapped to a percentage

    @classmethod
    def from_text(cls, text: str) -> IndicatorType | None:
        for member in cls:
            if member.value == text.strip():
                return member
        return None


class Severity(str, enum.Enum):
    """How serious a problem entry is (问题级别)."""

    ERROR = "错误"  # the value or file was not used
    NOTICE = "提示"  # the value was used after an unambiguous correction


_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*[-/.年—–]\s*(\d{1,2})\s*月?\s*$", re.ASCII)
_SPAN_RE = re.compile(r"^\s*(\d{4})\s*年\s*1\s*[-~至—–]\s*(\d{1,2})\s*月\s*$", re.ASCII)  # 2020年1-6月, as labels say


@dataclass(frozen=True, order=True)
class Period:
    """统计期: the month the figures run to; ``2020-06`` means 1–6月 of 2020."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        # NFKC: ２０２０－０６ typed with a Chinese input method reads as 2020-06.
        normal = unicodedata.normalize("NFKC", str(text))
        match = _PERIOD_RE.match(normal) or _SPAN_RE.match(normal)
        if not match:
            raise ValueError(f"统计期 “{text}” 格式不对，应为 YYYY-MM，例如 2020-06")
        year, month = int(match.group(1)), int(match.group(2))
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise ValueError(f"统计期 “{text}” 的年份或月份超出范围，应为 YYYY-MM，例如 2020-06")
        return cls(year, month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """Chinese span of the period, e.g. ``2020年1-6月``."""
        if self.month == 1:
            return f"{self.year}年1月"
        return f"{self.year}年1-{self.month}月"

    @property
    def schedule(self) -> Decimal:
        """时序进度 as a fraction of the year: month / 12."""
        return Decimal(self.month) / Decimal(12)

    def previous(self) -> Period:
        if self.month == 1:
            return Period(self.year - 1, 12)
        return Period(self.year, self.month - 1)


@dataclass(frozen=True, slots=True)
class Indicator:
    """指标: one measurable target of a task, reported by exactly one lead unit."""

    id: str  # 指标编号, e.g. "7-1"
    task_id: str
    name: str  # 指标名称
    unit_of_measure: str  # 计量单位
    type: IndicatorType
    target: Decimal | None  # 年度目标值; None only for 里程碑
    lead_unit: str  # 牵头单位
    row: int  # register row (1-based), for messages
    extra: tuple[tuple[str, str], ...] = ()  # unknown register columns, kept in order
    position: int = -1  # place among all indicators in register order (0-based), once stored
    deadline: dt.date | None = None  # 完成时限: its row's, else its task's; None means 31 December
    adjusted_target: Decimal | None = None  # 调整后目标值, in force from ``adjusted_from`` on
    adjusted_from: str = ""  # 调整起始期, ``YYYY-MM``
    former_id: str = ""  # 原指标编号: the id it had before a rename; its history carries over
    cancelled: bool = False  # 状态 已撤销: kept in the record, left out of templates and the circular

    def in_period(self, period: Period) -> Indicator:
        """The indicator as period ``period`` judges it: an adjusted target counts from its period on,
        earlier periods keep the target they were published with."""
        if self.adjusted_from and str(period) >= self.adjusted_from:
            return dataclasses.replace(self, target=self.adjusted_target, adjusted_target=None, adjusted_from="")
        return self


@dataclass(slots=True)
class Task:
    """任务: one numbered item of the annual plan, with one or more indicators."""

    id: str  # 任务编号
    category: str  # 类别
    name: str  # 项目名称
    annual_target: str  # 年度目标任务 (free text)
    partner_units: tuple[str, ...]  # 协同单位
    planned_funds: Decimal | None  # 年度计划资金(万元)
    deadline: dt.date | None  # 完成时限; None means 31 December of the period's year
    indicators: list[Indicator] = field(default_factory=list)

    @property
    def lead_units(self) -> list[str]:
        """Lead units in order of first appearance among the task's indicators."""
        return list(dict.fromkeys(ind.lead_unit for ind in self.indicators))


@dataclass(frozen=True)
class Problem:
    """问题: something wrong with an input, located as precisely as we can."""

    file: str  # file name as the user knows it
    message: str  # Chinese: what is wrong and what to do
    sheet: str = ""
    cell: str = ""
    severity: Severity = Severity.ERROR
    raw: str = ""  # the text as typed, when a value is concerned
    indicator: str = ""  # 指标编号, when the problem concerns one indicator

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.file} {self.sheet}!{self.cell}"
        if self.sheet:
            return f"{self.file} {self.sheet}"
        return self.file

    def __str__(self) -> str:
        return f"{self.where}：{self.message}"


class Reported(NamedTuple):
    """填报值: one indicator's row as the department filled it.

    A named tuple rather than a data class: one is made for every row of every file, and sent
    between processes, where a tuple is made and unpickled twice as fast.
    """

    indicator_id: str
    value: Decimal | None  # 本期累计完成 in the register's unit; None when 未填 or unreadable
    stage: str = ""  # the chosen stage of a 里程碑 indicator
    progress: str = ""  # 进展情况
    issues: str = ""  # 存在问题
    next_steps: str = ""  # 下步措施
    cell: str = ""  # where the value sits, e.g. "J7"
    error: str = ""  # why the filled value could not be read (数据有误); the texts are still kept


@dataclass
class Submission:
    """报送表: one department's returned workbook, as read and checked."""

    path: str
    unit: str
    period: Period
    sheet: str
    values: dict[str, Reported] = field(default_factory=dict)
    funds_paid: dict[str, tuple[Decimal, str]] = field(default_factory=dict)  # task id → (万元, cell)
    sign_off: dict[str, str] = field(default_factory=dict)  # 填报人, 联系电话, 审核人, 填报日期
    template_id: str = ""
    fingerprint: str = ""
    filled_on: dt.date | None = None  # 填报日期
    name: str = ""  # how messages name the file: its path relative to the inbox
    claimed_unit: str = ""  # the other unit its _meta names, when its rows are this unit's


class Status(str, enum.Enum):
    """状态: exactly one per indicator (formats §4)."""

    COMPLETE = "已完成"
    ON_SCHEDULE = "序时推进"
    LAGGING = "滞后"
    SEVERELY_LAGGING = "严重滞后"
    NOT_STARTED = "未启动"
    UNFINISHED = "未完成"  # 累计/里程碑 short of its target when its 完成时限 (or the year's end) has come
    MET = "达标"
    NOT_MET = "未达标"
    DATA_ERROR = "数据有误"  # filled, but the value cannot be read (十二, #DIV/0!, a date…)
    NOT_FILLED = "未填"
    NOT_SUBMITTED = "未报送"

    @property
    def done(self) -> bool:
        """The year's target is reached."""
        return self in (Status.COMPLETE, Status.MET)

    @property
    def light(self) -> str:
        """红黄绿灯: ``red``, ``yellow`` or ``green``."""
        if self in (Status.UNFINISHED, Status.SEVERELY_LAGGING, Status.NOT_MET, Status.NOT_SUBMITTED,
                    Status.DATA_ERROR):
            return "red"
        if self in (Status.LAGGING, Status.NOT_STARTED, Status.NOT_FILLED):
            return "yellow"
        return "green"


# Worst first: a task's status is the worst of its indicators'. What is not known (no usable figure)
# comes first. 未完成 comes next, before 未启动 and 严重滞后: its time is up, so the shortfall is final,
# while an indicator not started or far behind may still be caught up before its deadline.
STATUS_ORDER = (Status.NOT_SUBMITTED, Status.DATA_ERROR, Status.NOT_FILLED, Status.UNFINISHED, Status.NOT_STARTED,
                Status.SEVERELY_LAGGING, Status.LAGGING, Status.NOT_MET, Status.ON_SCHEDULE, Status.MET, Status.COMPLETE)


class Flag(str, enum.Enum):
    """标记: warnings beside the status, any number per indicator."""

    DOUBTFUL = "数据存疑"  # completion above the outlier limit
    DECREASED = "较上期减少"  # a cumulative value lower than last period
    TEXT_MISMATCH = "文字与数据不符"  # a percentage in the text disagrees with the computed one
