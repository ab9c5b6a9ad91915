"""Group chats: the bots of WeCom, DingTalk and Feishu groups a district, street or community
coordinator set up, and the messages queued for them (once each, paced, failures recorded)."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianchuang.models.base import Base, enum_column
from lianchuang.models.enums import NoticeStatus


class ChatChannel(Base):
    """A group bot for a place (a district, street or community, by its code). The key is never
    stored here: `secret_block` names the Prefect Secret block that holds it."""

    __tablename__ = "chat_channel"
    __table_args__ = (UniqueConstraint("place_code", "platform"),)
    level: Mapped[str] = mapped_column(String(16))  # district, street or community
    place_code: Mapped[str] = mapped_column(String(32))
    place_name: Mapped[str] = mapped_column(String(128))
    platform: Mapped[str] = mapped_column(String(16))  # wecom, dingtalk, feishu
    secret_block: Mapped[str] = mapped_column(String(128))
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC: paces the bot (about 20 a minute)


class ChatMessage(Base):
    """A message for one group; `key` makes it unique, as a notice's does."""

    __tablename__ = "chat_message"
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("chat_channel.id", ondelete="CASCADE"), index=True)
    year: Mapped[int | None]
    title: Mapped[str] = mapped_column(String(255))
    markdown: Mapped[str] = mapped_column(Text)
    mention_phones: Mapped[str] = mapped_column(Text, default="")  # comma-separated, for platforms that @ by phone
    status: Mapped[NoticeStatus] = enum_column(NoticeStatus, default=NoticeStatus.queued, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)  # as a notice's: two deliverers never send one twice
