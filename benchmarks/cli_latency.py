"""How long a coordinator waits for representative commands on the district demo (25 communities),
each the median of three runs, beside `python -c "import prefect"` in the same run (issue 19's aim:
every command within 2x of that import; issue 34's: the first command in a new data folder within 6 s,
the district demo from a new data folder within 20 s).
Commands are run as typed, in fresh processes. Without PREFECT_API_URL they use the data folder's
own Prefect server, which the first of them starts; with it, that server.

    python benchmarks/cli_latency.py [--prefect-api-url http://127.0.0.1:4200/api]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIANCHUANG = [sys.executable, "-m", "lianchuang.cli"]


def wall(command: list[str], env: dict, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefect-api-url", default=os.environ.get("PREFECT_API_URL"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lianchuang-latency-"))
    env = os.environ | {"LIANCHUANG_DATA_DIR": str(folder), "COLUMNS": "80"}
    env.pop("PREFECT_API_URL", None)
    if args.prefect_api_url:
        env["PREFECT_API_URL"] = args.prefect_api_url
    fresh = Path(tempfile.mkdtemp(prefix="lianchuang-first-"))
    first = wall([*LIANCHUANG, "outbox", "flush"], env | {"LIANCHUANG_DATA_DIR": str(fresh)}, runs=1)
    print(f"first command in a new data folder (outbox flush, its server started): {first:.2f} s (aim: 6 s)")
    subprocess.run([*LIANCHUANG, "server", "stop"], env=env | {"LIANCHUANG_DATA_DIR": str(fresh)}, capture_output=True)
    started = time.perf_counter()
    year = 2026
    subprocess.run([*LIANCHUANG, "demo", "--year", str(year)], env=env, check=True, capture_output=True)
    env["LIANCHUANG_TODAY"] = f"{year + 1}-01-20"  # the demo's year is over: its months can be ranked
    print(f"district demo built in {time.perf_counter() - started:.1f} s from a new data folder, its server start "
          f"included (aim: 20 s), in {folder}")
    task = subprocess.run([sys.executable, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
                           "'select code from task order by code limit 1').fetchone()[0])", str(folder / "lianchuang.db")],
                          capture_output=True, text=True, check=True).stdout.strip()
    baseline = wall([sys.executable, "-c", "import prefect"], env)
    commands = {
        "org list": ["org", "list"],
        "outbox flush (nothing queued)": ["outbox", "flush"],
        "rank (a published month)": ["rank", "--month", f"{year}-06"],
        "progress add": ["progress", "add", task, "--percent", "100", "--month", "12", "--date", f"{year + 1}-01-03",
                         "--year", str(year)],
    }
    print(f"{'command':<32} {'wall (s)':>9} {'x import prefect':>17}")
    label = 'python -c "import prefect"'
    print(f"{label:<32} {baseline:>9.2f} {1:>17.2f}")
    for name, command in commands.items():
        seconds = wall([*LIANCHUANG, *command], env)
        print(f"{name:<32} {seconds:>9.2f} {seconds / baseline:>17.2f}")
    print("server:", args.prefect_api_url or "the data folder's own (started by the demo, reused)")
    if not args.prefect_api_url:
        subprocess.run([*LIANCHUANG, "server", "stop"], env=env, capture_output=True)


if __name__ == "__main__":
    main()
