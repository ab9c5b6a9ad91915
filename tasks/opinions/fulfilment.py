"""The loop closed for residents (践诺反馈): whoever made a suggestion that became a task, and left
a contact, hears when that task is completed, and at year end how it was evaluated. Once each."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianchuang.models import Community, EvaluationResult, Opinion, Task, Unit
from lianchuang.models.enums import OpinionStatus, Stage
from lianchuang.models.queries import task_status_query
from lianchuang.tasks.outbox.drafts import Draft, is_valid_email


def completed_drafts(session: Session, year: int, cycle_id: int, month: int, community_ids: list[int] | None = None) -> list[Draft]:
    """To the submitters of the suggestions behind every task (of these communities) reported
    complete (100%) by `month`."""
    status = task_status_query(cycle_id, year, month).subquery()
    done = select(status.c.id).where(status.c.actual >= 100)
    if community_ids is not None:
        done = done.where(status.c.community_id.in_(community_ids))
    return [_draft(year, Stage.progress, "completed", row, dict(month=month)) for row in _suggestions(session, cycle_id, done)]


def year_end_drafts(session: Session, year: int, cycle_id: int, community_ids: list[int] | None = None) -> list[Draft]:
    """At the close of the evaluation: each such task's (of these communities) progress at year end and its evaluation."""
    status = {row.id: row.actual for row in session.execute(task_status_query(cycle_id, year, 12))}
    results = dict(session.execute(select(EvaluationResult.task_id, EvaluationResult.score)
                                   .join(Task, Task.id == EvaluationResult.task_id).where(Task.cycle_id == cycle_id)).all())
    return [_draft(year, Stage.evaluation, "year_end", row, dict(percent=status.get(row.task_id, 0), score=results.get(row.task_id)))
            for row in _suggestions(session, cycle_id, _tasks_of(cycle_id, community_ids))]


def _tasks_of(cycle_id: int, community_ids: list[int] | None):
    tasks = select(Task.id).where(Task.cycle_id == cycle_id)
    return tasks if community_ids is None else tasks.where(Task.community_id.in_(community_ids))


def _suggestions(session: Session, cycle_id: int, task_ids):
    return session.execute(
        select(Opinion.id, Opinion.submitter_name, Opinion.submitter_contact, Opinion.community_id, Opinion.content,
               Opinion.submitted_on, Opinion.task_id, Task.code, Task.title, Unit.name.label("lead_unit"),
               Community.name.label("community"))
        .join(Task, Opinion.task_id == Task.id).join(Community, Opinion.community_id == Community.id)
        .outerjoin(Unit, Task.lead_unit_id == Unit.id)
        .where(Opinion.cycle_id == cycle_id, Opinion.status.in_([OpinionStatus.adopted, OpinionStatus.merged]),
               Opinion.submitter_contact.is_not(None), Opinion.task_id.in_(task_ids))
        .order_by(Opinion.id)).all()


def _draft(year: int, stage: str, occasion: str, row, figures: dict) -> Draft:
    return Draft(year=year, stage=stage, template="fulfilment", recipient_key=f"opinion-{row.id}", period=occasion,
                 recipient_name=row.submitter_name or "居民朋友",
                 recipient_email=row.submitter_contact if is_valid_email(row.submitter_contact) else None,
                 community_id=row.community_id,
                 context=dict(year=year, occasion=occasion, community=row.community, content=row.content,
                              submitted_on=row.submitted_on, task_code=row.code, task_title=row.title,
                              lead_unit=row.lead_unit or "", **figures))
