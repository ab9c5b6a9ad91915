"""A province's districts keep their own calendars: each publishes, ranks and corrects its month
on its own, and a report counts by its own district's published months."""

from datetime import date

import pytest
from factories import YEAR, build_province
from sqlalchemy import func, select

from lianchuang.errors import COMMAND_LINE, UserError
from lianchuang.models import MonthlyRanking, RankingCorrection, Street, Task
from lianchuang.models.db import session_scope
from lianchuang.tasks.outbox.rendering import render_notice
from lianchuang.tasks.progress import notices as progress_notices, ranking as progress
from lianchuang.tasks.progress.reports import check_reports


@pytest.fixture
def province(settings):
    return build_province()


def rows_of(session, district_id):
    return session.scalars(select(MonthlyRanking).where(
        MonthlyRanking.month == 6, MonthlyRanking.community_id.in_(progress.district_community_ids(district_id)))).all()


def test_each_district_publishes_and_ranks_its_month_on_its_own(province, session):
    cycle_id, first, second = province
    assert progress.publish_ranking(session, cycle_id, YEAR, 6, date(YEAR, 7, 6), second)
    assert progress.published_months(session, cycle_id, second) == {6}
    assert progress.published_months(session, cycle_id, first) == set()  # the first district has not ranked June
    second_rows = rows_of(session, second)
    assert len(second_rows) == 4
    # Ranked within its own district: its best (40%) is first although the other district has a 50%.
    assert sorted(r.rank_in_district for r in second_rows) == [1, 2, 2, 2]
    assert not progress.publish_ranking(session, cycle_id, YEAR, 6, date(YEAR, 7, 9), second)  # frozen
    # Without a district, every district not yet published is: the first now, the second untouched.
    assert progress.publish_ranking(session, cycle_id, YEAR, 6, date(YEAR, 7, 8))
    assert {r.published_on for r in rows_of(session, first)} == {date(YEAR, 7, 8)}
    assert {r.published_on for r in rows_of(session, second)} == {date(YEAR, 7, 6)}
    assert sorted(r.rank_in_district for r in rows_of(session, first)) == [1, 2, 2, 2]


def test_a_correction_is_the_districts_own(province, session):
    cycle_id, first, second = province
    progress.publish_ranking(session, cycle_id, YEAR, 6, date(YEAR, 7, 6))
    with pytest.raises(UserError, match="--district"):  # two districts: which one must be said
        progress.correct_ranking(session, cycle_id, YEAR, 6, "漏报", date(YEAR, 7, 9), "王明")
    first_before = {(r.community_id, r.score, r.rank_in_district) for r in rows_of(session, first)}
    task = session.scalar(select(Task).where(Task.community_id.in_(progress.district_community_ids(second)))
                          .order_by(Task.code.desc()))
    progress.record_reports(session, [progress.NewReport(task.id, date(YEAR, 7, 8), 50, month=6)])
    assert progress.correct_ranking(session, cycle_id, YEAR, 6, "6月进度录错", date(YEAR, 7, 9), "王明", second) == 1
    assert session.scalar(select(RankingCorrection.district_id)) == second
    assert {(r.community_id, r.score, r.rank_in_district) for r in rows_of(session, first)} == first_before
    assert {r.score for r in rows_of(session, second) if r.community_id == task.community_id} == {100.0}
    # The first district's own first correction is number 1 too.
    other = session.scalar(select(Task).where(Task.community_id.in_(progress.district_community_ids(first)))
                           .order_by(Task.code.desc()))
    progress.record_reports(session, [progress.NewReport(other.id, date(YEAR, 7, 8), 50, month=6)])
    assert progress.correct_ranking(session, cycle_id, YEAR, 6, "6月进度录错", date(YEAR, 7, 9), "王明", first) == 1


def test_the_ranking_email_and_the_report_month_follow_the_district(province, session):
    cycle_id, first, second = province
    progress.publish_ranking(session, cycle_id, YEAR, 6, date(YEAR, 7, 6), first)
    drafts = progress_notices.ranking_drafts(session, YEAR, cycle_id, 6, first)
    district_table = next(d for d in drafts if d.context["scope"] == "district")
    assert len(district_table.context["rows"]) == 4  # its own four communities, not the province's eight
    streets = set(session.scalars(select(Street.name).where(Street.district_id == first)))
    assert all(row[3] in streets for row in district_table.context["rows"])  # 街道内名次 beside its street
    assert "<th>街道</th>" in render_notice("ranking", district_table.context | {"recipient": "王明"}, "zh_CN").html
    assert progress_notices.ranking_drafts(session, YEAR, cycle_id, 6, second) == []  # not published there
    codes = {district_id: session.scalar(select(Task.code).where(Task.community_id.in_(
        progress.district_community_ids(district_id))).order_by(Task.code)) for district_id in (first, second)}
    rows = [(1, dict(task=codes[first], percent="60", date=f"{YEAR}-07-02", month="6")),
            (2, dict(task=codes[second], percent="60", date=f"{YEAR}-07-02", month="6"))]
    from lianchuang import clock

    with clock.frozen_at(date(YEAR, 7, 3)):
        reports, moved = check_reports(session, cycle_id, YEAR, COMMAND_LINE, rows)
    # June is published in the first district only: its late report counts from July, the other's in June.
    assert moved == [(codes[first], 6, 7)]
    assert sorted(r.month for r in reports) == [6, 6]


def test_each_district_awards_its_own_budget(province, session):
    from sqlalchemy import func

    from lianchuang.models import AwardResult, DistrictEvaluation
    from lianchuang.tasks.evaluation import award, notices as evaluation_notices

    cycle_id, first, second = province
    progress.publish_ranking(session, cycle_id, YEAR, 6, date(YEAR, 7, 6))  # the year's progress figures
    session.add_all(DistrictEvaluation(cycle_id=cycle_id, district_id=d, closed_on=date(YEAR, 12, 28),
                                       objection_deadline=date(YEAR + 1, 1, 4)) for d in (first, second))
    with pytest.raises(UserError, match="--district"):
        award.award(session, cycle_id, 100_000)
    rows = award.award(session, cycle_id, 100_000, district_id=second)
    assert len(rows) == 4 and sum(r["funding_yuan"] for r in rows) == 100_000
    assert sorted(r["rank"] for r in rows)[0] == 1  # ranked among its own communities
    # The other district's budget is its own: no --redo needed, and the first allocation stands.
    assert sum(r["funding_yuan"] for r in award.award(session, cycle_id, 300_000, district_id=first)) == 300_000
    total = lambda district_id: session.scalar(select(func.sum(AwardResult.funding_yuan)).where(
        AwardResult.community_id.in_(progress.district_community_ids(district_id))))
    assert (total(first), total(second)) == (300_000, 100_000)
    summary = [d for d in evaluation_notices.award_drafts(session, YEAR, cycle_id, second) if d.template == "award_summary"]
    assert [d.context["total"] for d in summary] == [100_000]


def test_each_district_closes_its_evaluation_on_its_own_day(province, session):
    from lianchuang.models import EvaluationResult
    from lianchuang.tasks.evaluation import ballots as evaluation, tally as evaluation_tally

    cycle_id, first, second = province
    evaluation_tally.close(session, cycle_id, date(YEAR, 12, 20), second)
    assert evaluation.closed_on(session, cycle_id, second) == date(YEAR, 12, 20)
    assert evaluation.closed_on(session, cycle_id, first) is None  # the first district is still voting
    tallied = set(session.scalars(select(Task.community_id).join(EvaluationResult, EvaluationResult.task_id == Task.id)))
    assert tallied == set(session.scalars(progress.district_community_ids(second)))
    first_task = session.scalar(select(Task.code).where(Task.community_id.in_(progress.district_community_ids(first))))
    with pytest.raises(UserError, match="尚未结束"):  # its results stay hidden until it closes
        evaluation_tally.explain(session, cycle_id, first_task)
    evaluation_tally.close(session, cycle_id, date(YEAR + 1, 1, 8), first)
    first_close, second_close = (evaluation.closing(session, cycle_id, d) for d in (first, second))
    assert (first_close.closed_on, second_close.closed_on) == (date(YEAR + 1, 1, 8), date(YEAR, 12, 20))
    assert first_close.objection_deadline > second_close.objection_deadline  # each its own objection period
    assert session.scalar(select(func.count()).select_from(EvaluationResult)) == 8
    with pytest.raises(UserError, match="--district"):
        evaluation.closed_on(session, cycle_id)


def test_a_month_is_dated_the_day_it_was_really_published_in_the_open_data(province, settings):
    """The open data said the 1st of the next month for every ranking, whatever day it came out."""
    import json

    from lianchuang import clock
    from lianchuang.tasks.board import build_board
    from lianchuang.tasks.progress.use_cases import publish_month

    cycle_id, _, _ = province
    with clock.frozen_at(date(YEAR, 7, 9)):
        publish_month(YEAR, 6, confirm=True)
    with session_scope() as fresh:
        build_board(fresh, cycle_id, YEAR, settings.data_dir / "board")
    published = {row["published_on"] for row in json.loads((settings.data_dir / "board" / "data" / "rankings.json")
                                                           .read_text(encoding="utf-8"))}
    assert published == {f"{YEAR}-07-09"}


def test_a_districts_overdue_lists_are_the_provinces_restricted_to_its_communities(province, session):
    cycle_id, first, second = province
    assert progress.publish_ranking(session, cycle_id, YEAR, 6, date(YEAR, 7, 8))
    every = progress.overdue_lists(session, cycle_id, YEAR, 6)
    assert every, "the province should have overdue tasks in June"
    for district_id in (first, second):
        communities = set(session.scalars(progress.district_community_ids(district_id)))
        assert progress.overdue_lists(session, cycle_id, YEAR, 6, district_id) == {
            community: rows for community, rows in every.items() if community in communities}
