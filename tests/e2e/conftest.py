"""What the command-line tests share: a real Prefect server for a module's commands (each command
would otherwise start a temporary one, 5-25 s), in its own process group, ended with its group."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

POSTGRES_HOST = "127.0.0.1:5432"  # the PostgreSQL server every machine here runs (trust auth, user postgres)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_prefect_server(home: Path, database_url: str | None = None):
    """A Prefect server on a free loopback port with its own data folder (and, given a URL, its own
    PostgreSQL database), in its own process group, ended with its group; yields its API URL."""
    port = free_port()
    env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                        "PREFECT_LOGGING_LEVEL": "WARNING",
                        # the scheduler looks for deployments to schedule every 2 s instead of every minute
                        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
                        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"}  # the UI (screenshots) talks to this server
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    env.pop("PREFECT_API_URL", None)
    with open(home / "server.log", "wb") as log:  # what the server said, for a test that finds it silent
        server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the Prefect server did not start (see {home / 'server.log'})") from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """The API URL of a Prefect server for a module's commands (SQLite, as a local data folder has)."""
    with running_prefect_server(tmp_path_factory.mktemp("prefect-home")) as url:
        yield url


@pytest.fixture(scope="module")
def prefect_server_on_postgres(tmp_path_factory):
    """A Prefect server on a PostgreSQL database of its own, as a province with several workers runs
    it: on SQLite every write of every run waits for one lock, and on a loaded machine a plain read
    of the API then waited past its timeout (Prefect #16299, #10188)."""
    from sqlalchemy import create_engine, text

    name = f"prefect_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"postgresql+psycopg://postgres@{POSTGRES_HOST}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with running_prefect_server(tmp_path_factory.mktemp("prefect-home"),
                                    f"postgresql+asyncpg://postgres@{POSTGRES_HOST}/{name}") as url:
            yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def february_reported(district, settings, tmp_path):
    """A task per community of the small district, each reported 20% for February on 2 March."""
    from factories import YEAR, add_task_per_community

    from lianchuang import clock
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.cycle import existing_cycle
    from lianchuang.tasks.progress.reports import import_progress

    codes = add_task_per_community()
    sheet = tmp_path / "progress.csv"
    sheet.write_text("\n".join(["任务编号,报告日期,完成百分比,报告月份"] + [f"{c},{YEAR}-03-02,20,2" for c in codes]),
                     encoding="utf-8")
    with clock.frozen_at(date(YEAR, 3, 2)), session_scope() as session:
        import_progress(session, existing_cycle(session, YEAR).id, YEAR, sheet)
