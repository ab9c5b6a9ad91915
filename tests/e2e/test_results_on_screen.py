"""Results on screen and as data: `rank` prints the ranking (and --json), `award` every community's
amount (and --json, and a sheet for finance), on the small demo year, in an 80-column terminal."""

import json
import os
import subprocess
import sys

import pytest
from factories import SMALL, YEAR
from openpyxl import load_workbook
from rich.cells import cell_len

from lianchuang.tasks.demo.data import SCALES


@pytest.fixture
def demo_year(prefect_harness, settings, monkeypatch):
    from lianchuang.flows import demo

    monkeypatch.setitem(SCALES, "small", SMALL)
    demo.run_demo(YEAR, "small", lambda *_: None)


def api(url: str, path: str, body: dict) -> list:
    import urllib.request

    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def widest_table_line(printed: str) -> int:
    """Tables must fit the terminal; messages are soft-wrapped by the terminal itself."""
    return max(cell_len(line) for line in printed.splitlines() if line[:1] in "┏┃┡│└┌├┗╭╰")


def lianchuang(settings, server, *args, exit_code=0):
    env = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url,
                        "LIANCHUANG_TODAY": f"{YEAR + 1}-02-01", "PREFECT_API_URL": server, "COLUMNS": "80"}
    result = subprocess.run([sys.executable, "-m", "lianchuang.cli", *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == exit_code and "Traceback" not in result.stderr, result.stdout + result.stderr
    return result.stdout


def test_rank_and_award_show_their_results_and_give_them_as_data(demo_year, settings, prefect_server, tmp_path):
    rows = json.loads(lianchuang(settings, prefect_server, "rank", "--month", f"{YEAR}-06", "--json"))
    assert len(rows) == SMALL.communities and [r["rank_in_district"] for r in rows] == sorted(r["rank_in_district"] for r in rows)
    printed = lianchuang(settings, prefect_server, "rank", "--month", f"{YEAR}-06")
    assert all(row["community"] in printed for row in rows)
    assert widest_table_line(printed) <= 80
    assert "INFO" not in printed  # the terminal stays quiet; the run's logs are in the Prefect UI:
    [run] = [r for r in api(prefect_server, "/flow_runs/filter", {}) if r["name"] == f"{YEAR}年6月排名"][-1:]
    logs = api(prefect_server, "/logs/filter", {"logs": {"flow_run_id": {"any_": [run["id"]]}}})
    assert any("月度排名" in log["message"] for log in logs), [log["message"] for log in logs]

    awards = json.loads(lianchuang(settings, prefect_server, "award", "--year", str(YEAR), "--json"))
    assert sum(a["funding_yuan"] for a in awards) == 500_000 and all(a["explanation"] for a in awards)
    sheet = tmp_path / "经费分配.xlsx"
    printed = lianchuang(settings, prefect_server, "award", "--year", str(YEAR), "-o", str(sheet))
    assert "合计 500,000 元" in printed and widest_table_line(printed) <= 80
    funding = [row[5] for row in load_workbook(sheet)["经费分配"].iter_rows(min_row=2, values_only=True)]
    assert sum(funding) == 500_000 and len(funding) == SMALL.communities


def test_the_main_tables_fit_an_80_column_terminal_without_cutting_a_cell(demo_year, settings, prefect_server):
    """Every table-printing command the coordinators use, read in an 80-column terminal: no line
    is wider and no header or cell is cut to "…" (long ones wrap inside their column)."""
    from sqlalchemy import select

    from lianchuang.models import Community, Task
    from lianchuang.models.db import session_scope

    with session_scope() as session:
        task = session.scalars(select(Task).order_by(Task.code).limit(1)).one()
        task.goal, task.title = None, "为辖区独居老人提供助餐、助浴、助洁、助医等居家养老服务并建立长效机制"  # for `tasks check`
        task = task.code
        community = session.scalar(select(Community.name).order_by(Community.code).limit(1))
    commands = [("cycle", "status", "--year", str(YEAR)), ("tasks", "check", "--year", str(YEAR)),
                ("evaluate", "explain", task, "--year", str(YEAR)), ("opinions", "report", "--year", str(YEAR)),
                ("org", "list"), ("outbox", "list"), ("report", "summary", "--year", str(YEAR)),
                ("commitments", "list", "-c", community, "--year", str(YEAR)), ("posts", "list", "-c", community, "--year", str(YEAR)),
                ("rank", "--month", f"{YEAR}-06"), ("award", "--year", str(YEAR))]
    for command in commands:
        printed = lianchuang(settings, prefect_server, *command, exit_code=int(command[:2] == ("tasks", "check")))
        table_lines = [line for line in printed.splitlines() if line[:1] in "┏┃┡│└┌├┗╭╰"]
        assert table_lines, command
        assert max(cell_len(line) for line in table_lines) <= 80, (command, printed)
        assert "…" not in "\n".join(table_lines), (command, printed)
