"""Who leads each task: the three principles of seed 003 as one optimisation per street.

Cost of giving a task to a unit as its k-th task of the year (lower is better):
  nearby    0 when the unit is in the task's community, 3 when elsewhere in the same street
            (units of other streets are never proposed);
  best fit  -5 when the unit declared the task's category among its strengths (so a declared
            strength in the street beats a unit next door that merely fits by kind), -1 when its
            kind usually serves that category (KIND_FIT), +10 when neither: a unit that does not
            fit is proposed only when no fitting unit of the street has room, and its reason says so;
  balance   2 × k / capacity: each further task costs more, so load spreads as evenly as the
            first two principles allow; a task beyond capacity costs 20 more.
Every unit offers one "slot" per possible k; the cheapest matching of tasks to slots is found with
the Hungarian method (scipy's linear_sum_assignment), which gives the optimum over the whole
street at once, so the result does not depend on the order of tasks. Because slot costs grow with
k, an optimal matching always fills a unit's cheaper slots first. Co-organisers are a second
matching of the same kind, never the lead itself. Ties are broken by the codes (sorted input)."""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from lianchuang.models import Community, Task, TaskCoUnit, Unit
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import Category, UnitKind
from lianchuang.tasks.outbox.rendering import label

TASK_TAKING_KINDS = [UnitKind.residents_committee, UnitKind.stationed_unit, UnitKind.linked_unit,
                     UnitKind.civil_org, UnitKind.mass_org]
KIND_FIT = {
    UnitKind.residents_committee: {Category.services, Category.sanitation, Category.culture},
    UnitKind.stationed_unit: {Category.public_safety, Category.sanitation, Category.services},
    UnitKind.linked_unit: {Category.party_building, Category.services},
    UnitKind.civil_org: {Category.services, Category.culture},
    UnitKind.mass_org: {Category.culture, Category.party_building, Category.services},
}
OTHER_COMMUNITY, STRENGTH, KIND, NO_FIT, BALANCE, OVERLOAD = 3.0, -5.0, -1.0, 10.0, 2.0, 20.0
FORBIDDEN = 1e6


@dataclass
class Proposal:
    task_id: int
    lead_unit_id: int
    co_unit_id: int | None
    reason: str


@dataclass
class Balance:
    """Tasks led per unit, before and after the proposal, over the units that could take them."""
    before: dict[int, int]
    after: dict[int, int]
    capacity: dict[int, int]
    unassigned: int = 0
    codes: dict[int, str] = field(default_factory=dict)

    def histogram(self) -> list[tuple[int, int, int]]:
        """(tasks led, units before, units after) for every load that occurs."""
        before, after = Counter(self.before.values()), Counter(self.after.values())
        return [(load, before[load], after[load]) for load in sorted(set(before) | set(after))]

    def figures(self, loads: dict[int, int]) -> dict:
        values = list(loads.values()) or [0]
        over = sum(1 for uid, n in loads.items() if n > self.capacity[uid])
        return dict(units=len(loads), tasks=sum(values), mean=round(statistics.fmean(values), 2),
                    max=max(values), std=round(statistics.pstdev(values), 2), over_capacity=over)


def _load(session: Session, cycle_id: int, column, unit_ids: list[int]) -> dict[int, int]:
    counts = defaultdict(int)
    for start in range(0, len(unit_ids), 900):
        counts.update(session.execute(select(column, func.count()).where(
            Task.cycle_id == cycle_id, column.in_(unit_ids[start:start + 900])).group_by(column)).all())
    return counts


def _fit(unit, category: Category) -> tuple[float, str]:
    if category in unit.strengths.split(","):
        return STRENGTH, f"擅长{label(category)}"
    if category in KIND_FIT.get(unit.kind, ()):
        return KIND, f"{label(unit.kind)}对口"
    return NO_FIT, "不对口（本街道对口单位已无余力）"


def _match(tasks: list, units: list, load: dict[int, int], excluded: dict[int, int] | None = None) -> list[int | None]:
    """Index into `units` for each task (None where no unit may take it), minimising the total cost."""
    import numpy as np  # imported here: only assignment needs numpy and scipy (0.3 s for every other command)
    from scipy.optimize import linear_sum_assignment

    extra = -(-len(tasks) // len(units)) + 1  # slots past capacity, so every task can be placed
    slots = []  # (unit index, k-th task of the unit, balance cost)
    for index, unit in enumerate(units):
        capacity = max(unit.capacity, 1)
        free = min(max(capacity - load[unit.id], 0), len(tasks))
        for k in range(load[unit.id] + 1, load[unit.id] + free + extra + 1):
            slots.append((index, BALANCE * k / capacity + (OVERLOAD + k if k > capacity else 0)))
    slot_unit = np.array([s[0] for s in slots])
    slot_cost = np.array([s[1] for s in slots])
    unit_community = np.array([u.community_id for u in units])
    fit = {category: np.array([_fit(u, category)[0] for u in units]) for category in Category}
    cost = np.empty((len(tasks), len(slots)))
    for row, task in enumerate(tasks):
        per_unit = np.where(unit_community == task.community_id, 0.0, OTHER_COMMUNITY) + fit[task.category]
        if excluded is not None:
            per_unit[excluded[task.id]] = FORBIDDEN
        cost[row] = per_unit[slot_unit] + slot_cost
    rows, columns = linear_sum_assignment(cost)
    chosen: list[int | None] = [None] * len(tasks)
    for row, column in zip(rows, columns):
        if cost[row, column] < FORBIDDEN / 2:
            chosen[row] = int(slot_unit[column])
    return chosen


def propose(session: Session, cycle_id: int, community_ids: list[int]) -> tuple[list[Proposal], Balance]:
    """A lead unit and a co-organiser for every task of these communities that has no lead yet."""
    tasks = session.execute(
        select(Task.id, Task.code, Task.community_id, Task.category, Community.street_id).join(Community)
        .where(Task.cycle_id == cycle_id, Task.lead_unit_id.is_(None), Task.community_id.in_(community_ids))
        .order_by(Task.code)).all()
    streets = sorted({t.street_id for t in tasks} or set(session.scalars(
        select(Community.street_id).where(Community.id.in_(community_ids)))))
    units = session.execute(
        select(Unit.id, Unit.code, Unit.kind, Unit.community_id, Unit.strengths, Unit.capacity, Community.street_id)
        .join(Community).where(Community.street_id.in_(streets), Unit.kind.in_(TASK_TAKING_KINDS))
        .order_by(Unit.code)).all()
    unit_ids = [u.id for u in units]
    lead_load = _load(session, cycle_id, Task.lead_unit_id, unit_ids)
    co_load = defaultdict(int, session.execute(
        select(TaskCoUnit.unit_id, func.count()).join(Task, Task.id == TaskCoUnit.task_id)
        .where(Task.cycle_id == cycle_id, TaskCoUnit.unit_id.in_(unit_ids)).group_by(TaskCoUnit.unit_id)).all()
        if unit_ids else [])
    balance = Balance(before={u.id: lead_load[u.id] for u in units}, after={}, capacity={u.id: u.capacity for u in units},
                      codes={u.id: u.code for u in units})
    by_street_units, by_street_tasks = defaultdict(list), defaultdict(list)
    for unit in units:
        by_street_units[unit.street_id].append(unit)
    for task in tasks:
        by_street_tasks[task.street_id].append(task)
    proposals = []
    for street_id in streets:
        street_tasks, street_units = by_street_tasks[street_id], by_street_units[street_id]
        if not street_tasks:
            continue
        if not street_units:
            balance.unassigned += len(street_tasks)
            continue
        leads = _match(street_tasks, street_units, lead_load)
        for task, index in zip(street_tasks, leads):
            lead_load[street_units[index].id] += 1
        co_units = _match(street_tasks, street_units, co_load, excluded={t.id: i for t, i in zip(street_tasks, leads)})
        for task, lead_index, co_index in zip(street_tasks, leads, co_units):
            lead = street_units[lead_index]
            co = street_units[co_index] if co_index is not None else None
            if co is not None:
                co_load[co.id] += 1
            proposals.append(Proposal(task.id, lead.id, co.id if co else None, _reason(task, lead, lead_load[lead.id])))
    balance.after = {u.id: lead_load[u.id] for u in units}
    return proposals, balance


def _reason(task, unit, load: int) -> str:
    parts = ["同社区" if unit.community_id == task.community_id else "同街道", _fit(unit, task.category)[1],
             f"当前承担{load}项" + ("（已超出可承担数）" if load > unit.capacity else f"（可承担{unit.capacity}项）")]
    return "，".join(p for p in parts if p)


def apply(session: Session, proposals: list[Proposal]) -> None:
    if not proposals:
        return
    session.execute(update(Task), [dict(id=p.task_id, lead_unit_id=p.lead_unit_id, assignment_reason=p.reason,
                                        assigned_manually=False) for p in proposals])
    insert_ignoring_duplicates(session, TaskCoUnit, [dict(task_id=p.task_id, unit_id=p.co_unit_id)
                                                     for p in proposals if p.co_unit_id], ["task_id", "unit_id"])


def clear_proposals(session: Session, cycle_id: int, community_ids: list[int]) -> int:
    """Forget proposed (not manual) owners so the proposal can be made again; manual choices stay."""
    proposed = select(Task.id).where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids),
                                     Task.assigned_manually.is_(False), Task.lead_unit_id.is_not(None))
    session.execute(delete(TaskCoUnit).where(TaskCoUnit.task_id.in_(proposed)))
    return session.execute(update(Task).where(Task.id.in_(proposed)).values(
        lead_unit_id=None, assignment_reason=None, responsible_person_id=None, liaison_person_id=None)).rowcount
