"""What an evaluator needs to vote: the tasks of their community (code, title, lead unit), listed in
the invitation and printed on paper ballots (评议票), one per evaluator, for a ballot box.

A slip carries the evaluator's one-time code and group, never their name: the coordinator hands
the slips of a group to its members, so a ballot, entered by its code, says nothing of who cast it."""

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang.models import Community, Evaluator, Opinion, Person, Task, Unit
from lianchuang.models.enums import Grade, Role
from lianchuang.models.queries import latest_percents
from lianchuang.tasks.files import replace_file
from lianchuang.tasks.plan import format_steps, task_steps


def ballot_tasks(session: Session, cycle_id: int, community_ids: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    """Per community, its tasks to grade: (code, title, lead unit)."""
    tasks = defaultdict(list)
    for community_id, code, title, unit in session.execute(
            select(Task.community_id, Task.code, Task.title, Unit.name).outerjoin(Unit, Task.lead_unit_id == Unit.id)
            .where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids)).order_by(Task.code)):
        tasks[community_id].append((code, title, unit or "—"))
    return tasks


def ballot_evidence(session: Session, cycle_id: int, community_ids: list[int]) -> dict[int, list[str]]:
    """Per community, a line per task for the evaluators to grade what was delivered, not memory:
    its goal, the steps committed (as published; the steps now where there was no publication), the
    year's latest reported progress, and how many residents' suggestions it answers."""
    tasks = session.execute(select(Task.id, Task.community_id, Task.code, Task.title, Task.goal)
                            .where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids)).order_by(Task.code)).all()
    ids = [t.id for t in tasks]
    committed, now = task_steps(session, ids, committed=True), task_steps(session, ids)
    reported = latest_percents(session, ids)
    suggestions = dict(session.execute(select(Opinion.task_id, func.count()).where(Opinion.task_id.in_(ids))
                                       .group_by(Opinion.task_id)).all())
    evidence = defaultdict(list)
    for task in tasks:
        day, percent = reported.get(task.id, (None, None))
        parts = [f"{task.code} {task.title}：目标 {task.goal or '—'}",
                 f"承诺的步骤 {format_steps(committed.get(task.id) or now.get(task.id, [])) or '—'}",
                 f"报告进度 {percent}%（{day.month}月{day.day}日报告）" if day else "报告进度 未报告"]
        if suggestions.get(task.id):
            parts.append(f"来自 {suggestions[task.id]} 条群众意见建议")
        evidence[task.community_id].append("；".join(parts))
    return evidence


def coordinators(session: Session, community_ids: list[int]) -> dict[int, str]:
    """Per community, the name of its coordinator, who collects the paper ballots."""
    return dict(session.execute(select(Person.community_id, Person.name).where(
        Person.role == Role.community_coordinator, Person.community_id.in_(community_ids)).order_by(Person.code.desc())).all())


def write_ballot_slips(session: Session, year: int, cycle_id: int, community: Community,
                       again_for: set[int] = frozenset()) -> tuple[str | None, int, list[str]]:
    """documents/<year>/评议票/<community code>.html: one printable slip per evaluator of the
    community who has not voted and has no code yet (no email, so no code in an invitation, and no
    slip printed before), grouped by evaluator group, each with a new code. The people of `again_for`
    (person ids) who have not voted get a new slip too: the code they had (emailed or printed) stops
    working, the codes being kept only as hashes, so they are named back. Returns the page (None:
    no slip), the number of slips and the names of those whose earlier code stopped working."""
    from lianchuang.settings import get_settings
    from lianchuang.tasks.evaluation.codes import issue_codes
    from lianchuang.tasks.outbox.rendering import render_page

    waiting = session.execute(select(Evaluator.id, Evaluator.group, Evaluator.code_hash, Person.name)
                              .join(Person, Evaluator.person_id == Person.id).where(
        Evaluator.cycle_id == cycle_id, Evaluator.community_id == community.id, Evaluator.used_at.is_(None),
        Evaluator.code_hash.is_(None) | Evaluator.person_id.in_(again_for))
        .order_by(Evaluator.group, Evaluator.id)).all()
    if not waiting:
        return None, 0, []
    replaced = [name for _, _, code_hash, name in waiting if code_hash is not None]
    codes = issue_codes(session, cycle_id, [evaluator_id for evaluator_id, *_ in waiting])  # new codes: only on these slips
    folder = get_settings().documents_dir / str(year) / "评议票"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{community.code}.html"
    slips = [dict(code=codes[evaluator_id], group=group.value) for evaluator_id, group, *_ in waiting]
    replace_file(path, render_page("documents/ballot_slips.html", dict(
        year=year, community=community.name, slips=slips, tasks=ballot_tasks(session, cycle_id, [community.id])[community.id],
        evidence=ballot_evidence(session, cycle_id, [community.id])[community.id],
        grades=Grade.labels(), collector=coordinators(session, [community.id]).get(community.id, "社区党组织"))))
    return str(path), len(slips), replaced
