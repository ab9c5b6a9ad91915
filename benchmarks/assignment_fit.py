"""How often the assignment proposal gives a task to a unit that does not fit it, on the demo
district (25 communities, 284 tasks), with the former weights and the current ones, in one run.

    python benchmarks/assignment_fit.py

A proposal "fits" when the unit declared the task's category among its strengths or its kind
usually serves it (assignment.KIND_FIT). Former weights: declared strength -2, no penalty for no
fit, so a unit next door (0) beat a fitting unit elsewhere in the street (3 - 2)."""

import sys
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

YEAR = 2026
FORMER = dict(STRENGTH=-2.0, NO_FIT=0.0)


def district_tasks() -> int:
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.demo import simulation
    from lianchuang.tasks.demo.data import SCALES, generate_org
    from lianchuang.tasks.org import load_org

    scale = SCALES["district"]
    with session_scope() as session:
        load_org(session, generate_org(scale))
        cycle_id = ensure_cycle(session, YEAR).id
        simulation.submit_suggestions(session, cycle_id, YEAR, scale)
        simulation.hold_joint_meetings(session, cycle_id, YEAR, scale, date(YEAR, 2, 20))
    return cycle_id


def fit_counts(cycle_id: int, weights: dict) -> Counter:
    from sqlalchemy import select

    from lianchuang.models import Community
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.division import assignment

    saved = {name: getattr(assignment, name) for name in weights}
    for name, value in weights.items():
        setattr(assignment, name, value)
    try:
        with session_scope() as session:
            proposals, _ = assignment.propose(session, cycle_id, list(session.scalars(select(Community.id))))
            session.rollback()
    finally:
        for name, value in saved.items():
            setattr(assignment, name, value)
    kinds = Counter()
    for proposal in proposals:
        reason = proposal.reason
        kinds["declared strength" if "擅长" in reason else "kind serves it" if "对口" in reason and "不对口" not in reason
              else "no fit"] += 1
        kinds["same community"] += reason.startswith("同社区")
    return kinds


def main() -> None:
    from common import fresh_database

    fresh_database(None)
    cycle_id = district_tasks()
    former, current = fit_counts(cycle_id, FORMER), fit_counts(cycle_id, {})
    print(f"demo district, {sum(former[k] for k in ('declared strength', 'kind serves it', 'no fit'))} tasks proposed")
    print(f"{'':<22}{'former weights':>16}{'current':>10}")
    for kind in ("declared strength", "kind serves it", "no fit", "same community"):
        print(f"{kind:<22}{former[kind]:>16}{current[kind]:>10}")


if __name__ == "__main__":
    main()
