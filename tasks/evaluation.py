"""Stage 5 rules: the year-end joint evaluation and the innovation award tied to funding.

Tally: each ballot's grade is worth points (优秀95 良好80 一般65 较差40). Per task, each evaluator
group's mean counts when the group cast at least its quorum of ballots; the task's score is the
weighted mean of those group means, the weights renormalised over the groups that count. A task
no group rated in quorum is "not rated".

Award: year score = 0.6 × the community's mean task score + 0.4 × its December ranking score.
Funding: 60% of the budget is shared equally (base share); 40% is shared by award weight
(一等奖 3, 二等奖 2, 三等奖 1) among the top 10% / next 20% / next 30% of communities. Amounts
are whole yuan, remainders going to the largest fractions, so they add up to the budget exactly."""

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, func, select, update
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.errors import UserError
from lianchuang.models import (AwardResult, Ballot, Community, EvaluationItem, EvaluationResult, Evaluator,
                               GroupWeight, MonthlyRanking, Person, Task, Unit)
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import GRADE_POINTS, Category, EvaluatorGroup, Grade, Role, Stage, UnitKind
from lianchuang.tasks.delivery import Draft

DEFAULT_ITEMS = {
    Category.party_building: ["联席会议制度落实", "党员设岗定责履职", "非公企业党建延伸", "党务公开"],
    Category.public_safety: ["巡逻防控", "治安隐患整改", "小区“四管”落实", "矛盾纠纷调解", "消防安全"],
    Category.sanitation: ["楼院卫生整治", "下水道等设施改造", "垃圾分类与监督", "绿化养护"],
    Category.services: ["困难群众帮扶", "老年人关爱", "就业和便民服务", "青少年教育", "群团民间组织参与"],
    Category.culture: ["文艺队伍建设", "文明创建活动", "邻里文体活动", "婚育新风宣传"],
}
DEFAULT_WEIGHTS = {EvaluatorGroup.joint_head: 0.2, EvaluatorGroup.stationed_units: 0.2, EvaluatorGroup.mass_orgs: 0.1,
                   EvaluatorGroup.civil_orgs: 0.1, EvaluatorGroup.party_members: 0.2, EvaluatorGroup.resident_reps: 0.2}
GROUP_OF_UNIT_KIND = {UnitKind.stationed_unit: EvaluatorGroup.stationed_units, UnitKind.linked_unit: EvaluatorGroup.stationed_units,
                      UnitKind.mass_org: EvaluatorGroup.mass_orgs, UnitKind.civil_org: EvaluatorGroup.civil_orgs}
MEMBERS_PER_COMMUNITY = 10
AWARDS = [("一等奖", 0.1, 3), ("二等奖", 0.2, 2), ("三等奖", 0.3, 1)]
BASE_SHARE = 0.6
EVALUATION_WEIGHT, PROGRESS_WEIGHT = 0.6, 0.4


def open_evaluation(session: Session, year: int, cycle_id: int, community_ids: list[int], deadline: date) -> list[Draft]:
    """Set up the scheme (items, group weights) and invite the evaluators of each community, each
    with a personal one-time code. Re-running invites only those not yet invited."""
    insert_ignoring_duplicates(session, EvaluationItem, [
        dict(cycle_id=cycle_id, code=f"{category.value[:2].upper()}{i + 1}", category=category, name=name)
        for category, names in DEFAULT_ITEMS.items() for i, name in enumerate(names)], ["cycle_id", "code"])
    insert_ignoring_duplicates(session, GroupWeight, [
        dict(cycle_id=cycle_id, group=group, weight=weight, quorum=1 if group == EvaluatorGroup.joint_head else 2)
        for group, weight in DEFAULT_WEIGHTS.items()], ["cycle_id", "group"])
    candidates = session.execute(
        select(Person.id, Person.community_id, Person.role, Unit.kind).outerjoin(Unit, Person.unit_id == Unit.id)
        .where(Person.community_id.in_(community_ids)).order_by(Person.code)).all()
    invited, members = [], defaultdict(int)
    for person_id, community_id, role, unit_kind in candidates:
        group = None
        if role == Role.community_coordinator:
            group = EvaluatorGroup.joint_head
        elif role == Role.unit_leader:
            group = GROUP_OF_UNIT_KIND.get(unit_kind)
        elif role in (Role.serving_member, Role.member_without_post) and members[community_id] < MEMBERS_PER_COMMUNITY:
            members[community_id] += 1
            group = EvaluatorGroup.party_members
        elif role == Role.resident_rep:
            group = EvaluatorGroup.resident_reps
        if group:
            invited.append(dict(cycle_id=cycle_id, community_id=community_id, person_id=person_id, group=group,
                                code=secrets.token_hex(5).upper()))
    insert_ignoring_duplicates(session, Evaluator, invited, ["cycle_id", "person_id"])
    task_counts = dict(session.execute(select(Task.community_id, func.count()).where(
        Task.cycle_id == cycle_id, Task.community_id.in_(community_ids)).group_by(Task.community_id)).all())
    rows = session.execute(select(Evaluator, Person, Community.name).join(Person, Evaluator.person_id == Person.id)
                           .join(Community, Evaluator.community_id == Community.id)
                           .where(Evaluator.cycle_id == cycle_id, Evaluator.community_id.in_(community_ids))).all()
    categories = [[category.value, names] for category, names in DEFAULT_ITEMS.items()]
    return [Draft.to_person(person, year, Stage.evaluation, "evaluation_invitation",
                  community_id=evaluator.community_id,
                  context=dict(year=year, community=community, group=evaluator.group.value, code=evaluator.code,
                               task_count=task_counts.get(evaluator.community_id, 0), categories=categories,
                               deadline=deadline))
            for evaluator, person, community in rows]


@dataclass(frozen=True)
class NewBallot:
    code: str
    task_code: str
    grade: Grade


def cast_ballots(session: Session, cycle_id: int, ballots: list[NewBallot]) -> int:
    """Record ballots. A code may be used once (for all the tasks it grades); a ballot for a task of
    another community is refused. Raises UserError listing every refused ballot; writes nothing then."""
    evaluators = {e.code: e for e in session.scalars(select(Evaluator).where(
        Evaluator.cycle_id == cycle_id, Evaluator.code.in_({b.code for b in ballots})))}
    tasks = dict(session.execute(select(Task.code, Task).where(
        Task.cycle_id == cycle_id, Task.code.in_({b.task_code for b in ballots}))).tuples().all())
    problems, rows = [], []
    for ballot in ballots:
        evaluator, task = evaluators.get(ballot.code), tasks.get(ballot.task_code)
        if evaluator is None:
            problems.append(f"评议码 {ballot.code} 不存在")
        elif evaluator.used_at is not None:
            problems.append(f"评议码 {ballot.code} 已经使用过")
        elif task is None or task.community_id != evaluator.community_id:
            problems.append(f"评议码 {ballot.code} 不能评议任务 {ballot.task_code}（不是本社区的任务）")
        else:
            rows.append(dict(cycle_id=cycle_id, evaluator_id=evaluator.id, task_id=task.id, group=evaluator.group,
                             grade=ballot.grade))
    if problems:
        raise UserError(f"{len(problems)} 张选票被拒绝，未记录任何选票：" + "；".join(problems[:5]))
    inserted = insert_ignoring_duplicates(session, Ballot, rows, ["evaluator_id", "task_id"])
    used = list({row["evaluator_id"] for row in rows})
    for start in range(0, len(used), 900):
        session.execute(update(Evaluator).where(Evaluator.id.in_(used[start:start + 900])).values(used_at=clock.now()))
    return inserted


def tally(session: Session, cycle_id: int) -> int:
    """Score every task from its ballots (see the module doc); returns how many tasks were rated."""
    if session.scalar(select(func.count()).where(EvaluationResult.cycle_id == cycle_id)):
        return session.scalar(select(func.count()).where(EvaluationResult.cycle_id == cycle_id,
                                                         EvaluationResult.score.is_not(None)))
    weights = {g.group: g for g in session.scalars(select(GroupWeight).where(GroupWeight.cycle_id == cycle_id))}
    points = sum((func.sum((Ballot.grade == grade).cast(Integer)) * value for grade, value in GRADE_POINTS.items()))
    per_group = session.execute(select(Ballot.task_id, Ballot.group, func.count(), points).where(
        Ballot.cycle_id == cycle_id).group_by(Ballot.task_id, Ballot.group)).all()
    groups = defaultdict(list)
    for task_id, group, count, total in per_group:
        groups[task_id].append((group, count, total / count))
    task_ids = session.scalars(select(Task.id).where(Task.cycle_id == cycle_id)).all()
    results = []
    for task_id in task_ids:
        counted = [(weights[g].weight, mean) for g, count, mean in groups[task_id] if count >= weights[g].quorum]
        weight = sum(w for w, _ in counted)
        score = round(sum(w * m for w, m in counted) / weight, 1) if weight else None
        results.append(dict(cycle_id=cycle_id, task_id=task_id, score=score,
                            ballots=sum(count for _, count, _ in groups[task_id])))
    insert_ignoring_duplicates(session, EvaluationResult, results, ["cycle_id", "task_id"])
    return sum(r["score"] is not None for r in results)


def split_exactly(total: int, weights: list[float]) -> list[int]:
    """Whole-yuan shares of `total` proportional to `weights` that add up to `total` exactly
    (largest remainder method)."""
    weight_sum = sum(weights)
    if not weight_sum:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:total - sum(shares)]:
        shares[i] += 1
    return shares


def award(session: Session, cycle_id: int, budget: int) -> list[dict]:
    """Rank communities on the year and allocate the funding budget (see the module doc)."""
    if budget < 0:
        raise UserError("经费预算不能为负数")
    existing = session.scalars(select(AwardResult).where(AwardResult.cycle_id == cycle_id)).all()
    if existing:
        return [dict(community_id=a.community_id, funding_yuan=a.funding_yuan) for a in existing]
    evaluation = dict(session.execute(select(Task.community_id, func.avg(EvaluationResult.score))
                                      .join(Task, EvaluationResult.task_id == Task.id)
                                      .where(EvaluationResult.cycle_id == cycle_id).group_by(Task.community_id)).all())
    last_month = session.scalar(select(func.max(MonthlyRanking.month)).where(MonthlyRanking.cycle_id == cycle_id))
    progress = dict(session.execute(select(MonthlyRanking.community_id, MonthlyRanking.score).where(
        MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == last_month)).all())
    community_ids = sorted(set(evaluation) | set(progress))
    if not community_ids:
        raise UserError("还没有评议结果或月度排名，无法评选创新奖：请先完成民主评议")
    rows = [dict(community_id=cid, evaluation=float(evaluation.get(cid) or 0), progress=float(progress.get(cid) or 0))
            for cid in community_ids]
    for row in rows:
        row["year_score"] = round(EVALUATION_WEIGHT * row["evaluation"] + PROGRESS_WEIGHT * row["progress"], 1)
    from lianchuang.tasks.progress import competition_ranks

    ranks = competition_ranks(rows, "year_score")
    count = len(rows)
    for row, rank in zip(rows, ranks):
        row["rank"] = rank
        row["award"], row["award_weight"], upper = None, 0, 0.0
        for name, fraction, weight in AWARDS:
            upper += fraction
            if rank <= max(1, round(upper * count)):
                row["award"], row["award_weight"] = name, weight
                break
    base_pool = round(budget * BASE_SHARE)
    base = split_exactly(base_pool, [1] * count)
    bonus = split_exactly(budget - base_pool, [r["award_weight"] for r in rows])
    if not any(bonus):
        base = split_exactly(budget, [1] * count)
    for row, base_yuan, bonus_yuan in zip(rows, base, bonus):
        row["funding_yuan"] = base_yuan + bonus_yuan
        row["explanation"] = (f"综合得分 {row['year_score']} = 0.6×评议平均分 {row['evaluation']:.1f} + 0.4×12月进度得分 "
                              f"{row['progress']:.1f}；基础经费 {base_yuan:,} 元（预算 {budget:,} 元的 60% 由 {count} 个社区均分）"
                              + (f" + 奖励经费 {bonus_yuan:,} 元（{row['award']}，权重 {row['award_weight']}）" if bonus_yuan else ""))
    insert_ignoring_duplicates(session, AwardResult, [
        {k: row[k] for k in ("community_id", "year_score", "rank", "award", "funding_yuan", "explanation")}
        | dict(cycle_id=cycle_id) for row in rows], ["cycle_id", "community_id"])
    return rows


def result_drafts(session: Session, year: int, cycle_id: int, objection_deadline: date) -> list[Draft]:
    """The results announcement to each community coordinator and the leaders of its lead units,
    and the award and funding notice to each community coordinator."""
    results = defaultdict(list)
    for task, unit_name, result in session.execute(
            select(Task, Unit.name, EvaluationResult).join(EvaluationResult, EvaluationResult.task_id == Task.id)
            .outerjoin(Unit, Task.lead_unit_id == Unit.id).where(Task.cycle_id == cycle_id).order_by(Task.code)):
        results[task.community_id].append([task.code, task.title, unit_name or "", result.ballots, result.score])
    awards = {a.community_id: a for a in session.scalars(select(AwardResult).where(AwardResult.cycle_id == cycle_id))}
    names = dict(session.execute(select(Community.id, Community.name)).all())
    lead_units = select(Task.lead_unit_id).where(Task.cycle_id == cycle_id)
    people = session.scalars(select(Person).where(
        (Person.role == Role.community_coordinator) | ((Person.role == Role.unit_leader) & Person.unit_id.in_(lead_units))
    ).order_by(Person.code)).all()
    drafts = []
    for person in people:
        cid = person.community_id
        if cid in results:
            drafts.append(Draft.to_person(person, year, Stage.evaluation, "evaluation_results",
                                community_id=cid, context=dict(year=year, community=names[cid], rows=results[cid],
                                                               objection_deadline=objection_deadline)))
        if person.role == Role.community_coordinator and cid in awards:
            a = awards[cid]
            drafts.append(Draft.to_person(person, year, Stage.evaluation, "award",
                                community_id=cid, context=dict(year=year, community=names[cid], year_score=a.year_score,
                                                               rank=a.rank, award=a.award, funding=a.funding_yuan,
                                                               explanation=a.explanation)))
    return drafts
