from datetime import date

from factories import YEAR, add_opinion
from sqlalchemy import select

from lianchuang.models import Community, Opinion, Task, Unit
from lianchuang.models.enums import SOURCE_KINDS, Category, OpinionStatus
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.opinions import notices as opinion_notices, rules as opinions


def first_community(session):
    return session.scalars(select(Community).order_by(Community.code)).first()


def test_the_same_suggestion_recorded_twice_is_stored_once(district, session):
    community = first_community(session)
    first = add_opinion(session, community.id, "建议整治乱停车")
    second = add_opinion(session, community.id, "建议整治乱停车")
    assert first == second
    assert len(session.scalars(select(Opinion)).all()) == 1


def test_adopted_suggestions_become_tasks_and_merged_ones_join_them(district, session):
    community = first_community(session)
    cycle = ensure_cycle(session, YEAR)
    adopted = add_opinion(session, community.id, "建议加强夜间巡逻")
    merged = add_opinion(session, community.id, "建议晚上多巡逻几次", submitter_name="林秀英", submitter_contact="lin@example.cn")
    declined = add_opinion(session, community.id, "建议修高铁", submitter_name="张三", submitter_contact="zhang@example.cn")
    opinions.record_decisions(session, cycle.id, community.id, date(YEAR, 2, 17), "驻区单位:3", [
        opinions.Decision(adopted, OpinionStatus.adopted, Category.public_safety, "加强夜间巡逻")])
    task = session.scalars(select(Task)).one()
    assert (task.code, task.title, task.category) == (f"{community.code}-001", "加强夜间巡逻", Category.public_safety)
    opinions.record_decisions(session, cycle.id, community.id, date(YEAR, 2, 17), "驻区单位:3", [
        opinions.Decision(merged, OpinionStatus.merged, merge_into_code=task.code),
        opinions.Decision(declined, OpinionStatus.declined, reason="不属于社区职责")])
    session.expire_all()
    by_id = {o.id: o for o in session.scalars(select(Opinion))}
    assert by_id[adopted].task_id == task.id and by_id[merged].task_id == task.id
    assert by_id[declined].task_id is None and by_id[declined].decision_reason == "不属于社区职责"
    feedback = opinion_notices.feedback_drafts(session, YEAR, cycle.id, [community.id])
    texts = {d.recipient_name: d.context for d in feedback}
    assert texts["林秀英"]["status"] == "merged" and texts["林秀英"]["task_code"] == task.code
    assert texts["张三"]["reason"] == "不属于社区职责"
    assert opinions.undecided_communities(session, cycle.id, [community.id]) == set()


def test_solicitation_reaches_every_source_kind(district, session):
    community = first_community(session)
    drafts = opinion_notices.solicitation_drafts(session, YEAR, [community.id], date(YEAR, 1, 31))
    kinds_present = set(session.scalars(select(Unit.kind).where(Unit.community_id == community.id)))
    assert {d.context["source_kind"] for d in drafts} == {k.value for k in kinds_present if k in SOURCE_KINDS}
    assert {"linked_leader", "linked_unit", "residents"} <= {d.context["source_kind"] for d in drafts}
    assert len({d.key for d in drafts}) == len(drafts)  # one notice per recipient


def test_submitters_hear_when_their_task_is_done_and_how_it_was_evaluated(district, session):
    from lianchuang.models import EvaluationResult
    from lianchuang.tasks.opinions import fulfilment
    from lianchuang.tasks.progress.ranking import NewReport, record_reports

    community = first_community(session)
    cycle = ensure_cycle(session, YEAR)
    asked = add_opinion(session, community.id, "建议加强夜间巡逻", submitter_name="林秀英", submitter_contact="lin@example.cn")
    anonymous = add_opinion(session, community.id, "路灯太暗")  # no contact: nobody to tell
    opinions.record_decisions(session, cycle.id, community.id, date(YEAR, 2, 17), "驻区单位:3", [
        opinions.Decision(asked, OpinionStatus.adopted, Category.public_safety, "加强夜间巡逻"),
        opinions.Decision(anonymous, OpinionStatus.adopted, Category.services, "更换路灯")])
    patrol = session.scalars(select(Task).where(Task.title == "加强夜间巡逻")).one()
    record_reports(session, [NewReport(patrol.id, date(YEAR, 5, 3), 60, month=4)])
    assert fulfilment.completed_drafts(session, YEAR, cycle.id, 4) == []  # not done yet
    record_reports(session, [NewReport(patrol.id, date(YEAR, 6, 2), 100, month=5)])
    assert fulfilment.completed_drafts(session, YEAR, cycle.id, 4) == []
    [done] = fulfilment.completed_drafts(session, YEAR, cycle.id, 5)
    assert (done.recipient_email, done.context["task_code"], done.context["month"]) == ("lin@example.cn", patrol.code, 5)
    assert done.key == fulfilment.completed_drafts(session, YEAR, cycle.id, 6)[0].key  # once, whatever the month
    session.add(EvaluationResult(cycle_id=cycle.id, task_id=patrol.id, ballots=12, score=88.5))
    session.flush()
    [year_end] = fulfilment.year_end_drafts(session, YEAR, cycle.id)
    assert (year_end.context["percent"], year_end.context["score"]) == (100, 88.5) and year_end.key != done.key
