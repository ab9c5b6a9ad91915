"""A new data folder's Prefect database starts from the shipped empty, migrated one (Prefect's ~110
migrations took 7 s of the first command's 19.5 s), only where Prefect keeps its data in the folder
and only at a revision the installed Prefect knows."""

import sqlite3

from lianchuang.flows import local_server


def test_a_new_folder_gets_a_migrated_prefect_database_at_a_known_revision(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    for name in ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL"):
        monkeypatch.delenv(name, raising=False)
    local_server._seed_database()
    with sqlite3.connect(tmp_path / "prefect.db") as connection:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert local_server._known_revision(revision) and {"flow_run", "deployment", "automation"} <= tables
    assert not (tmp_path / "prefect.db.seed").exists()


def test_an_existing_or_separate_prefect_database_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    (tmp_path / "prefect.db").write_bytes(b"runs of a year")
    local_server._seed_database()
    assert (tmp_path / "prefect.db").read_bytes() == b"runs of a year"
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(other))
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://prefect@db/prefect")
    local_server._seed_database()
    assert not (other / "prefect.db").exists()


def test_an_unknown_revision_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL", raising=False)
    monkeypatch.setattr(local_server, "_known_revision", lambda revision: False)
    local_server._seed_database()
    assert not (tmp_path / "prefect.db").exists() and not (tmp_path / "prefect.db.seed").exists()


def test_the_seed_has_the_block_types_registered_and_says_so_only_for_the_prefect_that_wrote_it(tmp_path, monkeypatch):
    """Registering Prefect's block types took 2 s of a new folder's server start: the seed has them,
    so its first start skips that, but only where the installed Prefect wrote the seed."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL", raising=False)
    assert local_server._seed_database()
    with sqlite3.connect(tmp_path / "prefect.db") as connection:
        slugs = {slug for (slug,) in connection.execute("SELECT slug FROM block_type")}
    assert "secret" in slugs and len(slugs) > 40  # the app's SMTP password and chat keys are Secret blocks
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(other))
    (tmp_path / "version").write_text("3.0.0\n")
    monkeypatch.setattr(local_server, "TEMPLATE_VERSION", tmp_path / "version")
    assert not local_server._seed_database() and (other / "prefect.db").exists()  # seeded, but registered as usual


def test_whether_a_server_is_named_is_known_without_prefect_where_no_file_could_name_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert not local_server._server_named()
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    assert local_server._server_named()
