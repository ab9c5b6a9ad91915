"""The outbox as a coordinator looks at it: recent notices, and one notice in full."""

from lianchuang.errors import UserError
from lianchuang.models import Notice
from lianchuang.models.db import session_scope
from lianchuang.models.enums import NoticeStatus
from lianchuang.models.queries import outbox
from lianchuang.tasks.outbox.drafts import without_secret

UNSHOWN_CODE = "（评议码只在发给本人的邀请或评议票上，系统不保存）"


def recent_notices(status: NoticeStatus | None, year: int | None, limit: int) -> list[dict]:
    with session_scope() as session:
        return outbox(session, status, year, limit)


def collect_paper(year: int, since) -> tuple[str | None, dict[str, int]]:
    from lianchuang import clock
    from lianchuang.tasks.outbox.print_pages import collect_to_print, write_print_batches

    with session_scope() as session:
        write_print_batches(session, year)
        page, counts = collect_to_print(session, year, since, clock.today())
        return (str(page) if page else None), counts


def notice_in_full(notice_id: int) -> dict:
    with session_scope() as session:
        notice = session.get(Notice, notice_id)
        if notice is None:
            raise UserError(f"没有编号为 {notice_id} 的通知（用 `lianchuang outbox list` 查看）")
        return dict(recipient=notice.recipient_name, email=notice.recipient_email, subject=notice.subject,
                    status=notice.status.label, attempts=notice.attempts, error=notice.last_error,
                    message_id=notice.message_id, body=without_secret(notice, notice.body.text, UNSHOWN_CODE))  # a queued invitation's code stays unseen
