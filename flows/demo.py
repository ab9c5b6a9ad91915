"""The demo: build a district and run its whole year on a simulated clock. Each stage is a real
flow run (visible in the Prefect UI); between them, simulated people do what coordinators and
residents would. Every step is safe to repeat, so an interrupted demo continues where it stopped."""

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import func, select

from lianchuang import clock
from lianchuang.flows.stages import (
    award_stage,
    commitments_stage,
    division_stage,
    evaluation_stage,
    monthly_ranking,
    opinions_stage,
    progress_reminders,
)
from lianchuang.models import Community, Cycle
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.demo import simulation
from lianchuang.tasks.demo.data import SCALES, generate_org
from lianchuang.tasks.evaluation.ballots import OBJECTION_DAYS
from lianchuang.tasks.org import load_org


def _simulate(step: Callable, year: int, *args):
    with session_scope() as session:
        cycle = ensure_cycle(session, year)
        return step(session, cycle.id, year, *args)


def _load_org_once(scale_name: str) -> str:
    with session_scope() as session:
        if session.scalar(select(func.count()).select_from(Community)):
            return "已有组织架构，沿用"
        counts = load_org(session, generate_org(SCALES[scale_name]))
        return f"{counts['communities']} 个社区、{counts['units']} 个单位、{counts['people']} 人"


def demo_steps(year: int, scale_name: str) -> list[tuple[str, date, Callable]]:
    """The year as (description, simulated date, action) steps, in order."""
    scale = SCALES[scale_name]
    return [
        ("生成演示区组织架构", date(year, 1, 2), lambda: _load_org_once(scale_name)),
        ("阶段一：向六类对象征求意见", date(year, 1, 4), lambda: opinions_stage(year)),
        ("各方提交意见建议", date(year, 2, 5), lambda: _simulate(simulation.submit_suggestions, year, scale)),
        ("阶段一：通知召开联席会议", date(year, 2, 10), lambda: opinions_stage(year)),
        ("联席会议逐条议定", date(year, 2, 17), lambda: _simulate(simulation.hold_joint_meetings, year, scale, date(year, 2, 17))),
        ("阶段一：反馈议定结果", date(year, 2, 28), lambda: opinions_stage(year)),
        ("阶段二：分工负责、设岗定责", date(year, 3, 5), lambda: division_stage(year)),
        ("党员群众认领岗位", date(year, 3, 10), lambda: _simulate(simulation.claim_posts, year, scale)),
        ("阶段三：生成责任状和承诺书", date(year, 3, 15), lambda: commitments_stage(year)),
        ("分解大会签订责任状、承诺书", date(year, 3, 20), lambda: _simulate(simulation.sign_commitments, year)),
        ("阶段三：联名公开承诺", date(year, 3, 25), lambda: commitments_stage(year)),
        ("各单位报告1–11月进度", date(year, 11, 26), lambda: _simulate(simulation.report_progress, year, range(1, 12))),
        ("阶段四：1–11月排名", date(year, 12, 1), lambda: monthly_ranking(year, list(range(1, 12)), confirm=True)),
        ("逾期提醒与12月进度报送提醒", date(year, 12, 2), lambda: progress_reminders(year, 11)),
        ("阶段五：发出民主评议邀请", date(year, 12, 10), lambda: evaluation_stage(year)),
        ("各方代表投票评议", date(year, 12, 20), lambda: _simulate(simulation.cast_ballots, year)),
        ("各单位报告12月进度", date(year, 12, 26), lambda: _simulate(simulation.report_progress, year, range(12, 13))),
        ("阶段四：12月排名", date(year + 1, 1, 1), lambda: monthly_ranking(year, [12], confirm=True)),
        ("阶段五：计票并公示结果", date(year + 1, 1, 5), lambda: evaluation_stage(year, close=True)),
        # the award waits for the objection period (OBJECTION_DAYS after the close) to end
        ("阶段五：公示期满，评创新奖、分配经费", date(year + 1, 1, 5) + timedelta(days=OBJECTION_DAYS + 1),
         lambda: award_stage(year, 500_000)),
    ]


def run_demo(year: int, scale_name: str, on_step: Callable[[str, object], None]) -> None:
    for description, day, action in demo_steps(year, scale_name):
        with clock.frozen_at(day):
            on_step(description, action())


def demo_year_exists(year: int) -> bool:
    with session_scope() as session:
        return session.scalar(select(Cycle.id).where(Cycle.year == year)) is not None
