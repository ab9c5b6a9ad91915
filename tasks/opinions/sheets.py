"""Suggestions from every channel: the fill-in template, file import (XLSX or CSV in UTF-8/GBK,
streamed in two passes: check everything, then write everything in one transaction), and the
coverage report."""

from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang.errors import ImportRefused, Problem, UserError
from lianchuang.models import Community, Opinion
from lianchuang.models.enums import SOURCE_KINDS, Channel, OpinionStatus, UnitKind
from lianchuang.tasks.opinions.rules import NewOpinion, record_opinions
from lianchuang.tasks.org import Lookup
from lianchuang.tasks.sheets import Column, SheetReader, parse_date, write_template

SHEET = "意见建议"
COLUMNS = [
    Column("community", "社区", ("community",), True), Column("source_kind", "来源类别", ("source", "source kind"), True),
    Column("channel", "渠道", ("channel",), True), Column("submitter", "提出人", ("submitter", "name"), limit=64, name=True),
    Column("contact", "联系方式", ("contact", "email", "phone"), limit=255), Column("content", "内容", ("content", "text", "suggestion"), True, multiline=True),
    Column("date", "日期", ("date",), True),
]
CHUNK = 5000


def write_opinion_template(session: Session, path: Path, year: int, community_codes: list[str] | None) -> None:
    from lianchuang.tasks.cycle import communities_in_scope

    communities = communities_in_scope(session, community_codes)
    write_template(path, {SHEET: COLUMNS}, choices={
        "community": [c.name for c in communities], "source_kind": [k.label for k in SOURCE_KINDS],
        "channel": Channel.labels()}, samples={SHEET: [[communities[0].name, UnitKind.residents.label,
                                                        Channel.door_to_door.label, "林秀英", "lin@example.cn",
                                                        "建议在沿江小区增设路灯", f"{year}-01-15"]]},
        notes=[f"{year}年度意见建议征集表：每行一条建议。", "社区、来源类别、渠道请从下拉列表选择；提出人可以不填（匿名）。",
               "联系方式填电子邮箱可收到办理结果反馈；日期格式 2026-01-15。",
               f"填好后运行：lianchuang opinions import 本文件.xlsx --year {year}（有任何错误则整个文件不导入，并逐条列出行列位置）。"])


class OpinionRows:
    """Checks each row of a suggestions file and turns it into a NewOpinion."""

    def __init__(self, session: Session, year: int):
        self.year = year
        self.community = Lookup(session, Community)
        self.kinds = {k.label: k for k in SOURCE_KINDS} | {k.value: k for k in SOURCE_KINDS}
        self.channels = {c.label: c for c in Channel} | {c.value: c for c in Channel}

    def parse(self, file: str, number: int, row: dict, problems: list[Problem]) -> NewOpinion | None:
        before = len(problems)
        community, why_not = self.community(row.get("community", ""))
        if community is None:
            problems.append(Problem(file, number, "社区", why_not))
        community = community.id if community is not None else None
        kind = self.kinds.get(row.get("source_kind", ""))
        if kind is None:
            problems.append(Problem(file, number, "来源类别", f"“{row.get('source_kind', '')}”不是六类来源之一：{'、'.join(k.label for k in SOURCE_KINDS)}"))
        channel = self.channels.get(row.get("channel", ""))
        if channel is None:
            problems.append(Problem(file, number, "渠道", f"“{row.get('channel', '')}”不是有效渠道：{'、'.join(Channel.labels())}"))
        content = " ".join(row.get("content", "").split())
        if not content:
            problems.append(Problem(file, number, "内容", "建议内容不能为空"))
        day = parse_date(row.get("date", ""))
        if day is None:
            problems.append(Problem(file, number, "日期", f"“{row.get('date', '')}”不是有效日期，格式如 {self.year}-01-15"))
        elif day.year != self.year:
            problems.append(Problem(file, number, "日期", f"{day.isoformat()} 不在 {self.year} 年内"))
        if len(problems) > before:
            return None
        return NewOpinion(community_id=community, source_kind=kind, channel=channel, content=content, submitted_on=day,
                          submitter_name=row.get("submitter") or None, submitter_contact=row.get("contact") or None)


def import_opinions(session: Session, cycle_id: int, year: int, path: Path) -> dict:
    """Import a whole file or nothing: pass one checks every row, pass two writes in chunks."""
    reader = SheetReader(path, COLUMNS, sheet=None if path.suffix.lower() in (".csv", ".txt") else _sheet_name(path))
    rows = OpinionRows(session, year)
    problems = list(reader.problems)
    if problems:
        raise ImportRefused(problems)
    count = 0
    for number, row in reader:
        rows.parse(reader.file, number, row, problems)
        count += 1
        if len(problems) >= 1000:
            problems.append(Problem(reader.file, number, "", "问题太多，只列出前 1000 处"))
            break
    problems += reader.cell_problems
    if problems:
        raise ImportRefused(problems)
    if not count:
        raise UserError(f"{reader.file}: 表头下面没有任何建议")
    new, chunk = 0, []
    for number, row in reader:
        chunk.append(rows.parse(reader.file, number, row, problems))
        if len(chunk) == CHUNK:
            new += record_opinions(session, cycle_id, chunk)
            chunk = []
    new += record_opinions(session, cycle_id, chunk)
    return dict(rows=count, new=new, already_there=count - new)


def _sheet_name(path: Path) -> str | None:
    """The 意见建议 sheet if the workbook has one, else its first sheet."""
    from lianchuang.tasks.sheets import _open_book

    book = _open_book(path)
    names = book.sheetnames
    book.close()
    return SHEET if SHEET in names else next((n for n in names if n not in ("填写说明", "选项")), None)


# ---- near-identical suggestions ----


# ---- coverage ----

def kinds_asked(session: Session, cycle_id: int) -> dict[int, set[str]]:
    """Per community, the source kinds the solicitation reached: a person who speaks for the kind
    was sent (or given on paper) the solicitation; residents also when the public call was posted."""
    from lianchuang.models import Cycle, Notice
    from lianchuang.settings import get_settings
    from lianchuang.tasks.opinions.notices import solicitation_targets

    year = session.get(Cycle, cycle_id).year
    solicited = set(session.scalars(select(Notice.person_id).where(Notice.year == year, Notice.template == "solicitation")))
    communities = dict(session.execute(select(Community.id, Community.code)).all())
    asked: dict[int, set[str]] = defaultdict(set)
    for person, kind, community in solicitation_targets(session, list(communities)):
        if person.id in solicited:
            asked[community.id].add(kind.value)
    calls = get_settings().documents_dir / str(year) / "征求意见公告"
    for community_id, code in communities.items():
        if (calls / f"{code}.html").exists():
            asked[community_id].add(UnitKind.residents.value)
    return asked


def coverage(session: Session, cycle_id: int) -> list[dict]:
    """Per community: suggestions by source kind, channel and status; the kinds asked, and those
    never asked or asked but not heard."""
    by = defaultdict(lambda: dict(kinds=defaultdict(int), channels=defaultdict(int), status=defaultdict(int)))
    for community_id, kind, channel, status, count in session.execute(
            select(Opinion.community_id, Opinion.source_kind, Opinion.channel, Opinion.status, func.count())
            .where(Opinion.cycle_id == cycle_id)
            .group_by(Opinion.community_id, Opinion.source_kind, Opinion.channel, Opinion.status)):
        entry = by[community_id]
        entry["kinds"][kind.value] += count
        entry["channels"][channel.value] += count
        entry["status"][status.value] += count
    asked = kinds_asked(session, cycle_id)
    rows = []
    for cid, code, name in session.execute(select(Community.id, Community.code, Community.name).order_by(Community.code)):
        entry = by[cid]
        rows.append(dict(code=code, community=name, total=sum(entry["kinds"].values()),
                         by_source_kind=dict(entry["kinds"]), by_channel=dict(entry["channels"]),
                         **{status.value: entry["status"].get(status.value, 0) for status in OpinionStatus},
                         kinds_not_heard=[k.value for k in SOURCE_KINDS if k.value not in entry["kinds"]],
                         kinds_asked=[k.value for k in SOURCE_KINDS if k.value in asked[cid]],
                         kinds_not_asked=[k.value for k in SOURCE_KINDS if k.value not in asked[cid]],
                         channels_not_used=[c.value for c in Channel if c.value not in entry["channels"]]))
    return rows
