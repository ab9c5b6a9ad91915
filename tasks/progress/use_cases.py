"""Stage 4 as a coordinator does it: one function per action, each in one transaction, audited,
holding every check of the action; the command and the Prefect task both call it."""

from pathlib import Path

from lianchuang import clock
from lianchuang.errors import COMMAND_LINE, UserError
from lianchuang.models.db import session_scope
from lianchuang.models.enums import Stage, StageStatus
from lianchuang.tasks.access import district_coordinators_only
from lianchuang.tasks.cycle import (
    audit,
    communities_in_scope,
    current_actor,
    districts_in_scope,
    existing_cycle,
    one_district,
    set_stage,
)
from lianchuang.tasks.files import check_output
from lianchuang.tasks.progress import integrity, ranking as progress
from lianchuang.tasks.progress.ranking import (
    REPORT_FIELDS,
    communities_without_reports,
    overwrite_report,
    published_months_by_district,
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
    if clock.today() < clock.first_of_next_month(year, month):
        raise UserError(f"{year}年{month}月还没有结束，{clock.first_of_next_month(year, month).isoformat()} 起才能排名")
    with session_scope() as session:
        return _unreported(session, existing_cycle(session, year).id, month, districts_in_scope(session, districts))


UNREPORTED_CONFIRMATION = "确要现在发布：命令行加 --yes；在 Prefect 界面的运行表单里勾选“照样发布”"


def publish_month(year: int, month: int, correction_reason: str | None = None, districts: list[str] | None = None,
                  confirm: bool = False) -> dict:
    """Publish the month's ranking of each district in scope (every district: None), which then stays
    as published; with a correction reason, publish a correction (更正) of one district's published
    month, keeping the version it replaces. Refused: a month not over yet; a correction without a
    reason; and, unless `confirm`, a month in which some community of an unpublished district has
    reported nothing (published, its ranking never changes by itself)."""
    first_of_next = clock.first_of_next_month(year, month)
    if not 1 <= month <= 12:
        raise UserError(f"月份 {month} 不合理：应为 1 到 12")
    if clock.today() < first_of_next:
        raise UserError(f"{year}年{month}月还没有结束，{first_of_next.isoformat()} 起才能排名")
    with session_scope() as session:
        district_coordinators_only(session, "发布和更正月度排名")
        cycle = existing_cycle(session, year, lock=True)
        if correction_reason is not None:
            district = one_district(session, districts, "排名按区更正")
            number = progress.correct_ranking(session, cycle.id, year, month, correction_reason, clock.today(),
                                              current_actor(), district.id)
            audit(session, "correct", "stage:progress", year=year, month=month, district=district.code, number=number,
                  reason=correction_reason)
            findings = integrity.record_month_audits(session, cycle.id, year, month, {district.id})
            return dict(month=month, newly_published=True, corrected=number, table=ranking_table(session, cycle.id, month, [district]),
                        integrity=integrity_table(findings, {district.id: district.name}))
        chosen = districts_in_scope(session, districts)
        if not confirm:
            _refuse_unreported(session, cycle.id, year, month, chosen)
        published = set().union(*(progress.publish_ranking(session, cycle.id, year, month, clock.today(), district_id)
                                  for district_id in ([None] if districts is None else [d.id for d in chosen])))  # None: one pass
        ids = [c.id for c in communities_in_scope(session, [d.code for d in chosen])]
        set_stage(session, cycle, ids, Stage.progress, StageStatus.done if month == 12 else StageStatus.in_progress)
        names = [d.name for d in chosen if d.id in published]
        findings = integrity.record_month_audits(session, cycle.id, year, month, published) if published else {}
        audit(session, "run", "stage:progress", year=year, month=month, newly_published=names)
        return dict(month=month, newly_published=bool(published), districts_published=names,
                    table=ranking_table(session, cycle.id, month, chosen), community_ids=ids,
                    integrity=integrity_table(findings, {d.id: d.name for d in chosen}))


def integrity_table(findings: dict[int, dict], names: dict[int, str]) -> list[dict]:
    """The month's findings as one table (the run's artifact): per community its rank's stability
    and the tasks whose report jumped on the last day."""
    table = []
    for district_id, found in findings.items():
        jumped = {}
        for community, code, *_ in found["jumps"]:
            jumped.setdefault(community, []).append(code)
        table += [{"区": names.get(district_id, ""), "社区": community, "全区名次": rank, "权重±0.1时": by_weights,
                   "去掉任一任务时": by_dropping, "末日跳升的任务": "、".join(jumped.get(community, []))}
                  for community, rank, by_weights, by_dropping in found["stability"]]
    return table


def _unreported(session, cycle_id: int, month: int, districts: list) -> list[str]:
    """The communities of the districts whose month is not published yet that reported nothing for it."""
    published = published_months_by_district(session, cycle_id)
    waiting = {district.id for district in districts if month not in published.get(district.id, set())}
    return communities_without_reports(session, cycle_id, month, waiting) if waiting else []


def _refuse_unreported(session, cycle_id: int, year: int, month: int, districts: list) -> None:
    if missing := _unreported(session, cycle_id, month, districts):
        shown = "、".join(missing[:10]) + (f" 等 {len(missing)} 个社区" if len(missing) > 10 else "")
        raise UserError(f"{year}年{month}月还有社区没有报告进度：{shown}。发布后排名不会自动改变，"
                        f"请先收齐（lianchuang progress import）。{UNREPORTED_CONFIRMATION}")


def named_by_district(districts: int, name: str) -> dict:
    """A table's first column, the district, where it shows several."""
    return {"区": name} if districts > 1 else {}


def ranking_table(session, cycle_id: int, month: int, districts: list) -> list[dict]:
    """The districts' published ranking of the month as the Prefect UI's table artifact shows it
    (read in one query, district by district)."""
    rows = progress.ranking_rows(session, cycle_id, month, districts[0].id if len(districts) == 1 else None)
    wanted = {d.code for d in districts}
    return [named_by_district(len(districts), r["district"]) | {
        "全区名次": r["rank_in_district"], "街道": r["street"], "街道内名次": r["rank_in_street"], "社区": r["community"],
        "得分": r["score"], "逾期任务": r["overdue_tasks"]} for r in rows if r["district_code"] in wanted]
