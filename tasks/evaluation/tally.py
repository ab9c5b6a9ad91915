"""Stage 5: the tally and its explanation, the close (公示) and objections.

Per task and per responsible person (all ballots of the tasks they are responsible for): within
each evaluator group, the mean of the grades' points; where a group cast at least TRIM_FROM
ballots, its single highest and single lowest are dropped first (trimmed mean). A group counts when
enough distinct people of it voted: its quorum, and for a secret group at least
SECRET_GROUP_MINIMUM; the score is the weighted mean of the counted groups' means, the weights
renormalised over them. Nothing counted: "not rated" (no score)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, String, and_, case, distinct, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from lianchuang.errors import UserError
from lianchuang.models import (
    Ballot,
    Community,
    Cycle,
    DistrictEvaluation,
    EvaluationResult,
    GradePoint,
    GroupWeight,
    Objection,
    Person,
    PersonResult,
    Task,
)
from lianchuang.models.db import insert_ignoring_duplicates, insert_new
from lianchuang.models.enums import EvaluatorGroup, Grade, Role, Stage
from lianchuang.models.queries import district_community_ids
from lianchuang.tasks.cycle import only_district
from lianchuang.tasks.evaluation.ballots import CLOSED_BY_DISTRICT, OBJECTION_DAYS, closed_on, closing, district_of_community
from lianchuang.tasks.evaluation.scheme import SECRET_GROUP_MINIMUM
from lianchuang.tasks.outbox.drafts import Draft

TRIM_FROM = 5  # a group with at least this many ballots drops its highest and lowest
PRIVATE_BELOW = 3  # evaluators: a smaller group's mean or counts per grade would be one or two people's grades


@dataclass(slots=True)
class GroupFigure:
    group: EvaluatorGroup
    ballots: int
    evaluators: int  # distinct people: the quorum counts them, so one person's two ballots are one voice
    mean: float
    trimmed: bool
    counted: bool
    by_grade: dict


def _group_rows(cycle_id: int, subject, where=None, by_grade: bool = False) -> Select:
    """Per subject (Ballot.task_id, or Task.responsible_person_id for people) and group: ballots,
    distinct evaluators, the trimmed mean of the points and, with by_grade, ballots per grade."""
    # Plain strings for group and grade: converting half a million enum values costs seconds.
    per_task = subject is Ballot.task_id  # one ballot per evaluator and task (unique key)
    evaluator = [] if per_task else [Ballot.sitting.label("evaluator")]
    points = (select(subject.label("subject"), *evaluator, type_coerce(Ballot.group, String).label("grp"),
                     type_coerce(Ballot.grade, String).label("grade"),
                     GradePoint.points.label("points"),
                     func.row_number().over(partition_by=[subject, Ballot.group], order_by=[GradePoint.points, Ballot.id]).label("rank"),
                     func.count().over(partition_by=[subject, Ballot.group]).label("n"))
              .select_from(Ballot)
              .join(GradePoint, and_(GradePoint.cycle_id == Ballot.cycle_id, GradePoint.grade == Ballot.grade))
              .where(Ballot.cycle_id == cycle_id, subject.is_not(None)))
    if subject.class_ is Task:
        points = points.join(Task, Task.id == Ballot.task_id)
    if where is not None:
        points = points.where(where)
    points = points.subquery()
    kept = case((and_(points.c.n >= TRIM_FROM, (points.c.rank == 1) | (points.c.rank == points.c.n)), None),
                else_=points.c.points)
    per_grade = [func.sum(case((points.c.grade == grade, 1), else_=0)).label(grade.value) for grade in Grade] if by_grade else []
    # Counting distinct people is only needed, and only paid for, where one person's ballots on
    # several tasks meet (a responsible person); for a task, ballots are people.
    evaluators = func.count() if per_task else func.count(distinct(points.c.evaluator))
    return (select(points.c.subject, points.c.grp, func.count().label("ballots"), evaluators.label("evaluators"),
                   func.avg(kept).label("mean"), *per_grade)
            .group_by(points.c.subject, points.c.grp))


def group_figures(session: Session, cycle_id: int, subject, where=None, by_grade: bool = False) -> dict[int, list[GroupFigure]]:
    """Per subject, each group's ballots, its trimmed mean and whether it reached its quorum, in one
    SQL pass; with by_grade, the ballots per grade too (for explaining one subject)."""
    rows = session.execute(_group_rows(cycle_id, subject, where, by_grade))
    quorum = {group.value: count for group, count in session.execute(
        select(GroupWeight.group, GroupWeight.quorum).where(GroupWeight.cycle_id == cycle_id))}
    groups = {group.value: group for group in EvaluatorGroup}
    figures = defaultdict(list)
    for subject_id, group, count, evaluators, mean, *grades in rows:
        figures[subject_id].append(GroupFigure(groups[group], count, evaluators, float(mean), count >= TRIM_FROM,
                                               evaluators >= needed_voters(group, quorum.get(group, 1)),
                                               dict(zip(Grade, grades)) if by_grade else {}))
    return figures


def needed_voters(group: str, quorum: int) -> int:
    """How many people a group needs for its mean to count: its quorum, and for a secret group at
    least SECRET_GROUP_MINIMUM (a scheme from before the rule may say fewer)."""
    return quorum if group == EvaluatorGroup.joint_head.value else max(quorum, SECRET_GROUP_MINIMUM)


def weighted_scores(cycle_id: int, subject):
    """A subquery, per subject: ballots, and the sums of weight × mean and of weight over the groups
    in quorum; score = their ratio, None when no group is in quorum (see `score_of`). All in the
    database: a province's 900,000 group rows need not travel to Python (`combine` is the same rule,
    for explaining one subject)."""
    groups = _group_rows(cycle_id, subject).subquery()
    weight = aliased(GroupWeight)
    quorum = func.coalesce(weight.quorum, 1)
    needed = case((groups.c.grp == EvaluatorGroup.joint_head.value, quorum), (quorum > SECRET_GROUP_MINIMUM, quorum),
                  else_=SECRET_GROUP_MINIMUM)  # needed_voters, in SQL
    counted = groups.c.evaluators >= needed
    return (select(groups.c.subject, func.sum(groups.c.ballots).label("ballots"),
                   func.sum(case((counted, func.coalesce(weight.weight, 0) * groups.c.mean), else_=0)).label("total"),
                   func.sum(case((counted, func.coalesce(weight.weight, 0)), else_=0)).label("weights"))
            .outerjoin(weight, and_(weight.cycle_id == cycle_id, type_coerce(weight.group, String) == groups.c.grp))
            .group_by(groups.c.subject).subquery())


def score_of(total, weights) -> float | None:
    return round(float(total) / float(weights), 1) if weights else None


def combine(figures: list[GroupFigure], weights: dict[EvaluatorGroup, float]) -> float | None:
    """The weighted mean of the counted groups' means, weights renormalised over them."""
    counted = [(weights.get(f.group, 0.0), f.mean) for f in figures if f.counted]
    total = sum(w for w, _ in counted)
    return round(sum(w * m for w, m in counted) / total, 1) if total else None


def _weights(session: Session, cycle_id: int) -> dict[EvaluatorGroup, float]:
    return dict(session.execute(select(GroupWeight.group, GroupWeight.weight).where(GroupWeight.cycle_id == cycle_id)).all())


def task_scores(session: Session, cycle_id: int, district_id: int | None = None) -> list[dict]:
    """Every task's (of a district, if given) ballots and score (None: not rated), as rows of EvaluationResult."""
    scores = weighted_scores(cycle_id, Ballot.task_id)
    query = (select(Task.id, scores.c.ballots, scores.c.total, scores.c.weights)
             .outerjoin(scores, scores.c.subject == Task.id).where(Task.cycle_id == cycle_id))
    if district_id is not None:
        query = query.where(Task.community_id.in_(district_community_ids(district_id)))
    rows = session.execute(query)
    return [dict(cycle_id=cycle_id, task_id=task_id, ballots=int(ballots or 0), score=score_of(total, weights))
            for task_id, ballots, total, weights in rows]


def tally(session: Session, cycle_id: int, district_id: int | None = None) -> int:
    """Score every task and every responsible person of the district (see the module doc); returns
    the tasks rated. Done once: a second call returns the stored figure."""
    district_id = only_district(session, district_id, CLOSED_BY_DISTRICT)
    its_tasks = select(Task.id).where(Task.cycle_id == cycle_id, Task.community_id.in_(district_community_ids(district_id)))
    stored = (EvaluationResult.cycle_id == cycle_id, EvaluationResult.task_id.in_(its_tasks))
    if session.scalar(select(func.count()).where(*stored)):
        return session.scalar(select(func.count()).where(*stored, EvaluationResult.score.is_not(None)))
    results = task_scores(session, cycle_id, district_id)
    if not results:
        return 0
    insert_new(session, EvaluationResult, results)  # none exist yet: checked above, in this transaction
    scores = weighted_scores(cycle_id, Task.responsible_person_id)
    task_counts = (select(Task.responsible_person_id.label("person_id"), func.count().label("tasks"))
                   .where(Task.cycle_id == cycle_id, Task.responsible_person_id.is_not(None),
                          Task.community_id.in_(district_community_ids(district_id)))
                   .group_by(Task.responsible_person_id).subquery())
    people = [dict(cycle_id=cycle_id, person_id=person_id, tasks=tasks, ballots=int(ballots or 0), score=score_of(total, weights))
              for person_id, tasks, ballots, total, weights in session.execute(
                  select(task_counts.c.person_id, task_counts.c.tasks, scores.c.ballots, scores.c.total, scores.c.weights)
                  .outerjoin(scores, scores.c.subject == task_counts.c.person_id))]
    insert_new(session, PersonResult, people)
    return sum(r["score"] is not None for r in results)


def close(session: Session, cycle_id: int, today: date, district_id: int | None = None) -> int:
    """End a district's evaluation: tally, reveal the results, open the objection period. Returns tasks rated."""
    district_id = only_district(session, district_id, CLOSED_BY_DISTRICT)
    rated = tally(session, cycle_id, district_id)
    insert_ignoring_duplicates(session, DistrictEvaluation, [dict(
        cycle_id=cycle_id, district_id=district_id, closed_on=today,
        objection_deadline=date.fromordinal(today.toordinal() + OBJECTION_DAYS))], ["cycle_id", "district_id"])
    return rated


def _may_show(figure: GroupFigure) -> bool:
    """A group's mean is shown when it cannot be one or two people's grades: three evaluators or
    more. The joint-meeting head is one person by design and grades openly, in their office."""
    return figure.evaluators >= PRIVATE_BELOW or figure.group == EvaluatorGroup.joint_head


def explain(session: Session, cycle_id: int, subject_code: str) -> dict:
    """How a task's or a responsible person's score was reached, group by group. A group of fewer
    than three evaluators shows neither its mean nor its counts per grade, so no grade can be traced
    to a person (the joint-meeting head's open ballot aside, see `_may_show`)."""
    task = session.scalars(select(Task).where(Task.cycle_id == cycle_id, Task.code == subject_code)).first()
    person = None if task else session.scalars(select(Person).where(Person.code == subject_code)).first()
    if task is None and (person is None or person.community_id is None):
        raise UserError(f"没有编号为“{subject_code}”的任务或人员")
    if not closed_on(session, cycle_id, district_of_community(session, task.community_id if task else person.community_id)):
        raise UserError("评议尚未结束，结果不公开：结束后（lianchuang evaluate close）才能查看")
    subject = Ballot.task_id if task else Task.responsible_person_id
    subject_id = task.id if task else person.id
    figures = group_figures(session, cycle_id, subject, subject == subject_id, by_grade=True)[subject_id]
    weights = _weights(session, cycle_id)
    counted_weight = sum(weights[f.group] for f in figures if f.counted)
    quorum = dict(session.execute(select(GroupWeight.group, GroupWeight.quorum).where(GroupWeight.cycle_id == cycle_id)).all())
    groups = [dict(group=f.group.label, ballots=f.ballots, evaluators=f.evaluators, quorum=needed_voters(f.group.value, quorum[f.group]),
                   counted=f.counted, trimmed=f.trimmed, open=f.group == EvaluatorGroup.joint_head,
                   mean=round(f.mean, 1) if _may_show(f) else None, weight=weights[f.group],
                   share=round(weights[f.group] / counted_weight, 3) if f.counted and counted_weight else 0.0,
                   by_grade={g.label: n for g, n in f.by_grade.items()} if f.evaluators >= PRIVATE_BELOW else None)
              for f in sorted(figures, key=lambda f: list(EvaluatorGroup).index(f.group))]
    name = f"{task.code} {task.title}" if task else f"{person.name}（负责的全部任务）"
    return dict(subject=name, groups=groups, score=combine(figures, weights), trim_from=TRIM_FROM)


def record_objection(session: Session, cycle_id: int, subject_code: str, submitted_by: str, content: str, on: date) -> Objection:
    """Record an objection to a published result; one after the deadline is recorded as late."""
    if not submitted_by.strip() or not content.strip():
        raise UserError("请填写异议人（--by）和异议内容（--content）")
    if len(submitted_by.strip()) > 64:
        raise UserError(f"异议人（--by）最多 64 个字，现在有 {len(submitted_by.strip())} 个字")
    task = session.scalars(select(Task).where(Task.cycle_id == cycle_id, Task.code == subject_code)).first()
    person = None if task else session.scalars(select(Person).where(Person.code == subject_code)).first()
    if task is None and (person is None or person.community_id is None):
        raise UserError(f"没有编号为“{subject_code}”的任务或责任人")
    community_id = task.community_id if task else person.community_id
    closed = closing(session, cycle_id, district_of_community(session, community_id))
    if closed is None:
        raise UserError("评议结果还没有公示，暂不受理异议")
    objection = Objection(cycle_id=cycle_id, community_id=community_id,
                          subject=subject_code, submitted_by=submitted_by.strip(), content=content.strip(), received_on=on,
                          within_deadline=on <= closed.objection_deadline)
    session.add(objection)
    session.flush()
    return objection


def answer_objection(session: Session, cycle_id: int, objection_id: int, text: str, upheld: bool, by: str,
                     on: date) -> tuple[Objection, list[Draft]]:
    """Answer an objection (again, if need be: the last answer stands, each is audited by the
    caller); returns it and the notices of the answer to the community's coordinators and, when
    the objector is one of its people, to them."""
    objection = session.get(Objection, objection_id)
    if objection is None or objection.cycle_id != cycle_id:
        raise UserError(f"本年度没有编号为 {objection_id} 的异议：查看 lianchuang evaluate objections")
    if not text.strip():
        raise UserError("请写明答复内容（--text \"……\"），答复会通知异议人所在社区并在公开栏公示")
    objection.response, objection.upheld, objection.answered_on, objection.answered_by = text.strip(), upheld, on, by[:64]
    people = session.scalars(select(Person).where(Person.community_id == objection.community_id).where(
        (Person.role == Role.community_coordinator) | (Person.name == objection.submitted_by)).order_by(Person.code)).all()
    community = session.scalar(select(Community.name).where(Community.id == objection.community_id))
    context = dict(year=session.get(Cycle, cycle_id).year, community=community, number=objection.id, subject=objection.subject,
                   submitted_by=objection.submitted_by, content=objection.content, received_on=objection.received_on,
                   response=objection.response, upheld=upheld, answered_on=on)
    period = f"obj{objection.id}-{on:%y%m%d}"  # an answer given again (another day) is a new notice; 16 characters at most
    return objection, [Draft.to_person(person, context["year"], Stage.evaluation, "objection_answer", context, period=period)
                       for person in people]


def open_objections(session: Session, cycle_id: int, district_id: int) -> list[Objection]:
    """The objections received within the period and not answered yet: the award waits for them."""
    return list(session.scalars(select(Objection).where(
        Objection.cycle_id == cycle_id, Objection.within_deadline, Objection.response.is_(None),
        Objection.community_id.in_(district_community_ids(district_id))).order_by(Objection.id)))


def groups_short_of_quorum(session: Session, cycle_id: int, community_ids: list[int] | None = None) -> list[dict]:
    """The evaluator groups of a community that can never count, having fewer people than they need
    (their quorum, and for a secret group SECRET_GROUP_MINIMUM): said when the evaluation opens."""
    from lianchuang.models import Community, Evaluator

    quorum = dict(session.execute(select(GroupWeight.group, GroupWeight.quorum).where(GroupWeight.cycle_id == cycle_id)).all())
    query = (select(Community.name, Evaluator.group, func.count()).join(Community, Evaluator.community_id == Community.id)
             .where(Evaluator.cycle_id == cycle_id).group_by(Community.code, Community.name, Evaluator.group)
             .order_by(Community.code, Evaluator.group))
    if community_ids is not None:
        query = query.where(Evaluator.community_id.in_(community_ids))
    return [dict(community=name, group=group.label, people=people, needed=needed_voters(group.value, quorum.get(group, 1)))
            for name, group, people in session.execute(query) if people < needed_voters(group.value, quorum.get(group, 1))]
