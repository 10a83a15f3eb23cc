"""The working folder (工作文件夹, formats §1): creating one, and the sample that ships with the tool."""

from __future__ import annotations

import datetime as dt
import shutil
from importlib import resources
from pathlib import Path

from .circular.place import TEMPLATE_NAME, bundled_template
from .config import CONFIG_NAME, default_config_text
from .errors import MinshengError
from .model import Period
from .register.workbook import load_register, write_register

SAMPLE_REGISTER = "任务台账.xlsx"
FOLDERS = ("下发", "收集", "汇总", "templates")
# The bundled sample is the 2020 plan of 马鞍山 (seed 004): its folder says so.
SAMPLE_ISSUER = "马鞍山市民生工作领导小组办公室"
SAMPLE_PERIOD = Period(2020, 6)


def sample_register() -> Path:
    """The bundled register built from the real 2020 plan (seed 004)."""
    return Path(str(resources.files("minsheng").joinpath("sample", SAMPLE_REGISTER)))


def _in_year(period: Period, register: Path) -> Period:
    """Last month, kept inside the programme year of a register already in the folder: in
    December for next year's register its January, in January for last year's its December."""
    if not register.is_file():
        return period
    try:
        year = load_register(register).year
    except MinshengError:
        return period  # ``templates`` will say what is wrong with it
    if year is None or year == period.year:
        return period
    return Period(year, 1) if period.year < year else Period(year, 12)


def init_workfolder(folder: Path, register_from: Path | None = None,
                    today: dt.date | None = None) -> tuple[list[Path], list[Path]]:
    """Create ``config.ini``, a register and the folders. Never overwrites an existing file.

    The register is a copy of ``register_from`` when given, else an empty one with the §3
    headers. A new ``config.ini`` names the last month as the period and a placeholder as the
    issuing office (the sample's own when the register is the bundled sample). Returns
    ``(created, kept)``: what was made and what already existed and was left alone.
    """
    folder.mkdir(parents=True, exist_ok=True)
    created, kept = [], []
    config = folder / CONFIG_NAME
    if config.exists():
        kept.append(config)
    else:
        if register_from == sample_register():
            text = default_config_text(SAMPLE_PERIOD, SAMPLE_ISSUER)
        else:
            this_month = Period((today or dt.date.today()).year, (today or dt.date.today()).month)
            text = default_config_text(_in_year(this_month.previous(), folder / SAMPLE_REGISTER))
        config.write_text(text, encoding="utf-8")
        created.append(config)
    register = folder / SAMPLE_REGISTER
    if register.exists():
        kept.append(register)
    else:
        if register_from is not None:
            shutil.copyfile(register_from, register)
        else:
            write_register(register, [])
        created.append(register)
    for name in FOLDERS:
        path = folder / name
        (kept if path.exists() else created).append(path)
        path.mkdir(exist_ok=True)
    # The circular's template, where the office can find and edit it in Word.
    template = folder / "templates" / TEMPLATE_NAME
    if template.exists():
        kept.append(template)
    else:
        shutil.copyfile(bundled_template(), template)
        created.append(template)
    return created, kept
