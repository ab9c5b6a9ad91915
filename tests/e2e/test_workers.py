"""A province on several machines, on one: `lianchuang deploy --pool` registers the stages on a
process work pool, two `lianchuang worker` processes take runs from it, and runs submitted at the
same moment publish a month once and send every email once (counted at a loopback SMTP server)."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager

import pytest
from factories import SMALL, YEAR, build_province
from smtp_server import SmtpServer
from sqlalchemy import func, select
from test_console import api, start, wait_for

from lianchuang.models import MonthlyRanking, Notice
from lianchuang.models.db import session_scope
from lianchuang.models.enums import NoticeStatus
from lianchuang.tasks.outbox import drafts as outbox
from lianchuang.tasks.progress.ranking import district_community_ids

FINAL = {"COMPLETED", "FAILED", "CRASHED"}


@pytest.fixture(scope="module")
def prefect_server(prefect_server_on_postgres):
    """Two workers and their runs write at once: the server keeps its runs in PostgreSQL, as a province's does."""
    return prefect_server_on_postgres


@contextmanager
def workers(env: dict, count: int):
    started = [subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "worker", "--pool", "province"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
               for _ in range(count)]
    try:
        yield started
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def sent_notices() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).where(Notice.status == NoticeStatus.sent))


def test_two_workers_publish_a_month_once_and_send_each_email_once(february_reported, settings, prefect_server):
    with SmtpServer() as smtp:
        env = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url,
                            "LIANCHUANG_TODAY": f"{YEAR}-03-06", "LIANCHUANG_SMTP_HOST": "127.0.0.1",
                            "LIANCHUANG_SMTP_PORT": str(smtp.port), "PREFECT_API_URL": prefect_server,
                            "PREFECT_WORKER_QUERY_SECONDS": "1"}
        deployed = subprocess.run([sys.executable, "-m", "lianchuang.cli", "deploy", "--pool", "province"], env=env,
                                  capture_output=True, text=True, timeout=180)
        assert deployed.returncode == 0 and "lianchuang worker --pool province" in deployed.stdout, deployed.stderr
        deployments = {d["name"]: d for d in api(prefect_server, "/deployments/filter", {})}
        assert deployments["monthly-ranking"]["work_pool_name"] == "province"
        with workers(env, 2):
            ranking = [start(prefect_server, deployments["ranking"], {"year": YEAR, "months": [2], "send": True}) for _ in range(2)]
            assert [wait_for(prefect_server, run, FINAL, 300)["state_type"] for run in ranking] == ["COMPLETED"] * 2
            with session_scope() as session:
                assert session.scalar(select(func.count()).select_from(MonthlyRanking)) == SMALL.communities
            ranking_emails = sent_notices()
            assert ranking_emails > 0 and len(smtp.recorder.message_ids) == ranking_emails
            assert set(Counter(smtp.recorder.message_ids).values()) == {1}

            with session_scope() as session:  # a queue for two deliverers at once
                outbox.queue(session, [outbox.Draft(year=YEAR, stage="progress", template="overdue", recipient_key=f"P{n}",
                                                    recipient_name="王建国", recipient_email=f"wang{n}@example.cn",
                                                    context=dict(year=2026, through_month=6, tasks=[["T-001", "江滨社区", "夜间巡逻", "6月：过半", "50%", "20%"]]))
                                       for n in range(60)])
            flushes = [start(prefect_server, deployments["deliver-outbox"], {}) for _ in range(2)]
            assert [wait_for(prefect_server, run, FINAL, 300)["state_type"] for run in flushes] == ["COMPLETED"] * 2
    assert sent_notices() == ranking_emails + 60
    assert len(smtp.recorder.message_ids) == ranking_emails + 60 and set(Counter(smtp.recorder.message_ids).values()) == {1}
    assert not (settings.maildir / "new").exists() or not any((settings.maildir / "new").iterdir())  # SMTP, not a folder


def test_a_district_deploys_its_own_stages_and_its_runs_keep_to_it(settings, prefect_server):
    """`deploy --district 三元区`: the district's own deployments, named with its code and kept to it;
    its ranking run publishes its month and leaves the other district's alone."""
    second = build_province()[2]
    with SmtpServer() as smtp:
        env = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url,
                            "LIANCHUANG_TODAY": f"{YEAR}-07-06", "LIANCHUANG_SMTP_HOST": "127.0.0.1",
                            "LIANCHUANG_SMTP_PORT": str(smtp.port), "PREFECT_API_URL": prefect_server,
                            "PREFECT_WORKER_QUERY_SECONDS": "1"}
        deployed = subprocess.run([sys.executable, "-m", "lianchuang.cli", "deploy", "--pool", "province", "--district", "三元区"],
                                  env=env, capture_output=True, text=True, timeout=180)
        assert deployed.returncode == 0 and "ranking-D02" in deployed.stdout, deployed.stderr
        deployments = {d["name"]: d for d in api(prefect_server, "/deployments/filter", {})}
        for name in ("monthly-ranking-D02", "ranking-D02"):
            assert deployments[name]["parameters"] == {"districts": ["D02"]}, name
        for name in ("weekly-reminders-D02", "opinions-D02", "division-D02", "commitments-D02"):
            assert deployments[name]["parameters"] == {"communities": ["D02"]}, name
        assert deployments["monthly-ranking-D02"]["schedules"], "the district's monthly schedule"
        with workers(env, 1):
            run = start(prefect_server, deployments["ranking-D02"], {"year": YEAR, "months": [6], "send": True})
            assert wait_for(prefect_server, run, FINAL, 300)["state_type"] == "COMPLETED"
    with session_scope() as session:
        published = session.scalars(select(MonthlyRanking.community_id).where(MonthlyRanking.month == 6)).all()
        assert set(published) == set(session.scalars(district_community_ids(second)))
    refused = subprocess.run([sys.executable, "-m", "lianchuang.cli", "deploy", "--pool", "province", "--district", "火星区"],
                             env=env, capture_output=True, text=True, timeout=180)
    assert refused.returncode == 2 and "找不到区“火星区”" in refused.stderr and "Traceback" not in refused.stderr


def test_a_worker_without_smtp_is_refused_with_the_reason(settings):
    env = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url}
    env.pop("LIANCHUANG_SMTP_HOST", None)
    refused = subprocess.run([sys.executable, "-m", "lianchuang.cli", "worker", "--pool", "province"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "LIANCHUANG_SMTP_HOST" in refused.stderr and "Traceback" not in refused.stderr


def children(pid: int) -> list[int]:
    return [int(p) for p in subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()]


def gone(pid: int) -> bool:
    """The process has ended, and so has every process of the group it leads (the runs it started)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] != "Z":  # a zombie has ended, only not been reaped yet
                return False
    except FileNotFoundError:
        pass
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_worker_ends_everything_it_started_on_sigterm_sigint_and_sigkill(settings, prefect_server):
    """Prefect 3.8's own worker keeps running after SIGTERM or SIGINT (taking runs with the settings
    it started with); `lianchuang worker` ends it and its group within 10 s, and with itself."""
    env = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url,
                        "LIANCHUANG_SMTP_HOST": "127.0.0.1", "PREFECT_API_URL": prefect_server}
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
        worker = subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "worker", "--pool", "signals"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while not (_pool_exists(prefect_server) and api(prefect_server, "/work_pools/signals/workers/filter", {})):
            assert time.monotonic() < deadline and worker.poll() is None, "the worker never reported to the server"
            time.sleep(1)
        [prefect_worker] = children(worker.pid)
        try:
            stopped_at = time.monotonic()
            worker.send_signal(number)  # to the command alone, as `kill PID` or Ctrl+C in its terminal
            while not (worker.poll() is not None and gone(prefect_worker)) and time.monotonic() - stopped_at < 10:
                time.sleep(0.2)
            assert worker.poll() is not None and gone(prefect_worker), f"still running 10 s after signal {number}"
        finally:  # nothing of a failed case is left to take runs
            for group in (worker.pid, prefect_worker):
                try:
                    os.killpg(group, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        api(prefect_server, "/work_pools/signals", method="DELETE")


def _pool_exists(server: str) -> bool:
    return any(pool["name"] == "signals" for pool in api(server, "/work_pools/filter", {}))
