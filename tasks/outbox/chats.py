"""Group chats: the bots of WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书) groups, for what a group
should see at once (the monthly ranking, emergency call-outs). Email stays the channel of record.

Each message is one signed POST of markdown to the group's webhook. Apprise 1.13 covers these bots
with plain text only (no markdown cards, no Feishu signature, fixed hosts), so the three requests are
written here, each a few lines, with the platforms' own signature schemes. Messages queue once by
key, are claimed like notices, paced to about 20 a minute per bot, and a failure is recorded."""

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lianchuang.models import ChatChannel, ChatMessage
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import NoticeStatus
from lianchuang.settings import get_settings
from lianchuang.tasks.outbox.delivery import DeliveryReport, PermanentFailure, TransientFailure, claim_rows, release

PLATFORMS = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}
ENDPOINTS = {
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={token}",
    "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token={token}",
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/{token}",
}
LIMITS = {"wecom": 4096, "dingtalk": 20000, "feishu": 20000}  # bytes of markdown each platform takes
RATE_LIMITED = {45009, 130101, 11232}  # WeCom, DingTalk, Feishu: "too many messages", try later
CUT = "\n\n……（全文见邮件）"


@dataclass
class BotKey:
    token: str
    secret: str | None = None


def dingtalk_signature(secret: str, timestamp_ms: int) -> str:
    """DingTalk: base64(HMAC-SHA256(key=secret, message="timestamp\\nsecret")), timestamp in ms."""
    return base64.b64encode(hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()).decode()


def feishu_signature(secret: str, timestamp_s: int) -> str:
    """Feishu: base64(HMAC-SHA256(key="timestamp\\nsecret", empty message)), timestamp in seconds."""
    return base64.b64encode(hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def fitted(markdown: str, platform: str) -> str:
    """The message within the platform's limit, cut at a line where it must be cut."""
    limit = LIMITS[platform]
    if len(markdown.encode()) <= limit:
        return markdown
    room = limit - len(CUT.encode())
    kept = markdown.encode()[:room].decode(errors="ignore")
    if "\n" in kept:
        kept = kept[:kept.rfind("\n")]
    return kept + CUT


def request_for(platform: str, key: BotKey, title: str, markdown: str, phones: list[str], now: float) -> tuple[str, dict]:
    """The webhook URL and JSON body of one message, signed when the bot has a secret."""
    url = (get_settings().chat_endpoints.get(platform) or ENDPOINTS[platform]).format(token=quote(key.token, safe=""))
    if platform == "wecom":
        return url, {"msgtype": "markdown", "markdown": {"content": fitted(f"**{title}**\n{markdown}", platform)}}
    if platform == "dingtalk":
        mentions = "".join(f" @{phone}" for phone in phones)  # DingTalk @s a phone named in the text and in atMobiles
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": fitted(f"### {title}\n{markdown}", platform) + mentions},
                "at": {"atMobiles": phones, "isAtAll": False}}
        if key.secret:
            stamp = int(now * 1000)
            url += f"&timestamp={stamp}&sign={quote(dingtalk_signature(key.secret, stamp), safe='')}"
        return url, body
    body = {"msg_type": "interactive", "card": {"header": {"title": {"tag": "plain_text", "content": title}},
                                                "elements": [{"tag": "markdown", "content": fitted(markdown, platform)}]}}
    if key.secret:
        body |= {"timestamp": str(int(now)), "sign": feishu_signature(key.secret, int(now))}
    return url, body


def post(url: str, body: dict) -> None:
    """Send one message; the platforms answer 200 with an error code of their own when they refuse."""
    import httpx

    try:
        response = httpx.post(url, json=body, timeout=get_settings().smtp_timeout)
    except httpx.HTTPError as error:
        raise TransientFailure(f"连不上：{error}") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientFailure(f"HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0 if response.is_success else response.status_code)))
    if code in RATE_LIMITED:
        raise TransientFailure(f"发送太频繁（{code}）")
    if code != 0:
        raise PermanentFailure(f"{code} {answer.get('errmsg') or answer.get('msg') or response.text[:200]}")


# ---- keys: in Prefect Secret blocks, never in the database or on screen ----

def block_name(platform: str, place_code: str) -> str:
    return f"lianchuang-chat-{platform}-{re.sub(r'[^a-z0-9]+', '-', place_code.lower()).strip('-')}"


def save_key(name: str, key: BotKey) -> None:
    from prefect.blocks.system import Secret

    Secret(value=json.dumps({"token": key.token, "secret": key.secret})).save(name, overwrite=True)


def load_key(name: str) -> BotKey:
    """The bot's key; a missing block (deleted in the Prefect UI) fails this bot's messages, not the run."""
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(name).get()  # Prefect hands a stored JSON string back parsed
    except ValueError:  # Prefect's "Unable to find block document named …"
        raise PermanentFailure(f"找不到保存 key 的 Prefect 密钥块 {name}：请重新 lianchuang channels add") from None
    return BotKey(**(json.loads(value) if isinstance(value, str) else value))


def forget_key(name: str) -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        document = client.read_block_document_by_name(name, "secret")
        client.delete_block_document(document.id)


# ---- the queue ----

def queue(session: Session, messages: list[dict]) -> int:
    """Queue messages (key, channel_id, year, title, markdown, mention_phones) once each by key."""
    return insert_ignoring_duplicates(session, ChatMessage, messages, ["key"])


def any_channel(session: Session) -> bool:
    """Whether any group chat is set up (most districts have none: their steps skip the messages)."""
    return session.scalar(select(ChatChannel.id).limit(1)) is not None


def channels_for(session: Session, place_codes: list[str]) -> list[ChatChannel]:
    return list(session.scalars(select(ChatChannel).where(ChatChannel.place_code.in_(place_codes)).order_by(ChatChannel.id)))


def paced(channel_id: int) -> None:
    """Wait until this bot may send again (about 20 a minute: its platforms refuse more), then mark it."""
    from lianchuang.models.db import session_scope

    gap = timedelta(seconds=60 / get_settings().chat_per_minute)
    with session_scope() as session:
        last = session.scalar(select(ChatChannel.last_sent_at).where(ChatChannel.id == channel_id))
    now = datetime.now(UTC).replace(tzinfo=None)
    if last is not None and last + gap > now:
        time.sleep((last + gap - now).total_seconds())  # outside the transaction: nothing waits on it
    with session_scope() as session:
        session.execute(update(ChatChannel).where(ChatChannel.id == channel_id)
                        .values(last_sent_at=datetime.now(UTC).replace(tzinfo=None)))


def _record(message_id: int, status: NoticeStatus, error: str | None = None) -> None:
    from lianchuang.models.db import session_scope

    with session_scope() as session:
        session.execute(update(ChatMessage).where(ChatMessage.id == message_id).values(
            status=status, attempts=ChatMessage.attempts + 1, last_error=error, claimed_until=None,
            sent_at=datetime.now(UTC).replace(tzinfo=None) if status == NoticeStatus.sent else None))


def deliver_pending() -> DeliveryReport:
    """Send every queued group message, paced per bot, each recorded as soon as it is sent: a killed
    run re-sends at most the one in flight; a refused one is recorded as failed, not retried."""
    from lianchuang.models.db import session_scope

    report, keys = DeliveryReport(), {}
    while ids := claim_rows(ChatMessage, [ChatMessage.status == NoticeStatus.queued], 50):
        with session_scope() as session:
            batch = session.execute(select(ChatMessage, ChatChannel).join(ChatChannel)
                                    .where(ChatMessage.id.in_(ids)).order_by(ChatMessage.id)).all()
        for position, (message, channel) in enumerate(batch):
            try:
                if channel.secret_block not in keys:
                    keys[channel.secret_block] = load_key(channel.secret_block)
                paced(channel.id)  # then signed: the signature's time is the send's
                url, body = request_for(channel.platform, keys[channel.secret_block], message.title, message.markdown,
                                        [p for p in message.mention_phones.split(",") if p], time.time())
                post(url, body)
            except PermanentFailure as failure:
                _record(message.id, NoticeStatus.failed, str(failure)[:1000])
                report.failed += 1
                report.note(f"{channel.place_name}{PLATFORMS[channel.platform]}群：{failure}")
                continue
            except TransientFailure as failure:  # the rest waits for the next delivery
                _record(message.id, NoticeStatus.queued, str(failure)[:1000])
                release(ChatMessage, [m.id for m, _ in batch[position + 1:]])
                report.deferred = len(batch) - position
                report.note(f"{channel.place_name}{PLATFORMS[channel.platform]}群暂时发不出（{failure}），下次再发")
                return report
            except BaseException:  # Ctrl+C: the rest given back
                release(ChatMessage, [m.id for m, _ in batch[position:]])
                raise
            _record(message.id, NoticeStatus.sent)
            report.delivered += 1
    return report
