"""Integrity beside the ranking (数据核查): kept with each published month, shown in the district's
email, on the board and as the run's table; reproducible; and at the year end."""

import json
from datetime import date

import pytest
from factories import YEAR, add_task_per_community
from sqlalchemy import select

from lianchuang import clock
from lianchuang.models import Community, EvaluationResult, Milestone, RankingAudit, Task
from lianchuang.models.db import session_scope
from lianchuang.tasks.board import build_board
from lianchuang.tasks.cycle import existing_cycle
from lianchuang.tasks.progress import integrity, notices as progress_notices
from lianchuang.tasks.progress.ranking import NewReport, record_reports
from lianchuang.tasks.progress.use_cases import publish_month
from lianchuang.tasks.rules import DEFAULT_RULES


@pytest.fixture
def june_reported(district, settings):
    """Two tasks in every community (steps 6月 50%, 12月 100%); June reported, one report jumping
    from 10% to 70% on June 30th, the month's last day."""
    add_task_per_community(YEAR, "便民服务")
    add_task_per_community(YEAR, "文艺队", "culture")
    with session_scope() as session:
        tasks = session.scalars(select(Task).order_by(Task.code)).all()
        session.add_all([Milestone(task_id=t.id, title=title, due_month=m, target_percent=p)
                         for t in tasks for m, p, title in ((6, 50, "过半"), (12, 100, "完成"))])
        session.flush()
        record_reports(session, [NewReport(t.id, date(YEAR, 6, 10), 10 + 11 * (i % 5)) for i, t in enumerate(tasks)])
        record_reports(session, [NewReport(tasks[0].id, date(YEAR, 6, 30), 70)])
        return existing_cycle(session, YEAR).id, tasks[0].code


def test_a_published_month_keeps_its_findings_for_the_email_the_board_and_the_run(june_reported, settings):
    cycle_id, jumped = june_reported
    with clock.frozen_at(date(YEAR, 7, 6)):
        result = publish_month(YEAR, 6, confirm=True)
    with session_scope() as session:
        kept = session.scalars(select(RankingAudit)).one()
        findings = json.loads(kept.findings)
        communities = len(session.scalars(select(Community.id)).all())
        assert kept.month == 6 and [row[1] for row in findings["jumps"]] == [jumped]
        assert findings["jumps"][0][3:] == ["10%", "70%", f"{YEAR}-06-30"]
        assert len(findings["stability"]) == communities and len(result["integrity"]) == communities
        assert {row["末日跳升的任务"] for row in result["integrity"]} >= {jumped}
        assert 0 < len(findings["sample"]) <= integrity.SAMPLE_PER_STREET * 2  # two streets
        again = integrity.spot_check_samples(session, cycle_id, YEAR, 6, {kept.district_id})[kept.district_id]
        assert again == findings["sample"]  # reproducible from the district, year and month
        drafts = progress_notices.ranking_drafts(session, YEAR, cycle_id, 6, kept.district_id)
        district_email = next(d for d in drafts if d.context["scope"] == "district")
        assert district_email.context["audit"] == findings
        build_board(session, cycle_id, YEAR, settings.data_dir / "board")
    page = next((settings.data_dir / "board").glob("audit-*.html")).read_text(encoding="utf-8")
    assert "6月" in page and jumped in page and "随机抽查" in page
    assert "排名数据核查" in (settings.data_dir / "board" / "index.html").read_text(encoding="utf-8")


def test_a_rank_that_hangs_on_one_task_is_shown_as_unstable():
    # Two tasks: one on plan (50 of 50), one far behind and overdue (0 of 50): score 0.7×50 + 0.3×50 = 50.
    own = [(50.0, 50.0, False), (0.0, 50.0, True)]
    others = [60.0, 40.0]
    ranks = integrity._ranks_dropping_one(own, 50.0, sorted(others + [50.0]), DEFAULT_RULES)
    assert ranks == {1, 3}  # without the late task it leads (100); without the good one it is last (0)
    assert integrity._span(ranks) == "1–3"


def test_the_year_end_names_communities_whose_progress_runs_ahead_of_their_grades(june_reported, settings):
    cycle_id, _ = june_reported
    with session_scope() as session:
        tasks = session.scalars(select(Task)).all()
        record_reports(session, [NewReport(t.id, date(YEAR, 12, 20), 100) for t in tasks])
        first = tasks[0].community_id
        session.add_all([EvaluationResult(cycle_id=cycle_id, task_id=t.id, ballots=5, score=40.0 if t.community_id == first else 90.0)
                         for t in tasks])
        session.flush()
        found = integrity.record_year_audit(session, cycle_id, YEAR, _district_of(session, first))
        name = session.get(Community, first).name
        assert found["ahead"] == [[name, 100.0, 40.0, 60.0]]
        assert session.scalar(select(RankingAudit.month)) == integrity.YEAR_END


def _district_of(session, community_id):
    from lianchuang.models import Street

    return session.scalar(select(Street.district_id).join(Community, Community.street_id == Street.id).where(Community.id == community_id))
