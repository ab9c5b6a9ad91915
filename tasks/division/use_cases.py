"""Stage 2 as a coordinator does it: one function per command, each in one transaction, audited."""

from datetime import date
from pathlib import Path

from sqlalchemy import select

from lianchuang.errors import COMMAND_LINE, UserError
from lianchuang.models import Community, PostKind, Street, Task
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import audit, communities_in_scope, existing_cycle
from lianchuang.tasks.division import assignment
from lianchuang.tasks.division.cards import ensure_post_kinds, missing_fields
from lianchuang.tasks.division.posts import claim, import_claims, post_table, save_post_kind, write_claim_template
from lianchuang.tasks.division.sheets import CardChange, apply_changes, export_assignments, import_assignments
from lianchuang.tasks.files import check_output
from lianchuang.tasks.org import resolve_one
from lianchuang.tasks.plan import format_steps, task_steps


def propose_owners(year: int, street: str | None, redo: bool) -> tuple[int, int, assignment.Balance]:
    """Lead units and co-organisers for the tasks without; returns (proposals, cleared, balance)."""
    with session_scope() as session:
        cycle = existing_cycle(session, year)
        ids = _street_community_ids(session, street)
        cleared = assignment.clear_proposals(session, cycle.id, ids) if redo else 0
        proposals, balance = assignment.propose(session, cycle.id, ids)
        assignment.apply(session, proposals)
        audit(session, "propose", "assignment", year=year, street=street, proposals=len(proposals), cleared=cleared)
        return len(proposals), cleared, balance


def _street_community_ids(session, street: str | None) -> list[int]:
    if not street:
        return list(session.scalars(select(Community.id)))
    found = resolve_one(session, Street, street)
    return list(session.scalars(select(Community.id).where(Community.street_id == found.id)))


def export_assignment_sheet(year: int, communities: list[str] | None, path: Path, force: bool = False) -> int:
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    with session_scope() as session:
        ids = [c.id for c in communities_in_scope(session, communities)]
        return export_assignments(session, path, existing_cycle(session, year).id, ids)


def import_assignment_sheet(year: int, path: Path) -> dict:
    with session_scope() as session:
        result = import_assignments(session, year, existing_cycle(session, year).id, path)
        audit(session, "import", "assignments", file=str(path), **result)
        return result


def set_task_card(year: int, change: CardChange) -> tuple[bool, dict]:
    """A coordinator's own choice for one task card (kept by `propose --redo`): whether anything
    changed, and the card's deadline and steps now and as committed."""
    with session_scope() as session:
        cycle = existing_cycle(session, year)
        changed = apply_changes(session, year, cycle.id, [(0, change)], COMMAND_LINE)
        audit(session, "set", f"task:{change.task_code}", **{k: v for k, v in vars(change).items() if v is not None})
        task = session.scalar(select(Task).where(Task.cycle_id == cycle.id, Task.code == change.task_code))
        return bool(changed), dict(deadline=task.deadline.isoformat() if task.deadline else "",
                                   steps=format_steps(task_steps(session, [task.id]).get(task.id, [])),
                                   committed_steps=format_steps(task_steps(session, [task.id], committed=True).get(task.id, [])))


def incomplete_cards(year: int, communities: list[str] | None) -> list[dict]:
    with session_scope() as session:
        ids = [c.id for c in communities_in_scope(session, communities)]
        return missing_fields(session, existing_cycle(session, year).id, ids)


def post_kinds() -> list[tuple[str, str, bool]]:
    """(name, duty, for emergencies) of every kind of post, the built-in ones first."""
    with session_scope() as session:
        ensure_post_kinds(session)
        return [(k.name, k.duty, k.emergency) for k in session.scalars(select(PostKind).order_by(PostKind.id))]


def save_kind(name: str, duty: str, emergency: bool) -> bool:
    with session_scope() as session:
        return save_post_kind(session, name, duty, emergency)


def community_posts(year: int, community: str) -> tuple[str, list[dict]]:
    with session_scope() as session:
        place = resolve_one(session, Community, community)
        return place.name, post_table(session, existing_cycle(session, year).id, place.id)


def claim_post(year: int, person: str, community: str, kind: str, on: date) -> None:
    with session_scope() as session:
        result = claim(session, existing_cycle(session, year).id, [(0, dict(person=person, community=community, kind=kind))],
                       COMMAND_LINE, on)
        if not result["new"]:
            raise UserError(f"{person} 已经认领过{community}的{kind}，不能重复认领")
        audit(session, "claim", f"post:{community}:{kind}", person=person)


def claim_template(communities: list[str] | None, path: Path, force: bool = False) -> None:
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    with session_scope() as session:
        write_claim_template(session, path, [c.id for c in communities_in_scope(session, communities)])


def import_claim_file(year: int, path: Path, on: date) -> dict:
    with session_scope() as session:
        result = import_claims(session, existing_cycle(session, year).id, path, on)
        audit(session, "import", "post_claims", file=str(path), **result)
        return result
