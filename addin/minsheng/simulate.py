"""Simulated department submissions (模拟报送) for the demo and the benchmark.

Values are drawn (from a fixed seed) so that every status occurs; with ``messy=True`` a few cells
are typed the way people do (``１２``, ``1,234``, ``12所``, ``十二``), one unit sends nothing and one
sends twice, as happens in a real reporting round.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .config import Config, load_config
from .files import unique_names
from .forms.layout import template_name
from .forms.writer import Filling, write_form
from .model import Indicator, IndicatorType, Period, Task
from .register.cache import Register
from .register.workbook import load_register, write_register
from .workfolder import init_workfolder, sample_register

_NAMES = ("王芳", "李强", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷", "吴昊")
# Share of the target reached, by the status it is meant to produce (June: 时序进度 50%), and how
# often each is drawn.
_SHARES = {"已完成": (1.0, 1.08), "序时推进": (0.42, 0.75), "滞后": (0.22, 0.38), "严重滞后": (0.04, 0.18)}
_WEIGHTS = {"未启动": 5, "已完成": 20, "序时推进": 40, "滞后": 20, "严重滞后": 15}

@dataclass
class Simulated:
    paths: list[Path]
    missing_unit: str  # the unit that sent nothing
    twice_unit: str  # the unit that sent two files


def _amount(target: Decimal, unit: str, share: float) -> Decimal:
    raw = Decimal(str(share)) * target
    whole = unit in ("所", "人", "人次", "个", "户", "套", "件", "条", "家", "处", "名")
    return raw.quantize(Decimal(1) if whole else Decimal("0.01"))


def _value(ind: Indicator, rng: random.Random, stages: list[str]) -> object:
    if ind.type is IndicatorType.MILESTONE:
        return rng.choice(stages[1:])
    if ind.type is IndicatorType.CEILING:
        return _amount(ind.target, ind.unit_of_measure, rng.choice((0.6, 0.8, 0.95, 1.1)))
    if ind.type is IndicatorType.RATE:
        return _amount(ind.target, ind.unit_of_measure, rng.choice((0.9, 0.97, 1.0, 1.02, 1.04)))
    status = rng.choices(list(_WEIGHTS), weights=list(_WEIGHTS.values()))[0]
    if status == "未启动":
        return Decimal(0)
    low, high = _SHARES[status]
    return _amount(ind.target, ind.unit_of_measure, rng.uniform(low, high))

def _texts(ind: Indicator, value: object, period: Period, first: bool, rng: random.Random) -> tuple[str, str, str]:
    """进展情况 as departments write it: the date once per task, now and then the share done."""
    when = f"截至{period.month}月底，" if first else ""
    if ind.type is IndicatorType.MILESTONE:
        work = ind.name if ind.name.endswith("工作") else f"{ind.name}工作"
        if value == "全面完成":
            return f"{when}{work}已全面完成。", "", ""
        return f"{when}{work}处于“{value}”阶段，各项措施有序推进。", "", ""
    unit = ind.unit_of_measure
    progress = f"{when}{ind.name}{value}{unit}"
    if ind.type is IndicatorType.CUMULATIVE and ind.target and value and rng.random() < 0.3:
        share = (Decimal(value) * 100 / ind.target).quantize(Decimal("0.1"))
        progress += f"，完成年度任务的{share}%"
    return progress + "。", "", ""


def fillings(register: Register, config: Config, period: Period, seed: int = 2020,
             messy: bool = False) -> dict[str, Filling]:
    """One filling per lead unit, reproducible for a seed."""
    rng = random.Random(seed)
    stages = [name for name, _ in config.stages]
    result = {}
    for unit, tasks in register.by_unit().items():
        fill = Filling(sign_off={"填报人": rng.choice(_NAMES), "联系电话": f"0555-{rng.randint(2000000, 8999999)}",
                                 "审核人": rng.choice(_NAMES), "填报日期": dt.date(period.year, period.month, 28)
                                 + dt.timedelta(days=rng.randint(3, 9))})
        for task in tasks:
            for i, ind in enumerate(task.indicators):
                value = _value(ind, rng, stages)
                fill.values[ind.id] = value
                fill.texts[ind.id] = _texts(ind, value, period, i == 0, rng)
            if task.planned_funds is not None:
                fill.funds[task.id] = _amount(task.planned_funds, "万元", rng.uniform(0.3, 0.8))
        result[unit] = fill
    if messy:
        _make_messy(register, result, rng, period)
    return result


def _make_messy(register: Register, fills: dict[str, Filling], rng: random.Random, period: Period) -> None:
    """Type a few numbers the way people do; most are read with a notice, one is an error."""
    counted = [(unit, ind) for unit, tasks in register.by_unit().items() for task in tasks
               for ind in task.indicators if ind.type is IndicatorType.CUMULATIVE]
    typed = [lambda v, u: _full_width(str(v)), lambda v, u: f"{v}{u}", lambda v, u: f"{int(v):,}" if v >= 1000
             else f"约{v}", lambda v, u: "十二"]
    for how, (unit, ind) in zip(typed, rng.sample(counted, min(len(typed), len(counted)))):
        value = fills[unit].values[ind.id]
        fills[unit].values[ind.id] = how(value, ind.unit_of_measure)
    unit, ind = counted[0]
    fills[unit].texts[ind.id] = ("培训与就业对接同步推进，培训补贴资金足额到位。", "部分培训项目因疫情延期开班。",
                                 "加快推进，确保年底前全面完成。")
    # A department whose words say more than its figure: the clerk is told (文字与数据不符).
    unit, ind = counted[-1]
    fills[unit].values[ind.id] = _amount(ind.target, ind.unit_of_measure, 0.4)
    fills[unit].texts[ind.id] = (f"截至{period.month}月底，{ind.name}工作进展顺利，已完成年度任务的80%。", "", "")


def _full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))


def write_submissions(register: Register, config: Config, inbox: Path, period: Period | None = None,
                      seed: int = 2020, messy: bool = False) -> Simulated:
    """Write each unit's filled workbook into ``inbox`` as departments would send them back.

    With ``messy``: the unit with the fewest indicators sends nothing, and the first unit sends an
    earlier version too (with an older 填报日期) under another file name.
    """
    period = period or config.period
    fills = fillings(register, config, period, seed, messy)
    views = register.by_unit()
    names = unique_names(register.units)
    generated = dt.datetime(period.year, period.month, 25, 9, 0)
    missing = min(register.units, key=lambda u: (sum(len(t.indicators) for t in views[u]), u)) if messy else ""
    twice = register.units[0] if messy else ""
    paths = []
    for unit in register.units:
        if unit == missing:
            continue
        target = inbox / template_name(period, names[unit])
        write_form(target, register, unit, views[unit], config, period, {}, generated, fills[unit])
        paths.append(target)
        if unit == twice:
            paths.append(_earlier_version(target, register, unit, views[unit], config, period, generated,
                                          fills[unit]))
    return Simulated(paths, missing, twice)


def _earlier_version(target: Path, register: Register, unit: str, tasks: list[Task], config: Config,
                     period: Period, generated: dt.datetime, fill: Filling) -> Path:
    early = Filling({k: (v * Decimal("0.8")).quantize(Decimal(1)) if isinstance(v, Decimal) else v
                     for k, v in fill.values.items()}, fill.texts, fill.funds,
                    {**fill.sign_off, "填报日期": fill.sign_off["填报日期"] - dt.timedelta(days=2)})
    path = target.with_name(target.stem + "（初稿）.xlsx")
    write_form(path, register, unit, tasks, config, period, {}, generated, early)
    return path


def synthetic_rows(units: int, per_unit: int) -> list[dict]:
    """``units`` lead units with ``per_unit`` indicators each, cycled from the sample register."""
    sample = load_register(sample_register())
    pool = [(task, ind) for task in sample.tasks for ind in task.indicators]
    rows, k = [], 0
    for u in range(units):
        unit = f"第{u + 1:04d}单位"
        for i in range(per_unit):
            _, ind = pool[k % len(pool)]
            k += 1
            task_id = f"{u + 1}-{i // 3 + 1}"  # three indicators per task
            task = sample.tasks[(u * 10 + i // 3) % len(sample.tasks)]
            rows.append({
                "任务编号": task_id, "类别": task.category, "项目名称": f"{task.name}({task_id})",
                "年度目标任务": task.annual_target, "牵头单位": unit, "指标编号": f"{task_id}-{i % 3 + 1}",
                "指标名称": ind.name, "计量单位": ind.unit_of_measure, "指标类型": ind.type.value,
                "年度目标值": ind.target if ind.target is not None else "",
                "年度计划资金(万元)": 100 + i if i % 3 == 0 else "",
            })
    return rows


def synthetic_workfolder(folder: Path, units: int, per_unit: int) -> Config:
    """A working folder whose register has ``units`` × ``per_unit`` indicators (for benchmarks)."""
    init_workfolder(folder, today=dt.date(2020, 7, 1))  # period 2020-06, as the sample's
    (folder / "任务台账.xlsx").unlink()
    write_register(folder / "任务台账.xlsx", synthetic_rows(units, per_unit))
    return load_config(folder / "config.ini")
