"""``minsheng extract``: the government's plan → a draft register (任务台账草稿) for the office to
confirm. One row per proposed indicator, in the register's own columns (formats §2) plus ``来源原文`` (the
plan's words the number came from) and ``需核对`` (why a person should look). The register reader
refuses a row whose 需核对 is still filled, so nothing doubtful reaches the templates unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..errors import ExtractError
from ..model import IndicatorType
from .plan import PlanTask, parse_plan, read_plan
from .targets import Proposal, propose
from .workbook import CHECK_COLUMN, write_register

SOURCE, CHECK = "来源原文", CHECK_COLUMN
DRAFT_COLUMNS = (SOURCE, CHECK)
MILESTONE_UNIT = "阶段"
_TO_WAN = {"元": Decimal("0.0001"), "千元": Decimal("0.1"), "万元": Decimal(1), "亿元": Decimal(10000)}


@dataclass
class Draft:
    """What ``extract`` proposes: the rows of the draft register and counts for the user."""

    tasks: list[PlanTask]
    rows: list[dict[str, object]]

    @property
    def flagged(self) -> int:
        return sum(1 for row in self.rows if row[CHECK])

    @property
    def milestones(self) -> int:
        return sum(1 for row in self.rows if row["指标类型"] == IndicatorType.MILESTONE.value)


def extract(plan: Path) -> Draft:
    """Read ``plan`` (.txt or .docx) and propose its register rows."""
    tasks = parse_plan(read_plan(plan))
    if not tasks:
        raise ExtractError(f"{plan} 中没有找到编号的任务（如“1.项目名称。……”或“具体措施：……”），无法生成台账草稿；"
                           f"如果编号是 Word 的自动编号，请在 Word 中“另存为”纯文本（.txt，编码选 UTF-8），"
                           f"自动编号会写成文字，再用 .txt 文件重试")
    return Draft(tasks, [row for task in tasks for row in task_rows(task)])


def task_rows(task: PlanTask) -> list[dict[str, object]]:
    """The register rows proposed for one task: its targets, or one 里程碑 per lead unit."""
    proposals = _unique(propose(task.text))
    funds = [p for p in proposals if p.funds]
    common = {"任务编号": task.number, "类别": task.category, "项目名称": task.title, "年度目标任务": task.text,
              "协同单位": "、".join(task.partners)}
    if len(funds) == 1:
        common["年度计划资金(万元)"] = funds[0].target * _TO_WAN[funds[0].unit]
    rows = []
    if not proposals:
        for k, lead in enumerate(task.lead or [""], start=1):
            rows.append({**common, "牵头单位": lead, "指标编号": f"{task.number}-{k}", "指标名称": task.title,
                         "计量单位": MILESTONE_UNIT, "指标类型": IndicatorType.MILESTONE.value, "年度目标值": "",
                         SOURCE: "", CHECK: _lead_check(task, milestone=True)})
        return rows
    for k, p in enumerate(proposals, start=1):
        checks = [c for c in (p.check, _lead_check(task)) if c]
        if p.funds and len(funds) == 1:
            checks.append("已同时填入“年度计划资金(万元)”，如这笔钱不是本任务的计划资金请删去")
        rows.append({**common, "牵头单位": task.lead[0] if task.lead else "", "指标编号": f"{task.number}-{k}",
                     "指标名称": p.name or task.title, "计量单位": p.unit, "指标类型": p.type.value,
                     "年度目标值": p.target, SOURCE: p.phrase, CHECK: "；".join(checks)})
    return rows


def _lead_check(task: PlanTask, milestone: bool = False) -> str:
    if not task.lead:
        return "原文没有写明牵头单位，请填写“牵头单位”"
    if len(task.lead) > 1 and not milestone:
        return f"任务有多个牵头单位（{'、'.join(task.lead)}），请确认本指标由哪个单位报送"
    return ""


def _unique(proposals: list[Proposal]) -> list[Proposal]:
    seen, kept = set(), []
    for p in proposals:
        key = (p.target, p.unit, p.phrase)
        if key not in seen:
            seen.add(key)
            kept.append(p)
    return kept


def write_draft(draft: Draft, out: Path) -> Path:
    """The draft register, 需核对 rows tinted; written atomically."""
    write_register(out, draft.rows, extra_columns=DRAFT_COLUMNS, flag_column=CHECK)
    return out
