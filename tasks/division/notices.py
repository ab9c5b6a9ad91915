"""Stage 2's notices: each lead unit hears which tasks it owns, with the task cards."""

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianchuang.models import Community, Person, Task, TaskCoUnit
from lianchuang.models.enums import Role, Stage
from lianchuang.tasks.outbox.drafts import Draft


def assignment_drafts(session: Session, year: int, cycle_id: int, community_ids: list[int]) -> list[Draft]:
    """One notice per responsible leader, liaison and co-organiser's leader, listing their tasks."""
    rows = session.execute(
        select(Task, Community.name).join(Community)
        .where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids), Task.lead_unit_id.is_not(None))
        .order_by(Task.code)).all()
    co_leaders = defaultdict(list)
    for task_id, person_id in session.execute(
            select(TaskCoUnit.task_id, Person.id).join(Person, Person.unit_id == TaskCoUnit.unit_id)
            .join(Task, Task.id == TaskCoUnit.task_id)
            .where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids), Person.role == Role.unit_leader)):
        co_leaders[task_id].append(person_id)
    duties = defaultdict(list)
    for task, community in rows:
        line = lambda role: dict(code=task.code, title=task.title, role=role, goal=task.goal or "", deadline=task.deadline)
        if task.responsible_person_id:
            duties[task.responsible_person_id].append((community, line("responsible")))
        if task.liaison_person_id:
            duties[task.liaison_person_id].append((community, line("liaison")))
        for person_id in co_leaders[task.id]:
            duties[person_id].append((community, line("co_organiser")))
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(duties)))}
    return [Draft.to_person(people[pid], year, Stage.division, "assignment",
                  context=dict(year=year, community=items[0][0], tasks=[line for _, line in items]))
            for pid, items in sorted(duties.items())]
