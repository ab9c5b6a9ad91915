"""Work handed to another Python process, so that it uses the second core while this process goes
on (the monthly run rebuilds the board while it renders and delivers emails, and a second process
writes half of a large Maildir).

`submit` gives a `concurrent.futures.Future`. Each job gets a process of its own, spawned rather
than forked, so it shares no database connection with its parent; it starts in about a second, so
callers only hand over large jobs (their thresholds are measured). `app_job` and `app_context`
pass on the database and the day, which a spawned process would not otherwise see."""

import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date


def submit(function, *args) -> Future:
    """Run function(*args) in a new process; the process ends with the job, or with this process
    when it is killed (a worker would otherwise wait for its next job for good)."""
    executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_end_with_parent, initargs=(os.getpid(),))
    future = executor.submit(function, *args)
    executor.shutdown(wait=False)
    return future


def _end_with_parent(parent: int) -> None:
    """In the worker: end as soon as the process that started it is gone (it is then adopted by another)."""
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


class Gate:
    """A go-ahead one process gives a worker it started: the worker prepares what it can (reading
    only), then waits at the gate (wait_at) until the caller opens it. Called off, the worker ends
    at once, mid-read (it has written nothing), so that the caller's process can exit without
    waiting for it. Pass `receiver` to the worker."""

    def __init__(self):
        self._here, self.receiver = multiprocessing.get_context("spawn").Pipe()

    def open(self) -> None:
        self._say("go")

    def call_off(self) -> None:
        self._say("stop")
        try:
            if self._here.poll(WORKER_START):  # the worker's process id, sent as it starts
                os.kill(self._here.recv(), signal.SIGTERM)
        except (OSError, EOFError):  # ended already
            pass

    def _say(self, word: str) -> None:
        try:
            self._here.send(word)
        except OSError:  # the worker has ended already
            pass


WORKER_START = 10  # seconds: a spawned worker imports the app in about one


class CalledOff(Exception):
    """In a worker: the caller called the work off at its gate."""


def at_gate(receiver) -> None:
    """In a worker, as it starts: tell the caller which process to end if it calls the work off."""
    try:
        receiver.send(os.getpid())
    except OSError:  # the caller has opened the gate and let go of it: nothing to call off
        pass


def wait_at(receiver) -> None:
    """In a worker: wait until the gate opens; CalledOff when it is called off or dropped."""
    try:
        if receiver.recv() == "go":
            return
    except EOFError:
        pass
    raise CalledOff


def done(value) -> Future:
    """A future already holding its value: work that was small enough to do at once, here."""
    future = Future()
    future.set_result(value)
    return future


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
