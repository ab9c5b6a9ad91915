"""Stage 4 as a coordinator does it: one function per command, each in one transaction, audited."""

from pathlib import Path

from lianchuang.errors import COMMAND_LINE
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import audit, communities_in_scope, existing_cycle
from lianchuang.tasks.progress.ranking import record_reports
from lianchuang.tasks.progress.reports import check_reports, import_progress, write_progress_template


def progress_template(year: int, communities: list[str] | None, path: Path) -> int:
    with session_scope() as session:
        ids = [c.id for c in communities_in_scope(session, communities)]
        return write_progress_template(session, path, existing_cycle(session, year).id, ids)


def import_progress_file(year: int, path: Path) -> dict:
    with session_scope() as session:
        result = import_progress(session, existing_cycle(session, year).id, year, path)
        audit(session, "import", "progress", file=str(path), **result)
        return result


def add_report(year: int, row: dict) -> bool:
    """One task's progress, checked as an imported row would be; False if that day was already reported."""
    with session_scope() as session:
        new = record_reports(session, check_reports(session, existing_cycle(session, year).id, year, COMMAND_LINE, [(0, row)]))
        if new:
            audit(session, "add", f"progress:{row['task']}", percent=row["percent"])
        return bool(new)
