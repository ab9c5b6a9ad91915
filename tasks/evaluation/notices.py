"""Stage 5's notices: the results announcement with the objection deadline, and the award."""

from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianchuang.models import AwardResult, Community, District, EvaluationResult, Person, Street, Task, Unit
from lianchuang.models.enums import Role, Stage
from lianchuang.models.queries import district_community_ids
from lianchuang.tasks.cycle import only_district
from lianchuang.tasks.evaluation.award import AWARD_BY_DISTRICT, award_rule, cycle_rules
from lianchuang.tasks.outbox.drafts import Draft


def result_drafts(session: Session, year: int, cycle_id: int, district_id: int | None = None) -> list[Draft]:
    """A district's results announcement (公示) to each community coordinator, the leaders of its
    lead units and its responsible persons, with the district's objection deadline."""
    from lianchuang.tasks.evaluation.ballots import CLOSED_BY_DISTRICT, closing

    district_id = only_district(session, district_id, CLOSED_BY_DISTRICT)
    deadline = closing(session, cycle_id, district_id).objection_deadline
    results = defaultdict(list)
    for task, unit_name, result in session.execute(
            select(Task, Unit.name, EvaluationResult).join(EvaluationResult, EvaluationResult.task_id == Task.id)
            .outerjoin(Unit, Task.lead_unit_id == Unit.id)
            .where(Task.cycle_id == cycle_id, Task.community_id.in_(district_community_ids(district_id))).order_by(Task.code)):
        results[task.community_id].append([task.code, task.title, unit_name or "", result.ballots, result.score])
    names = dict(session.execute(select(Community.id, Community.name)).all())
    lead_units = select(Task.lead_unit_id).where(Task.cycle_id == cycle_id)
    responsible = select(Task.responsible_person_id).where(Task.cycle_id == cycle_id)
    people = session.scalars(select(Person).where(
        (Person.role == Role.community_coordinator) | ((Person.role == Role.unit_leader) & Person.unit_id.in_(lead_units))
        | Person.id.in_(responsible)).order_by(Person.code)).all()
    return [Draft.to_person(person, year, Stage.evaluation, "evaluation_results", community_id=person.community_id,
                            context=dict(year=year, community=names[person.community_id], rows=results[person.community_id],
                                         objection_deadline=deadline))
            for person in people if person.community_id in results]


def award_drafts(session: Session, year: int, cycle_id: int, district_id: int | None = None) -> list[Draft]:
    """The award and funding notice to each community coordinator of the district, with how the
    amount was reached, and the district coordinators' summary."""
    district_id = only_district(session, district_id, AWARD_BY_DISTRICT)
    awards = {a.community_id: a for a in session.scalars(select(AwardResult).where(
        AwardResult.cycle_id == cycle_id, AwardResult.community_id.in_(district_community_ids(district_id))))}
    budget = sum(a.funding_yuan for a in awards.values())
    names = dict(session.execute(select(Community.id, Community.name)).all())
    rule = award_rule(cycle_rules(session, cycle_id, district_id))
    people = session.scalars(select(Person).where(Person.role == Role.community_coordinator,
                                                  Person.community_id.in_(awards)).order_by(Person.code))
    return [Draft.to_person(person, year, Stage.evaluation, "award", period=f"budget-{budget}",
                            context=dict(year=year, community=names[person.community_id], year_score=a.year_score,
                                         rank=a.rank, award=a.award, funding=a.funding_yuan, explanation=a.explanation,
                                         rule=rule))
            for person in people for a in [awards[person.community_id]]] + _award_summaries(session, year, cycle_id, budget, district_id)


def _award_summaries(session: Session, year: int, cycle_id: int, budget: int, district_id: int) -> list[Draft]:
    """The district coordinators' summary: every community of their district, its award and funding."""
    rows, totals, counts = defaultdict(list), Counter(), defaultdict(Counter)
    for award, community, street, district_id in session.execute(
            select(AwardResult, Community.name, Street.name, Street.district_id)
            .join(Community, AwardResult.community_id == Community.id).join(Street, Community.street_id == Street.id)
            .where(AwardResult.cycle_id == cycle_id, Street.district_id == district_id).order_by(AwardResult.rank, Community.code)):
        rows[district_id].append([award.rank, community, street, award.year_score, award.award or "—", f"{award.funding_yuan:,}"])
        totals[district_id] += award.funding_yuan
        counts[district_id][award.award] += 1
    districts = dict(session.execute(select(District.id, District.name).where(District.id.in_(rows))).all())
    rule = award_rule(cycle_rules(session, cycle_id, district_id))
    return [Draft.to_person(person, year, Stage.evaluation, "award_summary", period=f"budget-{budget}", context=dict(
                year=year, scope_name=districts[person.district_id], rows=rows[person.district_id], total=totals[person.district_id],
                awards=[(tier["name"], counts[person.district_id][tier["name"]]) for tier in rule["tiers"]], rule=rule))
            for person in session.scalars(select(Person).where(Person.role == Role.district_coordinator,
                                                                Person.district_id.in_(rows)).order_by(Person.code))]


def results_chat_messages(session: Session, year: int, cycle_id: int, district_id: int | None = None) -> list[dict]:
    """A district's results announcement (公示) for its group chats: its communities' mean task
    scores, best first, and the objection deadline; the scores of each task are in the emails."""
    from sqlalchemy import func

    from lianchuang.tasks.evaluation.ballots import CLOSED_BY_DISTRICT, closing
    from lianchuang.tasks.outbox.chats import channels_for

    district_id = only_district(session, district_id, CLOSED_BY_DISTRICT)
    deadline = closing(session, cycle_id, district_id).objection_deadline
    means = session.execute(select(Community.name, func.avg(EvaluationResult.score)).join(Task, Task.community_id == Community.id)
                            .join(EvaluationResult, EvaluationResult.task_id == Task.id)
                            .where(EvaluationResult.cycle_id == cycle_id, EvaluationResult.score.is_not(None),
                                   Community.id.in_(district_community_ids(district_id)))
                            .group_by(Community.id, Community.name).order_by(func.avg(EvaluationResult.score).desc())).all()
    lines = [f"{n}. {name} {float(mean):.1f}分" for n, (name, mean) in enumerate(means, 1)]
    text = "\n".join(["各社区任务平均得分：", *lines, "", f"对结果有异议的，请在 {deadline.isoformat()} 前提出（详见邮件和公开栏）。"])
    return [dict(key=f"chat:results:{year}:{channel.id}", channel_id=channel.id, year=year,
                 title=f"【{year}年度联合考评结果公示】", markdown=text, mention_phones="")
            for channel in channels_for(session, [session.get(District, district_id).code])]
