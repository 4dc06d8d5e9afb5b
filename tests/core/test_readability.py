"""The plain-language check: Flesch-Kincaid grade per Markdown section, against hand-computed values.

Grade = 0.39 x words/sentences + 11.8 x syllables/words - 15.59 (one decimal, never below 0).
Syllables are pyphen's hyphenation points + 1, the method textstat 0.7 used (offline).
"""

from __future__ import annotations

import sys

import pytest

from policyflow.core.readability import OPENING, TextStats, block_stats, compare_reading, reading, syllables

BUS = "Students may ride the bus. The district pays for transportation."  # 10 words, 2 sentences, 14 syllables
NOTICE = "Families must read every notice carefully before signing."  # 8 words, 1 sentence, 16 syllables


@pytest.mark.parametrize(("word", "count"), [
    ("bus", 1), ("students", 2), ("district", 2), ("transportation", 3), ("families", 3), ("carefully", 3),
    ("McKinney-Vento", 5), ("district's", 2), ("30", 1), ("Education", 4),
])
def test_syllables_come_from_the_bundled_dictionary(word: str, count: int) -> None:
    assert syllables(word) == count


def test_hand_computed_grades() -> None:
    bus = block_stats(BUS)
    assert bus == TextStats(words=10, sentences=2, syllables=14)
    assert bus.grade == 2.9  # 0.39 * 10/2 + 11.8 * 14/10 - 15.59 = 2.88
    notice = block_stats(NOTICE)
    assert notice == TextStats(words=8, sentences=1, syllables=16)
    assert notice.grade == 11.1  # 0.39 * 8 + 11.8 * 2 - 15.59 = 11.13
    both = bus + notice
    assert both.grade == 6.4  # 0.39 * 18/3 + 11.8 * 30/18 - 15.59 = 6.4167
    assert block_stats("The cat sat on the mat.").grade == 0.0  # -1.45, shown as 0
    assert TextStats().grade is None


def test_sentences_ignore_abbreviations_and_count_unfinished_blocks() -> None:
    assert block_stats("See e.g. Dr. Lee at 5 p.m. today. Then call").sentences == 2
    assert block_stats("Call the office (555-0100).").sentences == 1
    assert block_stats("Really? Yes! Done.").sentences == 3
    assert block_stats("   ").words == 0


def test_markdown_is_read_as_words_per_section() -> None:
    text = (
        "# Transportation\n\n"
        "## Riding\n\n"
        "- **Students** may ride the [bus](https://example.org/bus).\n"
        "- The district pays for transportation\n\n"
        "## Notices\n\n"
        "> Families must read every notice *carefully* before `signing`.\n\n"
        "```\ncode blocks are not prose at all here\n```\n\n"
        "| Who | What |\n|-----|------|\n| Families | read every notice |\n"
    )
    result = reading(text)
    assert [(s.heading, s.stats) for s in result.sections] == [
        ("Riding", TextStats(10, 2, 14)),  # each list item ends a sentence, with or without a period
        # `signing` is code; each table row (the header too) is one more sentence.
        ("Notices", TextStats(7 + 2 + 4, 1 + 1 + 1, 14 + 2 + 8)),
    ]
    assert result.whole == TextStats(23, 5, 38)
    assert reading("Before any heading.\n\n# Title\n").sections[0].heading == OPENING


def test_draft_and_published_side_by_side_by_heading() -> None:
    published = f"# Policy\n\n## Riding\n\n{NOTICE}\n\n## Old part\n\n{BUS}\n\n## Notes\n\nOne.\n\n## Notes\n\n{NOTICE}\n"
    draft = f"# Policy\n\n## New part\n\n{BUS}\n\n## riding:\n\n{BUS}\n\n## Notes\n\nOne.\n\n## Notes\n\n{BUS}\n"
    comparison = compare_reading(draft, published)
    rows = [(r.heading, r.draft.grade if r.draft else None, r.published.grade if r.published else None, r.change)
            for r in comparison.rows]
    assert rows == [
        ("New part", 2.9, None, None),
        ("riding:", 2.9, 11.1, -8.2),  # matched despite case and a trailing colon
        ("Notes", 0.0, 0.0, 0.0),
        ("Notes", 2.9, 11.1, -8.2),  # the second "Notes" matches the second one
        ("Old part", None, 2.9, None),  # only in the published text: last
    ]
    assert comparison.published is not None and comparison.change is not None and comparison.change < 0
    alone = compare_reading(draft, None)
    assert alone.published is None and alone.change is None and all(r.published is None for r in alone.rows)


def test_works_offline_without_textstat_or_nltk() -> None:
    reading(BUS)
    assert "textstat" not in sys.modules and "nltk" not in sys.modules
