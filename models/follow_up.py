"""Commitments, progress reports and the published monthly ranking."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianchuang.models.base import Base, enum_column
from lianchuang.models.enums import CommitmentKind


class Commitment(Base):
    """A unit's responsibility statement (责任状) or a person's commitment letter (承诺书)."""

    __tablename__ = "commitment"
    __table_args__ = (UniqueConstraint("cycle_id", "holder_key"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    kind: Mapped[CommitmentKind] = enum_column(CommitmentKind)
    holder_key: Mapped[str] = mapped_column(String(40))  # "unit:<code>" or "person:<code>"
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    document_path: Mapped[str | None] = mapped_column(String(512))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed_by: Mapped[str | None] = mapped_column(String(64))
    published_on: Mapped[date | None] = mapped_column(Date)


def report_order(month: int, reported_on: date) -> int:
    """A report's place among its task's reports: by the month reported on, then the day reported."""
    return month * 1_000_000 + reported_on.toordinal()


class ProgressReport(Base):
    __tablename__ = "progress_report"
    __table_args__ = (UniqueConstraint("task_id", "reported_on"), UniqueConstraint("task_id", "order_key"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    reported_on: Mapped[date] = mapped_column(Date, index=True)  # the day it was reported
    month: Mapped[int] = mapped_column(index=True)  # the month reported on (13: after the year)
    # report_order(month, reported_on): the latest report for a month up to M is one grouped
    # maximum (a window function or two grouped maxima were 2x to 100x slower on SQLite).
    order_key: Mapped[int]
    percent: Mapped[int]
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    note: Mapped[str | None] = mapped_column(Text)
    funds_yuan: Mapped[int] = mapped_column(default=0)
    matters_handled: Mapped[int] = mapped_column(default=0)


class RankingFigures:
    """A community's figures in a month's ranking: in the version standing and in one replaced."""

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    progress_score: Mapped[float] = mapped_column(Float)
    on_time_score: Mapped[float] = mapped_column(Float)
    tasks: Mapped[int]
    overdue_tasks: Mapped[int]
    rank_in_street: Mapped[int]
    rank_in_district: Mapped[int]
    rules_version: Mapped[int] = mapped_column(default=0, server_default="0")  # of the district's scheme (0: defaults)
    reported_percent: Mapped[float | None] = mapped_column(Float)  # its tasks' average reported percent at the month's end
    planned_percent: Mapped[float | None] = mapped_column(Float)  # and what their plans called for (None: ranked before 0017)
    published_on: Mapped[date] = mapped_column(Date)


class MonthlyRanking(RankingFigures, Base):
    """A community's published score and rank for a month, changed only by a public correction."""

    __tablename__ = "monthly_ranking"
    __table_args__ = (UniqueConstraint("cycle_id", "month", "community_id"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    month: Mapped[int]


class RankingOverdueTask(Base):
    """A task counted overdue in a published month's ranking, with its due and actual percent then.
    Frozen with the ranking, so the month's emails list the very tasks its figures count, however
    late a correction comes."""

    __tablename__ = "ranking_overdue_task"
    __table_args__ = (UniqueConstraint("cycle_id", "month", "task_id"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    month: Mapped[int]
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    due_percent: Mapped[int]
    actual_percent: Mapped[int]


class RankingCorrection(Base):
    """A published month's ranking published again, corrected (更正), and why. The version it
    replaced is kept in superseded_ranking."""

    __tablename__ = "ranking_correction"
    __table_args__ = (UniqueConstraint("cycle_id", "district_id", "month", "number"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))  # each district corrects its own month
    month: Mapped[int]
    number: Mapped[int]  # 1 for the district's month's first correction
    reason: Mapped[str] = mapped_column(Text)
    corrected_on: Mapped[date] = mapped_column(Date)
    corrected_by: Mapped[str] = mapped_column(String(64))


class SupersededRanking(RankingFigures, Base):
    """A community's row of a month's ranking as it stood before a correction replaced it."""

    __tablename__ = "superseded_ranking"
    __table_args__ = (UniqueConstraint("correction_id", "community_id"),)
    correction_id: Mapped[int] = mapped_column(ForeignKey("ranking_correction.id", ondelete="CASCADE"))


class RankingAudit(Base):
    """A district's integrity findings (数据核查) for a published month, or the year end (month 13),
    as JSON (tasks/progress/integrity.py): kept so the email, the board and the artifact agree."""

    __tablename__ = "ranking_audit"
    __table_args__ = (UniqueConstraint("cycle_id", "district_id", "month"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    month: Mapped[int]
    findings: Mapped[str] = mapped_column(Text)
