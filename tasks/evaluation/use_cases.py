"""Stage 5 as a coordinator does it: one function per command, each in one transaction, audited."""

import hashlib
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import select

from lianchuang.errors import COMMAND_LINE, UserError
from lianchuang.models import Community, Objection
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import audit, communities_in_scope, districts_in_scope, ensure_cycle, existing_cycle, one_district
from lianchuang.tasks.evaluation.award import AWARD_BY_DISTRICT, check_allocation
from lianchuang.tasks.evaluation.ballots import (
    GuessedCodes,
    NewBallot,
    cast_ballots,
    closed_districts,
    import_ballots,
    write_ballot_sheet,
)
from lianchuang.tasks.evaluation.scheme import export_scheme, import_scheme
from lianchuang.tasks.evaluation.tally import explain, record_objection
from lianchuang.tasks.files import check_output
from lianchuang.tasks.org import resolve_one


def scheme_sheet(year: int, path: Path, force: bool = False) -> None:
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    with session_scope() as session:
        export_scheme(session, path, ensure_cycle(session, year).id)


def import_scheme_file(year: int, path: Path) -> dict:
    with session_scope() as session:
        result = import_scheme(session, ensure_cycle(session, year).id, path)
        audit(session, "import", "evaluation_scheme", file=str(path), **result)
        return result


def ballot_sheet(year: int, community: str, path: Path, force: bool = False) -> tuple[str, int]:
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    with session_scope() as session:
        place = resolve_one(session, Community, community)
        return place.name, write_ballot_sheet(session, path, existing_cycle(session, year).id, place)


def ballot_slips(year: int, communities: list[str] | None, again_for: list[str] | None = None) -> list[tuple[str, str, int, list[str]]]:
    """Printable ballots of these communities (all when none) for the evaluators who have no code
    yet, and for the people named in `again_for` (code or name) a new one that replaces theirs:
    (community, page, slips, names whose earlier code stopped working), communities with slips only."""
    from lianchuang.models import Person
    from lianchuang.tasks.evaluation.slips import write_ballot_slips
    from lianchuang.tasks.org import resolve

    with session_scope() as session:
        cycle = existing_cycle(session, year)
        closed = closed_districts(session, cycle.id)
        places = [place for place in communities_in_scope(session, communities) if place.street.district_id not in closed]
        if not places:
            raise UserError(f"{year}年度的评议已经结束，不再需要评议票")
        people, unknown = resolve(session, Person, again_for or [])
        if unknown:
            raise UserError("；".join(unknown.values()))
        again = {person.id for person in people.values()}
        written = [(place.name, *write_ballot_slips(session, year, cycle.id, place, again)) for place in places]
        written = [row for row in written if row[2]]
        if not written:
            raise UserError(f"{year}年度没有需要纸质评议票的评议人：有邮箱的已在邀请邮件中收到评议码，其余的已打印过或都已投票。"
                            f"补打某人的评议票（其原评议码作废）：lianchuang evaluate slips --for 姓名；"
                            f"还没有发出邀请：lianchuang evaluate open --year {year}")
        return written


def import_ballot_file(year: int, path: Path) -> dict:
    """Enter a sheet of paper ballots, all or nothing. The same sheet entered again adds nothing
    (its codes are used, so it would otherwise be refused row by row): it is known by its content's
    SHA-256 in the audit trail, which no one can turn back into its codes."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).is_file() else None
    with _guesses_recorded(), session_scope() as session:
        cycle_id = existing_cycle(session, year).id
        if digest and _ballot_sheet_entered(session, digest):
            return dict(ballots=0, evaluators=0, already_entered=True)
        result = import_ballots(session, cycle_id, path)
        audit(session, "import", "ballots", file=str(path), sha256=digest, **result)
        return result


def _ballot_sheet_entered(session, digest: str) -> bool:
    from lianchuang.models import AuditEntry

    return session.scalar(select(AuditEntry.id).where(AuditEntry.action == "import", AuditEntry.entity == "ballots",
                                                      AuditEntry.detail.contains(f'"sha256": "{digest}"')).limit(1)) is not None


def vote(year: int, ballots: list[tuple[int, NewBallot]]) -> int:
    with _guesses_recorded(), session_scope() as session:
        return cast_ballots(session, existing_cycle(session, year).id, ballots, COMMAND_LINE)


@contextmanager
def _guesses_recorded():
    """A sheet full of unknown codes is refused; the attempt goes into the audit trail (in a
    transaction of its own, as the refused one is rolled back)."""
    try:
        yield
    except GuessedCodes as refused:
        with session_scope() as session:
            audit(session, "refuse", "ballots", file=refused.file, unknown_codes=refused.unknown)
        raise


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
                     received_on=o.received_on.isoformat(), within_deadline=o.within_deadline, response=o.response,
                     upheld=o.upheld) for o, community in rows]


def answer(year: int, objection_id: int, text: str, upheld: bool, on: date) -> dict:
    """`evaluate answer`: the answer recorded, audited, and queued to the objector's community."""
    from lianchuang.tasks.cycle import current_actor
    from lianchuang.tasks.evaluation.tally import answer_objection
    from lianchuang.tasks.outbox.drafts import queue

    with session_scope() as session:
        by = current_actor()
        objection, drafts = answer_objection(session, existing_cycle(session, year).id, objection_id, text, upheld, by, on)
        audit(session, "answer", f"objection:{objection.id}", upheld=upheld, text=objection.response)
        return dict(id=objection.id, by=objection.submitted_by, notices=queue(session, drafts))


def check_award(year: int, budget: int, redo: bool, during_objections: bool, districts: list[str] | None = None) -> None:
    """A mistake in `award` told in one line before the flow runs, not as a failed flow run: the
    same checks the flow's task makes (award.check_allocation); during_objections confirms."""
    with session_scope() as session:
        cycle = existing_cycle(session, year)
        district_id = one_district(session, districts, AWARD_BY_DISTRICT).id
        check_allocation(session, cycle.id, budget, redo, district_id, during_objections)


def award_rows(year: int, districts: list[str] | None = None) -> list[dict]:
    """Every community's (of the districts named, or all) year score, rank in its district, award
    and funding, with how the amount was reached."""
    from lianchuang.models import AwardResult, Street

    with session_scope() as session:
        district_ids = [d.id for d in districts_in_scope(session, districts)]
        rows = session.execute(select(AwardResult, Community.name, Community.code, Street.name)
                               .join(Community, AwardResult.community_id == Community.id)
                               .join(Street, Community.street_id == Street.id)
                               .where(AwardResult.cycle_id == existing_cycle(session, year).id,
                                      Street.district_id.in_(district_ids))
                               .order_by(Street.district_id, AwardResult.rank, Community.code))
        return [dict(rank=a.rank, code=code, community=name, street=street, year_score=a.year_score, award=a.award,
                     funding_yuan=a.funding_yuan, explanation=a.explanation) for a, name, code, street in rows]


def write_funding_sheet(year: int, path: Path, districts: list[str] | None = None, force: bool = False) -> None:
    """The allocation as a workbook for the finance office."""
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    from lianchuang.tasks.sheets import Column, write_template

    columns = [Column("code", "社区编码"), Column("community", "社区"), Column("street", "街道"), Column("rank", "名次"),
               Column("award", "奖项"), Column("funding", "经费（元）"), Column("explanation", "计算说明", multiline=True)]
    rows = [[r["code"], r["community"], r["street"], r["rank"], r["award"] or "", r["funding_yuan"], r["explanation"]]
            for r in award_rows(year, districts)]
    write_template(path, {"经费分配": columns}, choices={}, examples={"经费分配": rows},
                   notes=[f"{year}年度党建工作经费分配：合计 {sum(r[5] for r in rows):,} 元，由“联创”按创新奖评选结果计算。"])


def results_summary(year: int, districts: list[str] | None = None) -> dict:
    """What `evaluate close` published in the districts named (all: None): tasks rated and not, the
    mean score, the (latest) objection deadline."""
    from sqlalchemy import func

    from lianchuang.models import DistrictEvaluation, EvaluationResult, Task

    with session_scope() as session:
        cycle = existing_cycle(session, year)
        chosen = [d.id for d in districts_in_scope(session, districts)]
        communities = [c.id for c in communities_in_scope(session, districts)]
        rated, unrated, mean = session.execute(select(
            func.count(EvaluationResult.score), func.count() - func.count(EvaluationResult.score), func.avg(EvaluationResult.score))
            .join(Task, Task.id == EvaluationResult.task_id)
            .where(EvaluationResult.cycle_id == cycle.id, Task.community_id.in_(communities))).one()
        deadline = session.scalar(select(func.max(DistrictEvaluation.objection_deadline)).where(
            DistrictEvaluation.cycle_id == cycle.id, DistrictEvaluation.district_id.in_(chosen)))
        return dict(rated=rated, unrated=unrated, mean=round(float(mean), 1) if mean is not None else None,
                    objection_deadline=deadline.isoformat() if deadline else None)


def check_close(year: int) -> None:
    """`evaluate close` on a year that has no cycle is told in one line before the flow runs."""
    with session_scope() as session:
        existing_cycle(session, year)


def short_groups(year: int, districts: list[str] | None = None) -> list[dict]:
    """The groups that cannot reach the number of voters they need, community by community."""
    from lianchuang.tasks.evaluation.tally import groups_short_of_quorum

    with session_scope() as session:
        ids = [c.id for c in communities_in_scope(session, districts)] if districts else None
        return groups_short_of_quorum(session, existing_cycle(session, year).id, ids)
