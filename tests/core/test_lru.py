"""The per-process caches' bound: least recently used entries go first, by count or by weight (bytes)."""

from __future__ import annotations

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
