"""Opinions gathered, joint meetings, and the tasks they became (with co-organisers and milestones)."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lianchuang.models.base import Base, enum_column
from lianchuang.models.enums import Category, Channel, OpinionStatus, UnitKind
from lianchuang.models.org import Community, Person, Unit


class Meeting(Base):
    """A joint meeting (联席会) that decided suggestions, or a division meeting."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("cycle_id", "community_id", "kind", "held_on"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="joint")
    held_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[str] = mapped_column(Text, default="")  # "驻区单位:5; 群团组织:2; ..."


class Task(Base):
    """A task of the year (社区工作任务), with its card: goal, deadline, owners."""

    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("cycle_id", "code"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    category: Mapped[Category] = enum_column(Category)
    title: Mapped[str] = mapped_column(String(255))
    goal: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date | None] = mapped_column(Date)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    responsible_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    liaison_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    assigned_manually: Mapped[bool] = mapped_column(default=False)
    assignment_reason: Mapped[str | None] = mapped_column(String(255))

    community: Mapped[Community] = relationship()
    lead_unit: Mapped[Unit | None] = relationship()
    responsible: Mapped[Person | None] = relationship(foreign_keys=[responsible_person_id])
    liaison: Mapped[Person | None] = relationship(foreign_keys=[liaison_person_id])
    milestones: Mapped[list["Milestone"]] = relationship(order_by="Milestone.due_month")


class TaskCoUnit(Base):
    """A co-organising unit (协办单位) of a task."""

    __tablename__ = "task_co_unit"
    __table_args__ = (UniqueConstraint("task_id", "unit_id"),)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)


class Milestone(Base):
    """A step of a task, due by the end of a month, with the percent complete planned by then."""

    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("task_id", "due_month"),)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    due_month: Mapped[int]
    target_percent: Mapped[int]


class CommittedMilestone(Base):
    """A task's step as it stood when its community's commitments were published: the baseline
    (承诺时) the board shows beside the steps now, when they were changed afterwards."""

    __tablename__ = "committed_milestone"
    __table_args__ = (UniqueConstraint("task_id", "due_month"),)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    due_month: Mapped[int]
    target_percent: Mapped[int]


class Opinion(Base):
    """A suggestion from one of the six kinds of source, and what the joint meeting made of it."""

    __tablename__ = "opinion"
    __table_args__ = (UniqueConstraint("cycle_id", "fingerprint"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    source_kind: Mapped[UnitKind] = enum_column(UnitKind)
    channel: Mapped[Channel] = enum_column(Channel)
    submitter_name: Mapped[str | None] = mapped_column(String(64))  # None: anonymous
    submitter_contact: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    submitted_on: Mapped[date] = mapped_column(Date)
    fingerprint: Mapped[str] = mapped_column(String(64))  # same row imported twice → same fingerprint
    status: Mapped[OpinionStatus] = enum_column(OpinionStatus, default=OpinionStatus.pending, index=True)
    proposed_category: Mapped[Category | None] = enum_column(Category, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    merge_into_code: Mapped[str | None] = mapped_column(String(40))  # the task code it joins when merged
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    community: Mapped[Community] = relationship()
    task: Mapped[Task | None] = relationship()
