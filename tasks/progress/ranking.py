"""Stage 4 rules: progress reports, the monthly ranking of communities, and overdue reminders.

The ranking rule (also shown in every ranking email):
  planned(task, M) = the plan at the end of month M, growing evenly from 0% at the start of the year
                     to each milestone's target by its due month (25% due in March → 8.3% in January)
  due(task, M)     = the target of the last milestone due by the end of month M (0 if none)
  actual(task, M)  = the percent of the latest report for the latest month up to M reported on (0 if
                     none); a report for a month already published counts from the next unpublished
                     month, and in the month's correction (更正) if one is published
  progress score   = 100 × Σ min(actual, planned) / Σ planned      (100 when nothing is planned yet)
  on-time score    = 100 × (tasks − overdue tasks) / tasks, a task being overdue when actual < due
  score            = progress weight × progress score + on-time weight × on-time score, rounded to 0.1, with
                     the weights of the district's scheme for the year (tasks/rules.py; 0.7 and 0.3 by
                     default), whose version each published row names
Communities are ranked by score within their street and across their district; equal scores share a
rank (1, 1, 3). Each district publishes its month on its own (a province's districts keep their own
calendars): a district's month is published once its communities' rows are stored. A published month stays as published unless the coordinators publish a correction
(更正) with its reason; the version it replaces is kept and shown."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, delete, func, insert, literal, select
from sqlalchemy.orm import Session, aliased

from lianchuang.errors import UserError
from lianchuang.models import (
    Community,
    District,
    Milestone,
    MonthlyRanking,
    ProgressReport,
    RankingCorrection,
    RankingOverdueTask,
    Street,
    SupersededRanking,
    Task,
)
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.follow_up import report_order
from lianchuang.models.queries import (
    district_community_ids,
    district_ids,
    latest_percent_by_month,
    month_status,
    nearest_milestone_month,
    task_status_query,
)
from lianchuang.tasks.cycle import competition_ranks, only_district
from lianchuang.tasks.rules import DEFAULT_RULES, rules_by_district


@dataclass(frozen=True)
class NewReport:
    task_id: int
    reported_on: date
    percent: int
    note: str | None = None
    funds_yuan: int = 0
    matters_handled: int = 0
    milestone_id: int | None = None
    month: int | None = None  # the month reported on; by default the month of its date


def record_reports(session: Session, reports: list[NewReport]) -> int:
    rows = [r.__dict__ | dict(month=r.month or r.reported_on.month,
                              order_key=report_order(r.month or r.reported_on.month, r.reported_on)) for r in reports]
    return insert_ignoring_duplicates(session, ProgressReport, rows, ["task_id", "reported_on"])


REPORT_FIELDS = ("percent", "month", "note", "funds_yuan", "matters_handled", "milestone_id")


def report_of_that_day(session: Session, report: NewReport) -> ProgressReport | None:
    return session.scalar(select(ProgressReport).where(ProgressReport.task_id == report.task_id,
                                                       ProgressReport.reported_on == report.reported_on))


def overwrite_report(kept: ProgressReport, report: NewReport) -> dict:
    """Give a day's stored report the values of a new one for that day; returns the values it had."""
    before = {name: getattr(kept, name) for name in REPORT_FIELDS}
    for name in REPORT_FIELDS:
        setattr(kept, name, getattr(report, name))
    kept.order_key = report_order(kept.month, kept.reported_on)
    return before


def overdue_task_query(cycle_id: int, year: int, month: int):
    """The cycle's tasks overdue at the end of `month` (actual below the target of the last milestone
    due by then), with that target and the actual percent: the status query without the plan."""
    reached, milestone = nearest_milestone_month(month, reached=True), aliased(Milestone)
    actual = func.coalesce(latest_percent_by_month(month), 0)
    return (select(Task.id, milestone.target_percent.label("due"), actual.label("actual"))
            .join(reached, reached.c.task_id == Task.id)
            .join(milestone, and_(milestone.task_id == Task.id, milestone.due_month == reached.c.month))
            .where(Task.cycle_id == cycle_id, actual < milestone.target_percent))


def community_scores(session: Session, cycle_id: int, year: int, month: int, district_id: int | None = None,
                     status=None) -> list[dict]:
    """Score every community with tasks for the month (of one district, if given), in one aggregate
    query (over the month's status table, if given: month_status)."""
    status = task_status_query(cycle_id, year, month, district_id).subquery() if status is None else status
    achieved = case((status.c.actual < status.c.planned, status.c.actual), else_=status.c.planned)
    overdue = case((status.c.actual < status.c.due, 1), else_=0)
    query = (select(status.c.community_id, Community.street_id, Street.district_id, func.count().label("tasks"),
                    func.sum(achieved).label("achieved"), func.sum(status.c.planned).label("planned"),
                    func.sum(overdue).label("overdue"), func.avg(status.c.actual).label("reported"),
                    func.avg(status.c.planned).label("planned_average"))
             .join(Community, Community.id == status.c.community_id).join(Street, Street.id == Community.street_id)
             .group_by(status.c.community_id, Community.street_id, Street.district_id))
    if district_id is not None:
        query = query.where(Street.district_id == district_id)
    rows = session.execute(query).all()
    schemes = rules_by_district(session, year)
    scores = []
    for row in rows:
        progress = 100.0 * float(row.achieved) / float(row.planned) if row.planned else 100.0
        on_time = 100.0 * (row.tasks - row.overdue) / row.tasks
        rules = schemes.get(row.district_id, DEFAULT_RULES)
        scores.append(dict(community_id=row.community_id, street_id=row.street_id, district_id=row.district_id, tasks=row.tasks,
                           overdue_tasks=int(row.overdue), progress_score=round(progress, 1),
                           on_time_score=round(on_time, 1), rules_version=rules.version,
                           reported_percent=round(float(row.reported), 1), planned_percent=round(float(row.planned_average), 1),
                           score=round(rules.progress_weight * progress + rules.on_time_weight * on_time, 1)))
    return scores


def ranking_rows(session: Session, cycle_id: int, month: int, district_id: int | None = None) -> list[dict]:
    """The month's published ranking (its latest correction, if any) of one district or of every
    district, district by district, best first."""
    query = (select(MonthlyRanking, Community.code, Community.name, Street.code, Street.name, District.code, District.name)
             .join(Community, MonthlyRanking.community_id == Community.id)
             .join(Street, Community.street_id == Street.id).join(District, District.id == Street.district_id)
             .where(MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month)
             .order_by(District.code, MonthlyRanking.rank_in_district, Community.code))
    if district_id is not None:
        query = query.where(Street.district_id == district_id)
    return [dict(district=district, district_code=district_code,
                 rank_in_district=r.rank_in_district, street=street, street_code=street_code, rank_in_street=r.rank_in_street,
                 community=name, community_code=code, score=r.score, progress_score=r.progress_score,
                 on_time_score=r.on_time_score, tasks=r.tasks, overdue_tasks=r.overdue_tasks,
                 published_on=r.published_on.isoformat(), rules_version=r.rules_version)
            for r, code, name, street_code, street, district_code, district in session.execute(query)]


def published_months(session: Session, cycle_id: int, district_id: int | None = None) -> set[int]:
    """The months published, by any district or by the one given."""
    query = select(MonthlyRanking.month).where(MonthlyRanking.cycle_id == cycle_id).distinct()
    if district_id is not None:
        query = query.where(MonthlyRanking.community_id.in_(district_community_ids(district_id)))
    return set(session.scalars(query))


def published_months_by_district(session: Session, cycle_id: int) -> dict[int, set[int]]:
    months = defaultdict(set)
    for district_id, month in session.execute(
            select(Street.district_id, MonthlyRanking.month).distinct()
            .join(Community, Community.id == MonthlyRanking.community_id).join(Street, Street.id == Community.street_id)
            .where(MonthlyRanking.cycle_id == cycle_id)):
        months[district_id].add(month)
    return months


def communities_without_reports(session: Session, cycle_id: int, month: int, district_ids: int | set[int] | None = None) -> list[str]:
    """Names of the communities (of a district or of several, if given) with tasks none of which was
    reported for `month`: one query whatever the number of districts (one per district took a
    province 17 s)."""
    reported = select(Task.community_id).join(ProgressReport, ProgressReport.task_id == Task.id).where(
        Task.cycle_id == cycle_id, ProgressReport.month == month)
    query = select(Community.name).where(
        Community.id.in_(select(Task.community_id).where(Task.cycle_id == cycle_id)), Community.id.not_in(reported))
    if district_ids is not None:
        chosen = {district_ids} if isinstance(district_ids, int) else set(district_ids)
        query = query.join(Street, Street.id == Community.street_id).where(Street.district_id.in_(chosen))
    return list(session.scalars(query.order_by(Community.code)))


def ranked_scores(session: Session, cycle_id: int, year: int, month: int, district_id: int | None = None,
                  status=None) -> list[dict]:
    """Every community's scores for the month (of one district, if given) with its rank in its
    district and in its street: the rows a publication stores (also what a preview shows and a
    correction compares)."""
    scores = community_scores(session, cycle_id, year, month, district_id, status)
    for rank_key, place_key in (("rank_in_district", "district_id"), ("rank_in_street", "street_id")):
        members_of = defaultdict(list)
        for score in scores:
            members_of[score[place_key]].append(score)
        for members in members_of.values():
            for score, rank in zip(members, competition_ranks(members)):
                score[rank_key] = rank
    return scores


def publish_ranking(session: Session, cycle_id: int, year: int, month: int, published_on: date,
                    district_id: int | None = None) -> set[int]:
    """Compute and store the month's ranking of a district (of every district not yet published,
    without one: scored in one pass), unless already published (then it stays frozen). Returns the
    districts this call published (empty: none)."""
    published = {d for d, months in published_months_by_district(session, cycle_id).items() if month in months}
    targets = {district_id} - published if district_id is not None else set(district_ids(session)) - published
    if not targets:
        return set()
    # Every district at once: the month's status evaluated once, for the scores, the overdue lists and the data check.
    status = month_status(session, cycle_id, year, month) if district_id is None else None
    scores = [s for s in ranked_scores(session, cycle_id, year, month, district_id, status) if s["district_id"] in targets]
    if not scores:
        return set()
    insert_ignoring_duplicates(session, MonthlyRanking, [
        {k: v for k, v in s.items() if k not in ("street_id", "district_id")}
        | dict(cycle_id=cycle_id, month=month, published_on=published_on) for s in scores], ["cycle_id", "month", "community_id"])
    in_targets = select(Community.id).join(Street, Street.id == Community.street_id).where(Street.district_id.in_(targets))
    overdue = (overdue_task_query(cycle_id, year, month).where(Task.community_id.in_(in_targets)) if status is None else
               select(status.c.id, status.c.due, status.c.actual)  # the same rows: a step due, not reached
               .where(status.c.actual < status.c.due, status.c.community_id.in_(in_targets))).subquery()
    session.execute(insert(RankingOverdueTask).from_select(
        ["cycle_id", "month", "task_id", "due_percent", "actual_percent"],
        select(literal(cycle_id), literal(month), overdue.c.id, overdue.c.due, overdue.c.actual)))
    return {s["district_id"] for s in scores}


def correct_ranking(session: Session, cycle_id: int, year: int, month: int, reason: str, today: date, actor: str,
                    district_id: int | None = None) -> int:
    """Publish a correction (更正) of a district's published month: the version standing is kept in
    superseded_ranking, and the month is ranked again from every report for a month up to it.
    Returns the correction's number (1 for the district's month's first)."""
    district_id = only_district(session, district_id)
    if month not in published_months(session, cycle_id, district_id):
        raise UserError(f"{year}年{month}月的排名还没有发布，不需要更正：直接发布即可（lianchuang rank --month {year}-{month:02d}）")
    if not reason.strip():
        raise UserError(f"更正排名必须说明原因，例如：lianchuang rank --month {year}-{month:02d} --correct --reason "
                        f"\"江滨社区{month}月进度漏报，已补报\"（在 Prefect 界面：填写“更正原因”）。原因会公示在公开栏，并写进更正通知")
    in_district = district_community_ids(district_id)
    this_month = (MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month, MonthlyRanking.community_id.in_(in_district))
    figures = ("score", "progress_score", "on_time_score", "tasks", "overdue_tasks", "rank_in_street", "rank_in_district")
    standing = {row.community_id: tuple(getattr(row, name) for name in figures)
                for row in session.scalars(select(MonthlyRanking).where(*this_month))}
    if standing == {s["community_id"]: tuple(s[name] for name in figures)
                    for s in ranked_scores(session, cycle_id, year, month, district_id)}:
        # A second run of the same correction (or one with nothing to correct) publishes and sends nothing.
        raise UserError(f"按现有的进度报告重新计算，{year}年{month}月各社区的得分和名次都没有变化，不需要更正。"
                        f"如果数据有误，先改正进度（lianchuang progress add 任务编号 --percent … --date 报告日期 --reason \"…\"），再更正")
    number = 1 + session.scalar(select(func.count()).where(
        RankingCorrection.cycle_id == cycle_id, RankingCorrection.month == month, RankingCorrection.district_id == district_id))
    correction = RankingCorrection(cycle_id=cycle_id, district_id=district_id, month=month, number=number,
                                   reason=reason.strip(), corrected_on=today, corrected_by=actor)
    session.add(correction)
    session.flush()
    kept = ["community_id", "score", "progress_score", "on_time_score", "tasks", "overdue_tasks", "rank_in_street",
            "rank_in_district", "published_on", "rules_version", "reported_percent", "planned_percent"]
    standing = select(literal(correction.id), *(getattr(MonthlyRanking, name) for name in kept)).where(*this_month)
    session.execute(insert(SupersededRanking).from_select(["correction_id", *kept], standing))
    session.execute(delete(MonthlyRanking).where(*this_month))
    session.execute(delete(RankingOverdueTask).where(
        RankingOverdueTask.cycle_id == cycle_id, RankingOverdueTask.month == month,
        RankingOverdueTask.task_id.in_(select(Task.id).where(Task.community_id.in_(in_district)))))
    publish_ranking(session, cycle_id, year, month, today, district_id)
    return number


def ranking_corrections(session: Session, cycle_id: int, district_id: int | None = None) -> dict[int, list[RankingCorrection]]:
    """Per month, its corrections (of one district, if given), first first."""
    query = select(RankingCorrection).where(RankingCorrection.cycle_id == cycle_id)
    if district_id is not None:
        query = query.where(RankingCorrection.district_id == district_id)
    months = defaultdict(list)
    for correction in session.scalars(query.order_by(RankingCorrection.month, RankingCorrection.number)):
        months[correction.month].append(correction)
    return months


def superseded_rows(session: Session, correction_id: int) -> dict[int, SupersededRanking]:
    """Per community, its row of the version a correction replaced."""
    return {row.community_id: row for row in session.scalars(
        select(SupersededRanking).where(SupersededRanking.correction_id == correction_id))}


def overdue_lists(session: Session, cycle_id: int, year: int, month: int,
                  district_id: int | None = None) -> dict[int, list[list[str]]]:
    """Per community, the rows (code, title, due, actual) of the tasks the month's published ranking
    counted overdue (in a district, if given). A month published before these lists were kept is
    computed from the reports."""
    within = [] if district_id is None else [Task.community_id.in_(district_community_ids(district_id))]
    # The district's task ids, looked up in the (cycle, month, task) index: filtering the month's
    # rows by community instead read all of a province's (54,000) for each of its 60 districts (20 ms
    # a query, 1.2 s a month; 3.7 ms now).
    in_district = [] if district_id is None else [RankingOverdueTask.task_id.in_(select(Task.id).where(*within))]
    frozen = (select(Task.community_id, Task.code, Task.title, RankingOverdueTask.due_percent, RankingOverdueTask.actual_percent)
              .join(Task, Task.id == RankingOverdueTask.task_id)
              .where(RankingOverdueTask.cycle_id == cycle_id, RankingOverdueTask.month == month, *in_district))
    counted = session.scalar(select(func.sum(MonthlyRanking.overdue_tasks)).where(
        MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month,
        *([] if district_id is None else [MonthlyRanking.community_id.in_(district_community_ids(district_id))])))
    if counted and not session.scalar(select(func.count()).select_from(frozen.limit(1).subquery())):
        live = overdue_task_query(cycle_id, year, month).where(*within).subquery()
        frozen = (select(Task.community_id, Task.code, Task.title, live.c.due, live.c.actual)
                  .join(Task, Task.id == live.c.id))
    lists = defaultdict(list)
    for community_id, code, title, due, actual in session.execute(frozen.order_by(Task.code)):
        lists[community_id].append([code, title, f"{due}%", f"{actual}%"])
    return lists


