"""Monthly progress in: a template pre-filled with each task and its last report, the import of
that sheet (XLSX or CSV) and single reports from the command line. All or nothing: unknown task,
percent outside 0-100, a date in the future or outside the year, and a percent lower than the
previous report without a stated reason are refused, each located by file, row and column."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.errors import ImportRefused, Problem, UserError
from lianchuang.models import Community, Cycle, Milestone, Street, Task
from lianchuang.models.db import chunked
from lianchuang.models.queries import latest_percents
from lianchuang.tasks.progress.ranking import NewReport, published_months_by_district, record_reports
from lianchuang.tasks.sheets import Column, SheetReader, parse_date, write_template

SHEET = "进度"
MAX_INTEGER = 2**31 - 1  # what the database's integer columns hold
COLUMNS = [
    Column("task", "任务编号", ("task", "task code"), True), Column("title", "任务", ("title",)),
    Column("last", "上次进度", ("last",)), Column("date", "报告日期", ("date", "日期"), True),
    Column("percent", "完成百分比", ("percent",), True), Column("milestone", "到达节点（月份）", ("milestone",)),
    Column("note", "说明", ("note",), multiline=True), Column("reason", "进度下降原因", ("reason",), multiline=True),
    Column("funds", "投入资金（元）", ("funds", "yuan")), Column("matters", "办理事项（件）", ("matters",)),
    Column("month", "报告月份", ("month", "for month")),
]


def write_progress_template(session: Session, path: Path, cycle_id: int, community_ids: list[int]) -> int:
    tasks = session.execute(select(Task.id, Task.code, Task.title).where(
        Task.cycle_id == cycle_id, Task.community_id.in_(community_ids)).order_by(Task.code)).all()
    last = latest_percents(session, [t.id for t in tasks])
    today = clock.today()
    month = default_month(session.get(Cycle, cycle_id).year)
    write_template(path, {SHEET: COLUMNS}, choices={}, examples={SHEET: [
        [code, title, f"{last[tid][1]}%" if tid in last else "—", today.isoformat(), "", "", "", "", "", "", f"{month}月"]
        for tid, code, title in tasks]}, notes=[
        f"每行一项任务：“报告月份”是这份进度所报告的月份（已填 {month} 月，即上个月）；“报告日期”是填报的日子。",
        "填写“完成百分比”（0–100），到达节点时填节点月份，可填说明、投入资金和办理事项。",
        "进度比上次低时必须填写“进度下降原因”。报告日期不能晚于今天。不需要报告的行可以删除。",
        "某月排名发布后再报告该月的进度，会计入下一个未发布月份的排名；已发布的排名只有公开更正时才会改变。",
        "填好后运行：lianchuang progress import 本文件.xlsx"])
    return len(tasks)


@dataclass
class _Tasks:
    ids: dict[str, int]
    milestones: dict[int, dict[int, int]]  # task id → due month → milestone id
    districts: dict[int, int]  # task id → its community's district id


def _load_tasks(session: Session, cycle_id: int, codes: set[str]) -> _Tasks:
    ids, districts = {}, {}
    for chunk in chunked(codes):
        for code, task_id, district_id in session.execute(
                select(Task.code, Task.id, Street.district_id).join(Community, Community.id == Task.community_id)
                .join(Street, Street.id == Community.street_id).where(Task.cycle_id == cycle_id, Task.code.in_(chunk))):
            ids[code], districts[task_id] = task_id, district_id
    milestones: dict[int, dict[int, int]] = {}
    for task_id, month, milestone_id in session.execute(select(Milestone.task_id, Milestone.due_month, Milestone.id)
                                                        .where(Milestone.task_id.in_(ids.values()))):
        milestones.setdefault(task_id, {})[month] = milestone_id
    return _Tasks(ids, milestones, districts)


def _whole_number(text: str, low: int, high: int | None) -> int | None:
    text = text.strip().rstrip("%").replace(",", "")
    if not text.isdecimal():
        return None
    value = int(text)
    return value if low <= value <= (MAX_INTEGER if high is None else high) else None


def default_month(year: int) -> int:
    """The month a report is for unless said: the last finished month of the year (December once
    the year is over)."""
    last_year, last_month = clock.last_finished_month()
    return last_month if last_year == year else 12 if last_year > year else 1


def _month(text: str) -> int | None:
    """"3", "3月", "2027-03" → 3."""
    text = text.strip().rstrip("月")
    return _whole_number(text.split("-")[-1] if "-" in text else text, 1, 12)


def check_reports(session: Session, cycle_id: int, year: int, file: str,
                  rows: list[tuple[int, dict]]) -> tuple[list[NewReport], list[tuple[str, int, int]]]:
    """Turn rows into reports, or raise ImportRefused listing every problem. Also returns the reports
    for a month already published: (task code, month reported on, the first unpublished month it
    counts in, or None when the year's months are all published)."""
    problems: list[Problem] = []
    tasks = _load_tasks(session, cycle_id, {row.get("task", "") for _, row in rows})
    previous = latest_percents(session, list(tasks.ids.values()))
    published = published_months_by_district(session, cycle_id)  # each district publishes its own months
    today = clock.today()
    reports, moved = [], []
    for number, row in sorted(rows, key=lambda item: (item[1].get("date", ""), item[0])):
        before = len(problems)
        task_id = tasks.ids.get(row.get("task", ""))
        if task_id is None:
            problems.append(Problem(file, number, "任务编号", f"{year}年度没有任务“{row.get('task', '')}”"))
        day = parse_date(row.get("date", ""))
        if day is None:
            problems.append(Problem(file, number, "日期", f"“{row.get('date', '')}”不是有效日期，格式如 {today.isoformat()}"))
        elif day > today:
            problems.append(Problem(file, number, "日期", f"{day.isoformat()} 晚于今天，不能报告将来的进度"))
        elif not date(year, 1, 1) <= day <= date(year + 1, 12, 31):
            problems.append(Problem(file, number, "日期", f"{day.isoformat()} 不在 {year} 年度内"))
        for_month = _month(row["month"]) if row.get("month") else default_month(year)
        if for_month is None:
            problems.append(Problem(file, number, "报告月份", f"“{row['month']}”不是月份，填 1 到 12，如 3 或 {year}-03"))
        elif (year, for_month) > (today.year, today.month):
            problems.append(Problem(file, number, "报告月份", f"{year}年{for_month}月还没有到，不能报告"))
        counts_for = for_month or 0
        while task_id is not None and counts_for in published[tasks.districts[task_id]]:
            counts_for += 1
        percent = _whole_number(row.get("percent", ""), 0, 100)
        if percent is None:
            problems.append(Problem(file, number, "完成百分比", f"“{row.get('percent', '')}”应为 0 到 100 的整数"))
        funds = _whole_number(row.get("funds") or "0", 0, None)
        if funds is None:
            problems.append(Problem(file, number, "投入资金（元）", f"“{row.get('funds')}”应为不小于 0 的整数（元）"))
        matters = _whole_number(row.get("matters") or "0", 0, None)
        if matters is None:
            problems.append(Problem(file, number, "办理事项（件）", f"“{row.get('matters')}”应为不小于 0 的整数"))
        milestone_id = None
        if row.get("milestone") and task_id is not None:
            month = _whole_number(row["milestone"].rstrip("月"), 1, 12)
            milestone_id = tasks.milestones.get(task_id, {}).get(month)
            if milestone_id is None:
                problems.append(Problem(file, number, "到达节点（月份）", f"该任务没有 {row['milestone']} 月的节点"))
        if len(problems) > before:
            continue
        last = previous.get(task_id)
        if last and last[0] < day and percent < last[1] and not row.get("reason"):
            problems.append(Problem(file, number, "进度下降原因", f"进度从 {last[1]}% 降到 {percent}%，请填写原因"))
            continue
        if not last or last[0] <= day:
            previous[task_id] = (day, percent)
        note = "；".join(filter(None, [row.get("note"), f"进度下降原因：{row['reason']}" if row.get("reason") else ""]))
        reports.append(NewReport(task_id, day, percent, note or None, funds, matters, milestone_id, for_month))
        if counts_for != for_month:
            moved.append((row["task"], for_month, counts_for if counts_for <= 12 else None))
    if problems:
        raise ImportRefused(problems)
    return reports, moved


def import_progress(session: Session, cycle_id: int, year: int, path: Path) -> dict:
    reader = SheetReader(path, COLUMNS, sheet=None if path.suffix.lower() in (".csv", ".txt") else SHEET)
    if reader.problems:
        raise ImportRefused(reader.problems)
    rows = [(number, row) for number, row in reader if row.get("percent") or row.get("date") and row.get("note")]
    if reader.cell_problems:
        raise ImportRefused(reader.cell_problems)
    if not rows:
        raise UserError(f"{reader.file}: 没有填写任何进度（“完成百分比”列是空的）")
    reports, moved = check_reports(session, cycle_id, year, reader.file, rows)
    new = record_reports(session, reports)
    return dict(rows=len(rows), new=new, already_there=len(rows) - new, moved=moved)
