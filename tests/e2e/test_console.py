"""The Prefect UI as the coordinators' console, through the API the UI uses, on a real local server
with `lianchuang serve` running: every stage's deployment runs to completion, with its Chinese form
and a readable run name; the scheduled monthly ranking pauses for approval, publishes and emails
when approved, and publishes nothing when held (the district coordinators hear why)."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest
from factories import SMALL, YEAR
from sqlalchemy import func, select

from lianchuang.models import MonthlyRanking, Notice
from lianchuang.models.db import session_scope
from lianchuang.tasks.demo.data import SCALES


@pytest.fixture(scope="module")
def prefect_server(prefect_server_on_postgres):
    """`serve` and every stage's runs write at once: the server keeps its runs in PostgreSQL, as a
    shared deployment's does (on SQLite a read of the API timed out under a loaded machine)."""
    return prefect_server_on_postgres


def api(url: str, path: str, body: dict | None = None, method: str = "POST"):
    """A call to the server's API, as the UI makes it; a busy server (503) is asked again, as the UI does."""
    request = urllib.request.Request(f"{url}{path}", data=None if body is None else json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json"})
    for attempt in range(10):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or "null")
        except urllib.error.HTTPError as error:
            if error.code != 503 or attempt == 9:
                raise
            time.sleep(2)


@contextmanager
def serving(settings, server, today: str, **extra):
    env = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url,
                        "LIANCHUANG_TODAY": today, "PREFECT_API_URL": server, **extra}
    served = subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            deployments = {d["name"]: d for d in api(server, "/deployments/filter", {})}
            if {"board", "monthly-ranking"} <= set(deployments):
                break
            time.sleep(1)
        yield deployments
    finally:  # SIGINT: Prefect 3.8's runner hangs on SIGTERM once it has run a flow (README); then its whole group
        os.killpg(served.pid, signal.SIGINT)
        try:
            served.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(served.pid, signal.SIGKILL)
            served.wait(timeout=30)


def start(server: str, deployment: dict, parameters: dict) -> str:
    return api(server, f"/deployments/{deployment['id']}/create_flow_run", {"parameters": parameters})["id"]


def wait_for(server: str, run_id: str, states: set[str], seconds: int = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = api(server, f"/flow_runs/{run_id}", method="GET")
        if run["state_type"] in states:
            return run
        time.sleep(1)
    raise AssertionError(f"run {run_id} still {run['state_type']} ({run['state_name']})")


@pytest.fixture
def demo_year(prefect_harness, settings, monkeypatch):
    from lianchuang.flows import demo

    monkeypatch.setitem(SCALES, "small", SMALL)
    demo.run_demo(YEAR, "small", lambda *_: None)


def test_every_stage_runs_from_its_deployment_with_a_chinese_form(demo_year, settings, prefect_server):
    parameters = {"opinions-open": {"year": YEAR}, "opinions": {"year": YEAR}, "division": {"year": YEAR},
                  "commitments": {"year": YEAR}, "ranking": {"year": YEAR, "months": [12], "send": True},
                  "evaluation": {"year": YEAR}, "award": {"year": YEAR, "budget": 600_000, "redo": True}, "deliver-outbox": {},
                  "board": {"year": YEAR}}
    with serving(settings, prefect_server, f"{YEAR + 1}-02-01") as deployments:
        assert set(parameters) | {"monthly-ranking", "weekly-reminders"} <= set(deployments)
        form = deployments["award"]["parameter_openapi_schema"]["properties"]
        assert form["budget"]["title"] == "经费总额（元）" and form["year"]["description"]
        assert form["confirm"]["title"] == "照样分配"  # the award's own confirmation, as `award --yes`
        finished = {}  # one at a time, as a coordinator would, and so as not to swamp a small test server
        for name, values in parameters.items():
            run = wait_for(prefect_server, start(prefect_server, deployments[name], values), {"COMPLETED", "FAILED", "CRASHED", "PAUSED"})
            if run["state_type"] == "PAUSED":  # a new allocation waits for the district coordinator, with its preview
                assert name == "award" and artifact(prefect_server, f"award-preview-{YEAR}")
                api(prefect_server, f"/flow_runs/{run['id']}/resume", {"run_input": {"approve": True, "reason": ""}})
                run = wait_for(prefect_server, run["id"], {"COMPLETED", "FAILED", "CRASHED"})
            finished[name] = run
    assert {name: run["state_type"] for name, run in finished.items()} == dict.fromkeys(parameters, "COMPLETED")
    assert funding() == 600_000
    assert finished["ranking"]["name"] == f"{YEAR}年12月排名" and finished["award"]["name"] == f"{YEAR} 创新奖与经费"
    keys = {a["key"] for a in api(prefect_server, "/artifacts/filter", {}) if a.get("key")}
    assert {"stage-5-award-summary", "board-summary"} <= keys


def artifact(server: str, key: str) -> list[dict]:
    """The rows of the latest table artifact under `key` (empty when there is none)."""
    found = [a for a in api(server, "/artifacts/filter", {}) if a.get("key") == key]
    return json.loads(found[0]["data"]) if found else []


def funding() -> int:
    from lianchuang.models import AwardResult

    with session_scope() as session:
        return session.scalar(select(func.sum(AwardResult.funding_yuan)))


def emails(template: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).where(Notice.template == template, Notice.status == "sent"))


def published() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(MonthlyRanking))


def screenshots(folder, pages: dict[str, str]) -> None:
    """The console as a coordinator sees it, at desktop width, for a person to look at (and the
    README): into LIANCHUANG_SCREENSHOTS if set, else the test's folder. Skipped without chromium."""
    import shutil
    from pathlib import Path

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        return
    from playwright.sync_api import sync_playwright

    out = Path(os.environ.get("LIANCHUANG_SCREENSHOTS") or folder)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for name, url in pages.items():
            page.goto(url, wait_until="networkidle")
            page.wait_for_timeout(1500)
            assert "Can't connect" not in page.inner_text("body"), url  # the UI reaches this server's API
            page.screenshot(path=str(out / f"{name}.png"))
        browser.close()


def run_logs(server: str, run_id: str, awaited: str, seconds: int = 60) -> str:
    """A run's logs as the UI shows them, once `awaited` is among them: a run's process sends its
    logs in batches, so they reach the server a little after the run's final state."""
    deadline = time.monotonic() + seconds
    while True:
        logs = " ".join(entry["message"] for entry in api(server, "/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}}))
        if awaited in logs or time.monotonic() > deadline:
            return logs
        time.sleep(1)


def test_the_ranking_deployment_refuses_where_the_command_refuses(february_reported, settings, prefect_server):
    """The gates of `rank` hold from the Prefect UI's form too: a month some community reported
    nothing for is refused unless 照样发布 (confirm, the CLI's --yes) is ticked; a correction needs a
    reason. Each refusal is the command's Chinese reason, with no traceback in the run's logs."""
    with serving(settings, prefect_server, f"{YEAR}-04-06") as deployments:
        assert deployments["ranking"]["parameter_openapi_schema"]["properties"]["confirm"]["title"] == "照样发布"
        refused = wait_for(prefect_server, start(prefect_server, deployments["ranking"], {"year": YEAR, "months": [3]}),
                           {"COMPLETED", "FAILED", "CRASHED"})
        assert refused["state_type"] == "FAILED" and published() == 0
        assert "没有报告进度" in refused["state"]["message"] and "照样发布" in refused["state"]["message"]
        logs = run_logs(prefect_server, refused["id"], "没有报告进度")
        assert "没有报告进度" in logs and "Traceback" not in logs
        confirmed = start(prefect_server, deployments["ranking"], {"year": YEAR, "months": [3], "confirm": True})
        assert wait_for(prefect_server, confirmed, {"COMPLETED", "FAILED", "CRASHED"})["state_type"] == "COMPLETED"
        assert published() == SMALL.communities
        blank = wait_for(prefect_server, start(prefect_server, deployments["ranking"],
                                               {"year": YEAR, "months": [3], "correction_reason": "  "}),
                         {"COMPLETED", "FAILED", "CRASHED"})
        assert blank["state_type"] == "FAILED" and "必须说明原因" in blank["state"]["message"]
    refused_by_command = subprocess.run([sys.executable, "-m", "lianchuang.cli", "rank", "--month", f"{YEAR}-03", "--correct",
                                         "--reason", " "], capture_output=True, text=True, timeout=180,
                                        env=os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir),
                                                          "LIANCHUANG_DATABASE_URL": settings.db_url,
                                                          "LIANCHUANG_TODAY": f"{YEAR}-04-07", "PREFECT_API_URL": prefect_server})
    assert refused_by_command.returncode == 2 and "必须说明原因" in refused_by_command.stderr
    assert "Traceback" not in refused_by_command.stderr


def test_the_scheduled_ranking_waits_for_approval_and_publishes_only_when_approved(february_reported, settings, prefect_server,
                                                                                   tmp_path):
    with serving(settings, prefect_server, f"{YEAR}-03-06") as deployments:
        held = start(prefect_server, deployments["monthly-ranking"], {})  # as the schedule starts it: last month
        assert wait_for(prefect_server, held, {"PAUSED"})["name"] == f"{YEAR}年2月排名（待审核）"  # the month it ranks
        assert len(artifact(prefect_server, f"ranking-preview-{YEAR}-02")) == SMALL.communities
        api(prefect_server, f"/flow_runs/{held}/resume", {"run_input": {"approve": False, "reason": "江滨社区数据待核实"}})
        assert wait_for(prefect_server, held, {"COMPLETED", "FAILED", "CRASHED"})["state_type"] == "COMPLETED"
        assert published() == 0 and emails("ranking") == 0 and emails("ranking_held") >= 1

        approved = start(prefect_server, deployments["monthly-ranking"], {"year": YEAR, "month": 2})
        assert wait_for(prefect_server, approved, {"PAUSED"})["name"] == f"{YEAR}年2月排名（待审核）"
        ui = prefect_server.removesuffix("/api")
        screenshots(tmp_path, {"console-deployments": f"{ui}/deployments", "console-approval": f"{ui}/runs/flow-run/{approved}",
                               "console-ranking-form": f"{ui}/deployments/deployment/{deployments['ranking']['id']}/run"})
        api(prefect_server, f"/flow_runs/{approved}/resume", {"run_input": {"approve": True, "reason": ""}})
        assert wait_for(prefect_server, approved, {"COMPLETED", "FAILED", "CRASHED"})["state_type"] == "COMPLETED"
        assert published() == SMALL.communities and emails("ranking") > 0

        closing = start(prefect_server, deployments["evaluation"], {"year": YEAR, "close": True})  # from the UI: waits too
        assert wait_for(prefect_server, closing, {"PAUSED"})["name"] == f"{YEAR} 联合考评"
        assert len(artifact(prefect_server, f"close-preview-{YEAR}")) == SMALL.communities
        api(prefect_server, f"/flow_runs/{closing}/resume", {"run_input": {"approve": False, "reason": "评议票还没有收齐"}})
        closed = wait_for(prefect_server, closing, {"COMPLETED", "FAILED", "CRASHED"})
        assert closed["state_type"] == "COMPLETED", closed["state"]["message"]
    assert evaluation_closed() is None and emails("decision_held") >= 1 and emails("evaluation_results") == 0


def evaluation_closed():
    from lianchuang.models import DistrictEvaluation

    with session_scope() as session:
        return session.scalar(select(DistrictEvaluation.closed_on))


def test_the_server_on_another_port_serves_a_ui_that_talks_to_it(settings, tmp_path):
    from conftest import free_port

    port = free_port()
    env = os.environ | {"LIANCHUANG_DATA_DIR": str(tmp_path / "data"), "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    refused = subprocess.run([sys.executable, "-m", "lianchuang.cli", "server", "--host", "0.0.0.0", "--port", str(port)],
                             env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "PREFECT_SERVER_API_AUTH_STRING" in refused.stderr + refused.stdout
    server = subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "server", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ui-settings", timeout=2) as response:
                    ui = json.loads(response.read())
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert ui["api_url"] == f"http://127.0.0.1:{port}/api"


def test_an_approval_survives_a_restart_of_serve_and_publishes_once(february_reported, settings, prefect_server):
    """A paused run whose serve process was killed showed RUNNING with no process, and approving it
    published nothing. Suspended, the run and its form wait on the server: approved after serve is
    restarted, the month is published once."""
    with serving(settings, prefect_server, f"{YEAR}-03-06") as deployments:
        waiting = start(prefect_server, deployments["monthly-ranking"], {"year": YEAR, "month": 2})
        assert wait_for(prefect_server, waiting, {"PAUSED"})["state"]["name"] == "Suspended"
        # the run's process ends (nothing waits in it); hours may pass before anyone answers
        assert "Finished in state Suspended" in run_logs(prefect_server, waiting, "Finished in state Suspended")
        time.sleep(5)  # the process's exit after its last log line
    assert wait_for(prefect_server, waiting, {"PAUSED"})["state_type"] == "PAUSED"  # serve is gone; the run still waits
    with serving(settings, prefect_server, f"{YEAR}-03-06"):
        api(prefect_server, f"/flow_runs/{waiting}/resume", {"run_input": {"approve": True, "reason": ""}})
        finished = wait_for(prefect_server, waiting, {"COMPLETED", "FAILED", "CRASHED"})
        assert finished["state_type"] == "COMPLETED", finished["state"]["message"]
    assert published() == SMALL.communities and len(artifact(prefect_server, f"ranking-{YEAR}-02")) >= 1
