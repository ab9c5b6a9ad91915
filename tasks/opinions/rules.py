"""Stage 1 rules: solicit the six kinds of source, record suggestions, record the joint meeting's
decisions (adopted suggestions become tasks), and tell every submitter what became of theirs."""

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, func, select, update
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.models import Community, Meeting, Opinion, Task
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import Category, Channel, OpinionStatus, UnitKind


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


def undecided_communities(session: Session, cycle_id: int, community_ids: list[int]) -> set[int]:
    """Communities that gathered nothing yet or still have suggestions waiting for a decision."""
    counts = session.execute(
        select(Opinion.community_id, func.count(), func.sum((Opinion.status == OpinionStatus.pending).cast(Integer)))
        .where(Opinion.cycle_id == cycle_id, Opinion.community_id.in_(community_ids)).group_by(Opinion.community_id)).all()
    decided = {cid for cid, total, pending in counts if total and not pending}
    return set(community_ids) - decided
