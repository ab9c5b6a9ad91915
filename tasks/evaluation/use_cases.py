"""Stage 5 as a coordinator does it: one function per command, each in one transaction, audited."""

from datetime import date
from pathlib import Path

from sqlalchemy import select

from lianchuang.errors import COMMAND_LINE, UserError
from lianchuang.models import Community, Objection
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import audit, communities_in_scope, ensure_cycle, existing_cycle
from lianchuang.tasks.evaluation.award import check_can_allocate
from lianchuang.tasks.evaluation.ballots import (
    NewBallot,
    cast_ballots,
    explain,
    import_ballots,
    record_objection,
    write_ballot_sheet,
)
from lianchuang.tasks.evaluation.scheme import export_scheme, import_scheme


def scheme_sheet(year: int, path: Path) -> None:
    with session_scope() as session:
        export_scheme(session, path, ensure_cycle(session, year).id)


def import_scheme_file(year: int, path: Path) -> dict:
    with session_scope() as session:
        result = import_scheme(session, ensure_cycle(session, year).id, path)
        audit(session, "import", "evaluation_scheme", file=str(path), **result)
        return result


def ballot_sheet(year: int, community: str, path: Path) -> tuple[str, int]:
    with session_scope() as session:
        place = communities_in_scope(session, [community])[0]
        return place.name, write_ballot_sheet(session, path, existing_cycle(session, year).id, place)


def import_ballot_file(year: int, path: Path) -> dict:
    with session_scope() as session:
        result = import_ballots(session, existing_cycle(session, year).id, path)
        audit(session, "import", "ballots", file=str(path), **result)
        return result


def vote(year: int, ballots: list[tuple[int, NewBallot]]) -> int:
    with session_scope() as session:
        return cast_ballots(session, existing_cycle(session, year).id, ballots, COMMAND_LINE)


def explain_score(year: int, subject: str) -> dict:
    with session_scope() as session:
        return explain(session, existing_cycle(session, year).id, subject)


def object_to(year: int, subject: str, by: str, content: str, on: date) -> tuple[int, bool]:
    """Record an objection; returns (its number, whether it came within the objection period)."""
    with session_scope() as session:
        objection = record_objection(session, existing_cycle(session, year).id, subject, by, content, on)
        audit(session, "object", f"result:{subject}", actor=by)
        return objection.id, objection.within_deadline


def objections(year: int) -> list[dict]:
    with session_scope() as session:
        rows = session.execute(select(Objection, Community.name).join(Community, Objection.community_id == Community.id)
                               .where(Objection.cycle_id == existing_cycle(session, year).id).order_by(Objection.id))
        return [dict(id=o.id, community=community, subject=o.subject, by=o.submitted_by, content=o.content,
                     received_on=o.received_on.isoformat(), within_deadline=o.within_deadline) for o, community in rows]


def check_award(year: int, budget: int, redo: bool, during_objections: bool) -> None:
    """A mistake in `award` told in one line before the flow runs, not as a failed flow run; during
    the objection period the award waits unless the coordinator confirms (during_objections)."""
    from lianchuang import clock

    with session_scope() as session:
        cycle = existing_cycle(session, year)
        check_can_allocate(session, cycle.id, budget, redo)
        if cycle.objection_deadline and clock.today() <= cycle.objection_deadline and not during_objections:
            raise UserError(f"{year}年度考评结果还在公示期，异议可提出到 {cycle.objection_deadline.isoformat()}；"
                            f"公示期满后再评创新奖，或确认现在就评请加 --yes")


def check_close(year: int) -> None:
    """`evaluate close` on a year that has no cycle is told in one line before the flow runs."""
    with session_scope() as session:
        existing_cycle(session, year)
