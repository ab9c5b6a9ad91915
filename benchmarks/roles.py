"""What row-level security costs a district coordinator's login, on PostgreSQL at the province
scale (5,000 communities in 60 districts, 150,000 tasks, 1.8 million reports).

The same two writes for two districts of the same size, in the same run: as the database's owner
(not bound by the policies: the bare baseline) for one district, and as a district coordinator's
login (`users add`, every row checked by the policies) for the other:

1. publishing the district's month (its ranking rows and overdue lists: ~2,500 tasks scored);
2. recording a progress report for each of the district's ~2,500 tasks.

    python benchmarks/roles.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

import argparse
import time
from datetime import date

YEAR, MONTH = 2026, 10


def main() -> None:
    from common import fresh_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    work, url = fresh_database(args.database_url)
    from monthly_ranking import build
    from sqlalchemy import func, select, text
    from sqlalchemy.orm import Session

    from lianchuang import clock
    from lianchuang.models import Community, District, Person, Street, Task
    from lianchuang.models.db import drop_everything, get_engine, session_scope
    from lianchuang.models.enums import Role, UserRole
    from lianchuang.tasks.access import add_user, remove_user
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.demo.data import SCALES, generate_org
    from lianchuang.tasks.org import OrgData, load_org
    from lianchuang.tasks.progress.ranking import NewReport, publish_ranking, record_reports

    org = generate_org(SCALES["province"])
    coordinators = [p for p in org.people if p["role"] == Role.district_coordinator]
    started = time.perf_counter()
    with session_scope() as session:
        load_org(session, OrgData(org.districts, org.streets, org.communities, people=coordinators))
        cycle_id = ensure_cycle(session, YEAR).id
        build(session, cycle_id)
    with session_scope() as session:
        session.execute(text("ANALYZE"))
        sizes = session.execute(select(District.id, District.code, func.count(Task.id)).join(Street).join(Community)
                                .join(Task).group_by(District.id).order_by(func.count(Task.id).desc(), District.code)).all()
        (owner_district, owner_code, tasks), (user_district, user_code, _) = sizes[0], sizes[1]
        name = session.scalar(select(Person.name).where(Person.district_id == user_district))
        user, password = add_user(session, name, UserRole.district, user_code, "lc_bench_district")
    print(f"database {url.split('@')[-1].split('?')[0]}: 5,000 communities, 150,000 tasks "
          f"(built in {time.perf_counter() - started:.0f} s); districts {owner_code} and {user_code}, {tasks:,} tasks each")
    login_url = get_engine(url).url.set(username=user.login, password=password).render_as_string(hide_password=False)

    def timed(database_url: str, work) -> float:
        with Session(get_engine(database_url)) as session, session.begin():
            start = time.perf_counter()
            work(session)
            return time.perf_counter() - start

    def reports_of(district_id: int):
        def record(session):
            ids = session.scalars(select(Task.id).join(Community).join(Street).where(Street.district_id == district_id)).all()
            record_reports(session, [NewReport(task_id, date(YEAR, 11, 2), 90) for task_id in ids])
        return record

    try:
        with clock.frozen_at(date(YEAR, MONTH + 1, 1)):
            rows = [("publish the district's month", *(timed(u, lambda s, d=d: publish_ranking(s, cycle_id, YEAR, MONTH, date(YEAR, 11, 1), d))
                                                       for u, d in ((url, owner_district), (login_url, user_district)))),
                    (f"record {tasks:,} progress reports", timed(url, reports_of(owner_district)),
                     timed(login_url, reports_of(user_district)))]
        print(f"{'':<34}{'owner (no policies)':>20}{'district login':>16}{'ratio':>8}")
        for what, owner, login in rows:
            print(f"{what:<34}{owner:>19.2f}s{login:>15.2f}s{login / owner:>8.2f}")
    finally:
        with session_scope() as session:
            remove_user(session, user.login)
        drop_everything(url)


if __name__ == "__main__":
    main()
