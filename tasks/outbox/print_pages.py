"""Printable pages for people without email: one page per community with its notices."""

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianchuang.models import Community, Notice
from lianchuang.models.enums import NoticeStatus
from lianchuang.settings import get_settings
from lianchuang.tasks.outbox.rendering import render_page


def write_print_batches(session: Session, year: int) -> int:
    """One printable HTML page per community with every notice of the year for people without email."""
    notices = session.execute(
        select(Notice, Community.name).outerjoin(Community, Notice.community_id == Community.id)
        .where(Notice.status == NoticeStatus.printed, Notice.year == year).order_by(Notice.community_id, Notice.id)
    ).all()
    by_community: dict[str, list[Notice]] = defaultdict(list)
    for notice, community_name in notices:
        by_community[community_name or "区级"].append(notice)
    folder = get_settings().print_dir / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    for community_name, items in by_community.items():
        page = render_page("print_batch.html", {"community": community_name, "year": year, "notices": items})
        (folder / f"{community_name}.html").write_text(page, encoding="utf-8")
    return len(notices)
