"""A worker started ahead waits at its gate: opened, it goes on; called off, it ends at once, even
in the middle of a long read, so that the process that started it can exit without waiting."""

import time
from concurrent.futures import wait

from lianchuang.tasks import workers


def _reads_then_waits(receiver, reading: float) -> str:
    workers.at_gate(receiver)
    time.sleep(reading)  # a province's board reads its tasks for several seconds
    workers.wait_at(receiver)
    return "written"


def test_an_opened_gate_lets_the_worker_finish():
    gate = workers.Gate()
    done = workers.submit(_reads_then_waits, gate.receiver, 0.1)
    gate.open()
    assert done.result(timeout=60) == "written"


def test_a_worker_called_off_mid_read_ends_at_once():
    gate = workers.Gate()
    done = workers.submit(_reads_then_waits, gate.receiver, 120)
    started = time.monotonic()
    gate.call_off()
    wait([done], timeout=60)
    assert done.done() and time.monotonic() - started < 30 and done.exception() is not None


def test_a_gate_opened_and_let_go_of_before_the_worker_starts_still_lets_it_finish():
    gate = workers.Gate()
    done = workers.submit(_reads_then_waits, gate.receiver, 0)
    gate.open()
    del gate  # start_board opens the gate and keeps only the future
    assert done.result(timeout=60) == "written"
