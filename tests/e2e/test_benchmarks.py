"""The benchmarks run at a small count, so a change to the templates or the app cannot break a
baseline unnoticed (the notices benchmark's bare Jinja side once failed on a new template global)."""

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_the_notices_benchmark_runs_both_sides(tmp_path):
    own_database = {k: v for k, v in os.environ.items() if not k.startswith("LIANCHUANG_")}  # a temporary SQLite
    finished = subprocess.run([sys.executable, str(BENCHMARKS / "notices.py"), "--count", "20"], cwd=tmp_path,
                              env=own_database, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    rows = [line for line in finished.stdout.splitlines() if line.startswith(("Maildir", "SMTP"))]
    assert len(rows) == 2 and all(line.count("msg/s") == 2 for line in rows), finished.stdout


def test_the_near_duplicate_rule_beats_the_former_one_on_the_labelled_pairs():
    finished = subprocess.run([sys.executable, str(BENCHMARKS / "similarity.py")], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    figures = {line.split(":")[0]: [float(x) for x in line.split()[-3:-1]] for line in finished.stdout.splitlines()
               if line.startswith(("former", "now"))}
    assert figures["former"] == [0.0, 0.0]
    precision, recall = figures["now"]
    assert recall >= 0.9 and precision >= 0.7
