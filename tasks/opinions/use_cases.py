"""Stage 1 as a coordinator does it: one function per command, each in one transaction, audited.
The CLI calls these; the Prefect steps in tasks/steps.py run the stage for a whole scope."""

from pathlib import Path

from lianchuang.errors import COMMAND_LINE, ImportRefused
from lianchuang.models import Community
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import audit, ensure_cycle, existing_cycle
from lianchuang.tasks.files import check_output
from lianchuang.tasks.opinions.agenda import import_decisions, write_agenda
from lianchuang.tasks.opinions.rules import record_opinions
from lianchuang.tasks.opinions.sheets import COLUMNS, OpinionRows, coverage, import_opinions, write_opinion_template
from lianchuang.tasks.org import resolve_one
from lianchuang.tasks.sheets import typed_cell_problems


def opinion_template(year: int, communities: list[str] | None, path: Path, force: bool = False) -> None:
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    with session_scope() as session:
        write_opinion_template(session, path, year, communities)


def import_opinion_file(year: int, path: Path) -> dict:
    """The whole file or nothing; a row already imported is not added again."""
    with session_scope() as session:
        result = import_opinions(session, ensure_cycle(session, year).id, year, path)
        audit(session, "import", "opinions", file=str(path), **result)
        return result


def add_opinion(year: int, row: dict) -> bool:
    """One paper form or door-to-door record, checked as an imported row would be; False if already there."""
    problems = []
    with session_scope() as session:
        opinion = OpinionRows(session, year).parse(COMMAND_LINE, 0, row, problems)
        problems += typed_cell_problems(COMMAND_LINE, 0, row, COLUMNS)
        if problems:
            raise ImportRefused(problems)
        new = record_opinions(session, ensure_cycle(session, year).id, [opinion])
        if new:
            audit(session, "add", "opinion", community=row["community"], source_kind=row["source_kind"])
        return bool(new)


def opinion_coverage(year: int) -> list[dict]:
    with session_scope() as session:
        return coverage(session, existing_cycle(session, year).id)


def export_agenda(year: int, community: str, path: Path, force: bool = False) -> tuple[str, int]:
    """The community's open suggestions for the joint meeting; returns (community name, count)."""
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    with session_scope() as session:
        place = resolve_one(session, Community, community)
        return place.name, write_agenda(session, existing_cycle(session, year).id, place, path)


def import_decision_file(year: int, path: Path) -> dict:
    with session_scope() as session:
        result = import_decisions(session, existing_cycle(session, year).id, path)
        audit(session, "import", "decisions", file=str(path), **result)
        return result
