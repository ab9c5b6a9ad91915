"""Operating the stages on a real Prefect server: `lianchuang serve` starts no second API server and
ends with everything it started on SIGTERM or SIGINT, within 10 s, even after running a flow; the
automations email the district coordinators, by the app's outbox, when a stage's run fails (under
`serve`) and when a run is still not started after the late wait (a pool with no worker)."""

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from factories import YEAR, add_task_per_community
from roles import add_user
from smtp_server import SmtpServer
from sqlalchemy import select
from test_console import api, start, wait_for
from test_workers import gone

from lianchuang.flows.local_server import healthy
from lianchuang.models import Notice, NoticeBody, Person
from lianchuang.models.db import session_scope
from lianchuang.models.enums import Role

FINAL = {"COMPLETED", "FAILED", "CRASHED"}


def descendants(pid: int) -> list[int]:
    """Every process started, directly or not, by `pid`."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(stat.parent.name))
                todo.append(int(stat.parent.name))
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def environment(settings, server: str, **extra) -> dict:
    return os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url,
                         "LIANCHUANG_TODAY": f"{YEAR}-03-06", "LIANCHUANG_LATE_ALERT_SECONDS": "10",
                         "PREFECT_API_URL": server, **extra}


def folder_server(settings) -> str | None:
    """The API URL of the data folder's own server, once recorded."""
    from lianchuang.flows.local_server import LocalServer

    record = settings.data_dir / "prefect" / "server.json"
    return LocalServer(**json.loads(record.read_text())).url if record.exists() else None


@contextmanager
def serving(env: dict, server: str | None, settings=None):
    """`lianchuang serve` until its deployments are registered (on `server`, else on the data folder's
    own server, which serve starts); yields (process, deployments by name, the server's URL)."""
    served = subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline, deployments = time.monotonic() + 180, {}
        while time.monotonic() < deadline:
            server = server or folder_server(settings)
            if server and healthy(server):
                deployments = {d["name"]: d for d in api(server, "/deployments/filter", {})}
                if {"board", "alerts"} <= set(deployments):
                    break
            assert served.poll() is None, "serve ended before registering its deployments"
            time.sleep(1)
        yield served, deployments, server
    finally:
        try:
            os.killpg(served.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def alerts() -> list[tuple[str, str, str]]:
    with session_scope() as session:
        return session.execute(select(Notice.recipient_name, Notice.subject, NoticeBody.text).join(Notice.body)
                               .where(Notice.template == "run_alert").order_by(Notice.id)).all()


def coordinators() -> set[str]:
    with session_scope() as session:
        return set(session.scalars(select(Person.name).where(Person.role == Role.district_coordinator)))


def wait_for_alerts(seconds: int = 120) -> list:
    deadline = time.monotonic() + seconds
    while not alerts() and time.monotonic() < deadline:
        time.sleep(1)
    return alerts()


@pytest.mark.parametrize("number, shared", [(signal.SIGTERM, True), (signal.SIGINT, False)])
def test_serve_runs_alone_and_ends_everything_on_a_signal(number, shared, district, settings, prefect_server):
    """On a shared server (PREFECT_API_URL) and on the data folder's own, which serve starts and
    leaves running for the next command (`server stop` ends it): no other API server is started."""
    add_task_per_community()
    env = environment(settings, prefect_server)
    if not shared:
        env = {name: value for name, value in env.items() if name not in ("PREFECT_API_URL", "PREFECT_HOME")}
    with serving(env, prefect_server if shared else None, settings) as (served, deployments, server):
        run = wait_for(server, start(server, deployments["board"], {"year": YEAR}), FINAL)
        assert run["state_type"] == "COMPLETED"  # Prefect's runner alone ignored SIGTERM once it had run a flow
        folder = [] if shared else [json.loads((settings.data_dir / "prefect" / "server.json").read_text())["pid"]]
        folder += [p for pid in folder for p in descendants(pid)]
        started = [p for p in descendants(served.pid) if p not in folder]
        assert started and not [command_line(p) for p in started if "uvicorn" in command_line(p) or "server start" in command_line(p)]
        [child] = [p for p in started if "lianchuang.flows.schedules" in command_line(p)]
        signalled = time.monotonic()
        served.send_signal(number)  # to the command alone, as systemd's stop or Ctrl+C in its terminal
        while not (served.poll() is not None and gone(child)) and time.monotonic() - signalled < 10:
            time.sleep(0.2)
        assert served.poll() == 0 and gone(child), f"serve still running 10 s after signal {number}"
        assert not [p for p in started if Path(f"/proc/{p}").exists() and command_line(p)], "something serve started is left"


def test_a_failed_stage_run_under_serve_emails_the_district_coordinators_once(district, settings, prefect_server):
    add_task_per_community()
    with serving(environment(settings, prefect_server), prefect_server) as (_, deployments, _):
        # March has not ended on 6 March: the ranking refuses, and the run fails with the reason
        run = wait_for(prefect_server, start(prefect_server, deployments["ranking"], {"year": YEAR, "months": [3]}), FINAL)
        assert run["state_type"] == "FAILED"
        told = wait_for_alerts()
    assert {name for name, _, _ in told} == coordinators() and len(told) == len(coordinators())
    name, subject, body = told[0]
    assert subject == f"【联创提醒】“{run['name']}”失败" and "原因：" in body and run["id"] in body
    assert "Traceback" not in body


def test_a_run_no_worker_takes_is_told_after_the_late_wait_and_a_worker_sends_it(district, settings, prefect_server):
    add_task_per_community()
    with SmtpServer() as smtp:
        env = environment(settings, prefect_server, LIANCHUANG_SMTP_HOST="127.0.0.1", LIANCHUANG_SMTP_PORT=str(smtp.port))
        subprocess.run([sys.executable, "-m", "lianchuang.cli", "deploy", "--pool", "no-workers-yet"], env=env, check=True,
                       capture_output=True)
        deployments = {d["name"]: d for d in api(prefect_server, "/deployments/filter", {})}
        late = start(prefect_server, deployments["board"], {"year": YEAR})  # no worker: it falls late, then the wait ends
        deadline, alert_runs = time.monotonic() + 180, []
        while not alert_runs and time.monotonic() < deadline:
            time.sleep(2)
            alert_runs = [run for run in api(prefect_server, "/flow_runs/filter", {"deployments": {"id": {"any_": [deployments["alerts"]["id"]]}}})
                          if run["parameters"]["resource"] == f"prefect.flow-run.{late}"]  # (the module's server has others)
        assert len(alert_runs) == 1, "the automation started no alert run about the late run"
        api(prefect_server, f"/flow_runs/{late}/set_state", {"state": {"type": "CANCELLED"}, "force": True})
        worker = subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "worker", "--pool", "no-workers-yet"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert wait_for(prefect_server, alert_runs[0]["id"], FINAL, seconds=180)["state_type"] == "COMPLETED"
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        told = alerts()
        assert {name for name, _, _ in told} == coordinators()
        assert all("没有开始" in subject and "lianchuang worker" in body for _, subject, body in told)
        assert len(smtp.recorder.messages) == len(told)  # emailed, by the worker's SMTP settings


def test_the_server_in_the_foreground_ends_with_its_workers_on_sigterm(settings):
    """`lianchuang server` (a systemd unit's ExecStart): SIGTERM ends Prefect's server and the
    processes it started within 10 s (a plain subprocess call left them running)."""
    from smtp_server import free_port

    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in ("PREFECT_API_URL", "PREFECT_HOME")}
    env |= {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "PREFECT_HOME": str(settings.data_dir / "foreground")}
    command = subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "server", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    started = []
    try:
        deadline = time.monotonic() + 180
        while not healthy(f"http://127.0.0.1:{port}/api"):
            assert command.poll() is None and time.monotonic() < deadline, "the server never answered"
            time.sleep(0.5)
        started = descendants(command.pid)
        signalled = time.monotonic()
        command.send_signal(signal.SIGTERM)
        while (command.poll() is None or any(command_line(p) for p in started)) and time.monotonic() - signalled < 10:
            time.sleep(0.2)
        assert command.poll() == 0 and not [command_line(p) for p in started if command_line(p)]
        assert not healthy(f"http://127.0.0.1:{port}/api", timeout=1)
    finally:  # nothing of a failed case is left
        for pid in [command.pid, *started]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_two_rankings_of_a_deployment_started_together_run_one_after_the_other(district, settings, prefect_server):
    """The ranking deployment's concurrency limit of 1: runs started at the same moment (a coordinator
    twice, or the UI and the CLI) never run at once; the second waits for a slot."""
    add_task_per_community()
    with serving(environment(settings, prefect_server), prefect_server) as (_, deployments, _):
        parameters = {"year": YEAR, "months": [2], "send": False, "confirm": True}
        runs = [start(prefect_server, deployments["ranking"], parameters) for _ in range(2)]
        finished = [wait_for(prefect_server, run, FINAL, seconds=180) for run in runs]
    assert [run["state_type"] for run in finished] == ["COMPLETED", "COMPLETED"]
    spans = []
    for run in runs:
        states = api(prefect_server, f"/flow_run_states/?flow_run_id={run}", method="GET")
        times = {state["type"]: state["timestamp"] for state in states}
        spans.append((times["RUNNING"], times["COMPLETED"], {state["name"] for state in states}))
    (first_start, first_end, _), (second_start, second_end, _) = sorted(spans)
    assert first_end <= second_start, f"both ran at once: {spans}"
    assert any("AwaitingConcurrencySlot" in names for _, _, names in spans), spans


def test_a_worker_under_a_street_login_fails_a_district_step_started_from_the_ui_with_the_reason(settings, prefect_server, logins, scopes):
    """Roles hold for deployments: a worker running with a street coordinator's login takes a ranking
    started as from the UI; the run fails with the Chinese reason (no traceback), publishes nothing,
    and is tagged with the login it ran as."""
    from lianchuang.models import MonthlyRanking

    login, url = add_user(settings, scopes["street"], "街道联络人")
    logins.append(login)
    env = environment(settings, prefect_server, LIANCHUANG_SMTP_HOST="127.0.0.1", LIANCHUANG_SMTP_PORT="2525")  # nothing is sent
    subprocess.run([sys.executable, "-m", "lianchuang.cli", "deploy", "--pool", "street-login"], env=env, check=True,
                   capture_output=True)
    deployments = {d["name"]: d for d in api(prefect_server, "/deployments/filter", {})}
    run = start(prefect_server, deployments["ranking"], {"year": YEAR, "months": [2], "send": False, "confirm": True})
    worker = subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "worker", "--pool", "street-login"],
                              env=env | {"LIANCHUANG_DATABASE_URL": url}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        final = wait_for(prefect_server, run, FINAL, seconds=180)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    message = final["state"]["message"] or ""
    assert final["state_type"] == "FAILED" and "没有权限：发布和更正月度排名只由区级联络人做" in message, message
    assert "Traceback" not in message and f"执行账号:{scopes['street']}（{login}）" in final["tags"]
    with session_scope() as session:
        assert not session.scalars(select(MonthlyRanking)).first()
