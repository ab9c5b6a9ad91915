"""Stage 3 rules: a responsibility statement per unit with tasks, a commitment letter per person
with posts; printable documents; joint publication once a community has signed everything."""

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import insert, join, or_, select, update
from sqlalchemy.orm import Session, aliased

from lianchuang.errors import UserError
from lianchuang.models import (
    Commitment,
    CommittedMilestone,
    Community,
    Milestone,
    Person,
    Post,
    PostClaim,
    PostKind,
    Task,
    TaskCoUnit,
    Unit,
)
from lianchuang.models.db import chunked, insert_ignoring_duplicates
from lianchuang.models.enums import CommitmentKind, Role, Stage, UnitKind
from lianchuang.settings import get_settings
from lianchuang.tasks.files import page_in, replace_file
from lianchuang.tasks.org import resolve
from lianchuang.tasks.outbox.drafts import Draft
from lianchuang.tasks.outbox.rendering import render_page


def _unit_tasks(session: Session, cycle_id: int, community_ids: list[int]) -> dict[int, list[dict]]:
    """Per unit, the tasks it leads or co-organises, as lines of its responsibility statement."""
    leader, liaison = aliased(Person), aliased(Person)

    def query(unit_column, source):
        return (select(unit_column, Task, leader.name, liaison.name).select_from(source)
                .outerjoin(leader, Task.responsible_person_id == leader.id)
                .outerjoin(liaison, Task.liaison_person_id == liaison.id)
                .where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids), unit_column.is_not(None))
                .order_by(Task.code))

    lines = defaultdict(list)
    led = query(Task.lead_unit_id, Task)
    co_organised = query(TaskCoUnit.unit_id, join(TaskCoUnit, Task, TaskCoUnit.task_id == Task.id))
    for role, statement in (("lead", led), ("co_organiser", co_organised)):
        for unit_id, task, leader_name, liaison_name in session.execute(statement):
            lines[unit_id].append(dict(code=task.code, title=task.title, role=role, goal=task.goal or "",
                                       deadline=task.deadline, leader=leader_name or "", liaison=liaison_name or ""))
    return lines


def _person_posts(session: Session, cycle_id: int, community_ids: list[int]) -> dict[int, list[str]]:
    posts = defaultdict(list)
    for person_id, kind in session.execute(
            select(PostClaim.person_id, PostKind.name).join(Post, PostClaim.post_id == Post.id)
            .join(PostKind, Post.post_kind_id == PostKind.id)
            .where(Post.cycle_id == cycle_id, Post.community_id.in_(community_ids)).order_by(PostKind.id)):
        posts[person_id].append(kind)
    return posts


def prepare_commitments(session: Session, year: int, cycle_id: int, community_ids: list[int]) -> int:
    """Create the statements and letters (skipping existing ones) and write one printable HTML file
    per community with all of them. Returns how many commitments are new."""
    unit_lines = _unit_tasks(session, cycle_id, community_ids)
    person_posts = _person_posts(session, cycle_id, community_ids)
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(unit_lines)))}
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(person_posts)))}
    folder = get_settings().documents_dir / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    by_community = defaultdict(lambda: ([], []))
    for unit_id, lines in sorted(unit_lines.items()):
        unit = units[unit_id]
        rows.append(dict(cycle_id=cycle_id, community_id=unit.community_id, kind=CommitmentKind.statement,
                         holder_key=f"unit:{unit.code}", unit_id=unit.id))
        by_community[unit.community_id][0].append(dict(unit=unit.name, tasks=lines))
    for person_id, posts in sorted(person_posts.items()):
        person = people[person_id]
        rows.append(dict(cycle_id=cycle_id, community_id=person.community_id, kind=CommitmentKind.letter,
                         holder_key=f"person:{person.code}", person_id=person.id))
        by_community[person.community_id][1].append(dict(person=person.name, role=person.role.label, posts=posts))
    communities = {c.id: c for c in session.scalars(select(Community).where(Community.id.in_(by_community)))}
    paths = {}
    party_orgs = dict(session.execute(select(Unit.community_id, Unit.name).where(
        Unit.kind == UnitKind.party_org, Unit.community_id.in_(list(by_community))).order_by(Unit.code.desc())).all())
    for community_id, (statements, letters) in by_community.items():
        community = communities[community_id]
        path = page_in(folder, f"{community.code}-责任状与承诺书.html")  # by code: a name may hold "/" or ".."
        replace_file(path, render_page("documents/commitments.html", dict(
            year=year, community=community.name, statements=statements, letters=letters,
            party_org=party_orgs.get(community_id, f"{community.name}党组织"))))
        paths[community_id] = str(path)
    for row in rows:
        row["document_path"] = paths[row["community_id"]]
    return insert_ignoring_duplicates(session, Commitment, rows, ["cycle_id", "holder_key"])


def sign(session: Session, cycle_id: int, holder_keys: list[str], signed_by: str, at: datetime) -> int:
    """Record signatures; ones already signed keep their first signature."""
    signed = 0
    for chunk in chunked(holder_keys):
        signed += session.execute(update(Commitment).where(
            Commitment.cycle_id == cycle_id, Commitment.holder_key.in_(chunk),
            Commitment.signed_at.is_(None)).values(signed_at=at, signed_by=signed_by)).rowcount
    return signed


def sign_in_community(session: Session, cycle_id: int, community_id: int, holders: list[str] | None, signed_by: str,
                      at: datetime) -> tuple[int, int]:
    """Sign the given holders' documents (unit or person codes, with or without the "unit:"/"person:"
    prefix), or all of the community's when holders is None. Returns (newly signed, already signed)."""
    if not signed_by.strip():
        raise UserError("请用 --by 填写签字人")
    documents = {c.holder_key: c for c in session.scalars(select(Commitment).where(
        Commitment.cycle_id == cycle_id, Commitment.community_id == community_id))}
    if not documents:
        raise UserError("这个社区还没有责任状和承诺书：请先运行 lianchuang commitments run")
    by_code = {key.split(":", 1)[1]: key for key in documents} | {key: key for key in documents}
    by_code |= _holders_by_name(session, [h for h in holders or [] if h not in by_code], documents)
    unknown = [h for h in holders or [] if h not in by_code]
    if unknown:
        raise UserError(f"本社区没有这些签订方的责任状或承诺书：{'、'.join(unknown)}（用 lianchuang commitments list 查看）")
    keys = [by_code[h] for h in holders] if holders else list(documents)
    already = sum(1 for key in set(keys) if documents[key].signed_at is not None)
    return sign(session, cycle_id, sorted(set(keys)), signed_by.strip(), at), already


def _holders_by_name(session: Session, names: list[str], documents: dict) -> dict[str, str]:
    """Holders named as coordinators name them (org.resolve: a unit's or a person's name only one has):
    name → the key of this community's document; a shared name is refused with its candidates."""
    units, _ = resolve(session, Unit, names)
    people, why_not = resolve(session, Person, [n for n in names if n not in units])
    shared = [why_not[n] for n in names if n not in units and getattr(why_not.get(n), "shared", False)]
    if shared:
        raise UserError("；".join(shared))
    keys = {n: f"unit:{row.code}" for n, row in units.items()} | {n: f"person:{row.code}" for n, row in people.items()}
    return {name: key for name, key in keys.items() if key in documents}


def commitment_table(session: Session, cycle_id: int, community_id: int) -> list[dict]:
    rows = session.execute(select(Commitment, Unit.name, Person.name).outerjoin(Unit, Commitment.unit_id == Unit.id)
                           .outerjoin(Person, Commitment.person_id == Person.id)
                           .where(Commitment.cycle_id == cycle_id, Commitment.community_id == community_id)
                           .order_by(Commitment.kind.desc(), Commitment.holder_key))
    return [dict(holder_key=c.holder_key, holder_code=c.holder_key.split(":", 1)[-1], kind=c.kind.label, holder=unit or person, signed_by=c.signed_by,
                 signed_at=c.signed_at.strftime("%Y-%m-%d %H:%M") if c.signed_at else None,
                 published_on=c.published_on.isoformat() if c.published_on else None, document_path=c.document_path)
            for c, unit, person in rows]


def publishable_communities(session: Session, cycle_id: int, community_ids: list[int],
                            incomplete: dict[int, list[str]]) -> list[int]:
    """Communities with commitments, all signed, none published yet, and every task card complete."""
    status = defaultdict(lambda: [0, 0, 0])
    for community_id, signed_at, published_on in session.execute(select(
            Commitment.community_id, Commitment.signed_at, Commitment.published_on).where(
            Commitment.cycle_id == cycle_id, Commitment.community_id.in_(community_ids))):
        counts = status[community_id]
        counts[0] += 1
        counts[1] += signed_at is not None
        counts[2] += published_on is not None
    return sorted(cid for cid, (total, signed, published) in status.items()
                  if total == signed and published < total and cid not in incomplete)


def _keep_committed_steps(session: Session, cycle_id: int, community_ids: list[int]) -> None:
    """The tasks' steps as published: the baseline (承诺时) later changes are shown against."""
    tasks = select(Task.id).where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids))
    uncommitted = ~select(CommittedMilestone.id).where(CommittedMilestone.task_id == Milestone.task_id).exists()
    columns = ["task_id", "title", "due_month", "target_percent"]
    session.execute(insert(CommittedMilestone).from_select(columns, select(
        Milestone.task_id, Milestone.title, Milestone.due_month, Milestone.target_percent)
        .where(Milestone.task_id.in_(tasks), uncommitted)))


def publish(session: Session, year: int, cycle_id: int, community_ids: list[int], on: date) -> list[Draft]:
    """Publish the communities' commitments jointly; returns the notices to every signatory."""
    if not community_ids:
        return []
    session.execute(update(Commitment).where(Commitment.cycle_id == cycle_id, Commitment.community_id.in_(community_ids),
                                             Commitment.published_on.is_(None)).values(published_on=on))
    _keep_committed_steps(session, cycle_id, community_ids)
    unit_lines = _unit_tasks(session, cycle_id, community_ids)
    person_posts = _person_posts(session, cycle_id, community_ids)
    names = dict(session.execute(select(Community.id, Community.name).where(Community.id.in_(community_ids))).all())
    rows = session.execute(
        select(Commitment, Person).join(Person, or_(
            (Commitment.person_id == Person.id),
            (Commitment.unit_id == Person.unit_id) & (Person.role == Role.unit_leader))
        ).where(Commitment.cycle_id == cycle_id, Commitment.community_id.in_(community_ids))).all()
    drafts = []
    for commitment, person in rows:
        tasks = unit_lines[commitment.unit_id] if commitment.kind == CommitmentKind.statement else []
        posts = person_posts[commitment.person_id] if commitment.kind == CommitmentKind.letter else []
        drafts.append(Draft.to_person(person, year, Stage.commitments, "commitment", community_id=commitment.community_id,
                            context=dict(year=year, community=names[commitment.community_id],
                                         kind=commitment.kind.value, published_on=on, tasks=tasks, posts=posts)))
    return drafts
