"""Reviewing the division of work: the assignment sheet (export, edit, import) and single changes
from the command line (what a card still lacks is `division.missing_fields`).

A change made here is a manual choice: the task is marked `assigned_manually`, and proposing
again (`assign propose --redo`) never touches it."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, aliased

from lianchuang.errors import ImportRefused, Problem, UserError
from lianchuang.models import Community, Person, Task, TaskCoUnit, Unit
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.tasks.cycle import audit
from lianchuang.tasks.division.assignment import TASK_TAKING_KINDS
from lianchuang.tasks.division.cards import complete_task_cards
from lianchuang.tasks.org import resolve
from lianchuang.tasks.outbox.rendering import label
from lianchuang.tasks.plan import EXAMPLE, default_steps, format_steps, parse_steps, replace_steps, steps_problem, task_steps
from lianchuang.tasks.sheets import Column, SheetReader, parse_date, write_template

SHEET = "分工"
COLUMNS = [
    Column("task", "任务编号", ("task", "task code"), True), Column("community", "社区", ("community",)),
    Column("category", "类别", ("category",)), Column("title", "任务", ("title",)),
    Column("lead", "牵头单位编码", ("lead", "lead unit")), Column("lead_name", "牵头单位", ("lead name",)),
    Column("co", "协办单位编码", ("co", "co-organisers")), Column("leader", "负责领导编码", ("leader",)),
    Column("leader_name", "负责领导", ("leader name",)), Column("liaison", "联络员编码", ("liaison",)),
    Column("liaison_name", "联络员", ("liaison name",)), Column("goal", "年度目标", ("goal",), multiline=True),
    Column("deadline", "截止日期", ("deadline",)), Column("steps", "实施步骤", ("steps",), multiline=True),
    Column("reason", "推荐理由", ("reason",), multiline=True),
    Column("manual", "人工确定", ("manual",)),
]

def _split_codes(text: str) -> list[str]:
    for separator in "，、; ；":
        text = text.replace(separator, ",")
    return [code.strip() for code in text.split(",") if code.strip()]


def export_assignments(session: Session, path: Path, cycle_id: int, community_ids: list[int]) -> int:
    """Every task with its owners and card, for the division meeting to review and correct."""
    leader, liaison = aliased(Person), aliased(Person)
    rows = session.execute(
        select(Task, Community.name, Unit.code, Unit.name, leader.code, leader.name, liaison.code, liaison.name)
        .join(Community, Task.community_id == Community.id).outerjoin(Unit, Task.lead_unit_id == Unit.id)
        .outerjoin(leader, Task.responsible_person_id == leader.id).outerjoin(liaison, Task.liaison_person_id == liaison.id)
        .where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids)).order_by(Task.code)).all()
    co_units: dict[int, list[str]] = {}
    for task_id, code in session.execute(select(TaskCoUnit.task_id, Unit.code).join(Unit, TaskCoUnit.unit_id == Unit.id)
                                         .join(Task, Task.id == TaskCoUnit.task_id)
                                         .where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids))
                                         .order_by(Unit.code)):
        co_units.setdefault(task_id, []).append(code)
    steps = task_steps(session, [task.id for task, *_ in rows])
    examples = [[task.code, community, label(task.category), task.title, lead or "", lead_name or "",
                 "、".join(co_units.get(task.id, [])), leader_code or "", leader_name or "", liaison_code or "",
                 liaison_name or "", task.goal or "", task.deadline.isoformat() if task.deadline else "",
                 format_steps(steps.get(task.id, [])), task.assignment_reason or "", "是" if task.assigned_manually else ""]
                for task, community, lead, lead_name, leader_code, leader_name, liaison_code, liaison_name in rows]
    write_template(path, {SHEET: COLUMNS}, choices={}, examples={SHEET: examples}, notes=[
        "每行一项任务。要改牵头单位、负责领导或联络员，改“编码”列或名称列都可以（只改一列；名称重名时会列出候选，请改填编码）。",
        "协办单位可填多个，用顿号或逗号分隔。截止日期格式如 2026-12-31。",
        f"实施步骤写“月份 百分比 内容”，用分号分隔，最后一步 100% 且不晚于截止日期，如：{EXAMPLE}。"
        "只改截止日期、不改步骤时，按默认步骤的任务会按新时限重排步骤。",
        "改动过的任务记为“人工确定”，以后重新推荐分工时保留不变。",
        "填好后运行：lianchuang assign import 本文件.xlsx"])
    return len(rows)


@dataclass
class CardChange:
    """What one row or one command asks to change on a task card; None means leave it as it is."""
    task_code: str
    lead: str | None = None
    co: list[str] | None = None
    leader: str | None = None
    liaison: str | None = None
    goal: str | None = None
    deadline: str | None = None
    steps: str | None = None
    # The sheet's name columns, as the coordinator left them: an edited name is applied where its
    # code was left as it was, and refused where it contradicts a code also changed.
    lead_name: str | None = None
    leader_name: str | None = None
    liaison_name: str | None = None


NAMED = (("lead", "lead_name", "units", "牵头单位"), ("leader", "leader_name", "people", "负责领导"),
         ("liaison", "liaison_name", "people", "联络员"))


class _Lookup:
    def __init__(self, session: Session, cycle_id: int, changes: list[CardChange]):
        codes = {c.task_code for c in changes}
        self.tasks = {t.code: t for t in _chunked(session, select(Task).where(Task.cycle_id == cycle_id), Task.code, codes)}
        unit_names = {u for c in changes for u in (c.lead, c.lead_name) if u} | {u for c in changes for u in c.co or []}
        self.units, self.unknown_units = resolve(session, Unit, unit_names)
        person_names = {p for c in changes for p in (c.leader, c.liaison, c.leader_name, c.liaison_name) if p}
        self.people, self.unknown_people = resolve(session, Person, person_names)
        task_ids = [t.id for t in self.tasks.values()]
        self.co_units: dict[int, set[int]] = {}
        for start in range(0, len(task_ids), 900):
            for task_id, unit_id in session.execute(select(TaskCoUnit.task_id, TaskCoUnit.unit_id).where(
                    TaskCoUnit.task_id.in_(task_ids[start:start + 900]))):
                self.co_units.setdefault(task_id, set()).add(unit_id)
        self.steps = task_steps(session, task_ids)
        tasks = self.tasks.values()  # the names the sheet was exported with, to tell an edited name from a stale one
        self.unit_names = dict(session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_({t.lead_unit_id for t in tasks if t.lead_unit_id}))).all())
        self.person_names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(
            {p for t in tasks for p in (t.responsible_person_id, t.liaison_person_id) if p}))).all())
        self.committed = task_steps(session, task_ids, committed=True)
        self.new_steps: dict[str, list] = {}  # task code → the steps it will have, decided by _check


def _chunked(session: Session, statement, column, values: set) -> list:
    values = sorted(values)
    return [row for start in range(0, len(values), 900)
            for row in session.scalars(statement.where(column.in_(values[start:start + 900])))]


def _check(change: CardChange, lookup: _Lookup, year: int, file: str, row: int) -> list[Problem]:
    problems = []
    task = lookup.tasks.get(change.task_code)
    if task is None:
        return [Problem(file, row, "任务编号", f"{year}年度没有任务“{change.task_code}”")]
    problems += _settle_names(change, task, lookup, file, row)
    for code in ([change.lead] if change.lead else []) + (change.co or []):
        unit = lookup.units.get(code)
        column = "牵头单位编码" if code == change.lead else "协办单位编码"
        if unit is None:
            problems.append(Problem(file, row, column, lookup.unknown_units[code]))
        elif unit.kind not in TASK_TAKING_KINDS:
            problems.append(Problem(file, row, column, f"{unit.name}是{label(unit.kind)}，不能承担任务"))
    if change.lead and change.lead in lookup.units and lookup.units[change.lead].id in {
            lookup.units[u].id for u in change.co or [] if u in lookup.units}:
        problems.append(Problem(file, row, "协办单位编码", f"{change.lead} 已是牵头单位，不能同时是协办单位"))
    for code, column in ((change.leader, "负责领导编码"), (change.liaison, "联络员编码")):
        if code and code not in lookup.people:
            problems.append(Problem(file, row, column, lookup.unknown_people[code]))
    deadline = task.deadline
    if change.deadline is not None:
        deadline = parse_date(change.deadline)
        if deadline is None or deadline.year != year:
            problems.append(Problem(file, row, "截止日期", f"“{change.deadline}”应为 {year} 年内的日期，如 {year}-12-31"))
            deadline = task.deadline
    problems += _check_steps(change, task, deadline, lookup, year, file, row)
    if change.goal is not None and not change.goal.strip():
        problems.append(Problem(file, row, "年度目标", "年度目标不能为空"))
    return problems


def _settle_names(change: CardChange, task: Task, lookup: _Lookup, file: str, row: int) -> list[Problem]:
    """A name column edited in the sheet: applied when its code column still names who the task has
    (the coordinator thought in names), refused when the code was changed to someone else."""
    problems = []
    current = {"lead": task.lead_unit_id, "leader": task.responsible_person_id, "liaison": task.liaison_person_id}
    for key, name_key, kind, column in NAMED:
        name, code = getattr(change, name_key), getattr(change, key)
        found = getattr(lookup, kind)
        by_code = found.get(code) if code else None
        exported = (lookup.unit_names if kind == "units" else lookup.person_names).get(current[key])
        if not name or name == exported or (by_code is not None and by_code.name == name):
            continue  # no name, the name as exported (the code column decides), or the code's own name
        if code and by_code is not None and by_code.id != current[key]:
            problems.append(Problem(file, row, column, f"“{column}编码”改成了 {code}（{by_code.name}），"
                                                      f"“{column}”却写着“{name}”：请只改其中一列"))
        elif name not in found:
            unknown = lookup.unknown_units if kind == "units" else lookup.unknown_people
            problems.append(Problem(file, row, column, unknown[name]))
        else:
            setattr(change, key, name)  # the resolver takes the name as it takes a code
    return problems


def _check_steps(change: CardChange, task: Task, deadline, lookup: _Lookup, year: int, file: str, row: int) -> list[Problem]:
    """Decide the task's steps: those written; or, when only the deadline moves, steps re-derived
    from it if the task had the default ones; hand-made steps that no longer fit are a problem."""
    current = lookup.steps.get(task.id, [])
    if change.steps is not None and change.steps.strip() != format_steps(current):
        steps, problem = parse_steps(change.steps, year, deadline)
        if problem:
            return [Problem(file, row, "实施步骤", problem)]
        lookup.new_steps[change.task_code] = steps
    elif deadline != task.deadline and current:
        if current == default_steps(task.deadline, year):
            lookup.new_steps[change.task_code] = default_steps(deadline, year)
        elif steps_problem(current, deadline, year):
            return [Problem(file, row, "截止日期", f"{deadline.isoformat()} 早于现有实施步骤的最后一步（{current[-1].month}月）；"
                                                 f"请同时改实施步骤（现在是：{format_steps(current)}）")]
    return []


def _apply(session: Session, change: CardChange, lookup: _Lookup) -> bool:
    """Write one checked change; returns whether anything changed."""
    task = lookup.tasks[change.task_code]
    before = (task.lead_unit_id, task.responsible_person_id, task.liaison_person_id, task.goal, task.deadline)
    leader = lookup.people[change.leader].id if change.leader else None
    liaison = lookup.people[change.liaison].id if change.liaison else None
    if change.lead and lookup.units[change.lead].id != task.lead_unit_id:
        # The old unit's people left in the sheet go with the old unit; the new unit's are filled in.
        leader = None if leader == task.responsible_person_id else leader
        liaison = None if liaison == task.liaison_person_id else liaison
        task.lead_unit_id = lookup.units[change.lead].id
        task.responsible_person_id = task.liaison_person_id = None
        task.assignment_reason = "人工确定"
    task.responsible_person_id = leader or task.responsible_person_id
    task.liaison_person_id = liaison or task.liaison_person_id
    if change.goal is not None:
        task.goal = change.goal.strip()
    if change.deadline is not None:
        task.deadline = parse_date(change.deadline)
    changed = before != (task.lead_unit_id, task.responsible_person_id, task.liaison_person_id, task.goal, task.deadline)
    steps = lookup.new_steps.get(change.task_code)
    if steps is not None and steps != lookup.steps.get(task.id, []):
        replace_steps(session, task.id, steps)
        changed = True
        if task.id in lookup.committed:  # a change of the published plan: kept beside it, on record
            audit(session, "change_steps", f"task:{task.code}", committed=format_steps(lookup.committed[task.id]),
                  before=format_steps(lookup.steps.get(task.id, [])), after=format_steps(steps))
    if change.co is not None:
        wanted = {lookup.units[code].id for code in change.co}
        if wanted != lookup.co_units.get(task.id, set()):
            session.execute(delete(TaskCoUnit).where(TaskCoUnit.task_id == task.id))
            insert_ignoring_duplicates(session, TaskCoUnit, [dict(task_id=task.id, unit_id=u) for u in sorted(wanted)],
                                       ["task_id", "unit_id"])
            changed = True
    if changed:
        task.assigned_manually = True
    return changed


def apply_changes(session: Session, year: int, cycle_id: int, changes: list[tuple[int, CardChange]], file: str) -> int:
    """Check every change, refuse all if any is wrong, else write them and refill cleared owners."""
    lookup = _Lookup(session, cycle_id, [c for _, c in changes])
    problems = [p for row, change in changes for p in _check(change, lookup, year, file, row)]
    if problems:
        raise ImportRefused(problems)
    changed = [change for _, change in changes if _apply(session, change, lookup)]
    session.flush()
    complete_task_cards(session, year, cycle_id, sorted({lookup.tasks[c.task_code].community_id for c in changed}))
    return len(changed)


def import_assignments(session: Session, year: int, cycle_id: int, path: Path) -> dict:
    reader = SheetReader(path, COLUMNS, sheet=None if path.suffix.lower() in (".csv", ".txt") else SHEET)
    if reader.problems:
        raise ImportRefused(reader.problems)
    changes = [(number, CardChange(row["task"], lead=row.get("lead") or None, co=_split_codes(row["co"]) if "co" in row else None,
                                   leader=row.get("leader") or None, liaison=row.get("liaison") or None,
                                   goal=row.get("goal") or None, deadline=row.get("deadline") or None,
                                   steps=row.get("steps") or None, lead_name=row.get("lead_name") or None,
                                   leader_name=row.get("leader_name") or None, liaison_name=row.get("liaison_name") or None))
               for number, row in reader if row.get("task")]
    if reader.cell_problems:
        raise ImportRefused(reader.cell_problems)
    if not changes:
        raise UserError(f"{reader.file}: 没有任何任务行（“任务编号”列是空的）")
    changed = apply_changes(session, year, cycle_id, changes, reader.file)
    return dict(rows=len(changes), changed=changed)
