"""The outbox of notices and the audit trail."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lianchuang.models.base import Base, enum_column
from lianchuang.models.enums import NoticeStatus


class Notice(Base):
    """A rendered notice. `key` (cycle, stage, template, recipient, period) makes it unique:
    queuing the same notice again is a no-op, so re-running a stage never sends twice."""

    __tablename__ = "notice"
    key: Mapped[str] = mapped_column(String(200), unique=True)
    year: Mapped[int | None] = mapped_column(index=True)
    stage: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16), default="")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recipient_name: Mapped[str] = mapped_column(String(128))
    recipient_email: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str] = mapped_column(String(255))
    image_path: Mapped[str | None] = mapped_column(String(512))  # a chart shown inline in the HTML part
    secret: Mapped[str | None] = mapped_column(String(64))  # a one-time code in the text, until it is sent
    status: Mapped[NoticeStatus] = enum_column(NoticeStatus, default=NoticeStatus.queued, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set by the deliverer sending it (UTC), so that another one running at once skips it; a claim
    # left by a killed deliverer lapses then.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    # Read with the notice, always (one join): the message is what a notice is read for.
    body: Mapped["NoticeBody"] = relationship(lazy="joined", innerjoin=True)


class NoticeBody(Base):
    """A notice's text and HTML, in a table of their own (its id is the notice's): SQLite rewrites a
    whole row on any update, and a province's month claims and records 5,360 notices of ~25 KB
    each (1.6 s of rewriting, 0.4 s once the bodies stay put)."""

    __tablename__ = "notice_body"
    id: Mapped[int] = mapped_column(ForeignKey("notice.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """Who changed what, when: imports, decisions, overrides, signatures, stage runs."""

    __tablename__ = "audit_entry"
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
