"""The three-level organisation tree (district → street → community), its parties and people."""

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lianchuang.models.base import Base, enum_column
from lianchuang.models.enums import Role, UnitKind, UserRole


class District(Base):
    __tablename__ = "district"
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str]
    streets: Mapped[list["Street"]] = relationship(back_populates="district", order_by="Street.code")


class Street(Base):
    __tablename__ = "street"
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str]
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    district: Mapped[District] = relationship(back_populates="streets")
    communities: Mapped[list["Community"]] = relationship(back_populates="street", order_by="Community.code")


class Community(Base):
    __tablename__ = "community"
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str]
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    street: Mapped[Street] = relationship(back_populates="communities")


class Unit(Base):
    """A party of a community: a unit, an organisation, or a group such as 社区群众."""

    __tablename__ = "unit"
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str]
    kind: Mapped[UnitKind] = enum_column(UnitKind, index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    strengths: Mapped[str] = mapped_column(String(255), default="")  # Category values, comma-separated
    capacity: Mapped[int] = mapped_column(default=3)  # how many tasks it can lead in a year
    community: Mapped[Community] = relationship()


class Person(Base):
    """Anyone the cycle speaks to. Coordinators have a street or district scope instead of a community."""

    __tablename__ = "person"
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = enum_column(Role, index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[Unit | None] = relationship()


class AppUser(Base):
    """A database login acting for one level of the tree: PostgreSQL's row-level security lets it
    write only its district's, street's, community's or unit's rows (tasks/access.py)."""

    __tablename__ = "app_user"
    login: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[UserRole] = enum_column(UserRole)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
