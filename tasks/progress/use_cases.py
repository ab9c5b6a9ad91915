"""Stage 4 as a coordinator does it: one function per command, each in one transaction, audited."""

from pathlib import Path

from lianchuang.errors import COMMAND_LINE, UserError
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import audit, communities_in_scope, districts_in_scope, existing_cycle
from lianchuang.tasks.files import check_output
from lianchuang.tasks.progress.ranking import (
    REPORT_FIELDS,
    communities_without_reports,
    overwrite_report,
    published_months,
    ranking_rows,
    record_reports,
    report_of_that_day,
)
from lianchuang.tasks.progress.reports import check_reports, import_progress, write_progress_template


def progress_template(year: int, communities: list[str] | None, path: Path, force: bool = False) -> int:
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    with session_scope() as session:
        ids = [c.id for c in communities_in_scope(session, communities)]
        return write_progress_template(session, path, existing_cycle(session, year).id, ids)


def import_progress_file(year: int, path: Path) -> dict:
    with session_scope() as session:
        result = import_progress(session, existing_cycle(session, year).id, year, path)
        audit(session, "import", "progress", file=str(path), **result)
        return result


def add_report(year: int, row: dict, replace: bool = False) -> tuple[str, list[tuple[str, int, int | None]]]:
    """One task's progress, checked as an imported row would be. Returns what happened ("recorded";
    "same": that day's report says this already; "replaced": with `replace`, that day's different
    report was replaced, audited with what it said) and the report if its month was already published."""
    with session_scope() as session:
        reports, moved = check_reports(session, existing_cycle(session, year).id, year, COMMAND_LINE, [(0, row)])
        report = reports[0]
        kept = report_of_that_day(session, report)
        if kept is None:
            record_reports(session, reports)
            audit(session, "add", f"progress:{row['task']}", percent=report.percent, month=report.month)
            return "recorded", moved
        if all(getattr(kept, name) == getattr(report, name) for name in REPORT_FIELDS):
            return "same", moved
        if not replace:
            raise UserError(f"{row['task']} 在 {report.reported_on.isoformat()} 已经报告过进度（{kept.percent}%），这次不同。"
                            f"要更正这一天的报告，请说明原因：--reason \"……\"")
        before = overwrite_report(kept, report)
        audit(session, "replace", f"progress:{row['task']}", day=report.reported_on, reason=row["reason"], before=before,
              percent=report.percent, month=report.month)
        return "replaced", moved


def published_ranking(year: int, month: int, districts: list[str] | None = None) -> list[dict]:
    """The month's published ranking of the districts named (all: None), district by district."""
    with session_scope() as session:
        cycle_id = existing_cycle(session, year).id
        return [row for district in districts_in_scope(session, districts)
                for row in ranking_rows(session, cycle_id, month, district.id)]


def months_missing_reports(year: int, month: int, districts: list[str] | None = None) -> list[str]:
    """The communities none of whose tasks was reported for a month not yet published in their
    district (`rank` asks before publishing it); none for a district's month already published,
    which cannot change any more."""
    from lianchuang import clock

    if clock.today() < clock.first_of_next_month(year, month):
        raise UserError(f"{year}年{month}月还没有结束，{clock.first_of_next_month(year, month).isoformat()} 起才能排名")
    with session_scope() as session:
        cycle_id = existing_cycle(session, year).id
        return [name for district in districts_in_scope(session, districts)
                if month not in published_months(session, cycle_id, district.id)
                for name in communities_without_reports(session, cycle_id, month, district.id)]
