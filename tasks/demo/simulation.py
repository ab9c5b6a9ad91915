"""The people of the demo year: they submit suggestions, decide them in joint meetings, claim
posts, sign commitments, report progress and cast ballots, through the same rule functions the CLI
uses. Each step is deterministic and safe to run again (it only does what is not done yet)."""

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang.models import Commitment, Evaluator, Milestone, Opinion, Person, Post, ProgressReport, Task, Unit
from lianchuang.models.enums import SOURCE_KINDS, Category, Channel, Grade, OpinionStatus, Role, UnitKind
from lianchuang.tasks.commitments import rules as commitments
from lianchuang.tasks.demo.data import TASK_IDEAS, Scale, task_idea
from lianchuang.tasks.division import cards as division
from lianchuang.tasks.evaluation import ballots as evaluation, codes as evaluation_codes
from lianchuang.tasks.opinions import rules as opinions
from lianchuang.tasks.progress import ranking as progress

CHANNELS_BY_KIND = {
    UnitKind.linked_leader: [Channel.joint_meeting, Channel.online],
    UnitKind.linked_unit: [Channel.joint_meeting, Channel.online],
    UnitKind.stationed_unit: [Channel.joint_meeting, Channel.online, Channel.notice_board],
    UnitKind.civil_org: [Channel.joint_meeting, Channel.door_to_door],
    UnitKind.mass_org: [Channel.joint_meeting, Channel.party_meeting],
    UnitKind.residents: [Channel.door_to_door, Channel.resident_meeting, Channel.notice_board, Channel.party_meeting,
                         Channel.opinion_box, Channel.info_card, Channel.hotline],
}


def submit_suggestions(session: Session, cycle_id: int, year: int, scale: Scale) -> int:
    rng = random.Random(year * 10 + 1)
    contacts = defaultdict(list)
    for person, kind in session.execute(select(Person, Unit.kind).join(Unit, Person.unit_id == Unit.id).where(
            Unit.kind.in_(SOURCE_KINDS), Person.role.in_([Role.unit_leader, Role.resident_rep])).order_by(Person.code)):
        contacts[(person.community_id, kind)].append(person)
    community_ids = session.scalars(select(Person.community_id).where(Person.role == Role.community_coordinator)
                                    .order_by(Person.code)).all()
    new = []
    for index in range(scale.suggestions):
        community_id = community_ids[index % len(community_ids)]
        kind = SOURCE_KINDS[index % len(SOURCE_KINDS)] if index < len(community_ids) * 6 else rng.choice(SOURCE_KINDS)
        people = contacts.get((community_id, kind)) or [None]
        person = rng.choice(people)
        anonymous = person is None or (kind == UnitKind.residents and rng.random() < 0.2)
        _, idea = task_idea(rng)
        new.append(opinions.NewOpinion(
            community_id=community_id, source_kind=kind, channel=rng.choice(CHANNELS_BY_KIND[kind]),
            content=f"建议{idea}", submitted_on=date(year, 1, 5) + timedelta(days=rng.randint(0, 30)),
            submitter_name=None if anonymous else person.name, submitter_contact=None if anonymous else person.email))
    return opinions.record_opinions(session, cycle_id, new)


def hold_joint_meetings(session: Session, cycle_id: int, year: int, scale: Scale, held_on: date) -> int:
    """Every community decides its pending suggestions: most adopted, some merged, a few declined;
    then the district's own yearly work items are added until the scale's task count is reached."""
    rng = random.Random(year * 10 + 2)
    pending = defaultdict(list)
    for opinion in session.scalars(select(Opinion).where(Opinion.cycle_id == cycle_id, Opinion.status == OpinionStatus.pending)
                                   .order_by(Opinion.id)):
        pending[opinion.community_id].append(opinion)
    categories = {text: category for category, ideas in TASK_IDEAS.items() for text in ideas}
    decided = 0
    for community_id, items in sorted(pending.items()):
        adopted = [opinions.Decision(o.id, OpinionStatus.adopted, _category_of(o.content, categories), o.content[2:])
                   for o in items[:max(1, round(len(items) * 0.8))]]
        rest = items[len(adopted):]
        opinions.record_decisions(session, cycle_id, community_id, held_on, "社区党组织:1; 驻区单位:4; 群团组织:2; 民间组织:1; 居民代表:3",
                                  adopted)
        codes = session.scalars(select(Task.code).where(Task.cycle_id == cycle_id, Task.community_id == community_id)
                                .order_by(Task.code)).all()
        later = [opinions.Decision(o.id, OpinionStatus.declined, reason="不属于社区职责范围，已转交相关部门办理")
                 if rng.random() < 0.15 else opinions.Decision(o.id, OpinionStatus.merged, merge_into_code=rng.choice(codes))
                 for o in rest]
        opinions.record_decisions(session, cycle_id, community_id, held_on, "社区党组织:1; 驻区单位:4; 居民代表:3", later)
        decided += len(items)
    missing = scale.tasks - session.scalar(select(func.count()).where(Task.cycle_id == cycle_id))
    if missing > 0:
        community_ids = session.scalars(select(Person.community_id).where(Person.role == Role.community_coordinator)
                                        .order_by(Person.code)).all()
        new = []
        for index in range(missing):
            category, idea = task_idea(rng)
            new.append(opinions.NewTask(community_ids[index % len(community_ids)], category, idea))
        opinions.add_tasks(session, cycle_id, new)
    return decided


def _category_of(content: str, categories: dict) -> Category:
    for template, category in categories.items():
        head = template.split("{")[0]
        if head and head in content:
            return category
    return Category.services


def claim_posts(session: Session, cycle_id: int, year: int, scale: Scale) -> int:
    rng = random.Random(year * 10 + 3)
    posts = defaultdict(list)
    for post in session.scalars(select(Post).where(Post.cycle_id == cycle_id, Post.temporary.is_(False)).order_by(Post.id)):
        posts[post.community_id].append(post.id)
    people = session.execute(select(Person.id, Person.community_id).where(Person.role.in_(division.CLAIMING_ROLES))
                             .order_by(Person.code)).all()
    holders = people[:scale.post_holders] if len(people) <= scale.post_holders else rng.sample(people, scale.post_holders)
    claims, taken = [], defaultdict(int)
    for person_id, community_id in sorted(holders):  # spread claims over posts as volunteers would
        available = posts[community_id]
        for extra in range(rng.choice((1, 1, 2))):
            claims.append((available[(taken[community_id] + extra * 7) % len(available)], person_id))
        taken[community_id] += 1
    return division.claim_posts(session, claims, date(year, 3, 10))


def sign_commitments(session: Session, cycle_id: int, year: int) -> int:
    keys = session.scalars(select(Commitment.holder_key).where(Commitment.cycle_id == cycle_id,
                                                               Commitment.signed_at.is_(None))).all()
    return commitments.sign(session, cycle_id, list(keys), "任务分解与设岗定责大会", datetime(year, 3, 20, 9, 30))


def report_progress(session: Session, cycle_id: int, year: int, months: range) -> int:
    """Reports on the 25th of the given months: most tasks keep to plan, some lag, a few start late.
    Each task's course is drawn from its own code, so reporting month by month gives the same year."""
    tasks = session.execute(select(Task.id, Task.code, Unit.kind).outerjoin(Unit, Task.lead_unit_id == Unit.id)
                            .where(Task.cycle_id == cycle_id).order_by(Task.code)).all()
    plans = defaultdict(dict)
    for task_id, month, target in session.execute(select(Milestone.task_id, Milestone.due_month, Milestone.target_percent)
                                                  .join(Task).where(Task.cycle_id == cycle_id)):
        plans[task_id][month] = target
    reports = []
    for task_id, code, kind in tasks:
        rng = random.Random(f"{year}-{code}")
        pace = rng.choice((1.15, 1.05, 1.0, 1.0, 0.9, 0.8, 0.6))
        start = rng.choice((1, 1, 1, 2, 4))
        percent = 0
        for month in range(1, 13):
            planned = max([t for m, t in plans[task_id].items() if m <= month] or [month * 100 // 12])
            if month >= start:
                percent = max(percent, min(100, round(planned * pace + rng.randint(-3, 5))))
            funds = rng.choice((0, 0, 0, 0, 500, 1000, 1000)) if kind == UnitKind.stationed_unit else 0
            matters = 1 if funds and rng.random() < 0.17 else 0
            if month in months:
                reports.append(progress.NewReport(task_id, date(year, month, 25), percent, note=f"{month}月按计划推进",
                                                  funds_yuan=funds, matters_handled=matters))
    return progress.record_reports(session, reports)


def cast_ballots(session: Session, cycle_id: int, year: int) -> int:
    """Every invited evaluator grades every task of their community, better tasks getting better grades."""
    final = dict(session.execute(select(ProgressReport.task_id, func.max(ProgressReport.percent)).join(Task)
                                 .where(Task.cycle_id == cycle_id).group_by(ProgressReport.task_id)).all())
    tasks = defaultdict(list)
    for task_id, code, community_id in session.execute(select(Task.id, Task.code, Task.community_id)
                                                       .where(Task.cycle_id == cycle_id).order_by(Task.code)):
        tasks[community_id].append((task_id, code))
    ballots = []
    waiting = session.execute(select(Evaluator.id, Evaluator.community_id).where(
        Evaluator.cycle_id == cycle_id, Evaluator.used_at.is_(None)).order_by(Evaluator.id)).all()
    codes = evaluation_codes.issue_codes(session, cycle_id, [evaluator_id for evaluator_id, _ in waiting])  # as on paper slips
    for evaluator_id, community_id in waiting:
        code, rng = codes[evaluator_id], random.Random(f"{year}-{evaluator_id}")  # each evaluator decides the same way every run
        if rng.random() < 0.1:  # some evaluators do not vote
            continue
        for task_id, task_code in tasks[community_id]:
            quality = final.get(task_id, 0) / 100 + rng.uniform(-0.25, 0.15)
            grade = (Grade.excellent if quality > 0.9 else Grade.good if quality > 0.7
                     else Grade.fair if quality > 0.45 else Grade.poor)
            ballots.append((0, evaluation.NewBallot(code, task_code, grade)))
    return evaluation.cast_ballots(session, cycle_id, ballots) if ballots else 0
