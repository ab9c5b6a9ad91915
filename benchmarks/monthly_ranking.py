"""The monthly ranking at the province scale: 5,000 communities in 300 streets and 60 districts,
150,000 tasks with 4 milestones each, 12 months of reports (1.8 million rows).

1. Time the month's ranking computation (`community_scores`) and, in the same run, a hand-written
   SQL aggregate giving the same scores on the same database; check they agree; print the ratio.
2. Time the whole monthly run with sending: the `monthly_ranking` flow (compute, publish, charts,
   render and deliver 5,000+ emails to the Maildir, print batches, board, artifact) as `lianchuang
   rank --send` runs it (the data folder's own Prefect server, flow-run heartbeats off), after a
   warm-up flow that starts that server, so that its start is not counted, and once the set-up's
   writes are on disk (os.sync: the kernel would write the freshly built database back meanwhile).

    python benchmarks/monthly_ranking.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

import argparse
import os
import random
import time
from datetime import date

YEAR, MONTH = 2026, 10
HAND_WRITTEN = """
WITH reached AS (SELECT task_id, MAX(due_month) AS m FROM milestone WHERE due_month <= :month GROUP BY task_id),
upcoming AS (SELECT task_id, MIN(due_month) AS m FROM milestone WHERE due_month > :month GROUP BY task_id),
latest AS (SELECT task_id, MAX(order_key) AS k FROM progress_report WHERE month <= :month GROUP BY task_id),
status AS (
  SELECT t.community_id,
         COALESCE(p.target_percent, 0) AS due,
         CASE WHEN n.due_month IS NULL THEN COALESCE(p.target_percent, 0) * 1.0
              ELSE COALESCE(p.target_percent, 0) + (n.target_percent - COALESCE(p.target_percent, 0))
                   * (:month - COALESCE(p.due_month, 0)) * 1.0 / (n.due_month - COALESCE(p.due_month, 0)) END AS planned,
         COALESCE(r.percent, 0) AS actual
  FROM task t
  LEFT JOIN reached rc ON rc.task_id = t.id LEFT JOIN milestone p ON p.task_id = t.id AND p.due_month = rc.m
  LEFT JOIN upcoming up ON up.task_id = t.id LEFT JOIN milestone n ON n.task_id = t.id AND n.due_month = up.m
  LEFT JOIN latest l ON l.task_id = t.id LEFT JOIN progress_report r ON r.task_id = t.id AND r.order_key = l.k
  WHERE t.cycle_id = :cycle)
SELECT community_id, COUNT(*) AS tasks, SUM(CASE WHEN actual < planned THEN actual ELSE planned END) AS achieved,
       SUM(planned) AS planned, SUM(CASE WHEN actual < due THEN 1 ELSE 0 END) AS overdue
FROM status GROUP BY community_id
"""


def build(session, cycle_id: int) -> int:
    """Tasks, milestones and reports with bulk Core inserts (the app's loaders are not under test)."""
    from sqlalchemy import insert, select

    from lianchuang.models import Community, Milestone, ProgressReport, Task
    from lianchuang.models.follow_up import report_order

    rng = random.Random(6)
    communities = session.execute(select(Community.id, Community.code)).all()
    session.execute(insert(Task.__table__), [
        dict(cycle_id=cycle_id, code=f"{code}-{n:03d}", community_id=cid, category="services", title=f"任务{n}",
             assigned_manually=False) for cid, code in communities for n in range(1, 31)])
    task_ids = session.scalars(select(Task.id)).all()
    steps = [(3, 25), (6, 50), (9, 75), (12, 100)]
    rows = [dict(task_id=t, due_month=m, target_percent=p, title=f"{m}月节点") for t in task_ids for m, p in steps]
    for start in range(0, len(rows), 50_000):
        session.execute(insert(Milestone.__table__), rows[start:start + 50_000])
    reports = 0
    for start in range(0, len(task_ids), 10_000):
        rows = []
        for task_id in task_ids[start:start + 10_000]:
            pace, percent = rng.choice((1.1, 1.0, 0.9, 0.7)), 0
            for month in range(1, 13):
                percent = max(percent, min(100, round(month * 100 / 12 * pace + rng.randint(-4, 4))))
                rows.append(dict(task_id=task_id, reported_on=date(YEAR, month, 25), month=month, percent=percent, funds_yuan=0,
                                 matters_handled=0, order_key=report_order(month, date(YEAR, month, 25))))
        session.execute(insert(ProgressReport.__table__), rows)
        reports += len(rows)
    return reports


def main() -> None:
    from common import best_of, fresh_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--breakdown", action="store_true", help="time each step of the monthly run instead of the flow")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    work, url = fresh_database(args.database_url)
    from sqlalchemy import text

    from lianchuang import clock
    from lianchuang.models.db import drop_everything, session_scope
    from lianchuang.models.enums import Role
    from lianchuang.settings import configure_prefect_environment, get_settings
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.demo.data import SCALES, generate_org
    from lianchuang.tasks.org import OrgData, load_org
    from lianchuang.tasks.progress.ranking import community_scores
    from lianchuang.tasks.rules import ON_TIME_WEIGHT, PROGRESS_WEIGHT

    settings = get_settings()
    configure_prefect_environment(settings)
    org = generate_org(SCALES["province"])
    coordinators = [p for p in org.people if p["role"] in (Role.district_coordinator, Role.street_coordinator,
                                                           Role.community_coordinator)]
    started = time.perf_counter()
    with session_scope() as session:
        load_org(session, OrgData(org.districts, org.streets, org.communities, people=coordinators))
        cycle_id = ensure_cycle(session, YEAR).id
        reports = build(session, cycle_id)
    print(f"database {url.split('@')[-1].split('?')[0]}: 5,000 communities, 150,000 tasks, {reports:,} reports "
          f"(built in {time.perf_counter() - started:.0f} s)")
    with session_scope() as session:
        session.execute(text("ANALYZE"))

    with session_scope() as session:
        app_seconds, app = best_of(lambda: community_scores(session, cycle_id, YEAR, MONTH))
        raw_seconds, raw = best_of(lambda: session.execute(text(HAND_WRITTEN), dict(
            month=MONTH, cycle=cycle_id)).all())
    hand = {r.community_id: round(PROGRESS_WEIGHT * 100.0 * float(r.achieved) / float(r.planned)
                                  + ON_TIME_WEIGHT * 100.0 * (r.tasks - r.overdue) / r.tasks, 1) for r in raw}
    assert {s["community_id"]: s["score"] for s in app} == hand, "the two computations disagree"
    print(f"ranking computation, {MONTH}/{YEAR}: lianchuang {app_seconds:.2f} s, hand-written SQL {raw_seconds:.2f} s, "
          f"ratio {app_seconds / raw_seconds:.2f} (same scores for {len(hand):,} communities)")

    if args.breakdown:
        breakdown(cycle_id)
        drop_everything(url)
        return
    from lianchuang.flows import local_server
    from lianchuang.flows.stages import monthly_ranking

    # As `lianchuang rank --send` runs it: connected to the data folder's own Prefect server (started
    # by the warm-up, not timed), flow-run heartbeats off.
    try:
        with clock.frozen_at(date(YEAR, MONTH + 1, 1)), local_server.connected():
            monthly_ranking(YEAR, [1], send=False)
            settle_disk()
            cpu_before, start = cpu_seconds(), time.perf_counter()
            result = monthly_ranking(YEAR, [MONTH], send=True)
            whole = time.perf_counter() - start
            own, workers = (after - before for after, before in zip(cpu_seconds(), cpu_before))
    finally:
        local_server.stop()
    emails = len(list((settings.maildir / "new").iterdir()))
    print(f"whole monthly run with --send: {whole:.1f} s (aim: 10 s) for {result['ranking_notices']:,} ranking emails "
          f"({emails:,} in the Maildir), {result['board_pages']:,} board pages")
    print(f"  CPU: {own:.1f} s in this process, {workers:.1f} s in its worker processes "
          f"(not counted: Prefect's server and the database server)")
    drop_everything(url)


def settle_disk() -> None:
    """Write out what the set-up left dirty (a 375 MB database built seconds ago): the kernel would
    otherwise write it back during the timed run, about 30 s after it was written. A month's run
    starts on a disk that has long settled."""
    os.sync()


def cpu_seconds() -> tuple[float, float]:
    """CPU time (user + system) of this process and of its finished child processes."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def breakdown(cycle_id: int) -> None:
    """Each step of the monthly run with sending, in the flow's order, without Prefect. The board
    (started ahead of the publication, released after it) is built by a worker process meanwhile;
    its wait shows what it adds."""
    from lianchuang import clock
    from lianchuang.models.db import session_scope
    from lianchuang.settings import get_settings
    from lianchuang.tasks.board import board_ahead
    from lianchuang.tasks.outbox import delivery, drafts as outbox, print_pages
    from lianchuang.tasks.progress import integrity, notices as progress_notices, ranking as progress

    steps = []

    def step(name, function):
        start = time.perf_counter()
        result = function()
        steps.append((name, time.perf_counter() - start))
        return result

    settle_disk()
    with clock.frozen_at(date(YEAR, MONTH + 1, 1)):
        with session_scope() as session:  # as the flow does: the board's workers lay out its tasks meanwhile
            ahead = step("board workers start", lambda: board_ahead(session, cycle_id, YEAR, get_settings().board_dir / str(YEAR)))
        with session_scope() as session:  # one transaction, as publish_month: the data check reads the month's status table
            step("compute and publish", lambda: progress.publish_ranking(session, cycle_id, YEAR, MONTH, date(YEAR, MONTH + 1, 1)))
            step("data check (数据核查)", lambda: integrity.record_month_audits(session, cycle_id, YEAR, MONTH,
                                                                                set(progress.district_ids(session))))
        board = ahead.release()
        with session_scope() as session:
            def every_districts_drafts():  # as the flow does: each district's own emails and charts
                overdue = progress.overdue_lists(session, cycle_id, YEAR, MONTH)  # every district's, in one query
                return [d for district_id in progress.district_ids(session) for d in progress_notices.ranking_drafts(
                    session, YEAR, cycle_id, MONTH, district_id, overdue=overdue)]

            drafts = step("drafts and their 360 charts", every_districts_drafts)
            step(f"render and queue {len(drafts):,}", lambda: outbox.queue(session, drafts))
        step("deliver to the Maildir", lambda: delivery.deliver_all(YEAR))
        with session_scope() as session:
            step("print batches", lambda: print_pages.write_print_batches(session, YEAR))
        step("wait for the board", board.result)
    for name, seconds in steps:
        print(f"  {name:<30}{seconds:>7.1f} s")
    print(f"  {'total':<30}{sum(seconds for _, seconds in steps):>7.1f} s")


if __name__ == "__main__":
    main()
