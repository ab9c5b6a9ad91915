from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

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


def _old_database(tmp_path, revision: str) -> str:
    """A SQLite database at an earlier revision, with a cycle and one place (district to community)."""
    from alembic import command
    from sqlalchemy import text

    from lianchuang.models.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), revision)
    with get_engine(url).begin() as connection:
        connection.execute(text("INSERT INTO district (id, code, name) VALUES (1, 'D', 'd')"))
        connection.execute(text("INSERT INTO cycle (id, year) VALUES (1, 2026)"))
        connection.execute(text("INSERT INTO street (id, code, name, district_id) VALUES (1, 'S', 's', 1)"))
        connection.execute(text("INSERT INTO community (id, code, name, street_id) VALUES (1, 'C', 'c', 1)"))
    return url


def test_reports_kept_before_order_keys_get_theirs(tmp_path):
    from datetime import date

    from sqlalchemy import text

    from lianchuang.models.follow_up import report_order

    url = _old_database(tmp_path, "0005")
    with get_engine(url).begin() as connection:
        connection.execute(text("INSERT INTO task (id, cycle_id, code, community_id, category, title, assigned_manually) "
                                "VALUES (1, 1, 'C-001', 1, 'services', 't', 0)"))
        connection.execute(text("INSERT INTO progress_report (task_id, reported_on, month, percent, funds_yuan, matters_handled) "
                                "VALUES (1, '2026-03-02', 2, 40, 0, 0)"))
    upgrade_database(url)
    with get_engine(url).connect() as connection:
        assert connection.execute(text("SELECT order_key FROM progress_report")).scalar() == report_order(2, date(2026, 3, 2))


def test_ballots_kept_before_lose_their_evaluator_and_codes_sent_before_still_work(tmp_path):
    from sqlalchemy import text

    from lianchuang.models import Ballot, Cycle, Evaluator
    from lianchuang.tasks.evaluation.codes import code_hash

    url = _old_database(tmp_path, "0006")
    with get_engine(url).begin() as connection:
        connection.execute(text("INSERT INTO person (id, code, name, role) VALUES (1, 'P1', 'p', 'resident_rep'), "
                                "(2, 'P2', 'q', 'resident_rep')"))
        for task_id in (1, 2):
            connection.execute(text("INSERT INTO task (id, cycle_id, code, community_id, category, title, assigned_manually) "
                                    f"VALUES ({task_id}, 1, 'C-00{task_id}', 1, 'services', 't', 0)"))
        connection.execute(text("INSERT INTO evaluator (id, cycle_id, community_id, person_id, \"group\", code) VALUES "
                                "(1, 1, 1, 1, 'resident_reps', 'A1B2C3D4E5'), (2, 1, 1, 2, 'resident_reps', 'FFEE001122')"))
        connection.execute(text("INSERT INTO ballot (cycle_id, evaluator_id, task_id, \"group\", grade) VALUES "
                                "(1, 1, 1, 'resident_reps', 'good'), (1, 1, 2, 'resident_reps', 'fair'), "
                                "(1, 2, 1, 'resident_reps', 'poor')"))
    upgrade_database(url)
    with Session(get_engine(url)) as session:
        sittings = [b.sitting for b in session.scalars(select(Ballot).order_by(Ballot.id))]
        assert sittings[0] == sittings[1] != sittings[2]  # one person's ballots still one voice
        salt = session.get(Cycle, 1).code_salt
        assert session.get(Evaluator, 1).code_hash == code_hash(salt, "a1b2c3d4e5")  # the code sent before still works


def test_the_head_read_from_file_names_is_alembics_head(settings):
    from alembic.script import ScriptDirectory

    from lianchuang.models.db import alembic_config, head_revision

    assert [head_revision()] == ScriptDirectory.from_config(alembic_config(settings.db_url)).get_heads()


def test_db_upgrade_says_which_revisions_it_applied(settings):
    import os
    import subprocess
    import sys

    from alembic import command

    from lianchuang.models.db import alembic_config, drop_everything, head_revision

    drop_everything(settings.db_url)  # 0007 has no way back: a database built up to 0006
    command.upgrade(alembic_config(settings.db_url), "0006")
    assert schema_state(settings.db_url) == "outdated"

    def upgrade() -> str:
        return subprocess.run([sys.executable, "-m", "lianchuang.cli", "db", "upgrade"], capture_output=True, text=True, check=True,
                              env=os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir),
                                   "LIANCHUANG_DATABASE_URL": settings.db_url}).stdout

    assert f"已从 0006 升级到 {head_revision()}" in upgrade()
    assert "已是最新结构" in upgrade() and schema_state(settings.db_url) == "current"


def test_a_street_or_a_district_named_stands_for_its_communities(district, session):
    import pytest

    from lianchuang.errors import UserError
    from lianchuang.models import Community, District, Street
    from lianchuang.tasks.cycle import communities_in_scope

    street = session.scalars(select(Street).order_by(Street.code)).first()
    in_street = session.scalars(select(Community.code).where(Community.street_id == street.id).order_by(Community.code)).all()
    assert [c.code for c in communities_in_scope(session, [street.name])] == in_street
    assert [c.code for c in communities_in_scope(session, [street.code])] == in_street
    everyone = session.scalars(select(Community.code).order_by(Community.code)).all()
    assert [c.code for c in communities_in_scope(session, [session.scalars(select(District.name)).first()])] == everyone
    assert [c.code for c in communities_in_scope(session, [in_street[0], street.name])] == in_street  # each once
    with pytest.raises(UserError, match="找不到社区、街道或区：火星街道"):
        communities_in_scope(session, ["火星街道"])


def test_notices_kept_before_keep_their_bodies_in_a_table_of_their_own(tmp_path):
    from sqlalchemy import text

    from lianchuang.models import Notice
    from lianchuang.tasks.outbox.mime import build_message

    url = _old_database(tmp_path, "0018")
    with get_engine(url).begin() as connection:
        connection.execute(text("INSERT INTO notice (id, key, stage, template, period, recipient_name, recipient_email, "
                                "subject, body_text, body_html, message_id, status, attempts) VALUES "
                                "(7, 'k7', 'progress', 'ranking', '2026-10', '张三', 'z@example.org', '排名', "
                                "'正文', '<p>正文</p>', '<a@lianchuang>', 'queued', 0)"))
    upgrade_database(url)
    with Session(get_engine(url)) as session:
        notice = session.get(Notice, 7)
        assert (notice.body.text, notice.body.html) == ("正文", "<p>正文</p>")
        assert b"<a@lianchuang>" in build_message(notice)
    with get_engine(url).connect() as connection:
        assert "body_text" not in {column["name"] for column in inspect(connection).get_columns("notice")}
