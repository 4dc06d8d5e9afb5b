"""A bounded, thread-safe per-process cache that forgets the least recently used entry first.

The caches built on it (rendered pages, comment counts, report outlines) are keyed by everything their value
depends on, change stamps included, so an entry is never wrong, only unused; the bound keeps memory flat.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class LRUCache(Generic[Value]):
    """At most ``size`` entries, or with ``weigh`` at most ``size`` units in all (bytes, say); an entry heavier
    than the whole bound is not kept."""

    def __init__(self, size: int, weigh: Callable[[Value], int] | None = None) -> None:
        if size < 1:
            raise ValueError("an LRU cache holds at least one entry")
        self.size = size
        self._weigh = weigh or (lambda _value: 1)
        self._weight = 0
        self._entries: OrderedDict[Hashable, tuple[Value, int]] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers and the threaded development server share one cache

    def get(self, key: Hashable) -> Value | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: Value) -> None:
        weight = self._weigh(value)
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._weight -= previous[1]
            if weight > self.size:
                return
            self._entries[key] = (value, weight)
            self._weight += weight
            while self._weight > self.size:
                _key, (_value, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped

    def get_or_make(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The cached value, or ``make()``'s (computed outside the lock: two threads may both compute it)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0

    @property
    def weight(self) -> int:
        return self._weight

    def __len__(self) -> int:
        return len(self._entries)
