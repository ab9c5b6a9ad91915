"""Read-only queries shared by the CLI and flows: the year's figures and where communities stand."""

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from lianchuang.models import (
    AwardResult,
    Ballot,
    Commitment,
    Community,
    Cycle,
    EvaluationResult,
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
from lianchuang.models.enums import Stage, StageStatus, UnitKind


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
    query = select(Notice).order_by(Notice.id.desc()).limit(limit)
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
