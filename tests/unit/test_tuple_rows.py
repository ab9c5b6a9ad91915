"""tuple_rows: the rows of a SELECT as named tuples, the same values by the same names as SQLAlchemy's
rows give (which read a field by name about ten times more slowly)."""

import pytest
from sqlalchemy import create_engine, literal, select
from sqlalchemy.orm import Session

from lianchuang.models.db import plain_rows, tuple_rows


def test_named_tuples_hold_the_rows_values_by_their_labels():
    statement = select(literal(7).label("tasks"), literal("江滨社区").label("community")).union_all(
        select(literal(3), literal("碧湖社区")))
    with Session(create_engine("sqlite://")) as session:
        rows = tuple_rows(session, statement)
        assert [tuple(row) for row in rows] == [tuple(row) for row in plain_rows(session, statement)]
    assert [(row.tasks, row.community) for row in rows] == [(7, "江滨社区"), (3, "碧湖社区")]
    assert isinstance(rows[0], tuple) and rows[0]._fields == ("tasks", "community")


def test_a_label_that_cannot_be_a_field_name_is_refused_not_renamed():
    with Session(create_engine("sqlite://")) as session, pytest.raises(ValueError):
        tuple_rows(session, select(literal(1).label("class")))
