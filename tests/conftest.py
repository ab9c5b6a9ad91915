"""Fixtures: an isolated data folder and database per test (a SQLite file, or a PostgreSQL database
of its own when LIANCHUANG_TEST_DATABASE_URL is set), copied from one migrated once per run, a
small demo district, and the Prefect harness."""

import os
import shutil
import uuid
from contextlib import contextmanager

import pytest
from factories import SMALL, build_district  # noqa: F401  (re-exported for tests)
from roles import logins, scopes  # noqa: F401  (fixtures: a PostgreSQL login per role, the district's scopes)
from sqlalchemy import create_engine, make_url, text

from lianchuang import clock
from lianchuang.models.db import get_engine, normalise_url, session_scope, upgrade_database
from lianchuang.settings import get_settings, reset_settings

POSTGRES_URL = os.environ.get("LIANCHUANG_TEST_DATABASE_URL")
# The day every test runs on, unless it pins its own (clock.frozen_at, LIANCHUANG_TODAY): the suite
# never depends on the day it is run (`python benchmarks/...` aside). A late day of the year, when
# every stage has happened; a test of another season freezes the clock at its own day.
SUITE_TODAY = "2026-12-04"


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    """The app's one clock reads LIANCHUANG_TODAY: the test, the commands and the Prefect runs it
    starts (they inherit the environment) all see the same day, whatever the machine's date."""
    monkeypatch.setenv("LIANCHUANG_TODAY", SUITE_TODAY)
    reset_settings()
    clock.set_today(None)
    yield
    clock.set_today(None)
    reset_settings()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """The schema, migrated once per run (all the migrations cost each test 0.3-1 s): a SQLite file
    copied for each test, or a PostgreSQL database each test's database is created from (TEMPLATE)."""
    if not POSTGRES_URL:
        template = tmp_path_factory.mktemp("template") / "migrated.db"
        upgrade_database(f"sqlite:///{template}")  # alembic's own engine, disposed: the file is whole (no WAL)
        yield template
        return
    name = f"lc_template_{uuid.uuid4().hex[:12]}"
    with _server() as server:
        server.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade_database(_database(name))  # alembic disposes its engine: nobody is connected to the template
    yield name
    with _server() as server:
        server.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(tmp_path, migrated_template):
    """This test's own database, with the current schema."""
    if not POSTGRES_URL:
        shutil.copyfile(migrated_template, tmp_path / "test.db")
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    name = f"lc_test_{uuid.uuid4().hex[:12]}"
    with _server() as server:
        server.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"'))
    yield _database(name)
    get_engine.cache_clear()
    with _server() as server:
        server.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _server():
    """A connection to the PostgreSQL server of LIANCHUANG_TEST_DATABASE_URL, outside any transaction."""
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            yield connection
    finally:
        admin.dispose()


def _database(name: str) -> str:
    return make_url(normalise_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def settings(tmp_path, database_url, monkeypatch):
    """Settings pointing at this test's data folder and database, with the schema created."""
    monkeypatch.setenv("LIANCHUANG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LIANCHUANG_DATABASE_URL", database_url)
    reset_settings()
    yield get_settings()
    stop_local_server(tmp_path / "data" / "prefect", monkeypatch)
    clock.set_today(None)
    get_engine(get_settings().db_url).dispose()
    reset_settings()


def stop_local_server(home, monkeypatch) -> None:
    """A command run by a test without PREFECT_API_URL starts the data folder's server: end it."""
    from lianchuang.flows import local_server

    if (home / "server.json").exists():
        monkeypatch.setenv("PREFECT_HOME", str(home))
        local_server.stop()


@pytest.fixture
def session(settings):
    with session_scope() as s:
        yield s


@pytest.fixture
def district(settings):
    """A small district loaded through the app's own loader; returns its OrgData."""
    return build_district(SMALL)


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
