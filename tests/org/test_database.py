from sqlalchemy import inspect, select

from lianchuang.models import Base
from lianchuang.models.db import get_engine, schema_state, upgrade_database


def test_migration_creates_every_table_of_the_model(settings):
    tables = set(inspect(get_engine(settings.db_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert schema_state(settings.db_url) == "current"


def test_upgrade_again_changes_nothing(settings):
    upgrade_database(settings.db_url)
    assert schema_state(settings.db_url) == "current"


def test_sqlite_uses_wal_and_a_busy_timeout(settings):
    if not settings.db_url.startswith("sqlite"):
        return
    with get_engine(settings.db_url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_insert_ignoring_duplicates_counts_only_the_new_rows(session):
    from lianchuang.models import District
    from lianchuang.models.db import insert_ignoring_duplicates

    assert insert_ignoring_duplicates(session, District, [dict(code="D1", name="一区"), dict(code="D2", name="二区")], ["code"]) == 2
    again = [dict(code="D2", name="二区"), dict(code="D3", name="三区"), dict(code="D1", name="一区"), dict(code="D4", name="四区")]
    assert insert_ignoring_duplicates(session, District, again, ["code"]) == 2
    assert sorted(session.scalars(select(District.code))) == ["D1", "D2", "D3", "D4"]
