"""The joint meeting's round trip: an agenda workbook of the open suggestions (near-identical ones
flagged), filled in at the meeting with a decision per row, and imported back as decisions."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianchuang.errors import ImportRefused, Problem
from lianchuang.models import Community, Opinion, Task
from lianchuang.models.enums import Category, OpinionStatus, UnitKind
from lianchuang.tasks.opinions.rules import Decision, record_decisions
from lianchuang.tasks.opinions.similarity import similar_pairs
from lianchuang.tasks.org import Lookup
from lianchuang.tasks.sheets import Column, SheetReader, parse_date, write_template

AGENDA, MEETING, TASKS = "议题", "会议", "已有任务"
AGENDA_COLUMNS = [
    Column("id", "编号", ("id",), True), Column("source_kind", "来源类别", ("source",)), Column("channel", "渠道", ("channel",)),
    Column("submitter", "提出人", ("submitter",)), Column("content", "内容", ("content",), multiline=True), Column("date", "日期", ("date",)),
    Column("similar", "相近建议", ("similar",), multiline=True), Column("decision", "决定", ("decision",)),
    Column("category", "任务类别", ("category",)), Column("title", "任务名称", ("title",), limit=255),
    Column("merge_into", "并入任务", ("merge into",)), Column("reason", "理由", ("reason",), multiline=True),
]
MEETING_COLUMNS = [Column("item", "项目", ("item",), True), Column("value", "内容", ("value",), multiline=True)]
DECISIONS = {"采纳": OpinionStatus.adopted, "adopt": OpinionStatus.adopted, "合并": OpinionStatus.merged,
             "merge": OpinionStatus.merged, "不采纳": OpinionStatus.declined, "decline": OpinionStatus.declined}
ATTENDING = [UnitKind.party_org, UnitKind.residents_committee, UnitKind.linked_leader, UnitKind.linked_unit,
             UnitKind.stationed_unit, UnitKind.civil_org, UnitKind.mass_org, UnitKind.residents]


def write_agenda(session: Session, cycle_id: int, community: Community, path: Path) -> int:
    """The open suggestions of a community as a workbook to decide; returns how many."""
    opinions = session.scalars(select(Opinion).where(
        Opinion.cycle_id == cycle_id, Opinion.community_id == community.id, Opinion.status == OpinionStatus.pending)
        .order_by(Opinion.id)).all()
    similar = similar_pairs([(o.id, o.content) for o in opinions])
    rows = [[o.id, o.source_kind.label, o.channel.label, o.submitter_name or "（匿名）", o.content,
             o.submitted_on.isoformat(), f"与第 {similar[o.id]} 号相近" if o.id in similar else "", "", "", "", "", ""]
            for o in opinions]
    tasks = session.execute(select(Task.code, Task.title, Task.category).where(
        Task.cycle_id == cycle_id, Task.community_id == community.id).order_by(Task.code)).all()
    write_template(path, {AGENDA: AGENDA_COLUMNS, MEETING: MEETING_COLUMNS,
                          TASKS: [Column("code", "任务编号"), Column("title", "任务"), Column("category", "类别")]},
                   choices={"decision": ["采纳", "合并", "不采纳"], "category": Category.labels()},
                   examples={AGENDA: rows, MEETING: [["社区", community.code], ["会议日期", ""]]
                             + [[f"出席：{kind.label}", ""] for kind in ATTENDING],
                             TASKS: [[code, title, category.label] for code, title, category in tasks]},
                   notes=[f"{community.name}党建联席会议题：每行一条待议建议，“相近建议”列提示措辞相近的建议。",
                          "“决定”选 采纳（并选“任务类别”，可改写“任务名称”）、合并（“并入任务”填已有任务编号，或本表中采纳的建议编号如 #12）"
                          "或 不采纳（必须填“理由”，会反馈给提出人）。不填决定的建议留待下次会议。",
                          "在“会议”表填写会议日期（如 2026-02-17）和各方出席人数。",
                          "填好后运行：lianchuang deliberate import 本文件.xlsx"])
    return len(rows)


@dataclass
class Meeting:
    community: Community
    held_on: date
    attendees: str


def _read_meeting(session: Session, path: Path, problems: list[Problem]) -> Meeting | None:
    reader = SheetReader(path, MEETING_COLUMNS, sheet=MEETING)
    problems.extend(reader.problems)
    values = {row["item"]: (number, row.get("value", "")) for number, row in reader}
    problems.extend(reader.cell_problems)
    number, code = values.get("社区", (2, ""))
    community, why_not = Lookup(session, Community)(code)
    if community is None:
        problems.append(Problem(reader.file, number, "内容", why_not))
    number, text = values.get("会议日期", (3, ""))
    held_on = parse_date(text)
    if held_on is None:
        problems.append(Problem(reader.file, number, "内容", f"会议日期“{text}”不是有效日期，格式如 2026-02-17"))
    attendees = []
    for kind in ATTENDING:
        number, count = values.get(f"出席：{kind.label}", (0, ""))
        if count and not count.isdecimal():
            problems.append(Problem(reader.file, number, "内容", f"出席人数“{count}”不是整数"))
        elif count and int(count):
            attendees.append(f"{kind.label}:{count}")
    if community is None or held_on is None:
        return None
    return Meeting(community, held_on, "; ".join(attendees))


def import_decisions(session: Session, cycle_id: int, path: Path) -> dict:
    """Check the whole agenda workbook, then record its decisions (all or nothing)."""
    problems: list[Problem] = []
    meeting = _read_meeting(session, path, problems)
    reader = SheetReader(path, AGENDA_COLUMNS, sheet=AGENDA)
    problems.extend(reader.problems)
    if meeting is None or problems:
        raise ImportRefused(problems)
    rows = [(number, row) for number, row in reader]
    if reader.cell_problems:
        raise ImportRefused(reader.cell_problems)
    opinions = {o.id: o for o in session.scalars(select(Opinion).where(
        Opinion.cycle_id == cycle_id, Opinion.community_id == meeting.community.id))}
    codes = set(session.scalars(select(Task.code).where(Task.cycle_id == cycle_id, Task.community_id == meeting.community.id)))
    adopted_here = {row["id"] for _, row in rows if DECISIONS.get(row.get("decision", "").strip()) == OpinionStatus.adopted}
    adopted_here |= {str(o.id) for o in opinions.values() if o.status == OpinionStatus.adopted}  # at an earlier meeting
    decisions, unchanged, file = [], 0, reader.file
    for number, row in rows:
        status = DECISIONS.get(row.get("decision", "").strip())
        if not row.get("decision"):
            continue
        opinion = opinions.get(int(row["id"])) if row["id"].isdecimal() else None
        if status is None:
            problems.append(Problem(file, number, "决定", f"“{row['decision']}”应为 采纳、合并 或 不采纳"))
        if opinion is None:
            problems.append(Problem(file, number, "编号", f"{meeting.community.name}没有编号为 {row['id']} 的建议"))
        if status is None or opinion is None:
            continue
        if opinion.status != OpinionStatus.pending:
            if opinion.status == status:
                unchanged += 1  # the same file imported again
            else:
                problems.append(Problem(file, number, "决定", f"该建议已议定为“{opinion.status.label}”，不能改为“{row['decision']}”"))
            continue
        category = Category.parse(row.get("category", ""))
        merge_into = row.get("merge_into", "").strip()
        if status == OpinionStatus.adopted and category is None:
            problems.append(Problem(file, number, "任务类别", f"采纳的建议要选任务类别：{'、'.join(Category.labels())}"))
        if status == OpinionStatus.merged and merge_into not in codes and merge_into.lstrip("#") not in adopted_here:
            problems.append(Problem(file, number, "并入任务", f"“{merge_into}”既不是本社区已有任务编号，也不是本表中采纳的建议编号（如 #12）"))
        if status == OpinionStatus.declined and not row.get("reason"):
            problems.append(Problem(file, number, "理由", "不采纳的建议必须填写理由（会反馈给提出人）"))
        decisions.append((status, opinion.id, category, row.get("title") or None, merge_into, row.get("reason") or None))
    if problems:
        raise ImportRefused(problems)
    still_pending = sum(1 for o in opinions.values() if o.status == OpinionStatus.pending) - len(decisions)
    first = [Decision(oid, status, category, title) if status == OpinionStatus.adopted
             else Decision(oid, status, reason=reason)
             for status, oid, category, title, _, reason in decisions if status != OpinionStatus.merged]
    task_of = {o.id: o.task.code for o in opinions.values() if o.task_id}
    task_of |= record_decisions(session, cycle_id, meeting.community.id, meeting.held_on, meeting.attendees, first)
    merges = [Decision(oid, status, merge_into_code=task_of.get(int(target.lstrip("#")), target) if target.startswith("#") else target)
              for status, oid, _, _, target, _ in decisions if status == OpinionStatus.merged]
    record_decisions(session, cycle_id, meeting.community.id, meeting.held_on, meeting.attendees, merges)
    counts = {status.value: sum(1 for d in decisions if d[0] == status) for status in
              (OpinionStatus.adopted, OpinionStatus.merged, OpinionStatus.declined)}
    return dict(community=meeting.community.name, unchanged=unchanged, **counts, still_pending=still_pending)
