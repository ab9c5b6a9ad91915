"""The garbage collector is tuned in every process that runs the app's work (see lianchuang/__init__):
the command's own process and the worker processes it spawns for the board, the open data and the charts."""

import gc
import subprocess
import sys

from lianchuang.tasks import workers


def test_the_command_process_collects_rarely():
    shown = subprocess.run([sys.executable, "-c", "import gc, lianchuang.cli; print(gc.get_threshold()[0])"],
                           capture_output=True, text=True, check=True).stdout
    assert int(shown) >= 50_000


def test_a_spawned_worker_collects_rarely():
    assert workers.submit(gc.get_threshold).result(timeout=120)[0] >= 50_000
