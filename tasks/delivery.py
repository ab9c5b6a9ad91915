"""The outbox: queue rendered notices once per idempotency key, deliver them to the Maildir,
and collect notices for people without email into a printable page per community."""

import hashlib
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.models import Community, Notice
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import NoticeStatus
from lianchuang.settings import get_settings
from lianchuang.tasks.rendering import render_notice, render_page

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass
class Draft:
    """A notice to queue: who gets which template, with what data, under which key parts."""

    year: int | None
    stage: str
    template: str
    recipient_key: str  # a person code, unique per recipient
    recipient_name: str
    recipient_email: str | None
    context: dict = field(default_factory=dict)
    period: str = ""
    community_id: int | None = None
    person_id: int | None = None

    @classmethod
    def to_person(cls, person, year: int | None, stage: str, template: str, context: dict, period: str = "",
                  community_id: int | None = None) -> "Draft":
        """A notice to a person of the organisation (their code is the recipient key)."""
        return cls(year=year, stage=stage, template=template, recipient_key=person.code, recipient_name=person.name,
                   recipient_email=person.email, person_id=person.id, period=period, context=context,
                   community_id=community_id if community_id is not None else person.community_id)

    @property
    def key(self) -> str:
        return f"{self.year}:{self.stage}:{self.template}:{self.recipient_key}:{self.period}"


def clean_header(text: str) -> str:
    """No CR/LF or control characters in anything that becomes a header."""
    return _CONTROL.sub(" ", text or "").strip()


def message_id(key: str) -> str:
    return f"<{hashlib.sha1(key.encode()).hexdigest()}@lianchuang>"


def queue(session: Session, drafts: list[Draft]) -> int:
    """Render and queue the drafts whose key is not in the outbox yet; returns how many were new."""
    if not drafts:
        return 0
    known: set[str] = set()
    keys = [d.key for d in drafts]
    for start in range(0, len(keys), 900):
        known.update(session.scalars(select(Notice.key).where(Notice.key.in_(keys[start:start + 900]))))
    rows = []
    for draft in drafts:
        if draft.key in known:
            continue
        known.add(draft.key)
        rendered = render_notice(draft.template, {"recipient": draft.recipient_name, **draft.context})
        rows.append(dict(
            key=draft.key, year=draft.year, stage=draft.stage, template=draft.template, period=draft.period,
            community_id=draft.community_id, person_id=draft.person_id,
            recipient_name=clean_header(draft.recipient_name), recipient_email=draft.recipient_email or None,
            subject=clean_header(rendered.subject), body_text=rendered.text, body_html=rendered.html,
            message_id=message_id(draft.key),
            status=NoticeStatus.queued if draft.recipient_email else NoticeStatus.printed,
        ))
    return insert_ignoring_duplicates(session, Notice, rows, ["key"])


def build_message(notice: Notice) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = formataddr((notice.recipient_name, notice.recipient_email))
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Subject"] = notice.subject
    message["Message-ID"] = notice.message_id
    message["Date"] = format_datetime(clock.now().astimezone())
    message.set_content(notice.body_text)
    message.add_alternative(notice.body_html, subtype="html")
    return message


def _maildir_deliver(maildir: Path, notice: Notice) -> None:
    """Write one message; its file name comes from the notice, so a second write is skipped."""
    name = f"{notice.id:09d}.{notice.message_id.strip('<>').split('@')[0][:16]}.eml"
    if (maildir / "new" / name).exists() or (maildir / "cur" / name).exists():
        return
    temporary = maildir / "tmp" / name
    temporary.write_bytes(bytes(build_message(notice)))
    os.replace(temporary, maildir / "new" / name)


def deliver_queued(session: Session, year: int | None = None) -> int:
    """Deliver every queued notice (of a year, or all) to the Maildir; returns how many."""
    maildir = get_settings().maildir
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    query = select(Notice).where(Notice.status == NoticeStatus.queued).order_by(Notice.id)
    if year is not None:
        query = query.where(Notice.year == year)
    delivered = []
    for notice in session.scalars(query).yield_per(1000):
        _maildir_deliver(maildir, notice)
        delivered.append(notice.id)
    for start in range(0, len(delivered), 900):
        session.execute(update(Notice).where(Notice.id.in_(delivered[start:start + 900]))
                        .values(status=NoticeStatus.sent, attempts=Notice.attempts + 1, delivered_at=clock.now()))
    return len(delivered)


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


def is_valid_email(text: str) -> bool:
    try:
        address = Address(addr_spec=text.strip())
    except Exception:  # the email package raises several kinds for malformed addresses
        return False
    return bool(address.username and "." in address.domain and not _CONTROL.search(text))
