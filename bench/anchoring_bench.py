"""Re-anchoring 1,000 annotations on a new version of a 100 KB policy, timed and checked.

Run ``python bench/anchoring_bench.py`` (``--quick`` for fewer repeats). Version 1 comes from
``bench/textgen.py`` (``policy_text``); version 2 deletes, moves and inserts paragraphs and edits
sentences with ``edit_sentences`` paragraph by paragraph. Every edit is recorded, so where each
annotation should land (and whether it was edited or deleted) is known by construction. The
script reports and never asserts: it exits 0 whatever the figures are.

Truth: a quote left intact is ``exact`` where diff-match-patch's ``diff_xIndex`` maps it through
the pinned diff (its end through the reversed texts) and ``moved`` otherwise; a quote touched by an edit is ``edited`` (its span is the
edited words); a quote in a deleted paragraph is ``orphaned``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import textgen
from diff_match_patch import diff_match_patch
from report import median_seconds, print_table

from policyflow.core.anchoring import reanchor, reanchor_many
from policyflow.core.diffing import diff

TARGET_S = 1.0  # 1,000 annotations on a 100 KB policy
ANNOTATIONS = 1000
CONTEXT = 32
_EDGE = " \t\r\n*_#"


@dataclass
class Truth:
    kind: str  # "exact" | "moved" | "edited" | "orphaned"
    span: tuple[int, int] | None


def _edits_between(old: str, new: str) -> list[tuple[int, int, str]]:
    """What ``edit_sentences`` changed in one paragraph, piece by piece (it keeps the '. ' pieces)."""
    pieces_old, pieces_new = old.split(". "), new.split(". ")
    assert len(pieces_old) == len(pieces_new)
    edits, offset = [], 0
    for one, two in zip(pieces_old, pieces_new, strict=True):
        if one != two:
            head = 0
            while head < min(len(one), len(two)) and one[head] == two[head]:
                head += 1
            while head and one[head - 1] != " ":  # whole words: "students" -> "student" is a word replaced
                head -= 1
            tail = 0
            while tail < min(len(one), len(two)) - head and one[-1 - tail] == two[-1 - tail]:
                tail += 1
            while tail and " " not in (one[len(one) - tail], one[len(one) - tail - 1], two[len(two) - tail - 1]):
                tail -= 1
            edits.append((offset + head, offset + len(one) - tail, two[head : len(two) - tail]))
        offset += len(one) + 2
    return edits


def _move(edits: list[tuple[int, int, str]], position: int, side: str) -> int:
    shift = 0
    for a, b, replacement in edits:
        if b < position or (b == position and (a < b or side == "start")):
            shift += len(replacement) - (b - a)
        elif a < position < b:
            return a + shift + (len(replacement) if side == "end" else 0)
        else:
            break
    return position + shift


def build(seed: int = 1) -> tuple[str, str, list[dict], list[Truth]]:
    rng = random.Random(seed * 7919 + 17)  # not the stream policy_text draws from (it would repeat its sentences)
    v1 = textgen.policy_text(100_000, seed)
    assert v1.endswith("\n")
    blocks = v1[:-1].split("\n\n")
    starts, position = [], 0
    for block in blocks:
        starts.append(position)
        position += len(block) + 2

    # Annotations: whole sentences (30%) or phrases of 4-12 words inside one sentence.
    annotated: list[tuple[int, int, int]] = []  # (block, start, end) in block coordinates
    candidates = [i for i, block in enumerate(blocks) if not block.startswith("#")]
    while len(annotated) < ANNOTATIONS:
        index = rng.choice(candidates)
        found = [m.span() for m in re.finditer(r"[^ .?][^.?]*[.?]", blocks[index]) if " " in m.group()]
        a, b = rng.choice(found)
        if rng.random() >= 0.3:
            words = [m.span() for m in re.finditer(r"\S+", blocks[index][a:b])]
            if len(words) < 5:
                continue
            size = rng.randint(4, min(12, len(words) - 1))
            first = rng.randrange(0, len(words) - size + 1)
            a, b = a + words[first][0], a + words[first + size - 1][1]
            while blocks[index][b - 1] in ".?":
                b -= 1
        annotated.append((index, a, b))

    # Version 2: delete 3% of paragraphs, edit 12% of the sentences in the rest, move 8% of the
    # paragraphs, and insert 3% new ones.
    new_blocks: list[tuple[int | None, str, list[tuple[int, int, str]]]] = []  # (old index, text, edits)
    for index, block in enumerate(blocks):
        if index and not block.startswith("#") and rng.random() < 0.03:
            continue
        edited = textgen.edit_sentences(block, 0.12, seed=seed * 100_000 + index)
        new_blocks.append((index, edited, _edits_between(block, edited)))
    for _ in range(len(new_blocks) * 8 // 100):
        item = new_blocks.pop(rng.randrange(1, len(new_blocks)))
        new_blocks.insert(rng.randrange(1, len(new_blocks)), item)
    for _ in range(len(new_blocks) * 3 // 100):
        new_blocks.insert(rng.randrange(1, len(new_blocks)), (None, textgen.paragraph(rng), []))
    v2 = "\n\n".join(text for _, text, _ in new_blocks) + "\n"
    new_starts: dict[int, int] = {}
    edits_of: dict[int, list[tuple[int, int, str]]] = {}
    position = 0
    for index, text, edits in new_blocks:
        if index is not None:
            new_starts[index], edits_of[index] = position, edits
        position += len(text) + 2

    ops = diff(v1, v2)
    # diff_xIndex maps a start (text inserted there goes before it); an end is mapped the same way
    # through the reversed texts, so that text inserted right after a quote stays after it.
    reversed_ops = [(op, text[::-1]) for op, text in reversed(ops)]
    dmp = diff_match_patch()
    selectors, truths = [], []
    for index, a, b in annotated:
        start, end = starts[index] + a, starts[index] + b
        quote = v1[start:end]
        selectors.append({"exact": quote, "prefix": v1[max(0, start - CONTEXT) : start], "suffix": v1[end : end + CONTEXT],
                          "start": start, "end": end})
        if index not in new_starts:
            truths.append(Truth("orphaned", None))
            continue
        edits = edits_of[index]
        new_a = new_starts[index] + _move(edits, a, "start")
        new_b = new_starts[index] + _move(edits, b, "end")
        touched = any((x < b and a < y) or (x == y and a < x < b) for x, y, _ in edits)
        if touched and quote in v2[new_a - 30 : new_b + 30]:
            # An edit next to a repeated word can be read two ways; the quote is intact either way.
            new_a = v2.index(quote, new_a - 30)
            new_b, touched = new_a + len(quote), False
        if touched:
            truths.append(Truth("edited", (new_a, new_b)))
            continue
        assert v2[new_a:new_b] == quote
        mapped = (dmp.diff_xIndex(ops, start), len(v2) - dmp.diff_xIndex(reversed_ops, len(v1) - end))
        truths.append(Truth("exact" if mapped == (new_a, new_b) else "moved", (new_a, new_b)))
    return v1, v2, selectors, truths


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in _EDGE:
        a += 1
    while b > a and text[b - 1] in _EDGE:
        b -= 1
    return a, b


def right(truth: Truth, result: dict, new: str) -> bool:
    if truth.kind == "orphaned":
        return result["status"] == "orphaned"
    if result["status"] != truth.kind or result["start"] is None or truth.span is None:
        return False
    got = (result["start"], result["end"])
    return got == truth.span or (truth.kind == "edited" and _trim(new, *got) == _trim(new, *truth.span))


def keep_offsets(old: str, new: str, selectors: list[dict]) -> list[dict]:
    results = []
    for s in selectors:
        if s["end"] > len(new):
            results.append({"status": "orphaned", "start": None, "end": None, "score": 0.0})
            continue
        same = new[s["start"] : s["end"]] == s["exact"]
        results.append({"status": "exact" if same else "edited", "start": s["start"], "end": s["end"], "score": 1.0})
    return results


def first_occurrence(old: str, new: str, selectors: list[dict]) -> list[dict]:
    results = []
    for s in selectors:
        found = new.find(s["exact"])
        if found == -1:
            results.append({"status": "orphaned", "start": None, "end": None, "score": 0.0})
        else:
            status = "exact" if found == s["start"] else "moved"
            results.append({"status": status, "start": found, "end": found + len(s["exact"]), "score": 1.0})
    return results


def accuracy_rows(name: str, results: list[dict], truths: list[Truth], new: str) -> list[str]:
    by_kind: Counter[str] = Counter()
    right_by_kind: Counter[str] = Counter()
    for truth, result in zip(truths, results, strict=True):
        by_kind[truth.kind] += 1
        right_by_kind[truth.kind] += right(truth, result, new)
    cells = [f"{right_by_kind[k] / by_kind[k]:.1%}" if by_kind[k] else "-" for k in ("exact", "moved", "edited", "orphaned")]
    total = sum(right_by_kind.values()) / len(truths)
    return [name, f"{total:.1%}", *cells]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 7")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--failures", type=int, default=0, help="print this many wrong placements")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else 7

    v1, v2, selectors, truths = build(args.seed)
    print(f"policyflow re-anchoring benchmark: Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPU(s); medians of {runs} runs")
    print(f"v1 {len(v1) / 1000:.0f} KB, v2 {len(v2) / 1000:.0f} KB; {len(selectors)} annotations; truth: "
          + ", ".join(f"{k} {v}" for k, v in sorted(Counter(t.kind for t in truths).items())))
    print()

    results = reanchor_many(v1, v2, selectors)
    total = median_seconds(lambda: reanchor_many(v1, v2, selectors), runs)
    diff_only = median_seconds(lambda: diff(v1, v2), runs)
    ops = diff(v1, v2)
    placing = median_seconds(lambda: reanchor_many(v1, v2, selectors, ops=ops), runs)
    one_by_one = median_seconds(lambda: [reanchor(v1, v2, s) for s in selectors[:20]], 1) * len(selectors) / 20
    rewrite = textgen.policy_text(100_000, args.seed + 1000)  # nothing survives: every annotation is searched for
    worst = median_seconds(lambda: reanchor_many(v1, rewrite, selectors), max(1, runs // 2))
    verdict = "ok" if total <= TARGET_S else "MISSED"
    print_table(
        ["timing", "median", "target"],
        [
            [f"reanchor_many: {len(selectors)} annotations, diff included", f"{total * 1000:,.0f} ms",
             f"<= {TARGET_S * 1000:.0f} ms: {verdict}"],
            ["  of which the diff (computed once)", f"{diff_only * 1000:,.0f} ms", ""],
            ["  placing alone (ops passed in)", f"{placing * 1000:,.0f} ms", ""],
            ["  per annotation", f"{placing / len(selectors) * 1e6:,.0f} us", ""],
            ["(for comparison) reanchor() one at a time, a diff each (20 timed, scaled)", f"{one_by_one * 1000:,.0f} ms", ""],
            ["worst case: the same annotations on a full rewrite, diff included", f"{worst * 1000:,.0f} ms",
             f"<= {TARGET_S * 1000:.0f} ms: {'ok' if worst <= TARGET_S else 'MISSED'}"],
        ],
    )
    counts = Counter(r["status"] for r in results)
    print("Placements: " + ", ".join(f"{k} {counts.get(k, 0)}" for k in ("exact", "moved", "edited", "orphaned")))
    scores = [r["score"] for r in results if r["status"] == "edited"]
    if scores:
        print(f"Edited scores: median {statistics.median(scores):.2f}, min {min(scores):.2f}")
    print()
    print("Accuracy against the constructed truth (right status and span), by true status")
    print_table(
        ["method", "all", "exact", "moved", "edited", "orphaned"],
        [
            accuracy_rows("ours (reanchor_many)", results, truths, v2),
            accuracy_rows("baseline: keep old offsets", keep_offsets(v1, v2, selectors), truths, v2),
            accuracy_rows("baseline: first exact occurrence", first_occurrence(v1, v2, selectors), truths, v2),
        ],
    )
    if args.failures:
        shown = 0
        for selector, truth, result in zip(selectors, truths, results, strict=True):
            if right(truth, result, v2):
                continue
            want = v2[truth.span[0] : truth.span[1]] if truth.span else None
            got = v2[result["start"] : result["end"]] if result["start"] is not None else None
            print(f"- want {truth.kind} {want!r:.120}\n  got  {result['status']} {got!r:.120} ({result['score']})\n"
                  f"  quote {selector['exact']!r:.120}")
            shown += 1
            if shown >= args.failures:
                break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
