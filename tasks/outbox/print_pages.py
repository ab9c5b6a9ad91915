"""Printable pages for people without email. Each batch (the notices of one stage put on paper on
one day) is a dated, titled page per community: print/<year>/<date> <stage>/<community>.html.
`outbox print` gathers everything put on paper since a day (by default since it last ran) into
one page to print, so nobody has to tell what is new."""

from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang.models import Community, Notice
from lianchuang.models.enums import NoticeStatus, Stage
from lianchuang.settings import get_settings
from lianchuang.tasks.files import page_in, replace_file
from lianchuang.tasks.outbox.rendering import label, render_page

DISTRICT_LEVEL = "区级"  # the page of notices to people of no community
FOOTER_MARK = "\n--\n"  # the emails' footer ("请勿直接回复…") has no place on paper


def paper_text(body_text: str) -> str:
    return body_text.split(FOOTER_MARK)[0].strip()


def paper_blocks(body_text: str) -> list[tuple[str, object]]:
    """The text part as paper shows it: paragraphs, bullet lists ("· …") and tables ("a | b")."""
    blocks = []
    for paragraph in paper_text(body_text).split("\n\n"):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.strip().startswith("·") for line in lines):
            blocks.append(("list", [line.strip().lstrip("·").strip() for line in lines]))
        elif len(lines) > 1 and all(" | " in line for line in lines):
            blocks.append(("table", [line.split(" | ") for line in lines]))
        else:
            blocks.append(("text", " ".join(line.strip() for line in lines)))
    return blocks


def _paper(session: Session, year: int, since: date | None = None):
    day = func.coalesce(Notice.delivered_at, Notice.created_at)
    query = (select(Notice, Community.name, Community.code).outerjoin(Community, Notice.community_id == Community.id)
             .where(Notice.status == NoticeStatus.printed, Notice.year == year).order_by(Notice.community_id, Notice.id))
    if since is not None:
        query = query.where(day >= datetime.combine(since, datetime.min.time()))
    return session.execute(query).all()


def _batch_day(notice: Notice) -> date:
    return (notice.delivered_at or notice.created_at).date()


def write_print_batches(session: Session, year: int) -> int:
    """A dated page per batch and community; returns how many notices are on paper this year."""
    batches: dict[tuple[date, str, str, str], list[Notice]] = defaultdict(list)
    notices = _paper(session, year)
    for notice, community_name, community_code in notices:
        batches[_batch_day(notice), notice.stage, community_code or DISTRICT_LEVEL, community_name or DISTRICT_LEVEL].append(notice)
    root = get_settings().print_dir / str(year)
    for (day, stage, code, community_name), items in batches.items():
        folder = f"{day.isoformat()} {_stage_label(stage)}"
        # the file is named by the community's code: a name may hold "/" or ".." and lead elsewhere
        _write(page_in(root, folder, f"{code}.html"), f"{community_name} {day.isoformat()} {_stage_label(stage)} 纸质通知",
               items, day)
    return len(notices)


def collect_to_print(session: Session, year: int, since: date | None, today: date) -> tuple[Path | None, dict[str, int]]:
    """One page with every notice put on paper since `since` (default: the day after the last
    collection); returns the page (None: nothing new) and the count per community."""
    root = get_settings().print_dir / str(year)
    marker = root / ".last-collected"
    if since is None and marker.exists():
        since = date.fromordinal(date.fromisoformat(marker.read_text().strip()).toordinal() + 1)
    notices = _paper(session, year, since)
    counts: dict[str, int] = defaultdict(int)
    for _, community_name, _ in notices:
        counts[community_name or DISTRICT_LEVEL] += 1
    if not notices:
        return None, {}
    start = since.isoformat() if since else f"{year}年初"
    page = page_in(root, f"待打印 {start}至{today.isoformat()}.html")
    _write(page, f"{year}年 待打印通知（{start}至{today.isoformat()}）", [n for n, *_ in notices], today)
    replace_file(page_in(root, marker.name), today.isoformat())
    return page, dict(counts)


def _stage_label(stage: str) -> str:
    try:
        return label(Stage(stage))
    except ValueError:
        return stage


def _write(path: Path, title: str, notices: list[Notice], day: date) -> None:
    page = render_page("print_batch.html", {"title": title, "day": day, "notices": [
        dict(subject=n.subject, blocks=paper_blocks(n.body.text), recipient=n.recipient_name, day=_batch_day(n))
        for n in notices]})
    replace_file(path, page)
