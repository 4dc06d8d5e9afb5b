"""Shared change-stamp reads: a request may use a read only if it began after the request arrived."""

from __future__ import annotations

import threading
import time

from policyflow.change_stamp import SharedReads


class _Database:
    """A stamp read that can be held in flight, like a round trip to a busy server."""

    def __init__(self) -> None:
        self.value = 1
        self.reads = 0
        self.hold = threading.Event()
        self.holding = threading.Event()

    def read(self) -> int:
        self.reads += 1
        seen = self.value
        if not self.hold.is_set():
            self.holding.set()
            self.hold.wait(5)
        return seen


def test_a_read_begun_before_a_request_arrived_never_answers_it() -> None:
    database = _Database()
    stamp = SharedReads(database.read)
    early: list[object] = []
    first = threading.Thread(target=lambda: early.append(stamp()))
    first.start()
    database.holding.wait(5)  # the first read is in flight, with the old value
    database.value = 2  # a commit finishes
    late: list[object] = []
    second = threading.Thread(target=lambda: late.append(stamp()))
    second.start()
    database.hold.set()
    first.join(5)
    second.join(5)
    assert early == [1]
    assert late == [2], "the request that came after the commit must see it"
    assert database.reads == 2


def test_requests_waiting_together_share_one_read() -> None:
    database = _Database()
    stamp = SharedReads(database.read)
    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(stamp()))
    first.start()
    database.holding.wait(5)
    database.value = 7
    waiting = [threading.Thread(target=lambda: results.append(stamp())) for _ in range(5)]
    for thread in waiting:
        thread.start()
    time.sleep(0.3)  # all five are waiting for the read in flight to end
    database.hold.set()
    for thread in [first, *waiting]:
        thread.join(5)
    assert sorted(results) == [1, 7, 7, 7, 7, 7]
    assert database.reads == 2  # the first, then one for all five that waited


def test_a_failed_read_gives_no_stamp_and_the_next_request_reads_again() -> None:
    answers = iter([None, 3])
    stamp = SharedReads(lambda: next(answers))
    assert stamp() is None
    assert stamp() == 3
