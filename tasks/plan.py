"""A task's own steps (分步实施): by which month it reaches which percent, and what is done by then.

The ranking's plan line, the on-time score, the overdue warnings, the board and the open data all
read these steps (`milestone` rows). By default they are derived from the task's deadline: evenly up
to 100% in the deadline's month (four steps at most, one a month for a task due before April), so a
repair due in May plans 100% in May and a year-long task keeps the quarterly 25/50/75/100.

Steps are written as one line a coordinator can type and a spreadsheet cell can hold:
"5月 50% 完成设计；10月 100% 竣工验收" (a month may also be written 2026-05 or 2026-05-20)."""

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, String, cast, delete, func, select, update
from sqlalchemy.orm import Session

from lianchuang.models import CommittedMilestone, Milestone, ProgressReport, Task
from lianchuang.models.db import insert_ignoring_duplicates

MOST_DEFAULT_STEPS = 4
EXAMPLE = "3月 25% 制定方案；6月 50% 过半推进；9月 75% 基本完成；12月 100% 全面完成"


@dataclass(frozen=True)
class Step:
    month: int
    percent: int
    title: str

    def __str__(self) -> str:
        return f"{self.month}月 {self.percent}% {self.title}".rstrip()


def default_title(percent: int) -> str:
    if percent >= 100:
        return "全面完成并总结"
    return "制定方案、落实人员" if percent <= 25 else "过半推进" if percent <= 50 else "基本完成"


def default_steps(deadline: date | None, year: int) -> list[Step]:
    """Evenly up to 100% by the deadline's month (December when there is none or it lies beyond the year)."""
    last = deadline.month if deadline and deadline.year == year else 12
    count = min(MOST_DEFAULT_STEPS, last)
    months = [-(-last * k // count) for k in range(1, count + 1)]  # ceil: 5 → 2, 3, 4, 5; 12 → 3, 6, 9, 12
    percents = [round(100 * k / count) for k in range(1, count + 1)]
    return [Step(m, p, default_title(p)) for m, p in zip(months, percents)]


def format_steps(steps: list[Step]) -> str:
    return "；".join(str(step) for step in steps)


_STEP = re.compile(r"^(?:(?P<year>\d{4})[-/.年](?P<ym>\d{1,2})(?:[-/.月]\d{1,2}日?)?月?|(?P<month>\d{1,2})\s*月?)"
                   r"\s*(?P<percent>\d{1,3})\s*[%％]?\s*(?P<title>.*)$")


def parse_steps(text: str, year: int, deadline: date | None) -> tuple[list[Step], str | None]:
    """The steps written in `text` and, if they cannot stand, why (in Chinese, with an example)."""
    items = [item.strip() for item in re.split(r"[；;\n]+", text or "") if item.strip()]
    if not items:
        return [], f"实施步骤不能为空，格式如：{EXAMPLE}"
    steps = []
    for item in items:
        found = _STEP.match(item)
        if not found:
            return [], f"看不懂“{item}”：每一步写“月份 百分比 内容”，用分号分隔，如：{EXAMPLE}"
        if found["year"] and int(found["year"]) != year:
            return [], f"“{item}”不在 {year} 年内"
        month, percent = int(found["ym"] or found["month"]), int(found["percent"])
        if not 1 <= month <= 12 or not 1 <= percent <= 100:
            return [], f"“{item}”：月份应在 1–12，百分比应在 1–100"
        steps.append(Step(month, percent, found["title"].strip()[:255] or default_title(percent)))
    return steps, steps_problem(steps, deadline, year)


def steps_problem(steps: list[Step], deadline: date | None, year: int) -> str | None:
    """Why the steps do not make a plan up to the deadline, or None."""
    for before, after in zip(steps, steps[1:]):
        if after.month <= before.month or after.percent <= before.percent:
            return f"步骤要按月份先后排列、百分比逐步提高（{before} 之后是 {after}）"
    if steps[-1].percent != 100:
        return f"最后一步应达到 100%（现在是 {steps[-1]}）"
    if deadline and deadline.year == year and steps[-1].month > deadline.month:
        return (f"最后一步在 {steps[-1].month} 月，晚于截止日期 {deadline.isoformat()}；"
                "请把步骤提前，或推迟截止日期")
    return None


def task_steps(session: Session, task_ids: list[int] | Select, committed: bool = False) -> dict[int, list[Step]]:
    """Each task's steps now, or as published with its commitments (committed=True); task_ids may
    be a SELECT of ids (a province's board asks for 150,000 tasks' steps)."""
    table = CommittedMilestone if committed else Milestone
    chunks = [task_ids] if isinstance(task_ids, Select) else [task_ids[i:i + 900] for i in range(0, len(task_ids), 900)]
    steps: dict[int, list[Step]] = {}
    for chunk in chunks:
        for task_id, month, percent, title in session.execute(
                select(table.task_id, table.due_month, table.target_percent, table.title)
                .where(table.task_id.in_(chunk)).order_by(table.task_id, table.due_month)):
            steps.setdefault(task_id, []).append(Step(month, percent, title))
    return steps


def replace_steps(session: Session, task_id: int, steps: list[Step]) -> None:
    """Make the task's steps exactly these; a step kept (same month) keeps its id, so reports that
    named it still do; a report naming a removed step keeps its percent and loses the reference."""
    kept = {step.month for step in steps}
    removed = select(Milestone.id).where(Milestone.task_id == task_id, Milestone.due_month.not_in(kept))
    session.execute(update(ProgressReport).where(ProgressReport.milestone_id.in_(removed)).values(milestone_id=None))
    session.execute(delete(Milestone).where(Milestone.task_id == task_id, Milestone.due_month.not_in(kept)))
    for step in steps:
        session.execute(update(Milestone).where(Milestone.task_id == task_id, Milestone.due_month == step.month)
                        .values(target_percent=step.percent, title=step.title))
    insert_ignoring_duplicates(session, Milestone, [dict(task_id=task_id, due_month=s.month, target_percent=s.percent,
                                                         title=s.title) for s in steps], ["task_id", "due_month"])


def steps_text(committed: bool = False):
    """A task's steps (or its committed ones) as one text, as format_steps writes them ("3月 25%
    制定方案；6月 50% …"): a scalar subquery correlated to Task.id, so a province's board reads
    150,000 tasks' steps without building a Step apiece. Each task's steps are read in month order
    through the (task_id, due_month) index and joined in that order (the derived table's ORDER BY,
    kept by SQLite and PostgreSQL): 0.6 s for 600,000 steps on SQLite, where grouping them all and
    joining the groups to the tasks took 0.9."""
    table = CommittedMilestone if committed else Milestone
    ordered = (select((cast(table.due_month, String) + "月 " + cast(table.target_percent, String) + "% " + table.title)
                      .label("step")).where(table.task_id == Task.id).order_by(table.due_month)
               .correlate(Task).subquery())  # a derived table is correlated only when told
    return select(func.aggregate_strings(ordered.c.step, "；")).scalar_subquery()
