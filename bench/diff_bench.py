"""Timings of the pinned diff functions against their targets, with difflib as the baseline.

Run ``python bench/diff_bench.py`` (``--quick`` for fewer repeats). Texts come from
``bench/textgen.py``; nothing external is needed. Figures are medians over repeated runs. The
script reports and never asserts: it exits 0 whatever the figures are.
"""

from __future__ import annotations

import argparse
import difflib
import os
import platform
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import textgen
from report import median_seconds, print_table

from policyflow.core.diffing import apply_patch, diff, make_patch, redline_html
from policyflow.core.versioning import StoredVersion, is_keyframe, reconstruct, sha256_text

REDLINE_TARGET_S = 0.020  # 100 KB with 2% of sentences edited
BASELINE_SPEEDUP_TARGET = 5.0  # ... and at least this many times faster than difflib
WORST_CASE_TARGET_S = 0.5  # any single call in any case
RECONSTRUCT_TARGET_S = 0.020  # version 50 of 100 of a 50 KB policy

HISTORY_VERSIONS = 100
HISTORY_TARGET = 50
KEYFRAME_INTERVAL = 10


@dataclass
class Case:
    name: str
    old: str
    new: str
    baseline: bool  # whether difflib.HtmlDiff runs on it (too slow on 1 MB)


def cases() -> list[Case]:
    small = textgen.policy_text(100_000, 1)
    large = textgen.policy_text(1_000_000, 3)
    return [
        Case("100 KB, 2% sentences edited", small, textgen.edit_sentences(small, 0.02, seed=2), True),
        Case("1 MB, 20% sentences edited", large, textgen.edit_sentences(large, 0.20, seed=4), False),
        Case("16 KB full rewrite", textgen.policy_text(16_000, 1), textgen.policy_text(16_000, 7), True),
        Case("50 KB full rewrite", textgen.policy_text(50_000, 1), textgen.policy_text(50_000, 7), True),
    ]


def build_history() -> tuple[list[str], list[StoredVersion]]:
    """100 versions of a 50 KB policy, 2% of sentences edited per version, stored as the app does."""
    texts = [textgen.policy_text(50_000, 11)]
    for number in range(2, HISTORY_VERSIONS + 1):
        texts.append(textgen.edit_sentences(texts[-1], 0.02, seed=number))
    chain = []
    for number, text in enumerate(texts, start=1):
        keep_full = is_keyframe(number, KEYFRAME_INTERVAL) or number == len(texts)
        chain.append(
            StoredVersion(
                number=number,
                sha256=sha256_text(text),
                patch=None if number == 1 else make_patch(texts[number - 2], text),
                full_text=text if keep_full else None,
            )
        )
    return texts, chain


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.1f} ms"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (3 for ours, 1 for difflib)")
    parser.add_argument("--runs", type=int, default=None, help="repeats of each of our timings (default 7)")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 7)
    baseline_runs = 1 if args.quick else 3

    print(
        f"policyflow diff benchmark: Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPU(s); medians of {runs} runs (difflib: {baseline_runs})"
    )
    print()

    all_cases = cases()
    rows: list[list[str]] = []
    redline_times: dict[str, float] = {}
    worst = (0.0, "")
    for case in all_cases:
        ops = diff(case.old, case.new)
        changed = sum(len(text) for op, text in ops if op != 0)
        patch = make_patch(case.old, case.new)
        correct = apply_patch(case.old, patch) == case.new
        timings = {
            "diff": median_seconds(lambda c=case: diff(c.old, c.new), runs),
            "make_patch": median_seconds(lambda c=case: make_patch(c.old, c.new), runs),
            "redline_html": median_seconds(lambda c=case: redline_html(c.old, c.new), runs),
        }
        redline_times[case.name] = timings["redline_html"]
        for name, seconds in timings.items():
            if seconds > worst[0]:
                worst = (seconds, f"{name}, {case.name}")
        target = ""
        if case.name.startswith("100 KB"):
            target = f"redline <= {REDLINE_TARGET_S * 1000:.0f} ms: {verdict(timings['redline_html'] <= REDLINE_TARGET_S)}"
        rows.append(
            [
                case.name,
                f"{len(case.old) / 1000:,.0f}/{len(case.new) / 1000:,.0f} KB",
                f"{changed:,}",
                fmt_ms(timings["diff"]),
                fmt_ms(timings["make_patch"]),
                fmt_ms(timings["redline_html"]),
                f"{len(patch) / 1000:,.1f} KB" + ("" if correct else " (WRONG)"),
                target,
            ]
        )
    print("Our pinned functions (policyflow.core.diffing)")
    print_table(
        ["case", "old/new size", "chars changed", "diff", "make_patch", "redline_html", "patch size", "target"],
        rows,
    )
    print(
        f"Worst case: {fmt_ms(worst[0])} ({worst[1]}); target <= {WORST_CASE_TARGET_S * 1000:.0f} ms: "
        f"{verdict(worst[0] <= WORST_CASE_TARGET_S)}"
    )
    print()

    baseline_rows = []
    for case in all_cases:
        if not case.baseline:
            baseline_rows.append([case.name, fmt_ms(redline_times[case.name]), "not run (too slow on 1 MB)", "-", ""])
            continue
        old_lines, new_lines = case.old.splitlines(), case.new.splitlines()
        seconds = median_seconds(lambda a=old_lines, b=new_lines: difflib.HtmlDiff().make_table(a, b), baseline_runs)
        ratio = seconds / redline_times[case.name]
        target = ""
        if case.name.startswith("100 KB"):
            target = f">= {BASELINE_SPEEDUP_TARGET:.0f}x: {verdict(ratio >= BASELINE_SPEEDUP_TARGET)}"
        baseline_rows.append([case.name, fmt_ms(redline_times[case.name]), fmt_ms(seconds), f"{ratio:,.1f}x", target])
    print("Baseline: difflib.HtmlDiff().make_table(old.splitlines(), new.splitlines())")
    print_table(["case", "ours (redline_html)", "difflib", "baseline/ours", "target"], baseline_rows)
    print("The difflib baseline runs only on the 100 KB, 16 KB and 50 KB cases: on 1 MB it takes too long to")
    print("repeat, and the benchmark uses no time-outs.")
    print()

    texts, chain = build_history()
    start = HISTORY_TARGET - (HISTORY_TARGET - 1) % KEYFRAME_INTERVAL
    segment = chain[start - 1 : HISTORY_TARGET]
    correct = reconstruct(segment, "BENCH") == texts[HISTORY_TARGET - 1]
    seconds = median_seconds(lambda: reconstruct(segment, "BENCH"), runs)
    patch_sizes = [len(version.patch or "") for version in segment[1:]]
    print(
        f"Reconstruction of version {HISTORY_TARGET} of {HISTORY_VERSIONS} ({len(texts[0]) / 1000:.0f} KB policy, "
        f"keyframe every {KEYFRAME_INTERVAL}: full text of v{start} + patches v{start + 1}..v{HISTORY_TARGET}, "
        f"median patch {statistics.median(patch_sizes) / 1000:.1f} KB, each step SHA-256 verified)"
    )
    print_table(
        ["case", "median", "result", "target"],
        [
            [
                f"reconstruct v{HISTORY_TARGET} (from v{start})",
                fmt_ms(seconds),
                "exact" if correct else "WRONG",
                f"<= {RECONSTRUCT_TARGET_S * 1000:.0f} ms: {verdict(seconds <= RECONSTRUCT_TARGET_S)}",
            ]
        ],
    )
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
