"""The yearly cycle and where each community stands in each stage."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianchuang.models.base import Base, enum_column
from lianchuang.models.enums import Stage, StageStatus


class Cycle(Base):
    __tablename__ = "cycle"
    year: Mapped[int] = mapped_column(unique=True)
    code_salt: Mapped[str | None] = mapped_column(String(32))  # for the evaluators' code hashes


class DistrictEvaluation(Base):
    """A district's close of the year's evaluation: each district of a province closes its own,
    on its own day, and its objection period runs from then. Results stay hidden until then."""

    __tablename__ = "district_evaluation"
    __table_args__ = (UniqueConstraint("cycle_id", "district_id"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    closed_on: Mapped[date] = mapped_column(Date)
    objection_deadline: Mapped[date] = mapped_column(Date)


class StageState(Base):
    __tablename__ = "stage_state"
    __table_args__ = (UniqueConstraint("cycle_id", "community_id", "stage"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    stage: Mapped[Stage] = enum_column(Stage)
    status: Mapped[StageStatus] = enum_column(StageStatus, default=StageStatus.not_started)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)


class RuleScheme(Base):
    """A version of a district's rules for a year (tasks/rules.py: weights, award tiers, shares,
    fixed and minimum amounts), as JSON; the latest version is in force."""

    __tablename__ = "rule_scheme"
    __table_args__ = (UniqueConstraint("district_id", "year", "version"),)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    year: Mapped[int]
    version: Mapped[int]
    rules: Mapped[str] = mapped_column(Text)
    adopted_at: Mapped[datetime] = mapped_column(DateTime)
    adopted_by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(255))  # the sheet it was imported from
