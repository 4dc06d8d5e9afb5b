"""Re-anchoring annotations on a later version (policyflow.core.anchoring.reanchor, pinned)."""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from policyflow.core.anchoring import ORPHAN_BELOW, reanchor, reanchor_many, similarity
from tests.core import anchoring_cases
from tests.core.anchoring_cases import build_cases, evaluate, first_occurrence, keep_offsets, make_selector
from tests.core.strategies import PROPERTY, text_strategies

STATUSES = {"exact", "moved", "edited", "orphaned"}


def _textgen():
    """bench/textgen.py (the benchmark's text generator), loaded once."""
    name = "policyflow_bench_textgen"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "bench" / "textgen.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]

POLICY = (
    "# Student Complaints\n\n"
    "## Purpose\n\n"
    "The District shall provide a prompt and fair way to resolve complaints. "
    "The District shall keep records of every complaint for five years.\n\n"
    "## Procedure\n\n"
    "1. A student may file a complaint with the principal within ten (10) school days.\n"
    "2. The principal shall respond in writing within five (5) school days.\n"
    "3. The District shall notify the parent or guardian of the outcome.\n\n"
    "## Appeals\n\n"
    "A student who is not satisfied may appeal to the Superintendent or designee. "
    "The District shall decide the appeal within fifteen (15) school days.\n\n"
    "## Retaliation\n\n"
    "The District shall not retaliate against any person who files a complaint in good faith.\n"
)


def select(text: str, quote: str, occurrence: int = 0) -> dict:
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(quote, index + 1)
    return make_selector(text, index, index + len(quote))


def placed(new: str, result: dict) -> str | None:
    return None if result["start"] is None else new[result["start"] : result["end"]]


def check_shape(result: dict, new: str) -> None:
    assert set(result) == {"status", "start", "end", "score"}
    assert result["status"] in STATUSES
    assert isinstance(result["score"], float)
    assert 0.0 <= result["score"] <= 1.0
    if result["status"] == "orphaned":
        assert result["start"] is None and result["end"] is None and result["score"] == 0.0
    else:
        assert isinstance(result["start"], int) and isinstance(result["end"], int)
        assert 0 <= result["start"] <= result["end"] <= len(new)


# ---------------------------------------------------------------------------------------------
# One test per status
# ---------------------------------------------------------------------------------------------
def test_exact_same_quote_where_the_diff_maps_it() -> None:
    new = POLICY.replace("## Purpose\n\n", "## Purpose\n\nThis policy applies to all schools.\n\n")
    quote = "The principal shall respond in writing within five (5) school days."
    result = reanchor(POLICY, new, select(POLICY, quote))
    assert result == {"status": "exact", "start": new.index(quote), "end": new.index(quote) + len(quote), "score": 1.0}


def test_exact_when_the_text_is_unchanged() -> None:
    quote = "fair way to resolve complaints"
    result = reanchor(POLICY, POLICY, select(POLICY, quote))
    assert result == {"status": "exact", "start": POLICY.index(quote), "end": POLICY.index(quote) + len(quote), "score": 1.0}


def test_moved_paragraph() -> None:
    appeals = "## Appeals\n\nA student who is not satisfied may appeal to the Superintendent or designee. " \
              "The District shall decide the appeal within fifteen (15) school days.\n\n"
    new = POLICY.replace(appeals, "").replace("## Procedure\n\n", appeals + "## Procedure\n\n")
    quote = "may appeal to the Superintendent or designee"
    result = reanchor(POLICY, new, select(POLICY, quote))
    assert result["status"] in {"moved", "exact"}  # which block "moved" is the diff's choice
    assert placed(new, result) == quote
    assert result["start"] == new.index(quote)


def test_moved_when_the_diff_pairs_the_span_elsewhere() -> None:
    # Three paragraphs rotate: the diff keeps the long ones and moves the short one.
    old = "Alpha paragraph is short.\n\nBeta paragraph is a good deal longer than alpha.\n\nGamma is longer than both of them.\n"
    new = "Beta paragraph is a good deal longer than alpha.\n\nGamma is longer than both of them.\n\nAlpha paragraph is short.\n"
    result = reanchor(old, new, select(old, "Alpha paragraph is short."))
    assert result["status"] == "moved"
    assert placed(new, result) == "Alpha paragraph is short."


def test_edited_returns_the_new_wording_and_its_similarity() -> None:
    new = POLICY.replace("within five (5) school days", "within three (3) school days")
    quote = "The principal shall respond in writing within five (5) school days."
    result = reanchor(POLICY, new, select(POLICY, quote))
    assert result["status"] == "edited"
    assert placed(new, result) == "The principal shall respond in writing within three (3) school days."
    assert ORPHAN_BELOW <= result["score"] < 1.0


def test_edited_when_words_are_added_to_a_list() -> None:
    old = "Harassment based on race, color, sex, or disability is prohibited in every school."
    new = ("Harassment based on race, color, sex, sexual orientation, gender identity, religion, or disability "
           "is prohibited in every school.")
    result = reanchor(old, new, select(old, "race, color, sex, or disability"))
    assert result["status"] == "edited"
    assert placed(new, result) == "race, color, sex, sexual orientation, gender identity, religion, or disability"


def test_edited_typo_fix_in_a_single_word() -> None:
    old = "Appeal within ten days of recieving the decision."
    new = "Appeal within ten days of receiving the decision."
    result = reanchor(old, new, select(old, "recieving"))
    assert result["status"] == "edited"
    assert placed(new, result) == "receiving"


def test_moved_and_edited_paragraph() -> None:
    paragraph = "A student who is not satisfied may appeal to the Superintendent or designee."
    moved = "A student who is still not satisfied may appeal to the Superintendent or designee.\n\n"
    new = POLICY.replace(paragraph + " ", "").replace("## Retaliation\n\n", "## Retaliation\n\n" + moved)
    result = reanchor(POLICY, new, select(POLICY, paragraph))
    assert result["status"] == "edited"
    assert placed(new, result) == "A student who is still not satisfied may appeal to the Superintendent or designee."


def test_orphaned_when_the_clause_is_deleted() -> None:
    clause = "The District shall keep records of every complaint for five years."
    new = POLICY.replace(" " + clause, "")
    assert reanchor(POLICY, new, select(POLICY, clause)) == {"status": "orphaned", "start": None, "end": None, "score": 0.0}


def test_orphaned_when_the_clause_is_replaced_by_other_words() -> None:
    clause = "The District shall keep records of every complaint for five years."
    new = POLICY.replace(clause, "Principals meet with families each autumn to explain these rights.")
    assert reanchor(POLICY, new, select(POLICY, clause))["status"] == "orphaned"


# ---------------------------------------------------------------------------------------------
# Repeated phrases: context and the diff's pairing tell the instances apart
# ---------------------------------------------------------------------------------------------
PHRASE = "The District shall"


@pytest.mark.parametrize("occurrence", range(POLICY.count(PHRASE)))
def test_repeated_phrase_keeps_its_own_instance_when_text_is_inserted(occurrence: int) -> None:
    preamble = "Preamble: The District shall read this first.\n\n"
    new = preamble + POLICY
    result = reanchor(POLICY, new, select(POLICY, PHRASE, occurrence))
    expected = select(POLICY, PHRASE, occurrence)["start"] + len(preamble)
    assert result == {"status": "exact", "start": expected, "end": expected + len(PHRASE), "score": 1.0}


def test_repeated_phrase_is_orphaned_not_moved_to_another_instance() -> None:
    sentence = "The District shall keep records of every complaint for five years."
    new = POLICY.replace(" " + sentence, "")
    assert new.count(PHRASE) == POLICY.count(PHRASE) - 1
    result = reanchor(POLICY, new, select(POLICY, PHRASE, 1))
    assert result["status"] == "orphaned"


def test_repeated_phrase_follows_its_moved_paragraph() -> None:
    retaliation = "## Retaliation\n\nThe District shall not retaliate against any person who files a complaint in good faith.\n"
    new = POLICY.replace(retaliation, "").replace("## Purpose", retaliation + "\n## Purpose")
    result = reanchor(POLICY, new, select(POLICY, PHRASE, POLICY.count(PHRASE) - 1))
    assert result["status"] in {"moved", "exact"}
    assert result["start"] == new.index("The District shall not retaliate")


def test_repeated_phrase_when_the_words_around_it_change() -> None:
    new = POLICY.replace("good faith", "honest belief").replace("## Appeals\n\nA student", "## Appeals\n\nAny student")
    occurrence = 3  # "The District shall decide the appeal"
    result = reanchor(POLICY, new, select(POLICY, PHRASE, occurrence))
    assert result["status"] in {"exact", "moved"}
    assert result["start"] == new.index("The District shall decide")


# ---------------------------------------------------------------------------------------------
# Stale, missing or odd offsets; empty and whitespace quotes
# ---------------------------------------------------------------------------------------------
STALE = [
    pytest.param({"start": 5, "end": 20}, id="shifted"),
    pytest.param({"start": None, "end": None}, id="none"),
    pytest.param({}, id="missing"),
    pytest.param({"start": 10_000, "end": 10_050}, id="out-of-range"),
    pytest.param({"start": -8, "end": 3}, id="negative"),
    pytest.param({"start": True, "end": "12"}, id="wrong-types"),
]


@pytest.mark.parametrize("offsets", STALE)
def test_stale_offsets_fall_back_to_the_quote(offsets: dict) -> None:
    new = POLICY.replace("## Purpose\n\n", "## Purpose\n\nThis policy applies to all schools.\n\n")
    quote = "The District shall notify the parent or guardian"
    selector = select(POLICY, quote)
    selector.pop("start")
    selector.pop("end")
    selector.update(offsets)
    result = reanchor(POLICY, new, selector)
    assert result["status"] == "exact"
    assert placed(new, result) == quote


@pytest.mark.parametrize("offsets", STALE)
def test_stale_offsets_use_the_context_for_repeated_phrases(offsets: dict) -> None:
    selector = select(POLICY, PHRASE, 3)
    selector.pop("start")
    selector.pop("end")
    selector.update(offsets)
    new = "Preamble.\n\n" + POLICY
    result = reanchor(POLICY, new, selector)
    assert result["start"] == new.index("The District shall decide")


def test_offsets_that_no_longer_match_the_quote_are_ignored() -> None:
    quote = "The District shall not retaliate"
    selector = select(POLICY, quote) | {"start": 0, "end": len(quote)}  # offsets of some other text
    result = reanchor(POLICY, POLICY, selector)
    assert placed(POLICY, result) == quote and result["status"] == "exact"


def test_quote_missing_from_the_old_text_is_still_searched_in_the_new() -> None:
    new = POLICY + "\nA brand new closing sentence.\n"
    selector = {"exact": "A brand new closing sentence.", "prefix": "", "suffix": "", "start": None, "end": None}
    result = reanchor(POLICY, new, selector)
    assert result["status"] == "moved" and placed(new, result) == "A brand new closing sentence."


def test_missing_exact_is_read_from_the_offsets() -> None:
    quote = "fair way to resolve complaints"
    selector = select(POLICY, quote)
    del selector["exact"]
    assert placed(POLICY, reanchor(POLICY, POLICY, selector)) == quote


def test_empty_quote_maps_its_position_or_is_orphaned() -> None:
    at = POLICY.index("## Appeals")
    new = "Preamble.\n\n" + POLICY
    assert reanchor(POLICY, new, make_selector(POLICY, at, at)) == {"status": "exact", "start": at + 11, "end": at + 11, "score": 1.0}
    assert reanchor(POLICY, new, {"exact": "", "prefix": "", "suffix": ""})["status"] == "orphaned"
    assert reanchor(POLICY, new, {})["status"] == "orphaned"


def test_whitespace_quote_is_never_searched_for() -> None:
    at = POLICY.index("\n\n## Appeals")
    selector = make_selector(POLICY, at, at + 2)
    new = "Preamble.\n\n" + POLICY
    assert reanchor(POLICY, new, selector) == {"status": "exact", "start": at + 11, "end": at + 13, "score": 1.0}
    # Its blank line is gone: orphaned rather than sent to some other blank line.
    gone = POLICY.replace("\n\n## Appeals", "\n## Appeals")
    assert reanchor(POLICY, gone, selector)["status"] == "orphaned"
    # Stale offsets of a whitespace quote: nothing to find it by.
    assert reanchor(POLICY, new, selector | {"start": None, "end": None})["status"] == "orphaned"


# ---------------------------------------------------------------------------------------------
# Offsets are code points
# ---------------------------------------------------------------------------------------------
UNICODE_OLD = (
    "第一条 学校は全ての生徒の権利を守る。\n\n"
    "Families 👨\u200d👩\u200d👧 may ask the Ombuds 🙂 for help.\n\n"
    "The cafe\u0301 committee reviews the nai\u0308ve draft.\n"
)


@pytest.mark.parametrize("quote", ["学校は全ての生徒", "👨\u200d👩\u200d👧 may ask", "🙂 for help",
                                   "cafe\u0301 committee", "nai\u0308ve"])
def test_unicode_offsets_are_code_points(quote: str) -> None:
    new = "前文 😀 新しい段落。\n\n" + UNICODE_OLD
    selector = select(UNICODE_OLD, quote)
    assert selector["end"] - selector["start"] == len(quote)  # code points, not UTF-16 units or bytes
    result = reanchor(UNICODE_OLD, new, selector)
    assert result["status"] == "exact"
    assert result["start"] == len("前文 😀 新しい段落。\n\n") + selector["start"] == new.index(quote)
    assert placed(new, result) == quote


def test_unicode_edit_is_found_in_place() -> None:
    new = UNICODE_OLD.replace("全ての生徒", "すべての児童生徒")
    result = reanchor(UNICODE_OLD, new, select(UNICODE_OLD, "第一条 学校は全ての生徒の権利を守る。"))
    assert result["status"] == "edited"
    assert placed(new, result) == "第一条 学校はすべての児童生徒の権利を守る。"


# ---------------------------------------------------------------------------------------------
# reanchor_many and the similarity score
# ---------------------------------------------------------------------------------------------
def test_reanchor_many_equals_one_by_one() -> None:
    new = POLICY.replace("five (5)", "three (3)").replace("good faith", "honest belief")
    rng = random.Random(3)
    selectors = []
    for _ in range(40):
        a = rng.randrange(len(POLICY) - 5)
        selectors.append(make_selector(POLICY, a, min(len(POLICY), a + rng.randint(1, 60))))
    assert reanchor_many(POLICY, new, selectors) == [reanchor(POLICY, new, s) for s in selectors]
    assert reanchor_many(POLICY, new, []) == []


def test_similarity() -> None:
    assert similarity("the District shall", "the District shall") == 1.0
    assert similarity("**Grievance** means a claim", "Grievance means a claim") == 1.0  # formatting only
    assert similarity("within ten days of recieving it", "within ten days of receiving it") > 0.9
    assert similarity("within five (5) working days", "within seven (7) working days") > 0.6
    assert similarity("The supervisor shall respond in writing.", "Families may ask for an interpreter.") < 0.3
    assert similarity("equitable and to students", "students") < ORPHAN_BELOW  # one word left is not the passage


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------
_PIECES = [
    "the", "The", "District", "shall", "student", "students", "policy", "Board", " ", " ", " ", "\n", "\n\n", ".", ",",
    "**", "- ", "1. ", "## ", "(10)", "café", "e\u0301", "学生", "政策", "😀", "👍🏽", "👨\u200d👩\u200d👧",
]
TEXTS = text_strategies(_PIECES, max_tokens=60)
MARK = "⁂"  # never generated: an insertion made of it cannot be mistaken for existing text


@st.composite
def text_and_span(draw: st.DrawFn) -> tuple[str, int, int]:
    text = draw(TEXTS.texts)
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    return text, start, end


@given(text_and_span())
@example(("the the the", 4, 7))
@example(("", 0, 0))
@PROPERTY
def test_unchanged_text_maps_every_selector_to_the_same_span(case: tuple[str, int, int]) -> None:
    text, start, end = case
    result = reanchor(text, text, make_selector(text, start, end))
    assert result == {"status": "exact", "start": start, "end": end, "score": 1.0}


@given(text_and_span(), st.data())
@example(("the District shall. the District shall.", 20, 38), None)
@PROPERTY
def test_text_inserted_away_from_the_span_shifts_it_exactly(case: tuple[str, int, int], data: st.DataObject | None) -> None:
    text, start, end = case
    assume(MARK not in text and text[start:end].strip())
    # Insert at the start or end of the text or of a line outside the span.
    places = sorted({0, len(text)} | {i + 1 for i, ch in enumerate(text) if ch == "\n"})
    places = [p for p in places if p <= start or p >= end]
    at = data.draw(st.sampled_from(places)) if data is not None else 0
    inserted = data.draw(st.sampled_from([MARK, MARK * 3, f"{MARK} {MARK}{MARK}"])) if data is not None else MARK
    new = text[:at] + inserted + text[at:]
    shift = len(inserted) if at <= start else 0
    result = reanchor(text, new, make_selector(text, start, end))
    assert result == {"status": "exact", "start": start + shift, "end": end + shift, "score": 1.0}


@given(TEXTS.text_pairs, st.data())
@PROPERTY
def test_any_selector_on_any_pair_gives_a_well_formed_placement(pair: tuple[str, str], data: st.DataObject) -> None:
    old, new = pair
    start = data.draw(st.integers(0, len(old)))
    end = data.draw(st.integers(start, len(old)))
    selector = make_selector(old, start, end)
    if data.draw(st.booleans()):
        selector["start"] = data.draw(st.one_of(st.none(), st.integers(-5, len(old) + 5)))
    result = reanchor(old, new, selector)
    check_shape(result, new)
    if result["status"] in {"exact", "moved"}:
        assert placed(new, result) == selector["exact"]


# ---------------------------------------------------------------------------------------------
# Accuracy on the evaluation set (tests/core/anchoring_cases.py) and speed
# ---------------------------------------------------------------------------------------------
def test_evaluation_set_is_large_and_varied() -> None:
    cases = build_cases()
    assert len(cases) >= 150
    categories = {case.category for case in cases}
    assert len(categories) >= 15
    assert all(sum(c.category == k for c in cases) >= 8 for k in categories)


def test_accuracy_on_the_evaluation_set() -> None:
    report = evaluate(reanchor)
    sys.stdout.write("\n" + anchoring_cases.report_text({"ours": report, "keep offsets": evaluate(keep_offsets),
                                                          "first occurrence": evaluate(first_occurrence)}) + "\n")
    failures = [f"{case.name}: got {result['status']} {result['start']}-{result['end']}" for case, result in report.failures]
    assert report.accuracy >= 0.95, failures
    for category, (count, right, _) in report.by_category.items():
        assert right / count >= 0.85, (category, failures)


def test_baselines_are_far_behind() -> None:
    ours = evaluate(reanchor).accuracy
    assert evaluate(keep_offsets).accuracy < ours - 0.5
    assert evaluate(first_occurrence).accuracy < ours - 0.5


def test_a_thousand_annotations_on_a_100_kb_policy_in_well_under_a_few_seconds() -> None:
    textgen = _textgen()
    old = textgen.policy_text(100_000, 5)
    new = textgen.edit_sentences(old, 0.1, seed=6)
    rng = random.Random(7)
    selectors = []
    for _ in range(1000):
        a = rng.randrange(len(old) - 200)
        selectors.append(make_selector(old, a, a + rng.randint(10, 150)))
    began = time.perf_counter()
    results = reanchor_many(old, new, selectors)
    elapsed = time.perf_counter() - began
    assert elapsed < 5.0  # the benchmark's target is 1 s; a loaded test machine gets slack
    for result in results:
        check_shape(result, new)
