"""An email to the district coordinators when the scheduled monthly ranking has not started an hour
after its time, or failed: a schedule that silently never fires is how a month goes unranked.
`lianchuang serve` checks every few minutes in a thread of its own, apart from Prefect's scheduler
(which is what may be broken). Each problem is told once a month (the outbox's once-only key)."""

import logging
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

TIMEZONE = ZoneInfo("Asia/Shanghai")
GRACE = timedelta(hours=1)  # due at 08:00: nothing started by 09:00 is an alert
CHECK_SECONDS = 300
STARTED = {"RUNNING", "PAUSED", "COMPLETED", "CANCELLING", "CANCELLED"}
FAILED = {"FAILED", "CRASHED"}
log = logging.getLogger("lianchuang.schedule_watch")


def ranking_due(now: datetime) -> tuple[int, int, datetime] | None:
    """(year, month, due time) of the ranking the schedule starts this calendar month, once the
    grace hour after it is over; None before that."""
    from lianchuang import clock
    from lianchuang.settings import get_settings

    due = now.replace(day=get_settings().reporting_deadline_day + 1, hour=8, minute=0, second=0, microsecond=0)
    if now < due + GRACE:
        return None
    year, month = clock.last_finished_month(now.date())
    return year, month, due


def _runs_since(due: datetime, deployment: str = "monthly-ranking") -> list:
    """The monthly-ranking deployment's runs expected from a day before `due` (the scheduler
    creates them ahead; a run started by hand counts too)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
    )

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment])),
            flow_run_filter=FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=due - timedelta(days=1))))


def problem_with(runs: list) -> tuple[str, str] | None:
    """(problem, detail) when no run has started or every started one failed; None when all is well."""
    states = [(run, run.state.type.value if run.state else "SCHEDULED") for run in runs]
    if any(state in STARTED for _, state in states):
        return None
    failed = [(run, state) for run, state in states if state in FAILED]
    if not failed:
        return "没有开始", ""
    run = failed[-1][0]
    return "失败", f"运行“{run.name}”的状态：{run.state.name}，{(run.state.message or '')[:300]}"


def check_scheduled_ranking(now: datetime | None = None, district: str | None = None) -> str | None:
    """Alert the district coordinators (queued and sent at once) if the month's scheduled ranking
    (of a district, given its code: its own deployment) is missing or failed and the month is not
    published; returns the problem newly told, if any."""
    from lianchuang import clock
    from lianchuang.flows.local_server import console_address
    from lianchuang.models import Cycle, District
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.outbox import delivery
    from lianchuang.tasks.progress.ranking import district_ids, published_months

    now = now or datetime.now(TIMEZONE).replace(tzinfo=None)
    due = ranking_due(now)
    if due is None:
        return None
    year, month, due_at = due
    with session_scope() as session:
        cycle = session.scalar(select(Cycle).where(Cycle.year == year))
        if cycle is None:
            return None
        watched = [session.scalar(select(District.id).where(District.code == district))] if district else district_ids(session)
        waiting = [d for d in watched if month not in published_months(session, cycle.id, d)]
        if not waiting:  # every district published the month
            return None
    found = problem_with(_runs_since(due_at.replace(tzinfo=TIMEZONE), f"monthly-ranking-{district}" if district else "monthly-ranking"))
    if found is None:
        return None
    problem, detail = found
    with clock.frozen_at(now.date()):
        told = delivery.alert_district_coordinators(
            year, "schedule_alert", f"{year}-{month:02d}:{problem}",
            dict(year=year, month=month, problem=problem, detail=detail, due=f"{due_at:%Y-%m-%d %H:%M}",
                 checked=f"{now:%Y-%m-%d %H:%M}", console=console_address()), waiting)
    if not told:
        return None  # told already this month
    return problem


def watch_in_background(district: str | None = None) -> threading.Thread:
    """Check now and every CHECK_SECONDS while `serve` runs (a district's: its own schedule); a
    failed check is logged, not fatal."""
    def loop():
        while True:
            try:
                problem = check_scheduled_ranking(district=district)
                if problem:
                    log.warning("定时月度排名%s：已通知区级联络人", problem)
            except Exception:  # the watch must outlive a database or server hiccup
                log.exception("检查定时月度排名时出错")
            threading.Event().wait(CHECK_SECONDS)

    thread = threading.Thread(target=loop, name="schedule-watch", daemon=True)
    thread.start()
    return thread
