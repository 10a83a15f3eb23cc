"""Precision and recall of ``minsheng extract`` against hand-written gold files.

    python scripts/score_extract.py [GOLD.json PLAN.txt] ...

With no arguments, scores every gold file under ``tests/data/extract``: seeds 004 and 001 (real
plans) and plans a, b, c (written and annotated by someone who had not seen the code).
A pair is (年度目标值, 计量单位) within its task, compared after unit scaling (``1.2万人`` = 12000 人,
``3亿元`` = 30000 万元). Gold targets marked ``optional`` (sub-items after 其中, standards, ranges)
are neither rewarded nor penalised: a proposal matching one is left out of both measures.
Prints each file's numbers and the pairs missed and proposed in excess.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "addin"))

from minsheng.model import IndicatorType  # noqa: E402
from minsheng.register.extract import extract  # noqa: E402
from minsheng.register.targets import number_value  # noqa: E402

DATA = ROOT / "tests" / "data" / "extract"
GOLD = [(gold, DATA / gold.name.replace("gold_", "plan_").replace(".json", ".txt"))
        for gold in sorted(DATA.glob("gold_*.json"))]
_SCALE = {"万": Decimal(10000), "亿": Decimal(100000000), "千": Decimal(1000)}


def pair(value: object, unit: str) -> tuple[Decimal, str]:
    """(value, unit) on one scale: 万元 is the register's money unit, other 万/亿 prefixes multiply out."""
    number = value if isinstance(value, Decimal) else number_value(str(value))
    if number is None:
        raise ValueError(f"not a number: {value!r}")
    if unit in ("元", "千元", "万元", "亿元"):
        factor = {"元": Decimal("0.0001"), "千元": Decimal("0.1"), "万元": Decimal(1), "亿元": Decimal(10000)}[unit]
        return (number * factor).normalize(), "万元"
    if len(unit) > 1 and unit[0] in _SCALE:
        return (number * _SCALE[unit[0]]).normalize(), unit[1:]
    return number.normalize(), unit


@dataclass
class Score:
    name: str
    matched: int = 0
    required: int = 0
    proposed: int = 0  # proposals counted for precision (those matching an optional target are not)
    missed: list[str] = field(default_factory=list)
    excess: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.matched / self.required if self.required else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.proposed if self.proposed else 1.0


def score(gold_path: Path, plan_path: Path) -> Score:
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    draft = extract(plan_path)
    proposed: dict[str, Counter] = {}
    for row in draft.rows:
        if row["指标类型"] != IndicatorType.MILESTONE.value:
            proposed.setdefault(str(row["任务编号"]), Counter())[pair(row["年度目标值"], str(row["计量单位"]))] += 1
    result = Score(gold_path.stem)
    for task in gold["tasks"]:
        mine = proposed.pop(task["task"], Counter())
        required = Counter(pair(t["value"], t["unit"]) for t in task["targets"] if not t.get("optional"))
        optional = Counter(pair(t["value"], t["unit"]) for t in task["targets"] if t.get("optional"))
        hit = required & mine
        left = mine - hit
        spared = optional & left
        result.required += sum(required.values())
        result.matched += sum(hit.values())
        result.proposed += sum(mine.values()) - sum(spared.values())
        result.missed += [f"{task['task']}: {v} {u}" for (v, u), n in (required - hit).items() for _ in range(n)]
        result.excess += [f"{task['task']}: {v} {u}" for (v, u), n in (left - spared).items() for _ in range(n)]
    for number, extra in proposed.items():  # tasks the gold does not have
        result.proposed += sum(extra.values())
        result.excess += [f"{number}: {v} {u}（金标准中无此任务）" for (v, u), n in extra.items() for _ in range(n)]
    return result


def main(argv: list[str]) -> int:
    pairs = [(Path(argv[i]), Path(argv[i + 1])) for i in range(0, len(argv) - 1, 2)] or GOLD
    for gold, plan in pairs:
        s = score(gold, plan)
        print(f"{s.name}: recall {s.recall:.3f} ({s.matched}/{s.required})  "
              f"precision {s.precision:.3f} ({s.matched}/{s.proposed})")
        for line in s.missed:
            print(f"  missed  {line}")
        for line in s.excess:
            print(f"  excess  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
