"""Read-only queries shared by the CLI and flows: the year's figures and where communities stand."""

from datetime import date

from sqlalchemy import Column, Float, Integer, MetaData, Numeric, Select, Table, and_, case, distinct, func, insert, select
from sqlalchemy.orm import Session, aliased, lazyload

from lianchuang.models import (
    AwardResult,
    Ballot,
    Commitment,
    Community,
    Cycle,
    District,
    EvaluationResult,
    Milestone,
    MonthlyRanking,
    Notice,
    Opinion,
    Post,
    PostClaim,
    ProgressReport,
    StageState,
    Street,
    Task,
    Unit,
)
from lianchuang.models.db import plain_rows
from lianchuang.models.enums import Stage, StageStatus, UnitKind
from lianchuang.models.follow_up import report_order


def count(session: Session, statement) -> int:
    return session.scalar(statement) or 0


def summary(session: Session, cycle: Cycle) -> dict:
    """The year's figures, in the terms of seed 003."""
    c = cycle.id
    opinions = dict(session.execute(select(Opinion.status, func.count()).where(Opinion.cycle_id == c).group_by(Opinion.status)).all())
    notices = dict(session.execute(select(Notice.status, func.count()).where(Notice.year == cycle.year).group_by(Notice.status)).all())
    return {
        "year": cycle.year,
        "streets": count(session, select(func.count()).select_from(Street)),
        "communities": count(session, select(func.count()).select_from(Community)),
        "units": count(session, select(func.count()).select_from(Unit).where(Unit.kind.not_in(
            [UnitKind.party_org, UnitKind.linked_leader, UnitKind.residents]))),
        "suggestions_gathered": sum(opinions.values()),
        "source_kinds_heard": count(session, select(func.count(distinct(Opinion.source_kind))).where(Opinion.cycle_id == c)),
        "suggestions_adopted": opinions.get("adopted", 0),
        "suggestions_merged": opinions.get("merged", 0),
        "suggestions_declined": opinions.get("declined", 0),
        "suggestions_pending": opinions.get("pending", 0),
        "tasks": count(session, select(func.count()).where(Task.cycle_id == c)),
        "units_with_tasks": count(session, select(func.count(distinct(Task.lead_unit_id))).where(Task.cycle_id == c)),
        "post_kinds": count(session, select(func.count(distinct(Post.post_kind_id))).where(Post.cycle_id == c)),
        "post_holders": count(session, select(func.count(distinct(PostClaim.person_id))).join(Post).where(Post.cycle_id == c)),
        "commitments_signed": count(session, select(func.count()).where(Commitment.cycle_id == c, Commitment.signed_at.is_not(None))),
        "commitments_published": count(session, select(func.count()).where(Commitment.cycle_id == c, Commitment.published_on.is_not(None))),
        "months_ranked": count(session, select(func.count(distinct(MonthlyRanking.month))).where(MonthlyRanking.cycle_id == c)),
        "matters_handled": count(session, select(func.sum(ProgressReport.matters_handled)).join(Task).where(Task.cycle_id == c)),
        "funds_yuan": count(session, select(func.sum(ProgressReport.funds_yuan)).join(Task).where(Task.cycle_id == c)),
        "ballots": count(session, select(func.count()).where(Ballot.cycle_id == c)),
        "tasks_rated": count(session, select(func.count()).where(EvaluationResult.cycle_id == c, EvaluationResult.score.is_not(None))),
        "average_task_score": round(float(session.scalar(select(func.avg(EvaluationResult.score)).where(EvaluationResult.cycle_id == c)) or 0), 1),
        "communities_awarded": count(session, select(func.count()).where(AwardResult.cycle_id == c, AwardResult.award.is_not(None))),
        "funding_allocated_yuan": count(session, select(func.sum(AwardResult.funding_yuan)).where(AwardResult.cycle_id == c)),
        "notices_sent": notices.get("sent", 0),
        "notices_to_print": notices.get("printed", 0),
        "notices_queued": notices.get("queued", 0),
        "notices_failed": notices.get("failed", 0),
    }


def outbox(session: Session, status: str | None, year: int | None, limit: int) -> list[dict]:
    """The newest notices, optionally of one status and year."""
    query = select(Notice).options(lazyload(Notice.body)).order_by(Notice.id.desc()).limit(limit)  # a list shows no bodies
    if status:
        query = query.where(Notice.status == status)
    if year:
        query = query.where(Notice.year == year)
    return [dict(id=n.id, year=n.year, stage=n.stage, template=n.template, recipient=n.recipient_name,
                 email=n.recipient_email, subject=n.subject, status=n.status.value, attempts=n.attempts,
                 error=n.last_error, delivered_at=n.delivered_at.isoformat() if n.delivered_at else None)
            for n in session.scalars(query)]


def stage_overview(session: Session, cycle: Cycle) -> list[dict]:
    """Per community, the status of each stage (not started where nothing was recorded)."""
    states = {(s.community_id, s.stage): s.status for s in session.scalars(select(StageState).where(StageState.cycle_id == cycle.id))}
    rows = session.execute(select(Community.id, Community.code, Community.name, Street.name).join(Street)
                           .order_by(Community.code)).all()
    return [dict(code=code, community=name, street=street,
                 **{stage.value: states.get((cid, stage), StageStatus.not_started).value for stage in Stage})
            for cid, code, name, street in rows]


# Facts of the organisation and of stage 4 that other stages ask for (the evaluation, the board, the
# residents' feedback), so no stage reaches into another's rules.

def district_community_ids(district_id: int):
    """The ids of a district's communities, as a subquery for `IN`."""
    return select(Community.id).join(Street, Street.id == Community.street_id).where(Street.district_id == district_id)


def district_ids(session: Session) -> list[int]:
    return list(session.scalars(select(District.id).order_by(District.code)))


def task_status_query(cycle_id: int, year: int, month: int, district_id: int | None = None, next_step: bool = False):
    """Per task of the cycle (of a district, if given): its community, and its planned, due and
    actual percent at the end of `month`; with next_step, its first step due after `month` too
    (next_month, next_percent, next_title: None when none is left)."""
    previous, following = aliased(Milestone), aliased(Milestone)
    reached, upcoming = nearest_milestone_month(month, reached=True), nearest_milestone_month(month, reached=False)
    actual = func.coalesce(latest_percent_by_month(month), 0)
    due = func.coalesce(previous.target_percent, 0)
    due_month = func.coalesce(previous.due_month, 0)
    planned = case((following.due_month.is_(None), due * 1.0),
                   else_=due + (following.target_percent - due) * (month - due_month) * 1.0 / (following.due_month - due_month))
    steps = [following.due_month.label("next_month"), following.target_percent.label("next_percent"),
             following.title.label("next_title")] if next_step else []
    return (select(Task.id, Task.code, Task.title, Task.community_id, planned.label("planned"), due.label("due"),
                   actual.label("actual"), *steps)
            .outerjoin(reached, reached.c.task_id == Task.id)
            .outerjoin(previous, and_(previous.task_id == Task.id, previous.due_month == reached.c.month))
            .outerjoin(upcoming, upcoming.c.task_id == Task.id)
            .outerjoin(following, and_(following.task_id == Task.id, following.due_month == upcoming.c.month))
            .where(Task.cycle_id == cycle_id,
                   *([] if district_id is None else [Task.community_id.in_(district_community_ids(district_id))])))


def month_status(session: Session, cycle_id: int, year: int, month: int) -> Table:
    """Every task's status at the end of `month` (task_status_query: community, planned, due,
    actual), evaluated once into a temporary table for the rest of the transaction: publishing a
    month scores it, lists its overdue tasks and checks its data (a province's status costs ~1.4 s
    to evaluate; it was evaluated three times). Dropped at commit (PostgreSQL) or by the next
    transaction on the connection that makes one (SQLite)."""
    key = ("month_status", id(session.get_transaction()), cycle_id, month)
    if key in session.info:
        return session.info[key]
    table = Table(f"month_status_{cycle_id}_{month}", MetaData(), Column("id", Integer, primary_key=True),
                  Column("community_id", Integer), Column("planned", Numeric().with_variant(Float(), "sqlite")),
                  Column("due", Integer), Column("actual", Integer), prefixes=["TEMPORARY"], postgresql_on_commit="DROP")
    connection = session.connection()
    table.drop(connection, checkfirst=True)
    table.create(connection)
    status = task_status_query(cycle_id, year, month).subquery()
    session.execute(insert(table).from_select([c.name for c in table.c], select(*(status.c[c.name] for c in table.c))))
    session.info[key] = table
    return table


def month_status_made(session: Session, cycle_id: int, month: int) -> Table | None:
    """The month's status table if this transaction made one (month_status), else None."""
    return session.info.get(("month_status", id(session.get_transaction()), cycle_id, month))


def nearest_milestone_month(month: int, reached: bool):
    """Per task, the month of its last milestone due by `month` (reached) or its first due after it."""
    if reached:
        return (select(Milestone.task_id, func.max(Milestone.due_month).label("month"))
                .where(Milestone.due_month <= month).group_by(Milestone.task_id).subquery())
    return (select(Milestone.task_id, func.min(Milestone.due_month).label("month"))
            .where(Milestone.due_month > month).group_by(Milestone.task_id).subquery())


def latest_percent_by_month(month: int):
    """The task's (correlated: Task.id) percent of its latest report for a month up to `month`: the
    latest month reported on, and of that month's reports the latest reported (a late report for
    February does not undo March's). One seek per task in the (task_id, order_key) index: the
    grouped maximum this replaced was planned by SQLite as a 150,000 × 150,000 nested loop."""
    return (select(ProgressReport.percent)
            .where(ProgressReport.task_id == Task.id, ProgressReport.order_key < report_order(month + 1, date.min))
            .order_by(ProgressReport.order_key.desc()).limit(1).correlate(Task).scalar_subquery())


def latest_report_key(month: int):
    """The order_key of the task's (correlated: Task.id) latest report for a month up to `month`, in
    the order of latest_percent_by_month: join ProgressReport on it for the whole report."""
    return (select(func.max(ProgressReport.order_key))
            .where(ProgressReport.task_id == Task.id, ProgressReport.order_key < report_order(month + 1, date.min))
            .correlate(Task).scalar_subquery())


def latest_percents(session: Session, task_ids: list[int] | Select, before: date | None = None) -> dict[int, tuple[date, int]]:
    """Each task's latest report (date, percent), optionally before a date; task_ids may be a
    SELECT of ids (a whole cycle's are too many to pass as values)."""
    latest = select(ProgressReport.task_id, func.max(ProgressReport.reported_on).label("day")).where(
        ProgressReport.task_id.in_(task_ids))
    if before:
        latest = latest.where(ProgressReport.reported_on < before)
    latest = latest.group_by(ProgressReport.task_id).subquery()
    rows = plain_rows(session, select(ProgressReport.task_id, ProgressReport.reported_on, ProgressReport.percent)
                      .join(latest, (latest.c.task_id == ProgressReport.task_id) & (latest.c.day == ProgressReport.reported_on)))
    return {task_id: (day, percent) for task_id, day, percent in rows}
