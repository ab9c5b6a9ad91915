"""Roles on PostgreSQL for tests: the command as a user types it, a login per role (`users add`), and
the district's scopes; the fixtures are imported by the tests that use them."""

import os
import re
import subprocess
import sys
import uuid

import pytest
from factories import add_task_per_community
from sqlalchemy import create_engine, func, select, text

from lianchuang.models import Community, Person, ProgressReport, Street, Task
from lianchuang.models.db import normalise_url, session_scope
from lianchuang.models.enums import Role


def lianchuang(settings, *args, url: str | None = None) -> subprocess.CompletedProcess:
    """The command as a user types it; a flow it runs starts this test's data folder's own Prefect
    server (not one named by an earlier test's PREFECT_HOME), which the settings fixture stops."""
    env = {name: value for name, value in os.environ.items() if name not in ("PREFECT_HOME", "PREFECT_API_URL")}
    env |= {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": url or settings.db_url, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "lianchuang.cli", *args], env=env, capture_output=True, text=True, timeout=120)


def reports() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(ProgressReport))


@pytest.fixture
def scopes(district, settings):
    """The tasks and coordinators of the district: (community coordinator, their street's other community,
    another street's community) with one task each, and the street's and the district's coordinators."""
    if not settings.db_url.startswith("postgresql"):
        pytest.skip("row-level security needs PostgreSQL (LIANCHUANG_TEST_DATABASE_URL)")
    add_task_per_community()
    with session_scope() as session:
        person = lambda role: session.scalars(select(Person).where(Person.role == role).order_by(Person.code)).first()  # noqa: E731
        community_coordinator = person(Role.community_coordinator)
        home = session.get(Community, community_coordinator.community_id)
        task_of = lambda community_id: session.scalar(select(Task.code).where(Task.community_id == community_id))  # noqa: E731
        neighbour = session.scalar(select(Community.id).where(Community.street_id == home.street_id, Community.id != home.id))
        other_street = session.scalar(select(Community.id).join(Street).where(Street.id != home.street_id))
        street_coordinator = session.scalars(select(Person).where(Person.role == Role.street_coordinator,
                                                                  Person.street_id == home.street_id)).first()
        return dict(community=(community_coordinator.name, home.code), street=street_coordinator.name,
                    district=person(Role.district_coordinator).name,
                    own=task_of(home.id), neighbour=task_of(neighbour), far=task_of(other_street))


def add_user(settings, name: str, role: str) -> tuple[str, str]:
    """`users add` as the administrator; returns (login, the connection URL it printed)."""
    login = f"lc_t{uuid.uuid4().hex[:10]}"
    done = lianchuang(settings, "users", "add", name, "--role", role, "--login", login)
    assert done.returncode == 0, done.stderr
    url = re.search(r"LIANCHUANG_DATABASE_URL=(\S+)", done.stdout).group(1)
    return login, url


@pytest.fixture
def logins():
    made = []
    yield made
    if not made:  # on SQLite the test was skipped before making any (its fixtures in any order)
        return
    engine = create_engine(normalise_url(os.environ["LIANCHUANG_TEST_DATABASE_URL"]), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for login in made:
            connection.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
    engine.dispose()


