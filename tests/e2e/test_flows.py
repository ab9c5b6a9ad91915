"""The whole year through the real Prefect flows, on a small district."""

from datetime import date

import pytest
from factories import SMALL, YEAR, add_task_per_community
from sqlalchemy import func, select

from lianchuang import clock
from lianchuang.flows import demo
from lianchuang.flows.stages import annual_cycle
from lianchuang.models import Commitment, Notice, StageState
from lianchuang.models.db import session_scope
from lianchuang.models.enums import StageStatus
from lianchuang.models.queries import summary
from lianchuang.tasks.cycle import existing_cycle
from lianchuang.tasks.demo.data import SCALES


@pytest.fixture
def small_scale(monkeypatch):
    monkeypatch.setitem(SCALES, "small", SMALL)


def run_year():
    steps = []
    demo.run_demo(YEAR, "small", lambda description, result: steps.append((description, result)))
    with session_scope() as session:
        return steps, summary(session, existing_cycle(session, YEAR))


def test_the_whole_year_runs_every_stage(prefect_harness, settings, small_scale):
    steps, figures = run_year()
    assert len(steps) == len(demo.demo_steps(YEAR, "small"))
    assert figures["suggestions_gathered"] == SMALL.suggestions and figures["suggestions_pending"] == 0
    assert figures["source_kinds_heard"] == 6
    assert figures["tasks"] == SMALL.tasks and figures["units_with_tasks"] > 0
    assert figures["post_holders"] == SMALL.post_holders
    assert figures["commitments_published"] == figures["commitments_signed"] > 0
    assert figures["months_ranked"] == 12
    assert figures["tasks_rated"] > 0 and figures["funding_allocated_yuan"] == 500_000
    with session_scope() as session:
        stages = session.execute(select(StageState.status, func.count()).group_by(StageState.status)).all()
        templates = set(session.scalars(select(Notice.template).distinct()))
    assert dict(stages) == {StageStatus.done: 5 * SMALL.communities}
    assert templates == {"solicitation", "meeting", "feedback", "assignment", "commitment", "ranking", "overdue", "progress_reminder",
                         "evaluation_invitation", "evaluation_results", "award", "award_summary", "fulfilment"}
    delivered = list((settings.maildir / "new").iterdir())
    assert len(delivered) == figures["notices_sent"] > 0
    assert (settings.board_dir / str(YEAR) / "index.html").exists()
    assert any(settings.documents_dir.rglob("*责任状与承诺书.html"))


def test_running_the_year_again_duplicates_nothing(prefect_harness, settings, small_scale):
    _, first = run_year()
    _, second = run_year()
    assert first == second
    assert len(list((settings.maildir / "new").iterdir())) == first["notices_sent"]


def test_annual_cycle_pushes_each_stage_as_far_as_inputs_allow(prefect_harness, settings, district):
    with clock.frozen_at(date(YEAR, 1, 5)):
        results = annual_cycle(YEAR)
    assert set(results) == {"opinions", "division", "commitments"}
    assert results["opinions"]["solicitations"] > 0
    assert results["division"]["tasks_assigned"] == 0  # nothing decided yet
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Commitment)) == 0


def test_ranking_without_send_delivers_nothing_and_with_send_only_its_own_stage(prefect_harness, settings, district):
    """`lianchuang rank --month M` publishes the month and rebuilds the board but sends no email, not
    even other stages' queued notices; with --send it delivers the ranking, and nothing of another stage."""
    from lianchuang.flows.stages import monthly_ranking
    from lianchuang.models.enums import NoticeStatus
    from lianchuang.tasks.demo.samples import SAMPLES
    from lianchuang.tasks.outbox import drafts as outbox

    add_task_per_community(YEAR)
    with session_scope() as session:
        outbox.queue(session, [outbox.Draft(YEAR, "opinions", "overdue", "P1", "王建国", "wang@example.cn", SAMPLES["overdue"])])
    with clock.frozen_at(date(YEAR, 4, 6)):
        monthly_ranking(YEAR, [3], send=False, confirm=True)
    with session_scope() as session:
        statuses = dict(session.execute(select(Notice.template, Notice.status)).all())
    assert statuses == {"overdue": NoticeStatus.queued}
    assert not (settings.maildir / "new").exists() or not any((settings.maildir / "new").iterdir())
    assert (settings.board_dir / str(YEAR) / "index.html").exists()

    with clock.frozen_at(date(YEAR, 4, 6)):
        summary = monthly_ranking(YEAR, [3], send=True, confirm=True)
    with session_scope() as session:
        by_template = session.execute(select(Notice.template, Notice.status, func.count()).group_by(Notice.template, Notice.status)).all()
    assert {(t, s) for t, s, _ in by_template} == {("overdue", NoticeStatus.queued), ("ranking", NoticeStatus.sent)}
    assert summary["delivered"] == summary["ranking_notices"] > 0


def test_a_run_no_command_started_names_the_login_it_ran_as(prefect_harness, settings, district):
    """From the Prefect UI or a schedule no person is known (the UI has one shared password): the run
    is tagged with the login it ran as; a run a command started keeps naming who started it, alone."""
    from prefect import tags
    from prefect.client.orchestration import get_client

    from lianchuang.flows.stages import board_stage
    from lianchuang.tasks.cycle import current_actor, ensure_cycle

    with session_scope() as session:
        ensure_cycle(session, YEAR)
    ui_run = board_stage(YEAR, return_state=True).state_details.flow_run_id
    with tags("发起人:王明"):
        cli_run = board_stage(YEAR, return_state=True).state_details.flow_run_id
    with get_client(sync_client=True) as client:
        assert f"执行账号:{current_actor()}" in client.read_flow_run(ui_run).tags
        assert not [tag for tag in client.read_flow_run(cli_run).tags if tag.startswith("执行账号")]
