from datetime import date

import pytest
from factories import YEAR
from sqlalchemy import delete, func, select

from lianchuang.models import Community, Milestone, MonthlyRanking, RankingOverdueTask, Street, Task
from lianchuang.models.enums import Category
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.opinions import rules as opinions
from lianchuang.tasks.progress import notices as progress_notices, ranking as progress


def test_equal_scores_share_a_rank():
    items = [dict(score=s) for s in (80.0, 95.0, 80.0, 70.0)]
    assert progress.competition_ranks(items) == [2, 1, 2, 4]


@pytest.fixture
def two_communities(district, session):
    """Two communities with one task each, planned 50% by June and 100% by December."""
    cycle = ensure_cycle(session, YEAR)
    first, second = session.scalars(select(Community).order_by(Community.code).limit(2)).all()
    opinions.add_tasks(session, cycle.id, [opinions.NewTask(first.id, Category.services, "上门服务"),
                                           opinions.NewTask(second.id, Category.culture, "文艺队")])
    tasks = session.scalars(select(Task).order_by(Task.code)).all()
    for task in tasks:
        session.add_all([Milestone(task_id=task.id, title="过半", due_month=6, target_percent=50),
                         Milestone(task_id=task.id, title="完成", due_month=12, target_percent=100)])
    session.flush()
    return cycle, tasks


def test_scores_follow_the_written_rule(two_communities, session):
    cycle, (ahead, behind) = two_communities
    progress.record_reports(session, [progress.NewReport(ahead.id, date(YEAR, 6, 20), 60),
                                      progress.NewReport(behind.id, date(YEAR, 6, 20), 30)])
    scores = {s["community_id"]: s for s in progress.community_scores(session, cycle.id, YEAR, 6)}
    # June plan is 50%: the first is ahead (progress 100, on time), the second at 30/50 and overdue.
    assert scores[ahead.community_id]["score"] == 100.0
    assert scores[behind.community_id]["progress_score"] == 60.0
    assert scores[behind.community_id]["overdue_tasks"] == 1
    assert scores[behind.community_id]["score"] == round(0.7 * 60 + 0.3 * 0, 1)
    # In March the plan has grown evenly to 25% (half of June's 50%): 30% is on plan, not overdue.
    progress.record_reports(session, [progress.NewReport(behind.id, date(YEAR, 3, 20), 20)])
    march = {s["community_id"]: s for s in progress.community_scores(session, cycle.id, YEAR, 3)}
    assert march[behind.community_id]["progress_score"] == 80.0  # 20 of a planned 25
    assert march[behind.community_id]["overdue_tasks"] == 0  # no milestone was due yet


def test_a_published_month_is_frozen(two_communities, session):
    cycle, (ahead, behind) = two_communities
    progress.record_reports(session, [progress.NewReport(behind.id, date(YEAR, 6, 20), 10)])
    assert progress.publish_ranking(session, cycle.id, YEAR, 6, date(YEAR, 7, 1))
    before = {r.community_id: (r.score, r.rank_in_district) for r in session.scalars(select(MonthlyRanking))}
    progress.record_reports(session, [progress.NewReport(behind.id, date(YEAR, 6, 28), 90)])  # late correction
    assert not progress.publish_ranking(session, cycle.id, YEAR, 6, date(YEAR, 7, 2))
    after = {r.community_id: (r.score, r.rank_in_district) for r in session.scalars(select(MonthlyRanking))}
    assert before == after


def test_a_correction_republishes_the_month_keeps_the_earlier_version_and_notifies_again(two_communities, session):
    from lianchuang.errors import UserError
    from lianchuang.models import RankingCorrection, SupersededRanking

    cycle, (ahead, behind) = two_communities
    progress.record_reports(session, [progress.NewReport(ahead.id, date(YEAR, 6, 20), 60),
                                      progress.NewReport(behind.id, date(YEAR, 6, 20), 10)])
    with pytest.raises(UserError, match="还没有发布"):
        progress.correct_ranking(session, cycle.id, YEAR, 6, "漏报", date(YEAR, 7, 9), "王明")
    progress.publish_ranking(session, cycle.id, YEAR, 6, date(YEAR, 7, 6))
    first = progress_notices.ranking_drafts(session, YEAR, cycle.id, 6)
    # Found on 8 July: the second community's June figure was 50, not 10.
    progress.record_reports(session, [progress.NewReport(behind.id, date(YEAR, 7, 8), 50, month=6)])
    assert progress.correct_ranking(session, cycle.id, YEAR, 6, "列东社区6月进度录错，已核实为50%", date(YEAR, 7, 9), "王明") == 1
    scores = {r.community_id: r.score for r in session.scalars(select(MonthlyRanking).where(MonthlyRanking.month == 6))}
    assert scores[behind.community_id] == 100.0  # 50 of a planned 50, on time
    kept = {r.community_id: r.score for r in session.scalars(select(SupersededRanking))}
    assert kept[behind.community_id] == round(0.7 * 20 + 0.3 * 0, 1)  # the version published on 6 July
    assert session.scalar(select(RankingCorrection.corrected_by)) == "王明"
    with pytest.raises(UserError, match="没有变化"):  # the same correction run again publishes and sends nothing
        progress.correct_ranking(session, cycle.id, YEAR, 6, "列东社区6月进度录错，已核实为50%", date(YEAR, 7, 9), "王明")
    assert session.scalar(select(func.count()).select_from(RankingCorrection)) == 1
    assert not session.scalars(select(RankingOverdueTask).where(RankingOverdueTask.month == 6)).all()
    again = progress_notices.ranking_drafts(session, YEAR, cycle.id, 6)
    assert {d.recipient_key for d in again} == {d.recipient_key for d in first}  # the same people
    assert not {d.key for d in again} & {d.key for d in first}  # a new notice each, not swallowed as sent
    own = next(d for d in again if d.context["scope"] == "community" and d.community_id == behind.community_id)
    assert own.context["correction"]["reason"] == "列东社区6月进度录错，已核实为50%"
    assert own.context["own"]["before"]["score"] == kept[behind.community_id]


def test_the_months_email_lists_the_overdue_tasks_its_ranking_counted(two_communities, session):
    cycle, (silent, behind) = two_communities  # no report from the first: 0% against June's 50%
    progress.record_reports(session, [progress.NewReport(behind.id, date(YEAR, 6, 20), 10)])
    assert progress.publish_ranking(session, cycle.id, YEAR, 6, date(YEAR, 7, 1))
    progress.record_reports(session, [progress.NewReport(behind.id, date(YEAR, 6, 28), 90)])  # late correction
    drafts = progress_notices.ranking_drafts(session, YEAR, cycle.id, 6)
    listed = {d.community_id: d.context["overdue"] for d in drafts if d.context["scope"] == "community"}
    assert listed[behind.community_id] == [[behind.code, behind.title, "50%", "10%"]]  # as counted on publication
    assert listed[silent.community_id] == [[silent.code, silent.title, "50%", "0%"]]
    counted = {r.community_id: r.overdue_tasks for r in session.scalars(select(MonthlyRanking).where(MonthlyRanking.month == 6))}
    assert counted == {c: len(rows) for c, rows in listed.items()}  # the list and the count: one rule
    # A month published before the lists were kept: its overdue tasks come from the reports as they are now.
    session.execute(delete(RankingOverdueTask))
    assert progress.overdue_lists(session, cycle.id, YEAR, 6) == {silent.community_id: [[silent.code, silent.title, "50%", "0%"]]}


def test_one_weekly_letter_per_owner_lists_every_late_task_with_its_progress_now(two_communities, session):
    """926 warnings on one day, up to 6 a person, some saying "目前 0%" of a task reported at 80%:
    now each owner gets one letter a week listing the tasks behind their steps as reported now."""
    from lianchuang.models import Person
    from lianchuang.models.enums import Role

    cycle, (behind, caught_up) = two_communities
    owner = Person(code="P-OWN", name="王建国", role=Role.unit_leader, community_id=behind.community_id)
    session.add(owner)
    session.flush()
    for task in (behind, caught_up):
        task.responsible_person_id = task.liaison_person_id = owner.id
    progress.record_reports(session, [progress.NewReport(behind.id, date(YEAR, 6, 20), 20),
                                      progress.NewReport(caught_up.id, date(YEAR, 6, 20), 10),
                                      progress.NewReport(caught_up.id, date(YEAR, 7, 3), 80, month=7)])  # reported early
    letter, = progress_notices.overdue_drafts(session, YEAR, cycle.id, 6, week="2026-W28")
    assert letter.recipient_key == "P-OWN" and letter.period == "late-2026-W28"
    assert letter.context["tasks"] == [[behind.code, behind.community.name, behind.title, "6月：过半", "50%", "20%"]]
    assert progress_notices.overdue_drafts(session, YEAR, cycle.id, 5, week="2026-W28") == []  # nothing due by May
    progress.record_reports(session, [progress.NewReport(behind.id, date(YEAR, 7, 10), 55, month=7)])
    assert progress_notices.overdue_drafts(session, YEAR, cycle.id, 6, week="2026-W29") == []  # caught up: no letter


def test_publishing_every_district_evaluates_the_month_s_status_once_with_the_same_figures(two_communities, session):
    """Publishing every district fills the month's status table once (month_status); the scores,
    the overdue lists and the data check read it, and come out as the status query gives them."""
    from lianchuang.models.queries import month_status_made
    from lianchuang.tasks.progress import integrity

    cycle, (ahead, behind) = two_communities
    progress.record_reports(session, [progress.NewReport(ahead.id, date(YEAR, 6, 20), 60),
                                      progress.NewReport(behind.id, date(YEAR, 6, 20), 30)])
    published = progress.publish_ranking(session, cycle.id, YEAR, 6, date(YEAR, 7, 1))
    assert published and month_status_made(session, cycle.id, 6) is not None
    stored = {(r.task_id, r.due_percent, r.actual_percent) for r in session.scalars(select(RankingOverdueTask))}
    assert stored == {tuple(row) for row in session.execute(progress.overdue_task_query(cycle.id, YEAR, 6))} == {(behind.id, 50, 30)}
    assert {r.community_id: r.score for r in session.scalars(select(MonthlyRanking))} == {
        s["community_id"]: s["score"] for s in progress.community_scores(session, cycle.id, YEAR, 6)}
    district_of = dict(session.execute(select(Community.id, Street.district_id).join(Street, Street.id == Community.street_id)).all())
    communities = [ahead.community_id, behind.community_id]
    from_table = integrity.rank_stability(session, cycle.id, YEAR, 6, district_of, communities)
    session.info.clear()  # as a transaction that made no status table: the status query
    assert month_status_made(session, cycle.id, 6) is None
    assert integrity.rank_stability(session, cycle.id, YEAR, 6, district_of, communities) == from_table
