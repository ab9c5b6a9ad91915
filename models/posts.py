"""Posts (设岗定责): kinds of post, posts opened in a community, and the people who claimed them."""

from datetime import date

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lianchuang.models.base import Base
from lianchuang.models.org import Person


class PostKind(Base):
    __tablename__ = "post_kind"
    name: Mapped[str] = mapped_column(String(64), unique=True)
    duty: Mapped[str] = mapped_column(Text, default="")
    emergency: Mapped[bool] = mapped_column(default=False)


class Post(Base):
    __tablename__ = "post"
    __table_args__ = (UniqueConstraint("cycle_id", "community_id", "post_kind_id"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    post_kind_id: Mapped[int] = mapped_column(ForeignKey("post_kind.id"))
    capacity: Mapped[int]
    temporary: Mapped[bool] = mapped_column(default=False)
    opened_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[PostKind] = relationship()


class PostClaim(Base):
    __tablename__ = "post_claim"
    __table_args__ = (UniqueConstraint("post_id", "person_id"),)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    claimed_on: Mapped[date] = mapped_column(Date)
    person: Mapped[Person] = relationship()
