"""Stage 4 as a coordinator does it: one function per command, each in one transaction, audited."""

from pathlib import Path

from lianchuang.errors import COMMAND_LINE
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import audit, communities_in_scope, existing_cycle
from lianchuang.tasks.progress.ranking import communities_without_reports, published_months, ranking_rows, record_reports
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


def add_report(year: int, row: dict) -> tuple[bool, list[tuple[str, int, int]]]:
    """One task's progress, checked as an imported row would be; returns (recorded: False if that day
    was already reported, and the report if its month was already published)."""
    with session_scope() as session:
        reports, moved = check_reports(session, existing_cycle(session, year).id, year, COMMAND_LINE, [(0, row)])
        new = record_reports(session, reports)
        if new:
            audit(session, "add", f"progress:{row['task']}", percent=row["percent"], month=reports[0].month)
        return bool(new), moved


def published_ranking(year: int, month: int) -> list[dict]:
    with session_scope() as session:
        return ranking_rows(session, existing_cycle(session, year).id, month)


def months_missing_reports(year: int, month: int) -> list[str]:
    """The communities none of whose tasks was reported for a month not yet published (`rank` asks
    before publishing it); none for a month already published, which cannot change any more."""
    from lianchuang import clock
    from lianchuang.errors import UserError

    if clock.today() < clock.first_of_next_month(year, month):
        raise UserError(f"{year}年{month}月还没有结束，{clock.first_of_next_month(year, month).isoformat()} 起才能排名")
    with session_scope() as session:
        cycle_id = existing_cycle(session, year).id
        if month in published_months(session, cycle_id):
            return []
        return communities_without_reports(session, cycle_id, month)
