"""Reading ``config.ini`` (配置文件): defaults, paths, thresholds, milestone stages.

Office staff edit the file in Notepad on Chinese Windows, which saves UTF-8, UTF-8 with BOM or
GBK, so all three are read. Every mistake becomes a ``ConfigError`` with one Chinese line that
names the file and the key.
"""

from __future__ import annotations

import configparser
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from .cells import as_date
from .errors import ConfigError
from .model import Period

CONFIG_NAME = "config.ini"
ISSUER_PLACEHOLDER = "（请填写发文单位）"  # what ``init`` writes, so that no other city's name lands on paper


@dataclass(frozen=True)
class Thresholds:
    """红黄绿灯 rules: gaps to 时序进度 in percentage points, and the outlier limit in percent."""

    lag_points: Decimal = Decimal(10)
    severe_lag_points: Decimal = Decimal(30)
    outlier_percent: Decimal = Decimal(300)


@dataclass(frozen=True)
class Config:
    path: Path  # the config file itself
    root: Path  # the working folder all other paths are relative to
    period: Period
    register: Path
    outbox_pattern: str
    inbox_pattern: str
    output_pattern: str
    ledger: Path
    circular_template: Path | None
    issuer: str
    issue_date: dt.date | None
    deadline: str
    contact: str
    thresholds: Thresholds
    stages: tuple[tuple[str, Decimal], ...]  # 里程碑 stage name → percent, in order
    computed_sentences: bool = True  # 进展情况: append the computed sentence to the department's text
    chart: bool = True  # draw the completion chart into the circular
    top_units: int = 3  # units named as best and as lowest in the circular
    public: bool = False  # the circular for release: no ranking, no names of units that sent nothing
    year: int | None = None  # [period] year: the programme year when the register's 完成时限 don't say

    def _folder(self, pattern: str, period: Period | None) -> Path:
        return self.root / pattern.replace("{period}", str(period or self.period))

    def outbox(self, period: Period | None = None) -> Path:
        """下发/P: where the department templates are written."""
        return self._folder(self.outbox_pattern, period)

    def inbox(self, period: Period | None = None) -> Path:
        """收集/P: where returned workbooks are dropped."""
        return self._folder(self.inbox_pattern, period)

    def output(self, period: Period | None = None) -> Path:
        """汇总/P: consolidated outputs."""
        return self._folder(self.output_pattern, period)

    @property
    def issuer_notes(self) -> list[str]:
        """A warning while ``[office] issuer`` is still the placeholder ``init`` wrote (or empty)."""
        if self.issuer and self.issuer != ISSUER_PLACEHOLDER:
            return []
        shown = f"“{self.issuer}”" if self.issuer else "空的"
        return [f"{self.path} 中 [office] issuer（发文单位）还是{shown}，填报模板和通报的落款会照此显示；"
                f"请用记事本改为本单位名称"]


def default_config_text(current: Period | None = None, issuer: str | None = None) -> str:
    """The documented default ``config.ini`` shipped with the package, with the period and the
    issuing office filled in when given."""
    text = resources.files("minsheng").joinpath("data", CONFIG_NAME).read_text(encoding="utf-8")
    if current is not None:
        text = text.replace("\ncurrent = 2020-06\n", f"\ncurrent = {current}\n", 1)
    if issuer is not None:
        text = text.replace(f"\nissuer = {ISSUER_PLACEHOLDER}\n", f"\nissuer = {issuer}\n", 1)
    return text


def read_text_any_encoding(path: Path) -> str:
    """Text of a file saved by Notepad: UTF-8 (with or without BOM), else GBK/GB18030."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 的编码无法识别，请用记事本另存为 UTF-8 编码") from exc


def find_config(start: Path | None = None) -> Path:
    """``config.ini`` in the given (or current) folder."""
    folder = Path.cwd() if start is None else start
    candidate = folder / CONFIG_NAME
    if candidate.is_file():
        return candidate
    raise ConfigError(
        f"在 {folder} 中没有找到 {CONFIG_NAME}：请在工作文件夹中运行，或用 --config 指定配置文件，"
        f"或先运行 minsheng init 文件夹 新建工作文件夹"
    )


class _Reader:
    """Typed access to one parsed file, turning every failure into a ConfigError."""

    def __init__(self, path: Path):
        self.path = path
        self.parser = configparser.ConfigParser(
            interpolation=None, inline_comment_prefixes=None, comment_prefixes=(";", "#"),
        )
        self.parser.optionxform = str  # keep stage names and keys exactly as typed
        try:
            self.parser.read_string(read_text_any_encoding(path), source=str(path))
        except configparser.Error as exc:
            raise ConfigError(f"配置文件 {path} 格式有误（{_first_line(exc)}），"
                              f"请对照说明检查方括号小节和“键 = 值”的写法") from exc

    def text(self, section: str, key: str, required: bool = True) -> str:
        if self.parser.has_option(section, key):
            return self.parser.get(section, key).strip()
        if required:
            raise ConfigError(f"配置文件 {self.path} 缺少 [{section}] 中的 {key}，请参照默认配置补上")
        return ""

    def decimal(self, section: str, key: str) -> Decimal:
        raw = self.text(section, key)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value < 0:
            raise ConfigError(f"配置文件 {self.path} 中 [{section}] {key} 的值“{raw}”不是非负数字，"
                              f"请改为数字，例如 10")
        return value

    def flag(self, section: str, key: str, default: bool) -> bool:
        raw = self.text(section, key, required=False)
        if not raw:
            return default
        if raw.lower() in ("是", "yes", "true", "1", "on"):
            return True
        if raw.lower() in ("否", "no", "false", "0", "off"):
            return False
        raise self.fail(section, key, raw, "只能填“是”或“否”")

    def fail(self, section: str, key: str, raw: str, hint: str) -> ConfigError:
        return ConfigError(f"配置文件 {self.path} 中 [{section}] {key} 的值“{raw}”有误：{hint}")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]


def load_config(path: Path | None = None, period: str | None = None) -> Config:
    """Load and check ``config.ini``; ``period`` (``YYYY-MM``) overrides ``[period] current``."""
    path = Path(path) if path is not None else find_config()
    if path.is_dir():  # --config given the working folder itself
        if not (path / CONFIG_NAME).is_file():
            raise ConfigError(f"{path} 是文件夹，其中没有 {CONFIG_NAME}；--config 请指定工作文件夹中的 {CONFIG_NAME}，"
                              f"或先运行 minsheng init 文件夹")
        path = path / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(f"配置文件 {path} 不存在，请检查路径，或先运行 minsheng init 文件夹")
    cfg = _Reader(path.resolve())
    base = cfg.path.parent

    raw_period = period if period is not None else cfg.text("period", "current")
    try:
        the_period = Period.parse(raw_period)
    except ValueError as exc:
        if period is not None:
            raise ConfigError(f"参数 --period 有误：{exc}") from exc
        raise cfg.fail("period", "current", raw_period, "应为 YYYY-MM，例如 2020-06") from exc

    root_text = cfg.text("paths", "root", required=False)
    root = (base / root_text).resolve() if root_text else base
    patterns = {}
    for key in ("outbox", "inbox", "output"):
        patterns[key] = cfg.text("paths", key)
        if not patterns[key]:
            raise cfg.fail("paths", key, "", "不能为空，请填写文件夹路径，例如 收集/{period}")
    register_text = cfg.text("paths", "register")
    ledger_text = cfg.text("paths", "ledger")
    for key, value in (("register", register_text), ("ledger", ledger_text)):
        if not value:
            raise cfg.fail("paths", key, "", "不能为空，请填写文件名")
    template_text = cfg.text("paths", "circular_template", required=False)

    date_text = cfg.text("office", "date", required=False)
    issue_date = None
    if date_text:
        issue_date = as_date(date_text)
        if issue_date is None:
            raise cfg.fail("office", "date", date_text, "日期格式应为 YYYY-MM-DD，例如 2020-07-10")

    thresholds = Thresholds(
        lag_points=cfg.decimal("status", "lag_points"),
        severe_lag_points=cfg.decimal("status", "severe_lag_points"),
        outlier_percent=cfg.decimal("status", "outlier_percent"),
    )
    if thresholds.severe_lag_points < thresholds.lag_points:
        raise cfg.fail("status", "severe_lag_points", str(thresholds.severe_lag_points),
                       f"不能小于 lag_points（{thresholds.lag_points}）")

    return Config(
        path=cfg.path,
        root=root,
        period=the_period,
        register=root / register_text,
        outbox_pattern=patterns["outbox"],
        inbox_pattern=patterns["inbox"],
        output_pattern=patterns["output"],
        ledger=root / ledger_text,
        circular_template=(root / template_text) if template_text else None,
        issuer=cfg.text("office", "issuer", required=False),
        issue_date=issue_date,
        deadline=cfg.text("office", "deadline", required=False),
        contact=cfg.text("office", "contact", required=False),
        thresholds=thresholds,
        stages=_stages(cfg),
        computed_sentences=cfg.flag("circular", "computed_sentences", True),
        chart=cfg.flag("circular", "chart", True),
        top_units=_count(cfg, "circular", "top_units", 3),
        public=cfg.flag("circular", "public", False),
        year=_year(cfg),
    )


def _year(cfg: _Reader) -> int | None:
    raw = cfg.text("period", "year", required=False)
    if not raw:
        return None
    if not (raw.isdigit() and 2000 <= int(raw) <= 2100):
        raise cfg.fail("period", "year", raw, "应为四位年份，例如 2020")
    return int(raw)


def _count(cfg: _Reader, section: str, key: str, default: int) -> int:
    raw = cfg.text(section, key, required=False)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise cfg.fail(section, key, raw, "应为正整数，例如 3")
    return int(raw)


def _stages(cfg: _Reader) -> tuple[tuple[str, Decimal], ...]:
    if not cfg.parser.has_section("milestones"):
        raise ConfigError(f"配置文件 {cfg.path} 缺少 [milestones] 小节（里程碑阶段），请参照默认配置补上")
    stages = []
    for name in cfg.parser.options("milestones"):
        percent = cfg.decimal("milestones", name)
        if percent > 100:
            raise cfg.fail("milestones", name, str(percent), "阶段百分比应在 0 到 100 之间")
        stages.append((name.strip(), percent))
    if not stages:
        raise ConfigError(f"配置文件 {cfg.path} 的 [milestones] 小节是空的，请至少列出一个阶段")
    percents = [p for _, p in stages]
    if percents != sorted(percents):
        raise ConfigError(f"配置文件 {cfg.path} 的 [milestones] 阶段百分比应从小到大排列")
    return tuple(stages)
