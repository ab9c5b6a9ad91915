"""Stage 4 rules: progress reports, the monthly ranking of communities, and overdue reminders.

The ranking rule (also shown in every ranking email):
  planned(task, M) = the plan at the end of month M, growing evenly from 0% at the start of the year
                     to each milestone's target by its due month (25% due in March → 8.3% in January)
  due(task, M)     = the target of the last milestone due by the end of month M (0 if none)
  actual(task, M)  = the percent of its latest report dated by the end of month M (0 if none)
  progress score   = 100 × Σ min(actual, planned) / Σ planned      (100 when nothing is planned yet)
  on-time score    = 100 × (tasks − overdue tasks) / tasks, a task being overdue when actual < due
  score            = 0.7 × progress score + 0.3 × on-time score, rounded to 0.1
Communities are ranked by score within their street and across the district; equal scores share a
rank (1, 1, 3). A published month is frozen: later reports count from the next month on."""

import calendar
from collections.abc import Callable
from pathlib import Path
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, insert, literal, select
from sqlalchemy.orm import Session, aliased

from lianchuang.models import (Community, Milestone, MonthlyRanking, Person, ProgressReport, RankingOverdueTask, Street,
                               Task)
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import Role, Stage
from lianchuang.tasks.delivery import Draft

PROGRESS_WEIGHT, ON_TIME_WEIGHT = 0.7, 0.3


@dataclass(frozen=True)
class NewReport:
    task_id: int
    reported_on: date
    percent: int
    note: str | None = None
    funds_yuan: int = 0
    matters_handled: int = 0
    milestone_id: int | None = None


def record_reports(session: Session, reports: list[NewReport]) -> int:
    return insert_ignoring_duplicates(session, ProgressReport, [r.__dict__ for r in reports], ["task_id", "reported_on"])


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def task_status_query(cycle_id: int, year: int, month: int):
    """Per task of the cycle: its community, and its planned, due and actual percent at the end of `month`."""
    previous, following = aliased(Milestone), aliased(Milestone)
    reached, upcoming = _nearest_milestone_month(month, reached=True), _nearest_milestone_month(month, reached=False)
    actual = _latest_percent(year, month)
    due = func.coalesce(previous.target_percent, 0)
    due_month = func.coalesce(previous.due_month, 0)
    planned = case((following.due_month.is_(None), due * 1.0),
                   else_=due + (following.target_percent - due) * (month - due_month) * 1.0 / (following.due_month - due_month))
    return (select(Task.id, Task.code, Task.title, Task.community_id, planned.label("planned"), due.label("due"),
                   func.coalesce(actual.c.percent, 0).label("actual"))
            .outerjoin(reached, reached.c.task_id == Task.id)
            .outerjoin(previous, and_(previous.task_id == Task.id, previous.due_month == reached.c.month))
            .outerjoin(upcoming, upcoming.c.task_id == Task.id)
            .outerjoin(following, and_(following.task_id == Task.id, following.due_month == upcoming.c.month))
            .outerjoin(actual, actual.c.task_id == Task.id)
            .where(Task.cycle_id == cycle_id))


def overdue_task_query(cycle_id: int, year: int, month: int):
    """The cycle's tasks overdue at the end of `month` (actual below the target of the last milestone
    due by then), with that target and the actual percent: the status query without the plan."""
    reached, milestone = _nearest_milestone_month(month, reached=True), aliased(Milestone)
    latest = _latest_percent(year, month)
    actual = func.coalesce(latest.c.percent, 0)
    return (select(Task.id, milestone.target_percent.label("due"), actual.label("actual"))
            .join(reached, reached.c.task_id == Task.id)
            .join(milestone, and_(milestone.task_id == Task.id, milestone.due_month == reached.c.month))
            .outerjoin(latest, latest.c.task_id == Task.id)
            .where(Task.cycle_id == cycle_id, actual < milestone.target_percent))


def _nearest_milestone_month(month: int, reached: bool):
    """Per task, the month of its last milestone due by `month` (reached) or its first due after it."""
    if reached:
        return (select(Milestone.task_id, func.max(Milestone.due_month).label("month"))
                .where(Milestone.due_month <= month).group_by(Milestone.task_id).subquery())
    return (select(Milestone.task_id, func.min(Milestone.due_month).label("month"))
            .where(Milestone.due_month > month).group_by(Milestone.task_id).subquery())


def _latest_percent(year: int, month: int):
    """Per task, the percent of its latest report dated by the end of `month`."""
    latest = (select(ProgressReport.task_id, func.max(ProgressReport.reported_on).label("day"))
              .where(ProgressReport.reported_on <= month_end(year, month)).group_by(ProgressReport.task_id).subquery())
    return (select(ProgressReport.task_id, ProgressReport.percent)
            .join(latest, and_(ProgressReport.task_id == latest.c.task_id, ProgressReport.reported_on == latest.c.day))
            .subquery())


def community_scores(session: Session, cycle_id: int, year: int, month: int) -> list[dict]:
    """Score every community with tasks for the month, in one aggregate query."""
    status = task_status_query(cycle_id, year, month).subquery()
    achieved = case((status.c.actual < status.c.planned, status.c.actual), else_=status.c.planned)
    overdue = case((status.c.actual < status.c.due, 1), else_=0)
    rows = session.execute(
        select(status.c.community_id, Community.street_id, func.count().label("tasks"),
               func.sum(achieved).label("achieved"), func.sum(status.c.planned).label("planned"),
               func.sum(overdue).label("overdue"))
        .join(Community, Community.id == status.c.community_id)
        .group_by(status.c.community_id, Community.street_id)).all()
    scores = []
    for row in rows:
        progress = 100.0 * float(row.achieved) / float(row.planned) if row.planned else 100.0
        on_time = 100.0 * (row.tasks - row.overdue) / row.tasks
        scores.append(dict(community_id=row.community_id, street_id=row.street_id, tasks=row.tasks,
                           overdue_tasks=int(row.overdue), progress_score=round(progress, 1),
                           on_time_score=round(on_time, 1),
                           score=round(PROGRESS_WEIGHT * progress + ON_TIME_WEIGHT * on_time, 1)))
    return scores


def competition_ranks(items: list[dict], score_key: str = "score") -> list[int]:
    """Ranks by descending score; equal scores share a rank (1, 1, 3)."""
    ordered = sorted(range(len(items)), key=lambda i: -items[i][score_key])
    ranks = [0] * len(items)
    for position, index in enumerate(ordered):
        previous = ordered[position - 1] if position else None
        same = previous is not None and items[previous][score_key] == items[index][score_key]
        ranks[index] = ranks[previous] if same else position + 1
    return ranks


def publish_ranking(session: Session, cycle_id: int, year: int, month: int, published_on: date) -> bool:
    """Compute and store the month's ranking, unless already published (then it stays frozen).
    Returns True when this call published it."""
    if session.scalar(select(func.count()).where(MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month)):
        return False
    scores = community_scores(session, cycle_id, year, month)
    for score, rank in zip(scores, competition_ranks(scores)):
        score["rank_in_district"] = rank
    by_street = defaultdict(list)
    for score in scores:
        by_street[score["street_id"]].append(score)
    for members in by_street.values():
        for score, rank in zip(members, competition_ranks(members)):
            score["rank_in_street"] = rank
    insert_ignoring_duplicates(session, MonthlyRanking, [
        {k: v for k, v in s.items() if k != "street_id"} | dict(cycle_id=cycle_id, month=month, published_on=published_on)
        for s in scores], ["cycle_id", "month", "community_id"])
    overdue = overdue_task_query(cycle_id, year, month).subquery()
    session.execute(insert(RankingOverdueTask).from_select(
        ["cycle_id", "month", "task_id", "due_percent", "actual_percent"],
        select(literal(cycle_id), literal(month), overdue.c.id, overdue.c.due, overdue.c.actual)))
    return True


def overdue_lists(session: Session, cycle_id: int, year: int, month: int) -> dict[int, list[list[str]]]:
    """Per community, the rows (code, title, due, actual) of the tasks the month's published ranking
    counted overdue. A month published before these lists were kept is computed from the reports."""
    frozen = (select(Task.community_id, Task.code, Task.title, RankingOverdueTask.due_percent, RankingOverdueTask.actual_percent)
              .join(Task, Task.id == RankingOverdueTask.task_id)
              .where(RankingOverdueTask.cycle_id == cycle_id, RankingOverdueTask.month == month))
    counted = session.scalar(select(func.sum(MonthlyRanking.overdue_tasks)).where(
        MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month))
    if counted and not session.scalar(select(func.count()).select_from(frozen.limit(1).subquery())):
        live = overdue_task_query(cycle_id, year, month).subquery()
        frozen = (select(Task.community_id, Task.code, Task.title, live.c.due, live.c.actual)
                  .join(Task, Task.id == live.c.id))
    lists = defaultdict(list)
    for community_id, code, title, due, actual in session.execute(frozen.order_by(Task.code)):
        lists[community_id].append([code, title, f"{due}%", f"{actual}%"])
    return lists


def ranking_drafts(session: Session, year: int, cycle_id: int, month: int) -> tuple[list[Draft], Callable[[], None]]:
    """The month's ranking to the district, each street and each community coordinator, and a
    function that waits for their charts (drawn meanwhile by worker processes)."""
    rows = session.execute(
        select(MonthlyRanking, Community.name, Community.street_id, Street.name, Street.district_id)
        .join(Community, MonthlyRanking.community_id == Community.id).join(Street, Community.street_id == Street.id)
        .where(MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month)
        .order_by(MonthlyRanking.rank_in_district, Community.code)).all()
    if not rows:
        return [], lambda: None
    charts, wait_for_charts = ranking_charts(year, month, rows)  # first, so the workers start before the queries below
    previous = dict(session.execute(select(MonthlyRanking.community_id, MonthlyRanking.rank_in_street).where(
        MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month - 1)).all())
    overdue = overdue_lists(session, cycle_id, year, month)
    def line(r, community):
        return [r.rank_in_district, r.rank_in_street, community, r.score, r.progress_score, r.on_time_score,
                r.tasks, r.overdue_tasks]
    common = dict(year=year, month=month, chart=True)
    drafts = []
    coordinators = session.scalars(select(Person).where(Person.role.in_(
        [Role.district_coordinator, Role.street_coordinator, Role.community_coordinator])).order_by(Person.code)).all()
    streets = {street_id: street for _, _, street_id, street, _ in rows}
    # Grouped once, so each coordinator's table is a lookup (scanning all rows per person was quadratic).
    by_district, by_street, by_community = defaultdict(list), defaultdict(list), {}
    for row in rows:
        by_district[row[4]].append(row)
        by_street[row[2]].append(row)
        by_community[row[0].community_id] = row
    street_tables = {sid: [line(r[0], r[1]) for r in sorted(members, key=lambda r: r[0].rank_in_street)]
                     for sid, members in by_street.items()}
    for person in coordinators:
        if person.role == Role.district_coordinator:
            context = dict(scope="district", scope_name="全区", rows=[line(r[0], r[1]) for r in by_district[person.district_id]])
            chart = charts.get(("district", person.district_id))
        elif person.role == Role.street_coordinator:
            context = dict(scope="street", scope_name=streets.get(person.street_id, ""),
                           rows=street_tables.get(person.street_id, []))
            chart = charts.get(("street", person.street_id))
        else:
            if person.community_id not in by_community:
                continue
            own, name, street_id = by_community[person.community_id][:3]
            context = dict(scope="community", scope_name=name, community=name, overdue=overdue[own.community_id],
                           own=dict(score=own.score, street=streets[street_id], rank_in_street=own.rank_in_street,
                                    rank_in_district=own.rank_in_district, previous_rank=previous.get(own.community_id)),
                           rows=street_tables[street_id])
            chart = charts.get(("street", street_id))
        if not context["rows"]:
            continue
        drafts.append(Draft.to_person(person, year, Stage.progress, "ranking", period=f"{year}-{month:02d}",
                                      context=common | context | dict(chart=chart is not None), image_path=chart))
    return drafts, wait_for_charts


def ranking_charts(year: int, month: int, rows) -> tuple[dict[tuple[str, int], str], Callable[[], None]]:
    """One PNG per street (its communities' scores) and per district (its streets' mean scores),
    written once to the data folder and shared by every email that shows it."""
    from lianchuang.settings import get_settings
    from lianchuang.tasks.charts import draw_all

    folder = get_settings().data_dir / "charts" / f"{year}-{month:02d}"
    folder.mkdir(parents=True, exist_ok=True)
    streets, districts = defaultdict(list), defaultdict(lambda: defaultdict(list))
    for ranking, community, street_id, street, district_id in rows:
        streets[(street_id, street)].append((community, ranking.score))
        districts[district_id][street].append(ranking.score)
    charts, jobs = {}, []
    for (street_id, street), bars in streets.items():
        path = folder / f"street-{street_id}.png"
        charts[("street", street_id)] = str(path)
        jobs.append((str(path), f"{street} {year}年{month}月 社区得分", sorted(bars, key=lambda b: -b[1])))
    for district_id, by_street in districts.items():
        path = folder / f"district-{district_id}.png"
        charts[("district", district_id)] = str(path)
        means = sorted(((name, sum(s) / len(s)) for name, s in by_street.items()), key=lambda b: -b[1])
        jobs.append((str(path), f"{year}年{month}月 各街道社区平均得分", means))
    return charts, draw_all([job for job in jobs if not Path(job[0]).exists()])  # a re-run reuses the month's charts


def overdue_drafts(session: Session, year: int, cycle_id: int, month: int) -> list[Draft]:
    """One reminder to the responsible leader and the liaison per task whose milestone due this
    month was not reached."""
    status = task_status_query(cycle_id, year, month).subquery()
    rows = session.execute(
        select(status.c.code, status.c.title, Milestone.target_percent, status.c.actual, Milestone.title, Community.name,
               Task.responsible_person_id, Task.liaison_person_id)
        .join(Milestone, and_(Milestone.task_id == status.c.id, Milestone.due_month == month))
        .join(Task, Task.id == status.c.id).join(Community, Community.id == status.c.community_id)
        .where(status.c.actual < Milestone.target_percent)).all()
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(
        {pid for r in rows for pid in r[6:8] if pid})))}
    drafts = []
    for code, title, planned, actual, milestone, community, *owners in rows:
        for person in (people[pid] for pid in dict.fromkeys(owners) if pid):
            drafts.append(Draft.to_person(person, year, Stage.progress, "overdue", period=f"{code}@{month:02d}",
                                context=dict(community=community, task_code=code, task_title=title, due_month=month,
                                             milestone=milestone, planned=planned, actual=actual)))
    return drafts


def reminder_drafts(session: Session, year: int, cycle_id: int, month: int) -> list[Draft]:
    """Ask each task's liaison to report the month's progress by the 25th, listing their tasks with
    the last reported and the planned percent (the plan as of the month before)."""
    if month > 12:
        return []
    status = task_status_query(cycle_id, year, max(month - 1, 1)).subquery()
    rows = session.execute(select(status.c.code, status.c.title, status.c.actual, status.c.planned, Task.liaison_person_id,
                                  Community.name).join(Task, Task.id == status.c.id)
                           .join(Community, Community.id == status.c.community_id)
                           .where(Task.liaison_person_id.is_not(None)).order_by(status.c.code)).all()
    tasks = defaultdict(list)
    for code, title, actual, planned, liaison_id, community in rows:
        tasks[liaison_id].append((community, dict(code=code, title=title, percent=actual, planned=round(planned))))
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(tasks)))}
    return [Draft.to_person(people[pid], year, Stage.progress, "progress_reminder", period=f"{year}-{month:02d}",
                            context=dict(year=year, month=month, community=items[0][0], report_by=date(year, month, 25),
                                         tasks=[task for _, task in items]))
            for pid, items in sorted(tasks.items())]
