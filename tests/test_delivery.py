import email
from email import policy

from sqlalchemy import select

from lianchuang.models import Notice
from lianchuang.models.enums import NoticeStatus
from lianchuang.tasks import delivery


def draft(**overrides):
    fields = dict(year=2026, stage="opinions", template="overdue", recipient_key="P1", recipient_name="王建国",
                  recipient_email="wang@example.cn", context=dict(community="江滨社区", task_code="T-001",
                                                                  task_title="夜间巡逻", due_month=6, milestone="过半",
                                                                  planned=50, actual=20))
    return delivery.Draft(**(fields | overrides))


def delivered_messages(settings):
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted((settings.maildir / "new").iterdir())]


def test_a_notice_is_queued_once_per_key_and_delivered_once(settings, session):
    assert delivery.queue(session, [draft(), draft()]) == 1
    assert delivery.queue(session, [draft()]) == 0
    assert delivery.deliver_queued(session) == 1
    assert delivery.deliver_queued(session) == 0
    assert len(delivered_messages(settings)) == 1


def test_the_delivered_message_has_chinese_text_and_both_parts_intact(settings, session):
    delivery.queue(session, [draft()])
    delivery.deliver_queued(session)
    message, = delivered_messages(settings)
    assert message["Subject"] == "【逾期提醒】任务“夜间巡逻”6月节点未完成"
    assert message["To"].addresses[0].display_name == "王建国"
    assert "Subject: =?utf-8?" in message.as_string()  # encoded for transport (RFC 2047)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "王建国：" in text and "目前报告进度为 20%" in text
    assert "<table" not in text and "江滨社区" in html


def test_a_message_written_before_a_crash_is_not_written_again(settings, session):
    delivery.queue(session, [draft()])
    delivery.deliver_queued(session)
    session.execute(Notice.__table__.update().values(status=NoticeStatus.queued))  # as if the commit was lost
    delivery.deliver_queued(session)
    assert len(delivered_messages(settings)) == 1


def test_html_is_escaped_and_headers_cannot_be_injected(settings, session):
    delivery.queue(session, [draft(recipient_name="坏人\r\nBcc: victim@example.cn",
                                   context=draft().context | {"task_title": "<script>alert(1)</script>\r\nBcc: x@y.cn"})])
    delivery.deliver_queued(session)
    message, = delivered_messages(settings)
    assert message["Bcc"] is None
    assert "<script>" not in message.get_body(("html",)).get_content()
    assert "&lt;script&gt;" in message.get_body(("html",)).get_content()


def test_people_without_email_get_a_printable_page(settings, session):
    delivery.queue(session, [draft(recipient_email=None, community_id=None)])
    assert delivery.deliver_queued(session) == 0
    assert session.scalars(select(Notice.status)).one() == NoticeStatus.printed
    assert delivery.write_print_batches(session, 2026) == 1
    page = (settings.print_dir / "2026" / "区级.html").read_text(encoding="utf-8")
    assert "王建国" in page and "签收" in page


def test_addresses_are_checked():
    assert delivery.is_valid_email("wang@example.cn")
    assert not delivery.is_valid_email("wang@localhost")
    assert not delivery.is_valid_email("not an email")
    assert not delivery.is_valid_email("a@b.cn\r\nBcc: c@d.cn")
