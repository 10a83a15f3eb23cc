"""The bundled sample register against the real plan it was built from (seed 004)."""

import importlib.util
import re
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import SHARED
from minsheng.model import IndicatorType
from minsheng.register.workbook import load_register, write_register
from minsheng.workfolder import sample_register

ROOT = Path(__file__).resolve().parents[1]
SEED = SHARED / "seeds" / "004_5577a6154126d908.txt"
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason="seed 004 is not present beside the repository")


def builder():
    spec = importlib.util.spec_from_file_location("build_sample_register",
                                                  ROOT / "scripts" / "build_sample_register.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def task_texts() -> dict[str, str]:
    texts = {}
    for line in SEED.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(\d+)\.(.*)$", line.strip())
        if match:
            texts[match.group(1)] = match.group(2).replace(" ", "")
    return texts


def test_package_copy_and_sample_folder_copy_are_identical():
    assert sample_register().read_bytes() == (ROOT / "workbooks" / "任务台账.xlsx").read_bytes()


def test_sample_register_has_all_fifty_tasks_and_their_units():
    register = load_register(sample_register())
    assert [t.id for t in register.tasks] == [str(n) for n in range(1, 51)]
    assert len({t.category for t in register.tasks}) == 9
    assert [(i.name, i.target, i.unit_of_measure) for i in register.task("7").indicators] == [
        ("新建改扩建公办幼儿园", Decimal(12), "所"), ("资助幼儿", Decimal(988), "人次"),
        ("培训幼儿教师", Decimal(461), "人次")]
    assert register.task("22").lead_units == ["市民政局", "市医保局", "市总工会"]
    assert register.task("43").indicators[0].target == Decimal("344.166")
    assert all(i.type is IndicatorType.MILESTONE for i in register.task("5").indicators)
    assert len(register.units) == 21


@needs_seed
def test_every_number_in_the_register_is_stated_in_its_task_text():
    texts = task_texts()
    register = load_register(sample_register())
    for task in register.tasks:
        assert task.annual_target.replace(" ", "") in texts[task.id]
        for ind in task.indicators:
            if ind.target is not None:
                assert f"{ind.target}" in texts[task.id], (ind.id, ind.target)
            assert ind.lead_unit in texts[task.id]


@needs_seed
def test_every_task_without_a_number_gets_one_milestone_per_lead_unit():
    register = load_register(sample_register())
    milestone_only = [t for t in register.tasks
                      if {i.type for i in t.indicators} == {IndicatorType.MILESTONE}]
    assert [t.id for t in milestone_only] == [
        "4", "5", "8", "10", "13", "15", "20", "22", "26", "27", "29", "33", "34", "36", "37", "40",
        "44", "45", "46", "49", "50"]
    for task in milestone_only:
        assert [i.lead_unit for i in task.indicators] == task.lead_units
        # The plan's text for these tasks states no target number of its own.
        assert task.annual_target


@needs_seed
def test_builder_reproduces_the_committed_file(tmp_path):
    module = builder()
    rows = module.register_rows(module.parse_seed(SEED.read_text(encoding="utf-8")))
    out = tmp_path / "任务台账.xlsx"
    write_register(out, rows, created=module.CREATED)
    assert out.read_bytes() == sample_register().read_bytes()
