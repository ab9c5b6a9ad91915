"""The group chats a coordinator sets up: add, list, remove and test a bot for a district, street
or community. The key goes into a Prefect Secret block; the database keeps only the block's name."""

from sqlalchemy import delete, select

from lianchuang.errors import UserError
from lianchuang.models import ChatChannel, Community, District, Street
from lianchuang.models.db import session_scope
from lianchuang.tasks.org import resolve_one
from lianchuang.tasks.outbox import chats

LEVELS = {"district": (District, "区"), "street": (Street, "街道"), "community": (Community, "社区")}


def _place(session, level: str, code_or_name: str) -> tuple[str, str]:
    model, word = LEVELS[level]
    found = resolve_one(session, model, code_or_name)
    return found.code, found.name


def add_channel(level: str, place: str, platform: str, key: chats.BotKey) -> dict:
    """Add (or replace the key of) the place's bot on a platform."""
    if not key.token.strip():
        raise UserError("机器人的 key / access_token 不能为空")
    with session_scope() as session:
        code, name = _place(session, level, place)
        block = chats.block_name(platform, code)
        chats.save_key(block, key)
        channel = session.scalar(select(ChatChannel).where(ChatChannel.place_code == code, ChatChannel.platform == platform))
        replaced = channel is not None
        if channel is None:
            session.add(ChatChannel(level=level, place_code=code, place_name=name, platform=platform, secret_block=block))
        return dict(place=name, platform=chats.PLATFORMS[platform], block=block, replaced=replaced, signed=bool(key.secret))


def list_channels() -> list[dict]:
    with session_scope() as session:
        found = session.scalars(select(ChatChannel).order_by(ChatChannel.place_code, ChatChannel.platform)).all()
        return [dict(place=c.place_name, level=LEVELS[c.level][1], platform=chats.PLATFORMS[c.platform], block=c.secret_block,
                     last_sent=c.last_sent_at.isoformat(timespec="seconds") + "Z" if c.last_sent_at else "")
                for c in sorted(found, key=lambda c: list(LEVELS).index(c.level))]  # district, street, community


def _channel(session, level: str, place: str, platform: str) -> ChatChannel:
    code, name = _place(session, level, place)
    channel = session.scalar(select(ChatChannel).where(ChatChannel.place_code == code, ChatChannel.platform == platform))
    if channel is None:
        raise UserError(f"{name}没有设置{chats.PLATFORMS[platform]}群机器人（查看：lianchuang channels list）")
    return channel


def remove_channel(level: str, place: str, platform: str) -> str:
    """Remove the bot, its queued messages and its key."""
    with session_scope() as session:
        channel = _channel(session, level, place, platform)
        chats.forget_key(channel.secret_block)
        name = channel.place_name
        session.execute(delete(ChatChannel).where(ChatChannel.id == channel.id))
        return name


def test_channel(level: str, place: str, platform: str) -> str:
    """Send a test message to the bot now (paced like any other); a refusal is a user error."""
    import time

    with session_scope() as session:
        channel = _channel(session, level, place, platform)
        channel_id, block, name = channel.id, channel.secret_block, channel.place_name
    url, body = chats.request_for(platform, chats.load_key(block), "联创平台测试消息",
                                  f"这是{name}{chats.PLATFORMS[platform]}群机器人的测试消息。收到说明设置正确：每月排名和紧急通知会发到这个群。",
                                  [], time.time())
    chats.paced(channel_id)
    try:
        chats.post(url, body)
    except (chats.PermanentFailure, chats.TransientFailure) as failure:
        raise UserError(f"{name}{chats.PLATFORMS[platform]}群机器人没有收下测试消息：{failure}。"
                        f"请检查 key/token 和签名密钥，改正后重新 lianchuang channels add") from None
    return name
