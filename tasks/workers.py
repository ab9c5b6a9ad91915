"""Work handed to another Python process, so that it uses the second core while this process goes
on (the monthly run draws charts and rebuilds the board while it renders and delivers emails).

A worker is a plain `python -m <module>` reading its job as JSON on stdin and writing its result
as JSON on stdout: not multiprocessing, which would re-import the caller's main module or share
its database connections. A worker starts in about a second, so it only pays for large jobs."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date


def start(module: str, job) -> Callable[[], object]:
    """Start `python -m module` on the job; returns a function that waits for its result."""
    process = subprocess.Popen([sys.executable, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    process.stdin.write(json.dumps(job, ensure_ascii=False).encode("utf-8"))
    process.stdin.close()  # the worker reads the whole job before it writes anything

    def wait():
        output = process.stdout.read()
        if process.wait():
            raise RuntimeError(f"后台进程 {module} 失败（错误见上方输出）")
        return json.loads(output)

    return wait


def serve(work: Callable[[object], object]) -> None:
    """The worker's side: read the job, do the work, write the result."""
    result = work(json.loads(sys.stdin.buffer.read()))
    sys.stdout.write(json.dumps(result, ensure_ascii=False))


def app_job(**fields) -> dict:
    """A job for a worker that uses the app's database and day: this process's, passed on (the
    worker inherits the environment, but not settings or a clock changed in this process)."""
    from lianchuang import clock
    from lianchuang.settings import get_settings

    return dict(fields, database_url=get_settings().db_url, today=clock.today().isoformat())


@contextmanager
def app_context(job: dict):
    """The worker's side of app_job: the same database and day."""
    from lianchuang import clock
    from lianchuang.settings import reset_settings

    os.environ["LIANCHUANG_DATABASE_URL"] = job["database_url"]
    reset_settings()
    with clock.frozen_at(date.fromisoformat(job["today"])):
        yield
