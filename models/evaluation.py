"""The year-end joint evaluation: items, evaluators with one-time codes, ballots, results, award."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from lianchuang.models.base import Base, enum_column
from lianchuang.models.enums import Category, EvaluatorGroup, Grade


class EvaluationItem(Base):
    __tablename__ = "evaluation_item"
    __table_args__ = (UniqueConstraint("cycle_id", "code"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    code: Mapped[str] = mapped_column(String(16))
    category: Mapped[Category] = enum_column(Category)
    name: Mapped[str] = mapped_column(String(128))


class GroupWeight(Base):
    __tablename__ = "group_weight"
    __table_args__ = (UniqueConstraint("cycle_id", "group"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    group: Mapped[EvaluatorGroup] = enum_column(EvaluatorGroup)
    weight: Mapped[float] = mapped_column(Float)
    quorum: Mapped[int] = mapped_column(default=1)


class GradePoint(Base):
    """What a grade is worth in a cycle's scheme (优秀 95 by default)."""

    __tablename__ = "grade_point"
    __table_args__ = (UniqueConstraint("cycle_id", "grade"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    grade: Mapped[Grade] = enum_column(Grade)
    points: Mapped[float] = mapped_column(Float)


class Evaluator(Base):
    """The register: one person invited to evaluate the tasks of their community. Their one-time code
    is kept only as a salted hash (shown once, in the invitation or on a slip); `used_at` (the day
    only) records that they voted, never what: the ballots carry no evaluator."""

    __tablename__ = "evaluator"
    __table_args__ = (UniqueConstraint("cycle_id", "person_id"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    group: Mapped[EvaluatorGroup] = enum_column(EvaluatorGroup)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Ballot(Base):
    """One grade for one task, in the ballot box: the group and an anonymous sitting (a random token
    shared by the ballots cast with one code, so one person's grades count as one voice), no person."""

    __tablename__ = "ballot"
    __table_args__ = (UniqueConstraint("sitting", "task_id"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    sitting: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    group: Mapped[EvaluatorGroup] = enum_column(EvaluatorGroup)
    grade: Mapped[Grade] = enum_column(Grade)


class EvaluationResult(Base):
    __tablename__ = "evaluation_result"
    __table_args__ = (UniqueConstraint("cycle_id", "task_id"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    ballots: Mapped[int]
    score: Mapped[float | None] = mapped_column(Float)  # None: too few ballots, not rated


class PersonResult(Base):
    """A responsible person's result: the ballots of every task they are responsible for, tallied together."""

    __tablename__ = "person_result"
    __table_args__ = (UniqueConstraint("cycle_id", "person_id"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    tasks: Mapped[int]
    ballots: Mapped[int]
    score: Mapped[float | None] = mapped_column(Float)


class Objection(Base):
    """An objection to a published result (公示期内的异议), and how it was answered."""

    __tablename__ = "objection"
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    subject: Mapped[str] = mapped_column(String(40))  # a task code or a person code
    submitted_by: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    within_deadline: Mapped[bool]
    response: Mapped[str | None] = mapped_column(Text)
    upheld: Mapped[bool] = mapped_column(default=False, server_default=false())  # 异议成立: the result is revised
    answered_on: Mapped[date | None] = mapped_column(Date)
    answered_by: Mapped[str | None] = mapped_column(String(64))


class AwardResult(Base):
    """A community's standing for the innovation award and the funding it receives."""

    __tablename__ = "award_result"
    __table_args__ = (UniqueConstraint("cycle_id", "community_id"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    year_score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int]
    award: Mapped[str | None] = mapped_column(String(32))
    funding_yuan: Mapped[int]
    explanation: Mapped[str] = mapped_column(Text)
    rules_version: Mapped[int] = mapped_column(default=0, server_default="0")  # of the district's scheme (0: defaults)
