"""What changed between two versions of the register (台账变更), in words a clerk checks against
what the office decided: indicators added, removed or cancelled, re-targeted, transferred, renamed."""

from __future__ import annotations

from ..model import Indicator
from .cache import Register

_SHOWN = 12  # changes named one by one; the rest are counted


def changes(old: Register, new: Register) -> list[str]:
    """Each change from ``old`` to ``new``, one Chinese phrase each, in the new register's order."""
    before = {ind.id: ind for ind in old.indicators}
    after = {ind.id: ind for ind in new.indicators}
    renamed = {ind.former_id: ind.id for ind in new.indicators
               if ind.former_id and ind.former_id in before and ind.former_id not in after}
    was_cancelled = {c.id for c in old.cancelled}
    found: list[str] = []
    for ind in new.indicators:
        earlier = before.get(ind.id) or (before.get(ind.former_id) if ind.former_id else None)
        if earlier is None:
            again = "（原为已撤销）" if ind.id in was_cancelled else ""
            found.append(f"新增指标 {ind.id}“{ind.name}”（{ind.lead_unit}）{again}")
            continue
        if earlier.id != ind.id:
            found.append(f"指标 {earlier.id} 改号为 {ind.id}")
        found += _differences(earlier, ind)
    for c in new.cancelled:
        if c.id in before:
            found.append(f"撤销指标 {c.id}“{c.name}”（{c.lead_unit}）")
    cancelled_now = {c.id for c in new.cancelled}
    for ind in old.indicators:
        if ind.id not in after and ind.id not in renamed and ind.id not in cancelled_now:
            found.append(f"删除指标 {ind.id}“{ind.name}”（{ind.lead_unit}）")
    return found


def _differences(old: Indicator, new: Indicator) -> list[str]:
    found = []
    if old.lead_unit != new.lead_unit:
        found.append(f"指标 {new.id} 的牵头单位由{old.lead_unit}改为{new.lead_unit}")
    if old.target != new.target:
        found.append(f"指标 {new.id} 的目标值由 {_target(old)} 改为 {_target(new)}")
    elif (old.adjusted_target, old.adjusted_from) != (new.adjusted_target, new.adjusted_from):
        found.append(f"指标 {new.id} 的目标" + (f"自 {new.adjusted_from} 起由 {new.target} 调整为 {new.adjusted_target}"
                                               if new.adjusted_from else f"不再调整（仍为 {new.target}）"))
    if old.name != new.name:
        found.append(f"指标 {new.id} 的名称由“{old.name}”改为“{new.name}”")
    other = [label for label, a, b in (("计量单位", old.unit_of_measure, new.unit_of_measure),
                                       ("指标类型", old.type, new.type), ("完成时限", old.deadline, new.deadline))
             if a != b]
    if other:
        found.append(f"指标 {new.id} 的{'、'.join(other)}有改动")
    return found


def _target(ind: Indicator) -> str:
    if ind.adjusted_from:
        return f"{ind.target}（自 {ind.adjusted_from} 起 {ind.adjusted_target}）"
    return str(ind.target)


def summary(found: list[str]) -> str:
    """The changes in one sentence, the first few named."""
    named = "；".join(found[:_SHOWN])
    more = f"；等共 {len(found)} 处" if len(found) > _SHOWN else ""
    return f"{named}{more}" if found else "只有格式或说明文字有改动"
