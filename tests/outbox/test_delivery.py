import email
from collections import Counter
from datetime import date
from email import policy

import pytest
from smtp_server import SmtpServer
from sqlalchemy import select

from lianchuang import clock
from lianchuang.models import Notice
from lianchuang.models.db import session_scope
from lianchuang.models.enums import NoticeStatus
from lianchuang.settings import get_settings, reset_settings
from lianchuang.tasks.outbox import delivery, drafts as outbox, mime, print_pages


def draft(number=1, **overrides):
    fields = dict(year=2026, stage="progress", template="overdue", recipient_key=f"P{number}",
                  recipient_name="王建国", recipient_email=f"wang{number}@example.cn",
                  context=dict(year=2026, through_month=6, tasks=[["T-001", "江滨社区", "夜间巡逻", "6月：过半", "50%", "20%"]]))
    return outbox.Draft(**(fields | overrides))


def queue(*drafts):
    with session_scope() as session:
        return outbox.queue(session, list(drafts))


def statuses():
    with session_scope() as session:
        return Counter(session.scalars(select(Notice.status)))


def maildir_messages(settings):
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted((settings.maildir / "new").iterdir())]


def test_a_notice_is_queued_once_per_key_and_delivered_once(settings):
    assert queue(draft(), draft()) == 1
    assert queue(draft()) == 0
    assert delivery.deliver_pending().delivered == 1
    assert delivery.deliver_pending().delivered == 0
    assert len(maildir_messages(settings)) == 1


def test_the_maildir_message_has_chinese_text_and_both_parts_intact(settings):
    queue(draft())
    delivery.deliver_pending()
    message, = maildir_messages(settings)
    assert message["Subject"] == "【逾期提醒】您负责的 1 项任务落后于实施步骤（截至6月底）"
    assert message["To"].addresses[0].display_name == "王建国"
    assert "Subject: =?utf-8?" in message.as_string()  # encoded for transport (RFC 2047)
    text = message.get_body(("plain",)).get_content()
    assert "王建国：" in text and "T-001 | 江滨社区 | 夜间巡逻 | 6月：过半 | 50% | 20%" in text and "<table" not in text
    assert "江滨社区" in message.get_body(("html",)).get_content()


def test_long_subjects_and_names_are_encoded_in_short_words_that_decode_to_the_original():
    subject = "【月度排名】2026年10月" + "列东街道江滨社区😀" * 8 + " (ASCII tail)"
    name = "欧阳·建国 Jr."
    raw = f"From: a@example.cn\nTo: {mime._address(name, 'x@example.cn')}\nSubject: {mime.encoded_words(subject)}\n\n"
    assert all(len(line) <= 78 for line in raw.splitlines())
    message = email.message_from_string(raw, policy=policy.default)
    assert message["Subject"] == subject
    assert message["To"].addresses[0].display_name == name
    assert mime.encoded_words("plain ASCII") == "plain ASCII"


def test_a_maildir_message_written_before_a_crash_is_not_written_again(settings):
    queue(draft())
    delivery.deliver_pending()
    with session_scope() as session:  # as if the process died before recording the delivery
        session.execute(Notice.__table__.update().values(status=NoticeStatus.queued))
    delivery.deliver_pending()
    assert len(maildir_messages(settings)) == 1


def test_html_is_escaped_and_headers_cannot_be_injected(settings):
    queue(draft(recipient_name="坏人\r\nBcc: victim@example.cn",
                context=draft().context | {"tasks": [["T", "江滨社区", "<script>alert(1)</script>\r\nBcc: x@y.cn", "6月", "50%", "0%"]]}))
    delivery.deliver_pending()
    message, = maildir_messages(settings)
    assert message["Bcc"] is None
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_people_without_email_get_a_printable_page(settings):
    clock.set_today(date(2026, 11, 26))  # the batch is dated by the app's clock, never by the day the suite runs
    queue(draft(recipient_email=None, community_id=None))
    assert delivery.deliver_pending().delivered == 0
    assert statuses() == {NoticeStatus.printed: 1}
    with session_scope() as session:
        assert print_pages.write_print_batches(session, 2026) == 1
    [page] = (settings.print_dir / "2026").glob("*/区级.html")  # a dated folder per batch: "<day> <stage>"
    text = page.read_text(encoding="utf-8")
    assert "王建国" in text and "签收" in text and "请勿直接回复" not in text
    assert page.parent.name.startswith("2026-11-26 ")
    with session_scope() as session:
        collected, counts = print_pages.collect_to_print(session, 2026, None, date(2026, 11, 26))
        assert counts == {"区级": 1} and "王建国" in collected.read_text(encoding="utf-8")
        assert print_pages.collect_to_print(session, 2026, None, date(2026, 11, 27)) == (None, {})  # nothing new since


def test_addresses_are_checked():
    assert outbox.is_valid_email("wang@example.cn")
    assert not outbox.is_valid_email("wang@localhost")
    assert not outbox.is_valid_email("not an email")
    assert not outbox.is_valid_email("a@b.cn\r\nBcc: c@d.cn")


# ---- SMTP, against a real server on loopback ----

@pytest.fixture
def smtp(settings, monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setenv("LIANCHUANG_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("LIANCHUANG_SMTP_PORT", str(server.port))
        monkeypatch.setenv("LIANCHUANG_SMTP_BACKOFF", "0.01")
        monkeypatch.setenv("LIANCHUANG_MAIL_FROM", "街道党工委 <dangwei@example.cn>")
        monkeypatch.setenv("LIANCHUANG_REPLY_TO", "lianluo@example.cn")
        reset_settings()
        yield server.recorder
    reset_settings()


def test_smtp_messages_arrive_with_recipients_headers_and_chinese_intact(smtp):
    queue(draft(1), draft(2, recipient_name="林秀英"))
    report = delivery.deliver_pending()
    assert report.delivered == 2 and statuses() == {NoticeStatus.sent: 2}
    (recipients, message), (second_recipients, _) = smtp.messages
    assert recipients == ["wang1@example.cn"] and second_recipients == ["wang2@example.cn"]
    assert message["From"].addresses[0].display_name == "街道党工委"
    assert message["Reply-To"] == "lianluo@example.cn"
    assert message["Subject"] == "【逾期提醒】您负责的 1 项任务落后于实施步骤（截至6月底）"
    assert message.get_body(("plain",)).get_content().startswith("王建国：")
    assert "夜间巡逻" in message.get_body(("html",)).get_content()
    assert smtp.connections == 1  # one connection serves the whole batch


def test_a_refused_address_is_recorded_and_not_retried(smtp):
    smtp.refuse.add("wang2@example.cn")
    queue(draft(1), draft(2), draft(3))
    report = delivery.deliver_pending()
    assert (report.delivered, report.failed) == (2, 1)
    with session_scope() as session:
        failed = session.scalars(select(Notice).where(Notice.status == NoticeStatus.failed)).one()
    assert failed.recipient_email == "wang2@example.cn" and "550" in failed.last_error
    assert delivery.deliver_pending().delivered == 0  # not retried
    assert len(smtp.messages) == 2


def test_a_dropped_connection_mid_batch_resends_at_most_the_one_in_flight(smtp):
    smtp.drop_after_data.add(3)
    queue(*(draft(n) for n in range(1, 7)))
    report = delivery.deliver_pending()
    assert report.delivered == 6 and statuses() == {NoticeStatus.sent: 6}
    counts = Counter(smtp.message_ids)
    assert len(counts) == 6 and sorted(counts.values()) == [1, 1, 1, 1, 1, 2]


class KilledAfter:
    """Sends for real, then 'kills the process' right after the n-th message left."""

    def __init__(self, channel, n):
        self.channel, self.n, self.sent = channel, n, 0
        self.commit_every = channel.commit_every

    def __enter__(self):
        self.channel.__enter__()
        return self

    def __exit__(self, *exc):
        self.channel.__exit__(*exc)

    def send(self, notice):
        self.channel.send(notice)
        self.sent += 1
        if self.sent == self.n:
            raise KeyboardInterrupt


def test_a_delivery_killed_mid_batch_resumes_and_loses_nothing(smtp):
    queue(*(draft(n) for n in range(1, 9)))
    with pytest.raises(KeyboardInterrupt):
        delivery.deliver_pending(channel=KilledAfter(delivery.channel_for(get_settings()), 5))
    assert statuses()[NoticeStatus.sent] == 4  # the fifth left but was not recorded
    assert delivery.deliver_pending().delivered == 4
    counts = Counter(smtp.message_ids)
    assert len(counts) == 8 and sorted(counts.values()) == [1] * 7 + [2]  # only the one in flight went twice


def test_an_unreachable_server_defers_everything_and_a_later_flush_sends_it(settings, monkeypatch):
    server = SmtpServer()
    monkeypatch.setenv("LIANCHUANG_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LIANCHUANG_SMTP_PORT", str(server.port))  # nothing listens yet
    monkeypatch.setenv("LIANCHUANG_SMTP_BACKOFF", "0.01")
    reset_settings()
    queue(draft(1), draft(2))
    report = delivery.deliver_pending()
    assert (report.delivered, report.deferred) == (0, 2) and statuses() == {NoticeStatus.queued: 2}
    with server:
        assert delivery.deliver_pending().delivered == 2
    assert len(server.recorder.messages) == 2
    reset_settings()


def test_the_smtp_password_may_come_from_a_prefect_secret_block(prefect_harness, settings, monkeypatch):
    from prefect.blocks.system import Secret

    Secret(value="s3cret-口令").save("lianchuang-smtp-test", overwrite=True)
    monkeypatch.setenv("LIANCHUANG_SMTP_PASSWORD_BLOCK", "lianchuang-smtp-test")
    reset_settings()
    assert delivery.smtp_password(get_settings()) == "s3cret-口令"
    monkeypatch.setenv("LIANCHUANG_SMTP_PASSWORD", "direct")
    reset_settings()
    assert delivery.smtp_password(get_settings()) == "direct"  # an explicit password wins
    reset_settings()


def test_a_retry_uses_the_corrected_address(smtp, district):
    from lianchuang.models import Person

    with session_scope() as session:
        person = session.scalars(select(Person).where(Person.email.is_not(None)).order_by(Person.code)).first()
        smtp.refuse.add(person.email)
        outbox.queue(session, [outbox.Draft.to_person(person, 2026, "progress", "overdue", draft().context)])
    assert delivery.deliver_pending().failed == 1
    with session_scope() as session:  # the coordinator corrects the address (as org import would)
        session.get(Person, person.id).email = "corrected@example.cn"
        assert delivery.requeue_failed(session) == 1
    assert delivery.deliver_pending().delivered == 1
    assert smtp.messages[-1][0] == ["corrected@example.cn"]


def test_a_large_maildir_batch_is_shared_with_a_worker_process(settings, monkeypatch):
    monkeypatch.setattr(delivery, "PARALLEL_DELIVERY", 4)
    queue(*(draft(number) for number in range(1, 10)))
    report = delivery.deliver_all()
    assert (report.delivered, report.failed, report.deferred) == (9, 0, 0)
    assert statuses() == Counter({NoticeStatus.sent: 9})  # the worker's half is recorded too
    assert len(maildir_messages(settings)) == 9
    assert delivery.deliver_all().delivered == 0


def test_two_deliverers_at_once_send_each_notice_once(smtp, monkeypatch):
    import threading

    monkeypatch.setattr(delivery, "CLAIM_BATCH", 3)  # small claims, so the two interleave
    queue(*(draft(n) for n in range(1, 41)))
    start = threading.Barrier(2)
    reports = []

    def deliverer():
        start.wait()
        reports.append(delivery.deliver_pending())

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    counts = Counter(smtp.message_ids)
    assert len(counts) == 40 and set(counts.values()) == {1}
    assert sum(r.delivered for r in reports) == 40 and all(r.delivered for r in reports)  # both took part
    assert statuses() == {NoticeStatus.sent: 40}


def test_a_killed_deliverers_claim_lapses_and_its_notices_are_sent_later(smtp, monkeypatch):
    from datetime import UTC, datetime, timedelta

    queue(*(draft(n) for n in range(1, 4)))
    claimed = delivery._claim(None, (), (0, 1))  # then the deliverer is killed: nothing recorded, nothing released
    assert len(claimed) == 3 and delivery.deliver_pending().delivered == 0  # another one leaves them alone
    later = datetime.now(UTC) + delivery.CLAIM + timedelta(seconds=1)
    monkeypatch.setattr(delivery, "datetime", type("Later", (), {"now": staticmethod(lambda tz=None: later)}))
    assert delivery.deliver_pending().delivered == 3 and len(smtp.messages) == 3
