from datetime import date

import pytest
from sqlalchemy import select

from factories import YEAR
from lianchuang.errors import UserError
from lianchuang.models import Community, EvaluationResult, Evaluator, Task
from lianchuang.models.enums import Category, EvaluatorGroup, Grade
from lianchuang.tasks import evaluation, opinions
from lianchuang.tasks.cycle import ensure_cycle


@pytest.mark.parametrize("total, weights", [(500_000, [1, 1, 1]), (100, [3, 2, 1, 0]), (7, [1] * 25), (0, [1, 2])])
def test_funding_shares_add_up_to_the_budget_exactly(total, weights):
    shares = evaluation.split_exactly(total, weights)
    assert sum(shares) == total
    assert all(share >= 0 for share in shares)


@pytest.fixture
def opened(district, session):
    cycle = ensure_cycle(session, YEAR)
    communities = session.scalars(select(Community).order_by(Community.code)).all()
    opinions.add_tasks(session, cycle.id, [opinions.NewTask(c.id, Category.services, f"{c.name}便民服务") for c in communities])
    evaluation.open_evaluation(session, YEAR, cycle.id, [c.id for c in communities], date(YEAR, 12, 20))
    return cycle, communities


def evaluator_of(session, community, group):
    return session.scalars(select(Evaluator).where(Evaluator.community_id == community.id,
                                                   Evaluator.group == group)).first()


def test_a_code_cannot_be_used_twice_nor_for_another_community(opened, session):
    cycle, (first, second, *_) = opened
    head = evaluator_of(session, first, EvaluatorGroup.joint_head)
    own_task, other_task = (session.scalars(select(Task.code).where(Task.community_id == c.id)).one() for c in (first, second))
    with pytest.raises(UserError, match="不是本社区的任务"):
        evaluation.cast_ballots(session, cycle.id, [evaluation.NewBallot(head.code, other_task, Grade.good)])
    assert evaluation.cast_ballots(session, cycle.id, [evaluation.NewBallot(head.code, own_task, Grade.good)]) == 1
    with pytest.raises(UserError, match="已经使用过"):
        evaluation.cast_ballots(session, cycle.id, [evaluation.NewBallot(head.code, own_task, Grade.poor)])


def test_a_task_without_a_quorum_is_not_rated(opened, session):
    cycle, (first, second, *_) = opened
    head = evaluator_of(session, first, EvaluatorGroup.joint_head)  # quorum 1: counts alone
    task = session.scalars(select(Task).where(Task.community_id == first.id)).one()
    evaluation.cast_ballots(session, cycle.id, [evaluation.NewBallot(head.code, task.code, Grade.excellent)])
    member = evaluator_of(session, second, EvaluatorGroup.party_members)  # quorum 2: one ballot is too few
    other = session.scalars(select(Task).where(Task.community_id == second.id)).one()
    evaluation.cast_ballots(session, cycle.id, [evaluation.NewBallot(member.code, other.code, Grade.poor)])
    evaluation.tally(session, cycle.id)
    results = {r.task_id: r for r in session.scalars(select(EvaluationResult))}
    assert results[task.id].score == 95.0
    assert results[other.id].score is None and results[other.id].ballots == 1
