"""Delivery: the Maildir and SMTP channels, each notice recorded the moment it is sent, failures
classified as permanent or transient; large batches split with a worker process."""

import os
import smtplib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.models import Notice
from lianchuang.models.enums import NoticeStatus
from lianchuang.settings import SmtpSecurity, get_settings
from lianchuang.tasks.outbox.drafts import without_secret
from lianchuang.tasks.outbox.mime import build_message, envelope_sender


class PermanentFailure(Exception):
    """The server refused the message for good (bad address, rejected): record, do not retry."""


class TransientFailure(Exception):
    """The server or the network failed for now: retry later."""


class MaildirChannel:
    """The embedded channel: one .eml file per notice in the data folder's Maildir. The file name
    comes from the notice, so a message written before a crash is never written twice."""

    commit_every = 500  # writing is idempotent: status can be recorded in batches

    def __init__(self, maildir: Path):
        self.maildir = maildir

    def __enter__(self):
        for sub in ("tmp", "new", "cur"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        return None

    def send(self, notice: Notice) -> None:
        name = f"{notice.id:09d}.{notice.message_id.strip('<>').split('@')[0][:16]}.eml"
        if (self.maildir / "new" / name).exists() or (self.maildir / "cur" / name).exists():
            return
        temporary = self.maildir / "tmp" / name
        temporary.write_bytes(build_message(notice))
        os.replace(temporary, self.maildir / "new" / name)


class SmtpChannel:
    """SMTP over one connection for the whole batch; reconnects with back-off on transient errors."""

    commit_every = 1  # a sent message cannot be unsent: record each one at once

    def __init__(self, settings):
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.connection = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == SmtpSecurity.ssl:
            connection = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        else:
            connection = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            if s.smtp_security == SmtpSecurity.starttls:
                connection.starttls()
        password = smtp_password(s)
        if s.smtp_user and password:
            connection.login(s.smtp_user, password)
        return connection

    def send(self, notice: Notice) -> None:
        message = build_message(notice).replace(b"\n", b"\r\n")  # SMTP lines end in CRLF (smtplib fixes str only)
        for attempt in range(self.settings.smtp_retries):
            try:
                if self.connection is None:
                    self.connection = self._connect()
                refused = self.connection.sendmail(envelope_sender(), [notice.recipient_email], message)
                if refused:
                    raise PermanentFailure("; ".join(f"{a}: {c} {r.decode(errors='replace')}" for a, (c, r) in refused.items()))
                return
            except smtplib.SMTPRecipientsRefused as error:
                code, reason = next(iter(error.recipients.values()))
                failure = _classify(code, reason)
            except smtplib.SMTPResponseException as error:
                failure = _classify(error.smtp_code, error.smtp_error)
            except (smtplib.SMTPException, OSError) as error:  # dropped connection, timeout, refused
                failure = TransientFailure(f"{type(error).__name__}: {error}")
            if isinstance(failure, PermanentFailure):
                raise failure
            self._close()
            if attempt + 1 < self.settings.smtp_retries:
                time.sleep(self.settings.smtp_backoff * 2 ** attempt)
        raise failure


def _classify(code: int, reason) -> Exception:
    text = f"{code} {reason.decode(errors='replace') if isinstance(reason, bytes) else reason}"
    return PermanentFailure(text) if 500 <= code < 600 else TransientFailure(text)


def smtp_password(settings) -> str | None:
    """The SMTP password from settings, or from the named Prefect Secret block."""
    if settings.smtp_password or not settings.smtp_password_block:
        return settings.smtp_password
    from prefect.blocks.system import Secret

    return Secret.load(settings.smtp_password_block).get()


def channel_for(settings):
    return SmtpChannel(settings) if settings.smtp_host else MaildirChannel(settings.maildir)


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    deferred: int = 0  # still queued after a transient failure: the next flush tries again
    errors: list[str] = field(default_factory=list)  # the first few problems, to show the user

    def note(self, error: str) -> None:
        if len(self.errors) < 10:
            self.errors.append(error)


PARALLEL_DELIVERY = 2000  # queued notices from which a worker process writes half of the Maildir


def deliver_all(year: int | None = None, stages: tuple[str, ...] = ()) -> DeliveryReport:
    """Deliver every queued notice (of a year and of some stages, or all). Into the Maildir, once
    there are many (a province's month: 5,360 emails), a worker process writes every other one on
    the second core. Then the one-time codes of the invitations sent are wiped from their stored copy."""
    started = clock.now()
    report = _deliver_all(year, stages)
    if report.delivered:
        forget_sent_codes(since=started)
    return report


def alert_district_coordinators(year: int, template: str, period: str, context: dict,
                                district_ids: list[int] | None = None) -> int:
    """An operations alert (a failed run, a missing ranking) to the coordinators of these districts,
    or of every district: queued and sent at once, only once per template and period. Returns how
    many were newly told (0: told already)."""
    from lianchuang.models.db import session_scope
    from lianchuang.models.enums import Stage
    from lianchuang.tasks.outbox.drafts import queue, to_district_coordinators

    with session_scope() as session:
        told = queue(session, to_district_coordinators(session, year, Stage.progress, template, period=period,
                                                       context=context, district_ids=district_ids))
    if told:
        deliver_all(year, (Stage.progress,))
    return told


def forget_sent_codes(since) -> int:
    """A notice carrying a one-time secret (an evaluation invitation's code), once sent, keeps no
    secret in the database: it is then only in the recipient's mailbox (and, for a code, as a salted
    hash). Only the notices sent from `since` are read (those of this delivery). Returns the notices wiped."""
    from lianchuang.models.db import session_scope

    wiped = 0
    with session_scope() as session:
        for notice in session.scalars(select(Notice).where(Notice.secret.is_not(None), Notice.status == NoticeStatus.sent,
                                                           Notice.delivered_at >= since)):
            notice.body.text = without_secret(notice, notice.body.text, SENT_CODE)
            notice.body.html = without_secret(notice, notice.body.html, SENT_CODE)
            notice.secret = None
            wiped += 1
    return wiped


SENT_CODE = "（评议码已随邮件发出，系统不保存）"


def _deliver_all(year: int | None, stages: tuple[str, ...]) -> DeliveryReport:
    settings = get_settings()
    if settings.smtp_host or _count_queued(year, stages) < PARALLEL_DELIVERY:
        return deliver_pending(year, stages=stages)
    from lianchuang.tasks import workers

    worker = workers.submit(_deliver_in_worker, workers.app_job(year=year, stages=list(stages)))
    report = deliver_pending(year, stages=stages, shard=(0, 2))
    other = DeliveryReport(**worker.result())
    return DeliveryReport(delivered=report.delivered + other.delivered, failed=report.failed + other.failed,
                          deferred=_count_queued(year, stages) if report.deferred or other.deferred else 0,
                          errors=(report.errors + other.errors)[:10])


def _deliver_in_worker(job: dict) -> dict:
    from dataclasses import asdict

    from lianchuang.tasks import workers

    with workers.app_context(job):
        return asdict(deliver_pending(job["year"], stages=tuple(job["stages"]), shard=(1, 2)))


def _queued(year: int | None, stages: tuple[str, ...]) -> list:
    """The conditions that pick the queued notices of a year and of some stages (all when empty)."""
    conditions = [Notice.status == NoticeStatus.queued]
    if year is not None:
        conditions.append(Notice.year == year)
    if stages:
        conditions.append(Notice.stage.in_(stages))
    return conditions


CLAIM = timedelta(minutes=15)  # ample for a batch by SMTP; a killed deliverer's notices wait this long
CLAIM_BATCH = 500


def claim_rows(model, conditions: list, limit: int) -> list[int]:
    """Take up to `limit` rows meeting `conditions` that no other deliverer holds, in one statement:
    on PostgreSQL the rows another deliverer is claiming are skipped (FOR UPDATE SKIP LOCKED);
    SQLite runs one writer at a time, so the UPDATE is atomic there. Returns their ids."""
    from lianchuang.models.db import session_scope

    now = datetime.now(UTC).replace(tzinfo=None)
    free = (select(model.id).where(*conditions, or_(model.claimed_until.is_(None), model.claimed_until < now))
            .order_by(model.id).limit(limit).with_for_update(skip_locked=True))
    with session_scope() as session:
        return session.scalars(update(model).where(model.id.in_(free)).values(claimed_until=now + CLAIM)
                               .returning(model.id), execution_options={"synchronize_session": False}).all()


def release(model, ids: list[int]) -> None:
    """Give back claimed rows not sent (a transient failure, an interruption): the next run takes them."""
    from lianchuang.models.db import session_scope

    if ids:
        with session_scope() as session:
            session.execute(update(model).where(model.id.in_(ids)).values(claimed_until=None))


def _claim(year: int | None, stages: tuple[str, ...], shard: tuple[int, int]) -> list[Notice]:
    """The next batch of queued notices (of a year, stages and shard) for this deliverer alone."""
    from lianchuang.models.db import session_scope

    conditions = _queued(year, stages) + ([Notice.id % shard[1] == shard[0]] if shard[1] > 1 else [])
    ids = claim_rows(Notice, conditions, CLAIM_BATCH)
    with session_scope() as session:
        return session.scalars(select(Notice).where(Notice.id.in_(ids)).order_by(Notice.id)).all() if ids else []


def deliver_pending(year: int | None = None, channel=None, shard: tuple[int, int] = (0, 1),
                    stages: tuple[str, ...] = ()) -> DeliveryReport:
    """Deliver every queued notice (of a year and stages, or all; with shard (i, n), those whose id % n is i),
    claiming each batch first, so that deliverers running at once never send one notice twice, and
    recording each outcome in its own short transaction, so that a crash loses nothing and re-sends
    at most what was not yet recorded."""
    settings = get_settings()
    report = DeliveryReport()
    channel = channel or channel_for(settings)
    with channel:
        while batch := _claim(year, stages, shard):
            sent: list[int] = []
            for position, notice in enumerate(batch):
                try:
                    channel.send(notice)
                except PermanentFailure as failure:
                    _record(sent, channel)
                    _record_failure(notice.id, str(failure), NoticeStatus.failed)
                    report.failed += 1
                    report.note(f"{notice.recipient_email}: {failure}")
                    continue
                except TransientFailure as failure:
                    _record(sent, channel)
                    _record_failure(notice.id, str(failure), NoticeStatus.queued)
                    release(Notice, [n.id for n in batch[position:]])
                    report.deferred = _count_queued(year)
                    report.note(f"服务器暂时不可用（{failure}），其余通知留待下次发送")
                    return report
                except BaseException:  # Ctrl+C: what was sent is recorded, the rest given back
                    _record(sent, channel)
                    release(Notice, [n.id for n in batch[position:]])
                    raise
                sent.append(notice.id)
                report.delivered += 1
                if len(sent) >= channel.commit_every:
                    _record(sent, channel)
            _record(sent, channel)
    return report


def _record(sent: list[int], channel) -> None:
    from lianchuang.models.db import session_scope

    if sent:
        with session_scope() as session:
            session.execute(update(Notice).where(Notice.id.in_(sent))
                            .values(status=NoticeStatus.sent, attempts=Notice.attempts + 1, delivered_at=clock.now(),
                                    last_error=None, claimed_until=None))
        sent.clear()


def _record_failure(notice_id: int, error: str, status: NoticeStatus) -> None:
    from lianchuang.models.db import session_scope

    with session_scope() as session:
        session.execute(update(Notice).where(Notice.id == notice_id)
                        .values(status=status, attempts=Notice.attempts + 1, last_error=error[:1000], claimed_until=None))


def _count_queued(year: int | None, stages: tuple[str, ...] = ()) -> int:
    from sqlalchemy import func

    from lianchuang.models.db import session_scope

    with session_scope() as session:
        return session.scalar(select(func.count()).where(*_queued(year, stages)))


def requeue_failed(session: Session) -> int:
    """Put failed notices back in the queue, addressed to each person's current email: a retry
    usually follows a corrected address (`org import`). Someone whose email was removed gets the
    notice on paper instead."""
    from lianchuang.models import Person

    current = select(Person.email).where(Person.id == Notice.person_id).scalar_subquery()
    failed = (Notice.status == NoticeStatus.failed) & Notice.person_id.is_not(None)
    session.execute(update(Notice).where(failed).values(recipient_email=current))
    session.execute(update(Notice).where(failed, Notice.recipient_email.is_(None)).values(status=NoticeStatus.printed))
    return session.execute(update(Notice).where(Notice.status == NoticeStatus.failed)
                           .values(status=NoticeStatus.queued)).rowcount
