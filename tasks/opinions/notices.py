"""Stage 1's notices: the solicitation to each of the six kinds of source, the joint meeting's
notice with its agenda, and the feedback to every submitter on what became of their suggestion."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang.models import Community, Opinion, Person, Task, Unit
from lianchuang.models.enums import SOURCE_KINDS, OpinionStatus, Role, Stage, UnitKind
from lianchuang.settings import get_settings
from lianchuang.tasks.files import replace_file
from lianchuang.tasks.outbox.drafts import Draft, is_valid_email

# Who speaks for each kind of source (seed 003): units through their leader, else their liaison;
# linked leaders in person; residents through their representatives and building heads (and,
# for everyone else, the public call posted on the notice board with a paper form).
PEOPLE_WHO_SPEAK_FOR = {Role.linked_leader: UnitKind.linked_leader, Role.resident_rep: UnitKind.residents,
                        Role.building_head: UnitKind.residents}


def solicitation_targets(session: Session, community_ids: list[int]) -> list[tuple[Person, UnitKind, Community]]:
    """(person, source kind, community) of everyone the solicitation goes to, once each."""
    targets: dict[int, tuple[Person, UnitKind, Community]] = {}
    units_reached = set()
    for person, kind, community in session.execute(
            select(Person, Unit.kind, Community).join(Unit, Person.unit_id == Unit.id)
            .join(Community, Unit.community_id == Community.id)
            .where(Unit.community_id.in_(community_ids), Unit.kind.in_(SOURCE_KINDS),
                   Person.role.in_([Role.unit_leader, Role.liaison]))
            .order_by(Unit.id, Person.role.desc(), Person.code)):  # per unit: "unit_leader" > "liaison", the leader first
        if person.unit_id not in units_reached:
            units_reached.add(person.unit_id)
            targets[person.id] = (person, kind, community)
    for person, community in session.execute(
            select(Person, Community).join(Community, Person.community_id == Community.id)
            .where(Person.community_id.in_(community_ids), Person.role.in_(list(PEOPLE_WHO_SPEAK_FOR)))
            .order_by(Person.code)):
        targets.setdefault(person.id, (person, PEOPLE_WHO_SPEAK_FOR[person.role], community))
    return sorted(targets.values(), key=lambda t: t[0].code)


def solicitation_drafts(session: Session, year: int, community_ids: list[int], deadline: date) -> list[Draft]:
    """One solicitation to each person who speaks for a party of the six source kinds."""
    return [Draft.to_person(person, year, Stage.opinions, "solicitation",
                            context=dict(year=year, community=community.name, source_kind=kind.value, deadline=deadline))
            for person, kind, community in solicitation_targets(session, community_ids)]


def meeting_drafts(session: Session, year: int, community_ids: list[int], held_on: date, time: str = "",
                   place: str = "") -> list[Draft]:
    """A meeting notice with the day, time, place ("{community}" stands for the community's name)
    and agenda to each community's coordinator and party leaders, where suggestions wait for a decision."""
    settings = get_settings()
    time, place = time or settings.meeting_time, place or settings.meeting_place
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
                                  context=dict(year=year, community=names[p.community_id], held_on=held_on, time=time,
                               place=place.replace("{community}", names[p.community_id]),
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
                  recipient_email=o.submitter_contact if is_valid_email(o.submitter_contact or "") else None,
                  community_id=o.community_id,
                  context=dict(year=year, community=community, content=o.content, submitted_on=o.submitted_on,
                               status=o.status.value, task_code=code or "", task_title=title or "",
                               reason=o.decision_reason or "—"))
            for o, community, code, title in rows]


def write_public_calls(session: Session, year: int, community_ids: list[int], deadline: date) -> int:
    """For the residents no one can email: a public call to post on each community's notice board
    (公开栏), with a paper form to tear off; one printable page per community, written once (a re-run
    keeps the date it was posted). Returns how many were written now."""
    from lianchuang import clock
    from lianchuang.tasks.outbox.rendering import render_page

    folder = get_settings().documents_dir / str(year) / "征求意见公告"
    folder.mkdir(parents=True, exist_ok=True)
    communities = [(code, name) for code, name in session.execute(
        select(Community.code, Community.name).where(Community.id.in_(community_ids))) if not (folder / f"{code}.html").exists()]
    for code, name in communities:
        page = render_page("documents/public_call.html", dict(community=name, year=year, deadline=deadline,
                                                              posted_on=clock.today()))
        replace_file(folder / f"{code}.html", page)
    return len(communities)
