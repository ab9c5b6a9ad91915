"""The assignment proposal at the province scale: 5,000 communities in 300 streets, 30,000 units
that can take tasks, 150,000 tasks without a lead.

Times, in the same run and on the same database, (1) a bare baseline that reads the same rows and
writes a lead for every task (round robin over the community's units, no optimisation) and (2)
`assign propose` (the optimisation per street, co-organisers and reasons included); prints both
with the balance each achieves and the process's peak memory.

    python benchmarks/assignment.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

import argparse
import random
import resource
import time
from collections import defaultdict

YEAR = 2026


def add_tasks(session, cycle_id: int) -> int:
    from sqlalchemy import insert, select

    from lianchuang.models import Community, Task
    from lianchuang.models.enums import Category

    rng = random.Random(5)
    communities = session.execute(select(Community.id, Community.code).order_by(Community.code)).all()
    rows = [dict(cycle_id=cycle_id, code=f"{code}-{n:03d}", community_id=cid, category=rng.choice(list(Category)),
                 title=f"任务{n}", assigned_manually=False) for cid, code in communities for n in range(1, 31)]
    for start in range(0, len(rows), 50_000):
        session.execute(insert(Task.__table__), rows[start:start + 50_000])
    return len(rows)


def bare_baseline(session, cycle_id: int) -> dict[int, int]:
    """Read tasks and units, give each task the next unit of its community, write the leads."""
    from sqlalchemy import select, update

    from lianchuang.models import Task, Unit
    from lianchuang.tasks.division.assignment import TASK_TAKING_KINDS

    units = defaultdict(list)
    for unit_id, community_id in session.execute(select(Unit.id, Unit.community_id).where(Unit.kind.in_(TASK_TAKING_KINDS))
                                                 .order_by(Unit.code)):
        units[community_id].append(unit_id)
    tasks = session.execute(select(Task.id, Task.community_id).where(Task.cycle_id == cycle_id).order_by(Task.code)).all()
    turn, load, rows = defaultdict(int), defaultdict(int), []
    for task_id, community_id in tasks:
        choices = units[community_id]
        unit_id = choices[turn[community_id] % len(choices)]
        turn[community_id] += 1
        load[unit_id] += 1
        rows.append(dict(id=task_id, lead_unit_id=unit_id))
    session.execute(update(Task), rows)
    return {uid: load[uid] for ids in units.values() for uid in ids}


def main() -> None:
    from common import fresh_database, load_province

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    work, url = fresh_database(args.database_url)
    from sqlalchemy import func, select, text, update

    from lianchuang.models import Community, Task, Unit
    from lianchuang.models.db import drop_everything, session_scope
    from lianchuang.tasks.division import assignment

    cycle_id = load_province(YEAR, units=True)
    with session_scope() as session:
        tasks = add_tasks(session, cycle_id)
    with session_scope() as session:
        session.execute(text("ANALYZE"))
        units = session.scalar(select(func.count()).select_from(Unit).where(Unit.kind.in_(assignment.TASK_TAKING_KINDS)))
        streets = session.scalar(select(func.count(func.distinct(Community.street_id))))
    print(f"database {url.split('@')[-1].split('?')[0]}: {tasks:,} tasks, {units:,} units that can take them, "
          f"{streets} streets")

    start = time.perf_counter()
    with session_scope() as session:
        bare_loads = bare_baseline(session, cycle_id)
    bare = time.perf_counter() - start
    with session_scope() as session:
        session.execute(update(Task).values(lead_unit_id=None))

    start = time.perf_counter()
    with session_scope() as session:
        ids = list(session.scalars(select(Community.id)))
        proposals, balance = assignment.propose(session, cycle_id, ids)
        assignment.apply(session, proposals)
    app = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with session_scope() as session:
        unled = session.scalar(select(func.count()).select_from(Task).where(Task.lead_unit_id.is_(None)))
        reasons = session.scalars(select(Task.assignment_reason).limit(3)).all()
    bare_figures, app_figures = balance.figures(bare_loads), balance.figures(balance.after)
    print(f"{'':<34}{'seconds':>9}{'mean':>7}{'max':>6}{'std':>7}{'over capacity':>15}")
    for name, seconds, f in (("bare baseline (round robin, no co.)", bare, bare_figures),
                             ("lianchuang assign propose", app, app_figures)):
        print(f"{name:<34}{seconds:>9.1f}{f['mean']:>7}{f['max']:>6}{f['std']:>7}{f['over_capacity']:>15,}")
    print(f"ratio {app / bare:.1f}x; {len(proposals):,} proposals, {unled} tasks left without a lead; "
          f"peak memory of the process {peak_mib:,.0f} MiB")
    print("sample reasons: " + " | ".join(reasons))
    drop_everything(url)


if __name__ == "__main__":
    main()
