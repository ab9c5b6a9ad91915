"""Drafts and the once-only queue: a stage builds `Draft`s; `queue` renders each and stores it
under its idempotency key, so running a stage again queues nothing twice."""

import hashlib
import re
from dataclasses import dataclass, field
from email.headerregistry import Address

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.models import Notice, NoticeBody
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import NoticeStatus
from lianchuang.tasks.outbox.rendering import render_notice

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
    image_path: str | None = None  # a PNG shown inline (cid:chart) in the HTML part
    # A one-time secret the text carries (a voting code): wiped from the stored notice once it is
    # sent and never shown by `outbox show`. The stage that writes the draft says what it is.
    secret: str | None = None

    @classmethod
    def to_person(cls, person, year: int | None, stage: str, template: str, context: dict, period: str = "",
                  community_id: int | None = None, image_path: str | None = None, secret: str | None = None) -> "Draft":
        """A notice to a person of the organisation (their code is the recipient key)."""
        return cls(year=year, stage=stage, template=template, recipient_key=person.code, recipient_name=person.name,
                   recipient_email=person.email, person_id=person.id, period=period, context=context,
                   community_id=community_id if community_id is not None else person.community_id, image_path=image_path,
                   secret=secret)

    @property
    def key(self) -> str:
        return f"{self.year}:{self.stage}:{self.template}:{self.recipient_key}:{self.period}"


def to_district_coordinators(session: Session, year: int | None, stage: str, template: str, period: str,
                             context: dict, district_ids: list[int] | None = None) -> list[Draft]:
    """The same notice to the coordinators of these districts, or of every district (holds, alerts)."""
    from lianchuang.models import Person
    from lianchuang.models.enums import Role

    query = select(Person).where(Person.role == Role.district_coordinator).order_by(Person.code)
    if district_ids is not None:
        query = query.where(Person.district_id.in_(district_ids))
    people = session.scalars(query)
    return [Draft.to_person(person, year, stage, template, period=period, context=context) for person in people]


def clean_header(text: str) -> str:
    """No CR/LF or control characters in anything that becomes a header."""
    return _CONTROL.sub(" ", text or "").strip()


def message_id(key: str) -> str:
    return f"<{hashlib.sha1(key.encode()).hexdigest()}@lianchuang>"


def _usable_address(text: str | None) -> bool:
    """Cheap enough for a province's 5,000 emails a month: addresses were validated where they came
    in (is_valid_email); this only keeps a line break or other control character out of a header."""
    return bool(text) and "@" in text and not _CONTROL.search(text)


def queue(session: Session, drafts: list[Draft]) -> int:
    """Render and queue the drafts whose key is not in the outbox yet; returns how many were new."""
    if not drafts:
        return 0
    keys = [d.key for d in drafts]
    known = set(_ids_of(session, keys))
    rows, bodies, now = [], {}, clock.now()
    for draft in drafts:
        if draft.key in known:
            continue
        known.add(draft.key)
        email = draft.recipient_email if _usable_address(draft.recipient_email) else None
        rendered = render_notice(draft.template, {"recipient": draft.recipient_name, **draft.context})
        rows.append(dict(
            key=draft.key, year=draft.year, stage=draft.stage, template=draft.template, period=draft.period,
            community_id=draft.community_id, person_id=draft.person_id,
            recipient_name=clean_header(draft.recipient_name), recipient_email=email,  # not an address: on paper
            subject=clean_header(rendered.subject),
            message_id=message_id(draft.key), image_path=draft.image_path, secret=draft.secret,
            status=NoticeStatus.queued if email else NoticeStatus.printed,
            delivered_at=None if email else now,  # on paper: the day of its print batch
        ))
        bodies[draft.key] = dict(text=rendered.text, html=rendered.html)
    queued = insert_ignoring_duplicates(session, Notice, rows, ["key"])
    # Each body under its notice's id; a notice another process queued at the same moment has its own
    ids = _ids_of(session, list(bodies))
    insert_ignoring_duplicates(session, NoticeBody, [dict(id=ids[key], **body) for key, body in bodies.items()], ["id"])
    return queued


def _ids_of(session: Session, keys: list[str]) -> dict[str, int]:
    """The ids of the notices of these keys that are in the outbox."""
    ids: dict[str, int] = {}
    for start in range(0, len(keys), 900):
        ids.update(session.execute(select(Notice.key, Notice.id).where(Notice.key.in_(keys[start:start + 900]))).all())
    return ids


def without_secret(notice: Notice, text: str, instead: str) -> str:
    """A notice's text with its one-time secret (if any) replaced."""
    return text.replace(notice.secret, instead) if notice.secret else text


def is_valid_email(text: str) -> bool:
    try:
        address = Address(addr_spec=text.strip())
    except Exception:  # the email package raises several kinds for malformed addresses
        return False
    return bool(address.username and "." in address.domain and not _CONTROL.search(text))
