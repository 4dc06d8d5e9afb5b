"""The per-process caches' bound: least recently used entries go first, by count or by weight (bytes)."""

from __future__ import annotations

import threading

import pytest

from policyflow.core.lru import LRUCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = LRUCache[str](2)
    cache.put("a", "first")
    cache.put("b", "second")
    assert cache.get("a") == "first"  # now "b" is the oldest
    cache.put("c", "third")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("first", None, "third")


def test_a_weighed_cache_keeps_its_total_under_the_bound() -> None:
    cache = LRUCache[bytes](10, weigh=len)
    cache.put("a", b"12345")
    cache.put("b", b"1234")
    assert cache.weight == 9
    cache.put("a", b"123")  # replacing an entry counts its new weight only
    assert cache.weight == 7
    cache.put("c", b"12345")  # 12 > 10: "b", the least recently used, goes
    assert (cache.get("b"), cache.weight) == (None, 8)
    cache.put("huge", b"x" * 11)  # heavier than the whole bound: not kept, nothing else lost
    assert (cache.get("huge"), cache.get("a"), cache.get("c"), cache.weight) == (None, b"123", b"12345", 8)
    cache.clear()
    assert (len(cache), cache.weight) == (0, 0)


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError):
        LRUCache[str](0)


def test_threads_asking_for_a_value_being_made_wait_for_it_instead_of_making_it_again() -> None:
    cache = LRUCache[str](4)
    started, release = threading.Event(), threading.Event()
    made: list[str] = []

    def slow() -> str:
        made.append("slow")
        started.set()
        release.wait(5)
        return "page"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cache.get_or_make("k", slow)))
    first.start()
    started.wait(5)
    others = [threading.Thread(target=lambda: results.append(cache.get_or_make("k", lambda: made.append("again") or "x")))
              for _ in range(3)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(5)
    assert results == ["page"] * 4 and made == ["slow"]


def test_when_the_maker_fails_a_waiting_thread_makes_the_value_itself() -> None:
    cache = LRUCache[str](4)
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        release.wait(5)
        raise RuntimeError("the database went away")

    errors: list[BaseException] = []

    def first() -> None:
        try:
            cache.get_or_make("k", failing)
        except RuntimeError as error:
            errors.append(error)

    thread = threading.Thread(target=first)
    thread.start()
    started.wait(5)
    waiting: list[str] = []
    waiter = threading.Thread(target=lambda: waiting.append(cache.get_or_make("k", lambda: "made by the waiter")))
    waiter.start()
    release.set()
    thread.join(5)
    waiter.join(5)
    assert len(errors) == 1 and waiting == ["made by the waiter"]
    assert cache.get_or_make("k", lambda: "later") == "made by the waiter"
