"""The notice board at the district scale (25 communities, a whole demo year: tasks, posts,
commitments, 12 monthly rankings, evaluation results).

Runs the demo year first (about a minute), then times `board build` against a bare baseline in
the same run: one query for the tasks and a minimal Jinja table per page, written to as many files.

    python benchmarks/board.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

import argparse
import os
import time
from collections import defaultdict

YEAR = 2026
BARE = ("<!doctype html><meta charset=utf-8><title>{{ name }}</title><table>{% for t in tasks %}"
        "<tr><td>{{ t.code }}<td>{{ t.title }}<td>{{ t.goal }}</tr>{% endfor %}</table>")


def bare_baseline(session, cycle_id: int, out_dir, pages: int) -> None:
    from jinja2 import Template
    from sqlalchemy import select

    from lianchuang.models import Task

    template = Template(BARE)
    tasks = defaultdict(list)
    for task in session.execute(select(Task.community_id, Task.code, Task.title, Task.goal).where(Task.cycle_id == cycle_id)):
        tasks[task.community_id].append(task)
    out_dir.mkdir(parents=True, exist_ok=True)
    communities = sorted(tasks)
    for page in range(pages):
        community = communities[page % len(communities)]
        (out_dir / f"{page}.html").write_text(template.render(name=community, tasks=tasks[community]), encoding="utf-8")


def main() -> None:
    from common import best_of, fresh_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    work, url = fresh_database(args.database_url)
    from lianchuang.flows.demo import run_demo
    from lianchuang.models.db import drop_everything, session_scope
    from lianchuang.settings import configure_prefect_environment, get_settings
    from lianchuang.tasks.board import build_board
    from lianchuang.tasks.cycle import existing_cycle

    configure_prefect_environment(get_settings())
    start = time.perf_counter()
    run_demo(YEAR, "district", lambda description, result: None)
    print(f"database {url.split('@')[-1].split('?')[0]}: demo year at the district scale in {time.perf_counter() - start:.0f} s")
    with session_scope() as session:
        cycle_id = existing_cycle(session, YEAR).id
        app, pages = best_of(lambda: build_board(session, cycle_id, YEAR, work / "board"))
        bare, _ = best_of(lambda: bare_baseline(session, cycle_id, work / "bare", pages))
    print(f"board build ({pages} pages): lianchuang {app:.2f} s, bare baseline {bare:.2f} s, ratio {app / bare:.1f}x "
          f"(aim: under 10 s)")
    drop_everything(url)


if __name__ == "__main__":
    main()
