"""The watch `serve` keeps on the scheduled monthly ranking, against a real Prefect server (the test
harness) holding the monthly-ranking deployment: none started by 09:00 on its day, or a failed
one, emails the district coordinators once; a run that started, or a month published by hand,
is left alone."""

from datetime import datetime

import pytest
from factories import YEAR, add_task_per_community
from sqlalchemy import select

from lianchuang.flows.schedule_watch import TIMEZONE, check_scheduled_ranking
from lianchuang.models import Notice, NoticeBody
from lianchuang.models.db import session_scope

DUE = datetime(YEAR, 3, 6, 8, 0)  # February's ranking: the day after the reporting deadline (the 5th)


@pytest.fixture
def ranking_deployment(prefect_harness, district):
    from prefect.client.orchestration import get_client

    from lianchuang.flows.schedules import deployments

    add_task_per_community()  # the year's cycle exists, February is not published
    deployment_id = next(d for d in deployments() if d.name == "monthly-ranking").apply()
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs():
            if run.deployment_id == deployment_id:
                client.delete_flow_run(run.id)  # runs the scheduler made ahead: this test decides which exist
    return deployment_id


def alerts() -> list[tuple[str, str]]:
    with session_scope() as session:
        return session.execute(select(Notice.recipient_name, Notice.subject).where(Notice.template == "schedule_alert")
                               .order_by(Notice.id)).all()


def add_run(deployment_id, state: str, message: str = ""):
    from prefect.client.orchestration import get_client
    from prefect.states import Failed, Running, Scheduled

    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id, state=Scheduled(scheduled_time=DUE.replace(tzinfo=TIMEZONE)))
        later = {"FAILED": Failed(message=message), "RUNNING": Running()}.get(state)
        if later is not None:
            client.set_flow_run_state(run.id, Running(), force=True)
            client.set_flow_run_state(run.id, later, force=True)
        return run


def test_no_run_by_nine_and_a_failed_run_are_each_told_once(ranking_deployment):
    assert check_scheduled_ranking(datetime(YEAR, 3, 6, 8, 59)) is None  # within the grace hour
    add_run(ranking_deployment, "SCHEDULED")  # created ahead by the scheduler, never started
    assert check_scheduled_ranking(datetime(YEAR, 3, 6, 9, 5)) == "没有开始"
    told = alerts()
    assert told and all(f"{YEAR}年2月排名的定时运行没有开始" in subject for _, subject in told)
    assert check_scheduled_ranking(datetime(YEAR, 3, 6, 9, 10)) is None and alerts() == told  # once

    add_run(ranking_deployment, "FAILED", "数据库连接中断")
    assert check_scheduled_ranking(datetime(YEAR, 3, 6, 9, 15)) == "失败"
    with session_scope() as session:
        body = session.scalar(select(NoticeBody.text).join(Notice.body).where(Notice.template == "schedule_alert", Notice.subject.contains("失败")))
    assert "数据库连接中断" in body and "lianchuang rank --month 2026-02 --send" in body


def test_a_started_run_or_a_month_published_by_hand_is_not_an_alert(ranking_deployment):
    from datetime import date

    from lianchuang.tasks.cycle import existing_cycle
    from lianchuang.tasks.progress.ranking import publish_ranking

    add_run(ranking_deployment, "RUNNING")  # e.g. paused for approval later: it started
    assert check_scheduled_ranking(datetime(YEAR, 3, 6, 10, 0)) is None
    with session_scope() as session:  # January, with no run of the deployment, published by hand (`rank`)
        publish_ranking(session, existing_cycle(session, YEAR).id, YEAR, 1, date(YEAR, 2, 7))
    assert check_scheduled_ranking(datetime(YEAR, 2, 7, 10, 0)) is None
    assert alerts() == []


def test_a_districts_watch_looks_at_its_own_schedule_and_tells_its_own_coordinators(prefect_harness, settings):
    """`serve --district 三元区` watches monthly-ranking-D02: June published there is no alert, while
    梅列区's unpublished June with no run of its own schedule is told to 梅列区's coordinator only."""
    from datetime import date

    from factories import build_province

    from lianchuang.flows.schedules import deployments
    from lianchuang.models import Person
    from lianchuang.tasks.progress.ranking import publish_ranking

    cycle_id, first, second = build_province()
    for code in ("D01", "D02"):
        next(d for d in deployments(code) if d.name == f"monthly-ranking-{code}").apply()
    with session_scope() as session:
        publish_ranking(session, cycle_id, YEAR, 6, date(YEAR, 7, 6), second)
        first_coordinator = session.scalar(select(Person.name).where(Person.district_id == first))
    july = datetime(YEAR, 7, 6, 9, 30)
    assert check_scheduled_ranking(july, district="D02") is None
    assert check_scheduled_ranking(july, district="D01") == "没有开始"
    assert [name for name, _ in alerts()] == [first_coordinator]
