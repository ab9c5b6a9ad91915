"""The schedules fire: `lianchuang serve` against a real Prefect server, and the server's scheduler
creates the upcoming monthly ranking run (not only the deployment). With SQLAlchemy 2.1, Prefect
3.8's scheduler fails on every loop ("Can't evaluate bulk DML statement") and creates no run."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo


def api(url: str, path: str, body: dict) -> list:
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_serve_registers_the_deployments_and_the_scheduler_creates_the_monthly_run(settings, prefect_server):
    env = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url,
                        "PREFECT_API_URL": prefect_server}
    served = subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline, runs = time.monotonic() + 120, []
        while time.monotonic() < deadline and not runs:
            time.sleep(2)
            deployments = {d["name"]: d["id"] for d in api(prefect_server, "/deployments/filter", {})}
            if "monthly-ranking" in deployments:
                runs = api(prefect_server, "/flow_runs/filter", {"deployments": {"id": {"any_": [deployments["monthly-ranking"]]}},
                                                                 "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}})
        assert runs, "no scheduled run of monthly-ranking was created"
        first = min(datetime.fromisoformat(r["expected_start_time"]) for r in runs).astimezone(ZoneInfo("Asia/Shanghai"))
        # the day after the reporting deadline (the 5th), so the month is ranked with its data
        assert (first.day, first.hour, first.minute) == (6, 8, 0) and first > datetime.now(ZoneInfo("Asia/Shanghai"))
    finally:
        os.killpg(served.pid, signal.SIGTERM)
        served.wait(timeout=30)
