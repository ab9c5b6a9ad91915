"""The declarative base: every table has an integer id and created/updated times."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {str: String(255)}

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now(), onupdate=lambda: datetime.now(UTC).replace(tzinfo=None))


def enum_column(enum_cls, **kwargs):
    """A StrEnum stored as its plain string value (portable, readable in SQL)."""
    from sqlalchemy import Enum

    return mapped_column(Enum(enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e],
                              validate_strings=True), **kwargs)
