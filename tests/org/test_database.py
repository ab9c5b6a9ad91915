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


def test_the_migrations_build_exactly_the_models(settings):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with get_engine(settings.db_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_reports_kept_before_order_keys_get_theirs(tmp_path):
    from datetime import date

    from alembic import command
    from sqlalchemy import text

    from lianchuang.models.db import alembic_config
    from lianchuang.models.follow_up import report_order

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0005")
    with get_engine(url).begin() as connection:
        connection.execute(text("INSERT INTO district (id, code, name) VALUES (1, 'D', 'd')"))
        connection.execute(text("INSERT INTO cycle (id, year) VALUES (1, 2026)"))
        connection.execute(text("INSERT INTO street (id, code, name, district_id) VALUES (1, 'S', 's', 1)"))
        connection.execute(text("INSERT INTO community (id, code, name, street_id) VALUES (1, 'C', 'c', 1)"))
        connection.execute(text("INSERT INTO task (id, cycle_id, code, community_id, category, title, assigned_manually) "
                                "VALUES (1, 1, 'C-001', 1, 'services', 't', 0)"))
        connection.execute(text("INSERT INTO progress_report (task_id, reported_on, month, percent, funds_yuan, matters_handled) "
                                "VALUES (1, '2026-03-02', 2, 40, 0, 0)"))
    upgrade_database(url)
    with get_engine(url).connect() as connection:
        assert connection.execute(text("SELECT order_key FROM progress_report")).scalar() == report_order(2, date(2026, 3, 2))
