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

    MAKING_WAIT = 30.0

    def __init__(self, size: int, weigh: Callable[[Value], int] | None = None) -> None:
        if size < 1:
            raise ValueError("an LRU cache holds at least one entry")
        self.size = size
        self._weigh = weigh or (lambda _value: 1)
        self._weight = 0
        self._entries: OrderedDict[Hashable, tuple[Value, int]] = OrderedDict()
        self._making: dict[Hashable, threading.Event] = {}  # keys a thread is computing now
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
        """The cached value, or ``make()``'s. A thread asking for a key that another is making waits for it (up to
        ``MAKING_WAIT`` seconds, then makes it itself) instead of making it too: after a server restart, the
        requests that arrive together for one page render it once, not once each, competing for the CPU."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry[0]
            making = self._making.get(key)
            mine = making is None
            if making is None:
                making = self._making[key] = threading.Event()
        if not mine:
            making.wait(self.MAKING_WAIT)
            value = self.get(key)
            if value is None:  # the maker failed, or was slow, or the value already went
                value = make()
                self.put(key, value)
            return value
        try:
            value = make()
            self.put(key, value)
            return value
        finally:
            with self._lock:
                del self._making[key]
            making.set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0

    @property
    def weight(self) -> int:
        return self._weight

    def __len__(self) -> int:
        return len(self._entries)
