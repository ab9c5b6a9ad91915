"""Import N suggestions (the province scale: 5,000 communities, ~50 each) from a CSV file through
`opinions import`'s code path, and in the same run insert the same rows with a bare SQLAlchemy
Core bulk insert. Prints both times, their ratio, and each one's peak memory (each runs in a child
process); a smaller run alongside shows whether memory stays flat as the file grows.

    python benchmarks/opinion_import.py [--rows 250000] [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

import argparse
import csv
import multiprocessing
import random
import resource
import time
from datetime import date
from pathlib import Path

YEAR = 2026
CHUNK = 5000


def make_csv(path: Path, rows: int, communities: list[str]) -> None:
    from lianchuang.models.enums import SOURCE_KINDS, Channel
    from lianchuang.tasks.demo.data import task_idea

    rng = random.Random(4)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["社区", "来源类别", "渠道", "提出人", "联系方式", "内容", "日期"])
        for n in range(rows):
            _, idea = task_idea(rng)
            writer.writerow([communities[n % len(communities)], rng.choice(SOURCE_KINDS).label, rng.choice(list(Channel)).label,
                             f"居民{n}", f"r{n}@example.cn", f"建议{idea}（第{n}条）",
                             date(YEAR, 1, 1 + n % 28).replace(month=1 + n % 12).isoformat()])


def run_app(path: Path, queue) -> None:
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.opinions.sheets import import_opinions

    start = time.perf_counter()
    with session_scope() as session:
        result = import_opinions(session, ensure_cycle(session, YEAR).id, YEAR, path)
    queue.put((time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, result["new"]))


def run_bare(path: Path, queue) -> None:
    """The floor: read the CSV and bulk-insert the rows with Core, nothing else."""
    from sqlalchemy import insert, select

    from lianchuang.models import Community, Cycle, Opinion
    from lianchuang.models.db import engine

    start = time.perf_counter()
    with engine().begin() as connection:
        ids = dict(connection.execute(select(Community.name, Community.id)).all())
        cycle = connection.execute(select(Cycle.id).where(Cycle.year == YEAR)).scalar_one()
        kinds, channels = _labels()
        statement = insert(Opinion.__table__)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            chunk, count = [], 0
            for number, (community, kind, channel, name, contact, content, day) in enumerate(reader):
                chunk.append(dict(cycle_id=cycle, community_id=ids[community], source_kind=kinds[kind], channel=channels[channel],
                                  submitter_name=name, submitter_contact=contact, content=content,
                                  submitted_on=date.fromisoformat(day), fingerprint=f"bare-{number}", status="pending"))
                if len(chunk) == CHUNK:
                    connection.execute(statement, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                connection.execute(statement, chunk)
                count += len(chunk)
    queue.put((time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, count))


def _labels():
    from lianchuang.models.enums import Channel, UnitKind

    return {k.label: k.value for k in UnitKind}, {c.label: c.value for c in Channel}


def in_child(target, path: Path) -> tuple[float, int, int]:
    context = multiprocessing.get_context("spawn")  # a forked child would share the parent's database connection
    queue = context.Queue()
    process = context.Process(target=target, args=(path, queue))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"{target.__name__} failed (exit code {process.exitcode})")
    return queue.get()


def reset_opinions() -> None:
    from lianchuang.models import Opinion
    from lianchuang.models.db import engine

    with engine().begin() as connection:
        connection.execute(Opinion.__table__.delete())


def main() -> None:
    from common import fresh_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    work, url = fresh_database(args.database_url)
    from lianchuang.models.db import drop_everything, session_scope
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.demo.data import SCALES, generate_org
    from lianchuang.tasks.org import OrgData, load_org

    org = generate_org(SCALES["province"])
    with session_scope() as session:
        load_org(session, OrgData(districts=org.districts, streets=org.streets, communities=org.communities))
        ensure_cycle(session, YEAR)
    names = [c["name"] for c in org.communities]
    print(f"database {url.split('@')[-1].split('?')[0]}, {len(names):,} communities")
    print(f"{'rows':>9}{'file MB':>9}{'lianchuang':>12}{'bare insert':>13}{'ratio':>7}{'peak MB (app / bare)':>24}")
    for rows in sorted({args.rows // 5, args.rows}):
        path = work / f"opinions-{rows}.csv"
        make_csv(path, rows, names)
        app_seconds, app_kb, new = in_child(run_app, path)
        assert new == rows, (new, rows)
        reset_opinions()
        bare_seconds, bare_kb, inserted = in_child(run_bare, path)
        assert inserted == rows
        reset_opinions()
        print(f"{rows:>9,}{path.stat().st_size / 1e6:>9.1f}{app_seconds:>11.1f}s{bare_seconds:>12.1f}s"
              f"{app_seconds / bare_seconds:>7.2f}{app_kb / 1024:>14.0f} / {bare_kb / 1024:.0f}")
    drop_everything(url)


if __name__ == "__main__":
    main()
