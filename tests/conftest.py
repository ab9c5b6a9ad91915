"""Fixtures: an isolated data folder and database per test (SQLite file, or a PostgreSQL schema of
its own when LIANCHUANG_TEST_DATABASE_URL is set), a small demo district, and the Prefect harness."""

import os
import shutil
import uuid
from pathlib import Path

import pytest
from factories import SMALL, build_district  # noqa: F401  (re-exported for tests)
from sqlalchemy import create_engine, text

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


@pytest.fixture
def database_url(tmp_path):
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    get_engine.cache_clear()
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path | None:
    """A SQLite database migrated once per run, copied for each test (0.3 s of migrations a test,
    every test): None on PostgreSQL, where each test's schema is migrated."""
    if POSTGRES_URL:
        return None
    template = tmp_path_factory.mktemp("template") / "migrated.db"
    upgrade_database(f"sqlite:///{template}")  # alembic's own engine, disposed: the file is whole (no WAL)
    return template


def migrate(url: str, template: Path | None) -> None:
    if template is None:
        upgrade_database(url)
    else:
        shutil.copyfile(template, url.removeprefix("sqlite:///"))


@pytest.fixture
def settings(tmp_path, database_url, monkeypatch, migrated_template):
    """Settings pointing at this test's data folder and database, with the schema created."""
    monkeypatch.setenv("LIANCHUANG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LIANCHUANG_DATABASE_URL", database_url)
    reset_settings()
    migrate(database_url, migrated_template)
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
