"""Timing and table printing shared by the benchmarks (medians; the machine is noisy)."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def median_seconds(function: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls, each after a garbage collection."""
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    print("  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    print()
