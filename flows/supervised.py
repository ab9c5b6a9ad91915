"""A command that runs a long-lived Prefect process (`prefect worker start`) as its child, so that
SIGTERM or SIGINT to the command, or to its process group, ends the child and everything the
child started within STOP_SECONDS, and a SIGKILL of the command ends the child too. Prefect 3.8's
worker answers SIGTERM and SIGINT by signalling itself and keeps running (and taking runs with the
settings it was started with), so it is asked once and then killed with its whole group."""

import ctypes
import os
import signal
import subprocess
import time

STOP_SECONDS = 8  # asked to stop, then killed: within systemd's and a test's 10 s
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the kernel sends SIGKILL to the child when the command is gone, even by SIGKILL."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def run_supervised(command: list[str], env: dict) -> int:
    """Run `command` in a process group of its own until it exits or this process is told to stop;
    returns its exit code (0 when stopped by a signal, as a service manager expects). The waiting
    is a plain poll on the main thread: no timer thread, nothing that a signal could leave waiting."""
    child = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_die_with_parent)
    told: list[int] = []
    previous = {number: signal.signal(number, lambda signum, _frame: told.append(signum))
                for number in (signal.SIGTERM, signal.SIGINT)}
    asked_at = None
    try:
        while True:
            try:
                code = child.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            if told and asked_at is None:
                _signal_group(child.pid, signal.SIGINT)  # Prefect's own graceful stop: no new runs are taken
                asked_at = time.monotonic()
            elif asked_at is not None and time.monotonic() - asked_at > STOP_SECONDS:
                _signal_group(child.pid, signal.SIGKILL)  # the worker and any run it started
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if told:
        _signal_group(child.pid, signal.SIGKILL)  # what the worker started and left behind
        return 0
    return code


def _signal_group(pid: int, number: int) -> None:
    try:
        os.killpg(pid, number)
    except ProcessLookupError:
        pass
