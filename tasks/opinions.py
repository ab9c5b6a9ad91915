"""Stage 1 rules: solicit the six kinds of source, record suggestions, record the joint meeting's
decisions (adopted suggestions become tasks), and tell every submitter what became of theirs."""

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, func, select, update
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.models import Community, Meeting, Opinion, Person, Task, Unit
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import SOURCE_KINDS, Category, Channel, OpinionStatus, Role, Stage, UnitKind
from lianchuang.tasks.delivery import Draft

def solicitation_drafts(session: Session, year: int, community_ids: list[int], deadline: date) -> list[Draft]:
    """One solicitation per contact of every party of the six source kinds in the communities."""
    rows = session.execute(
        select(Person, Unit.kind, Community.name).join(Unit, Person.unit_id == Unit.id)
        .join(Community, Unit.community_id == Community.id)
        .where(Unit.community_id.in_(community_ids), Unit.kind.in_(SOURCE_KINDS),
               Person.role.in_([Role.unit_leader, Role.resident_rep]))
        .order_by(Person.code)
    ).all()
    return [Draft.to_person(person, year, Stage.opinions, "solicitation",
                                  context=dict(year=year, community=community, source_kind=kind.value,
                                               deadline=deadline))
            for person, kind, community in rows]


@dataclass(frozen=True)
class NewOpinion:
    community_id: int
    source_kind: UnitKind
    channel: Channel
    content: str
    submitted_on: date
    submitter_name: str | None = None
    submitter_contact: str | None = None

    def fingerprint(self) -> str:
        """The same suggestion imported again (same row) gets the same fingerprint."""
        parts = [self.community_id, self.source_kind, self.channel, self.submitter_name or "",
                 self.submitter_contact or "", " ".join(self.content.split()), self.submitted_on.isoformat()]
        return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def record_opinions(session: Session, cycle_id: int, opinions: list[NewOpinion]) -> int:
    """Store suggestions; ones already stored are skipped. Returns how many were new."""
    return insert_ignoring_duplicates(session, Opinion, [
        dict(cycle_id=cycle_id, community_id=o.community_id, source_kind=o.source_kind, channel=o.channel,
             submitter_name=o.submitter_name, submitter_contact=o.submitter_contact, content=o.content,
             submitted_on=o.submitted_on, fingerprint=o.fingerprint(), status=OpinionStatus.pending)
        for o in opinions], ["cycle_id", "fingerprint"])


@dataclass(frozen=True)
class Decision:
    opinion_id: int
    status: OpinionStatus
    category: Category | None = None  # for adopted
    title: str | None = None  # for adopted: the task's title (default: the suggestion's text)
    merge_into_code: str | None = None  # for merged
    reason: str | None = None  # for declined


@dataclass(frozen=True)
class NewTask:
    community_id: int
    category: Category
    title: str
    goal: str | None = None
    deadline: date | None = None


def add_tasks(session: Session, cycle_id: int, tasks: list[NewTask]) -> list[str]:
    """Create tasks, numbered per community (<community code>-001, ...); returns their codes."""
    community_ids = {t.community_id for t in tasks}
    codes = dict(session.execute(select(Community.id, Community.code).where(Community.id.in_(community_ids))).all())
    counts = Counter(dict(session.execute(
        select(Task.community_id, func.count()).where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids))
        .group_by(Task.community_id)).all()))
    rows = []
    for task in tasks:
        counts[task.community_id] += 1
        rows.append(dict(cycle_id=cycle_id, code=f"{codes[task.community_id]}-{counts[task.community_id]:03d}",
                         community_id=task.community_id, category=task.category, title=task.title[:255],
                         goal=task.goal, deadline=task.deadline, assigned_manually=False))
    insert_ignoring_duplicates(session, Task, rows, ["cycle_id", "code"])
    return [row["code"] for row in rows]


def record_decisions(session: Session, cycle_id: int, community_id: int, held_on: date, attendees: str,
                     decisions: list[Decision]) -> dict[int, str]:
    """Record one joint meeting's decisions. Adopted suggestions become tasks at once, so later
    rows (and later meetings) can merge into them. Returns opinion id → the code of its task."""
    insert_ignoring_duplicates(session, Meeting, [dict(cycle_id=cycle_id, community_id=community_id, kind="joint",
                                                       held_on=held_on, attendees=attendees)],
                               ["cycle_id", "community_id", "kind", "held_on"])
    meeting_id = session.scalars(select(Meeting.id).where(
        Meeting.cycle_id == cycle_id, Meeting.community_id == community_id, Meeting.held_on == held_on)).one()
    opinions = {o.id: o for o in session.scalars(select(Opinion).where(Opinion.id.in_([d.opinion_id for d in decisions])))}
    adopted = [d for d in decisions if d.status == OpinionStatus.adopted]
    codes = add_tasks(session, cycle_id, [NewTask(community_id, d.category, d.title or opinions[d.opinion_id].content)
                                          for d in adopted])
    task_code = {d.opinion_id: code for d, code in zip(adopted, codes)}
    task_code |= {d.opinion_id: d.merge_into_code for d in decisions if d.status == OpinionStatus.merged}
    task_ids = dict(session.execute(select(Task.code, Task.id).where(
        Task.cycle_id == cycle_id, Task.code.in_(set(task_code.values())))).all())
    now = clock.now()
    session.execute(update(Opinion), [
        dict(id=d.opinion_id, status=d.status, proposed_category=d.category, decision_reason=d.reason,
             merge_into_code=d.merge_into_code, task_id=task_ids.get(task_code.get(d.opinion_id)),
             meeting_id=meeting_id, decided_at=now)
        for d in decisions])
    return {opinion_id: code for opinion_id, code in task_code.items() if code}


def meeting_drafts(session: Session, year: int, community_ids: list[int], held_on: date) -> list[Draft]:
    """A meeting notice with the agenda to each community's coordinator and party leaders, where
    suggestions wait for a decision."""
    pending = session.execute(
        select(Opinion.community_id, Opinion.source_kind, func.count()).join_from(Opinion, Community)
        .where(Opinion.status == OpinionStatus.pending, Opinion.community_id.in_(community_ids))
        .group_by(Opinion.community_id, Opinion.source_kind)).all()
    agenda: dict[int, list] = {}
    for community_id, kind, count in pending:
        agenda.setdefault(community_id, []).append([UnitKind(kind).value, count])
    if not agenda:
        return []
    names = dict(session.execute(select(Community.id, Community.name).where(Community.id.in_(agenda))).all())
    people = session.scalars(select(Person).outerjoin(Unit, Person.unit_id == Unit.id).where(
        Person.community_id.in_(agenda),
        (Person.role == Role.community_coordinator) | ((Person.role == Role.unit_leader) & (Unit.kind.in_(
            [UnitKind.party_org, UnitKind.residents_committee, UnitKind.stationed_unit, UnitKind.linked_unit]))))
    ).all()
    return [Draft.to_person(p, year, Stage.opinions, "meeting", period=held_on.isoformat(),
                                  context=dict(year=year, community=names[p.community_id], held_on=held_on,
                               agenda=agenda[p.community_id]))
            for p in people]


def feedback_drafts(session: Session, year: int, cycle_id: int, community_ids: list[int]) -> list[Draft]:
    """Feedback to every submitter who left a contact, once per decided suggestion."""
    rows = session.execute(
        select(Opinion, Community.name, Task.code, Task.title).join(Community, Opinion.community_id == Community.id)
        .outerjoin(Task, Opinion.task_id == Task.id)
        .where(Opinion.cycle_id == cycle_id, Opinion.community_id.in_(community_ids),
               Opinion.status != OpinionStatus.pending, Opinion.submitter_contact.is_not(None))).all()
    return [Draft(year=year, stage=Stage.opinions, template="feedback", recipient_key=f"opinion-{o.id}",
                  recipient_name=o.submitter_name or "居民朋友",
                  recipient_email=o.submitter_contact if "@" in (o.submitter_contact or "") else None,
                  community_id=o.community_id,
                  context=dict(year=year, community=community, content=o.content, submitted_on=o.submitted_on,
                               status=o.status.value, task_code=code or "", task_title=title or "",
                               reason=o.decision_reason or "—"))
            for o, community, code, title in rows]


def undecided_communities(session: Session, cycle_id: int, community_ids: list[int]) -> set[int]:
    """Communities that gathered nothing yet or still have suggestions waiting for a decision."""
    counts = session.execute(
        select(Opinion.community_id, func.count(), func.sum((Opinion.status == OpinionStatus.pending).cast(Integer)))
        .where(Opinion.cycle_id == cycle_id, Opinion.community_id.in_(community_ids)).group_by(Opinion.community_id)).all()
    decided = {cid for cid, total, pending in counts if total and not pending}
    return set(community_ids) - decided
