"""The year-end tally at the province scale: 5,000 communities, 150,000 tasks, 100,000 evaluators
in six groups, 500,000 ballots.

Times `evaluation.tally` (per task and per responsible person: trimmed group means, quorums,
renormalised weights, results written) and, in the same run on the same database, one
hand-written SQL statement computing the same weighted task scores; checks they agree and prints
both and the ratio.

    python benchmarks/tally.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

import argparse
import random
import time

YEAR = 2026
GROUPS = ["joint_head"] + ["stationed_units"] * 5 + ["mass_orgs"] * 2 + ["civil_orgs"] * 2 + ["party_members"] * 5 \
    + ["resident_reps"] * 5  # 20 evaluators per community
HAND_WRITTEN = """
WITH p AS (
  SELECT b.task_id, b."group" AS grp, gp.points,
         ROW_NUMBER() OVER (PARTITION BY b.task_id, b."group" ORDER BY gp.points, b.id) AS rn,
         COUNT(*) OVER (PARTITION BY b.task_id, b."group") AS n
  FROM ballot b JOIN grade_point gp ON gp.cycle_id = b.cycle_id AND gp.grade = b.grade
  WHERE b.cycle_id = :cycle),
g AS (
  SELECT task_id, grp, COUNT(*) AS n,
         AVG(CASE WHEN n >= :trim AND (rn = 1 OR rn = n) THEN NULL ELSE points END) AS mean
  FROM p GROUP BY task_id, grp)
SELECT g.task_id, SUM(w.weight * g.mean) / SUM(w.weight) AS score
FROM g JOIN group_weight w ON w.cycle_id = :cycle AND w."group" = g.grp
WHERE g.n >= w.quorum GROUP BY g.task_id
"""


def build(session, cycle_id: int) -> int:
    """Tasks, evaluators and ballots with bulk Core inserts (the loaders are not under test)."""
    from sqlalchemy import insert, select

    from lianchuang.models import Ballot, Community, Evaluator, Person, Task
    from lianchuang.tasks.evaluation.scheme import ensure_scheme

    rng = random.Random(7)
    ensure_scheme(session, cycle_id)
    communities = session.execute(select(Community.id, Community.code).order_by(Community.code)).all()
    people = [dict(code=f"{code}-P{n:02d}", name=f"评议人{n}", role="resident", community_id=cid)
              for cid, code in communities for n in range(len(GROUPS))]
    for start in range(0, len(people), 50_000):
        session.execute(insert(Person.__table__), people[start:start + 50_000])
    person_ids = dict(session.execute(select(Person.code, Person.id)).all())
    session.execute(insert(Task.__table__), [
        dict(cycle_id=cycle_id, code=f"{code}-{n:03d}", community_id=cid, category="services", title=f"任务{n}",
             assigned_manually=False, responsible_person_id=person_ids[f"{code}-P{n % 6:02d}"])
        for cid, code in communities for n in range(1, 31)])
    session.execute(insert(Evaluator.__table__), [
        dict(cycle_id=cycle_id, community_id=cid, person_id=person_ids[f"{code}-P{n:02d}"], group=group,
             code_hash=f"E{cid:05d}{n:02d}") for cid, code in communities for n, group in enumerate(GROUPS)])
    tasks = {}
    for task_id, community_id in session.execute(select(Task.id, Task.community_id)):
        tasks.setdefault(community_id, []).append(task_id)
    ballots = []
    for evaluator_id, community_id, group in session.execute(select(Evaluator.id, Evaluator.community_id, Evaluator.group)):
        for task_id in rng.sample(tasks[community_id], 5):
            ballots.append(dict(cycle_id=cycle_id, sitting=f"S{evaluator_id}", task_id=task_id, group=group,
                                grade=rng.choice(("excellent", "good", "good", "fair", "poor"))))
    for start in range(0, len(ballots), 50_000):
        session.execute(insert(Ballot.__table__), ballots[start:start + 50_000])
    return len(ballots)


def main() -> None:
    from common import fresh_database, load_province

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    work, url = fresh_database(args.database_url)
    from sqlalchemy import delete, select, text

    from lianchuang.models import EvaluationResult, PersonResult
    from lianchuang.models.db import drop_everything, session_scope
    from lianchuang.tasks.evaluation import ballots as evaluation

    started = time.perf_counter()
    cycle_id = load_province(YEAR)
    with session_scope() as session:
        ballots = build(session, cycle_id)
    with session_scope() as session:
        session.execute(text("ANALYZE"))
    print(f"database {url.split('@')[-1].split('?')[0]}: 5,000 communities, 150,000 tasks, {ballots:,} ballots "
          f"(built in {time.perf_counter() - started:.0f} s)")

    app_times, scores_times, raw_times = [], [], []
    for _ in range(3):
        with session_scope() as session:
            session.execute(delete(EvaluationResult))
            session.execute(delete(PersonResult))
        with session_scope() as session:
            start = time.perf_counter()
            rated = evaluation.tally(session, cycle_id)
            app_times.append(time.perf_counter() - start)
        with session_scope() as session:
            start = time.perf_counter()
            evaluation.task_scores(session, cycle_id)
            scores_times.append(time.perf_counter() - start)
        with session_scope() as session:
            start = time.perf_counter()
            raw = session.execute(text(HAND_WRITTEN), dict(cycle=cycle_id, trim=evaluation.TRIM_FROM)).all()
            raw_times.append(time.perf_counter() - start)
    with session_scope() as session:
        app = dict(session.execute(select(EvaluationResult.task_id, EvaluationResult.score)
                                   .where(EvaluationResult.score.is_not(None))).all())
    hand = {task_id: float(score) for task_id, score in raw}
    assert app.keys() == hand.keys() and all(abs(app[t] - hand[t]) <= 0.05 + 1e-9 for t in hand), "the two tallies disagree"
    app_s, scores_s, raw_s = min(app_times), min(scores_times), min(raw_times)
    print(f"task scores: lianchuang {scores_s:.2f} s, hand-written SQL {raw_s:.2f} s, ratio {scores_s / raw_s:.2f} "
          f"({rated:,} tasks rated, same scores)")
    print(f"whole tally (task and responsible-person results computed and written): {app_s:.2f} s")
    drop_everything(url)


if __name__ == "__main__":
    main()
