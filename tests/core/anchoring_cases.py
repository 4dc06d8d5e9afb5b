"""Evaluation set for re-anchoring (``policyflow.core.anchoring``), with the truth built in.

Every case is an old text, a new text, a selector made on the old text, and what a correct
placement is: the acceptable statuses and spans. Cases come from the demo corpus
(``policyflow/demo/policies/*/v*.md``):

* real revisions (consecutive versions): sentences kept verbatim, found programmatically, and
  passages labelled by hand (reworded, deleted, renamed terms, typo fixes, moved list items);
* synthetic revisions of those texts, where the truth follows from the construction: reworded
  sentences, moved paragraphs (the annotated one, or another across it), moved and edited
  paragraphs, deleted and replaced clauses, repeated phrases, Markdown formatting changes (bold
  added or removed, list markers, heading levels), typo fixes, renumbered lists, whitespace
  changes, stale or missing offsets, and non-Latin scripts, emoji and combining marks.

The status of a quote that survives verbatim is ``exact`` where the pinned diff maps the old
span onto it and ``moved`` otherwise (DESIGN.md section 4); which of the two is decided
independently of our code with diff-match-patch's own ``diff_xIndex`` over the pinned diff ops
(the end mapped through the reversed texts, so that text inserted right after a quote stays after it).
An edited span is right if it equals the constructed one once whitespace and Markdown markers
at its edges are set aside (``**Grievance** means`` and ``Grievance** means`` are one passage).

Run ``python -m tests.core.anchoring_cases`` for the accuracy report: ours against two
baselines (keep the old offsets; first occurrence of the exact quote), overall and per category.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from diff_match_patch import diff_match_patch

from policyflow.core.diffing import diff

ROOT = Path(__file__).resolve().parents[2]
DEMO_POLICIES = ROOT / "policyflow" / "demo" / "policies"
CONTEXT = 32
_EDGE = " \t\r\n*_#"
_DMP = diff_match_patch()


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    old_text: str
    new_text: str
    selector: dict
    statuses: frozenset[str]
    spans: tuple[tuple[int, int], ...] = ()  # acceptable new spans; empty when orphaned
    note: str = field(default="", compare=False)


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------
@cache
def demo_versions() -> dict[str, tuple[str, ...]]:
    versions: dict[str, tuple[str, ...]] = {}
    for folder in sorted(DEMO_POLICIES.iterdir()):
        files = sorted(folder.glob("v*.md"), key=lambda path: int(path.stem[1:]))
        versions[folder.name] = tuple(path.read_text(encoding="utf-8") for path in files)
    return versions


def make_selector(text: str, start: int, end: int) -> dict:
    return {
        "exact": text[start:end],
        "prefix": text[max(0, start - CONTEXT) : start],
        "suffix": text[end : end + CONTEXT],
        "start": start,
        "end": end,
    }


@lru_cache(maxsize=512)
def _ops(old: str, new: str) -> tuple:
    return tuple(diff(old, new))


def quote_status(old: str, new: str, start: int, end: int, new_start: int) -> str:
    """``exact`` if diff-match-patch's ``diff_xIndex`` maps the old span onto the new one."""
    ops = list(_ops(old, new))
    mapped_start = _DMP.diff_xIndex(ops, start)
    # The end goes through the reversed texts, so that text inserted right after the quote stays after it.
    reversed_ops = [(op, text[::-1]) for op, text in reversed(ops)]
    mapped_end = len(new) - _DMP.diff_xIndex(reversed_ops, len(old) - end)
    return "exact" if (mapped_start, mapped_end) == (new_start, new_start + end - start) else "moved"


def unchanged(name: str, category: str, old: str, new: str, start: int, end: int, new_start: int,
              selector: dict | None = None) -> Case:
    assert new[new_start : new_start + end - start] == old[start:end], name
    status = quote_status(old, new, start, end, new_start)
    return Case(name, category, old, new, selector or make_selector(old, start, end), frozenset({status}),
                ((new_start, new_start + end - start),))


def edited(name: str, category: str, old: str, new: str, start: int, end: int, span: tuple[int, int],
           selector: dict | None = None) -> Case:
    assert new[span[0] : span[1]] != old[start:end], name
    return Case(name, category, old, new, selector or make_selector(old, start, end), frozenset({"edited"}), (span,))


def orphaned(name: str, category: str, old: str, new: str, start: int, end: int, selector: dict | None = None) -> Case:
    return Case(name, category, old, new, selector or make_selector(old, start, end), frozenset({"orphaned"}))


class Edits:
    """Non-overlapping replacements of an old text, with old offsets carried to the new text."""

    def __init__(self, text: str, edits: Iterable[tuple[int, int, str]]) -> None:
        self.old = text
        self.edits = sorted(edits)
        pieces, position = [], 0
        for a, b, replacement in self.edits:
            assert a >= position, "edits overlap"
            pieces += [text[position:a], replacement]
            position = b
        pieces.append(text[position:])
        self.new = "".join(pieces)

    def move(self, position: int, side: str) -> int:
        """New offset of an old one; text inserted exactly at a span's end stays outside it."""
        shift = 0
        for a, b, replacement in self.edits:
            delta = len(replacement) - (b - a)
            if b < position or (b == position and (a < b or side == "start")):
                shift += delta
            elif a < position < b:
                return a + shift + (len(replacement) if side == "end" else 0)
            else:
                break
        return position + shift

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.move(start, "start"), self.move(end, "end")


def body_start(text: str) -> int:
    if text.startswith("---\n"):
        close = text.find("\n---\n", 4)
        if close != -1:
            return close + 5
    return 0


def blocks(text: str) -> list[tuple[int, int]]:
    """Spans of the Markdown blocks (runs of non-blank lines) after the front matter."""
    base = body_start(text)
    return [(m.start() + base, m.end() + base) for m in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text[base:])]


def kind(text: str, span: tuple[int, int]) -> str:
    block = text[span[0] : span[1]]
    if block.startswith("#"):
        return "heading"
    if block.startswith("|"):
        return "table"
    lines = block.split("\n")
    if all(re.match(r"(?:- |\d+\. )", line) for line in lines):
        return "list"
    return "paragraph" if len(lines) == 1 else "other"


def sentences(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """Sentence spans inside one block (stops at line ends and at '.', '!' or '?' before a space)."""
    found = []
    for m in re.finditer(r"\S[^\n]*?(?:[.!?](?=\s|$)|$)", text[span[0] : span[1]], re.MULTILINE):
        found.append((m.start() + span[0], m.end() + span[0]))
    return found


def words(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    return [(m.start() + span[0], m.end() + span[0]) for m in re.finditer(r"\S+", text[span[0] : span[1]])]


def unique(text: str, start: int, end: int) -> bool:
    return text.count(text[start:end]) == 1


def clause(rng: random.Random, text: str, sentence: tuple[int, int], low: int = 4, high: int = 10) -> tuple[int, int]:
    """A run of ``low``..``high`` words inside a sentence (or the whole sentence)."""
    ws = words(text, sentence)
    if len(ws) <= low:
        return sentence
    size = rng.randint(low, min(high, len(ws)))
    first = rng.randrange(0, len(ws) - size + 1)
    start, end = ws[first][0], ws[first + size - 1][1]
    while end > start and text[end - 1] in ",;:":
        end -= 1
    return start, end


def paragraphs(text: str, min_sentences: int = 1) -> list[tuple[int, int]]:
    return [b for b in blocks(text) if kind(text, b) == "paragraph" and len(sentences(text, b)) >= min_sentences]


def other_paragraph(rng: random.Random, code: str) -> str:
    """A body paragraph of a different policy (unrelated text to insert or substitute)."""
    codes = [c for c in demo_versions() if c != code]
    source = demo_versions()[rng.choice(codes)][0]
    span = rng.choice(paragraphs(source))
    return source[span[0] : span[1]]


def other_sentence(rng: random.Random, code: str) -> str:
    codes = [c for c in demo_versions() if c != code]
    source = demo_versions()[rng.choice(codes)][0]
    span = rng.choice(paragraphs(source))
    candidates = [s for s in sentences(source, span) if len(words(source, s)) >= 8]
    if not candidates:
        return other_sentence(rng, code)
    s = rng.choice(candidates)
    return source[s[0] : s[1]]


_SUBSTITUTES = {
    "shall": "must", "must": "shall", "may": "can", "will": "shall", "within": "no later than", "written": "signed",
    "students": "pupils", "student": "pupil", "employee": "staff member", "employees": "staff members", "promptly": "quickly",
    "annually": "each year", "prompt": "timely", "provide": "offer", "ensure": "make sure", "receive": "obtain",
    "including": "such as", "appropriate": "suitable", "immediately": "at once", "procedures": "processes", "and": "as well as",
    "any": "every", "all": "every", "District": "district", "Board": "board", "policy": "Policy", "report": "notice",
}


def reword(rng: random.Random, text: str, sentence: tuple[int, int]) -> tuple[int, int, str] | None:
    """One word-level edit strictly inside a sentence: substitute, insert or delete a word."""
    ws = words(text, sentence)
    if len(ws) < 8:
        return None
    inner = ws[2:-2]
    subs = [w for w in inner if text[w[0] : w[1]] in _SUBSTITUTES]
    action = rng.random()
    if subs and action < 0.6:
        a, b = rng.choice(subs)
        return a, b, _SUBSTITUTES[text[a:b]]
    a, b = rng.choice(inner)
    if action < 0.8:
        return a, a, rng.choice(["promptly ", "also ", "generally ", "at least ", "in writing "])
    if re.fullmatch(r"[A-Za-z]+", text[a:b]):
        return a, b + 1, ""  # drop the word and the space after it
    return a, a, "also "


def typo(rng: random.Random, word: str) -> str | None:
    """A plausible typo: two adjacent interior letters swapped."""
    if len(word) < 6 or not word.isalpha():
        return None
    i = rng.randrange(1, len(word) - 2)
    if word[i] == word[i + 1]:
        return None
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def bases(rng: random.Random, count: int) -> list[tuple[str, int, str]]:
    """``count`` (policy code, version number, text) picks spread over the corpus."""
    items = [(code, number + 1, text) for code, texts in demo_versions().items() for number, text in enumerate(texts)]
    rng.shuffle(items)
    return [items[i % len(items)] for i in range(count)]


# --------------------------------------------------------------------------------------------
# Cases from real revisions
# --------------------------------------------------------------------------------------------
def revision_unchanged(rng: random.Random) -> list[Case]:
    """A sentence (or a clause of one) found once in a version and once in the next."""
    cases = []
    for code, texts in demo_versions().items():
        for number in range(len(texts) - 1):
            old, new = texts[number], texts[number + 1]
            options = [s for b in blocks(old) if kind(old, b) in ("paragraph", "list") for s in sentences(old, b)
                       if len(words(old, s)) >= 5 and unique(old, *s) and new.count(old[s[0] : s[1]]) == 1]
            for pick in rng.sample(options, min(2, len(options))):
                span = pick if rng.random() < 0.5 else clause(rng, old, pick)
                if not unique(old, *span) or new.count(old[span[0] : span[1]]) != 1:
                    span = pick
                new_start = new.index(old[span[0] : span[1]])
                cases.append(unchanged(f"revision-unchanged:{code}v{number + 1}:{span[0]}", "revision-unchanged",
                                       old, new, span[0], span[1], new_start))
    return cases


SAME = "same"
# (policy, old version, quote in the old version, what became of it: SAME, None (gone) or the new wording;
# "[[...]]" marks the new wording inside a longer, unique context)
HAND_LABELLED: list[tuple[str, int, str, str | None]] = [
    ("AC", 1, "any adverse action taken against a person because he or she made a report",
     "any adverse action taken against a person because they made a report"),
    ("AC", 1, "within ten (10) days of recieving the determination", "within ten (10) days of receiving the determination"),
    ("AC", 1, "recieving", "days of [[receiving]] the determination"),
    ("AC", 1, "national origin, sex, disability, age, religion",
     "national origin (including limited English proficiency), sex, sexual "
     "orientation, gender identity, gender expression, disability, age, religion"),
    ("AC", 1, "The Superintendent's decision is final.", SAME),
    ("AC", 2, "shall begin an investigation within ten (10) days of receiving a complaint",
     "shall acknowledge the complaint in writing and begin an investigation within five (5) school days of receiving it"),
    ("AC", 3, "While a complaint is pending, the District may take interim measures to protect the complainant and others",
     "Whether or not a formal complaint is filed, the District shall offer supportive measures to protect the complainant and others"),
    ("AC", 3, "Consultations with the Ombuds are not notice to the District of a complaint",
     "Communications with the Ombuds are confidential and are not notice to the District of a complaint"),
    ("AC", 3, "The Ombuds does not conduct investigations, make findings,", SAME),
    ("AC", 4, "within ten (10) days of receiving the determination", "within fifteen (15) school days of receiving the determination"),
    ("AC", 4, "for at least five years", "for at least seven years"),
    ("AC", 4, "Nothing in this policy prevents a person from filing a complaint", SAME),
    ("DJE", 1, "**$3,000 to $25,000:** at least three written quotations shall be obtained and documented",
     "**$3,000 to $50,000:** at least three written quotations shall be obtained and documented"),
    ("DJE", 1, "Emergency purchases over $25,000 shall be reported to the Board",
     "Emergency purchases over $50,000 shall be reported to the Board"),
    ("DJE", 2, "hold at least one vendor outreach event each year", "hold at least two vendor outreach events each year"),
    ("DJE", 2, "maintain a list of certified MWBEs and small businesses",
     "maintain a list of certified diverse suppliers and small businesses"),
    ("GAE", 1, "within twenty (20) working days of the event giving rise to the grievance",
     "within thirty (30) working days of the event giving rise to the grievance"),
    ("GAE", 4, "An employee shall first discuss the concern with the immediate supervisor",
     "An employee may discuss the concern with the immediate supervisor"),
    ("GAE", 4, "within ten (10) working days of the event giving rise to the concern", None),
    ("GAE", 4, "and does not pause or extend any time limit in this policy", None),
    ("GAE", 4, "The supervisor shall respond orally or in writing",
     "A supervisor who receives a concern shall respond orally or in writing"),
    ("IHBEA", 1, "monitor the academic progress of exited students for two (2) years",
     "monitor the academic progress of exited students for four (4) years"),
    ("IHBEA", 1, "Language proficiency alone shall not be a reason to exclude a student from any program.", SAME),
    ("IHBEA", 3, "## Communication with Parents", None),
    ("IHBEA", 3, "shall not be a reason to exclude a student from any program.", SAME),
    ("JD", 2, "## Long-Term Suspension and Expulsion", SAME),
    ("JFABD", 3, "## Temporary Remote Enrollment", None),
    ("JFABD", 3, "This section expires when school buildings reopen to the public", None),
    ("JFABE", 1, "## Training", None),
    ("JICFB", 2, "national origin, sex, religion, or disability",
     "national origin, sex, sexual orientation, gender identity, gender expression, religion, immigration status, or disability"),
    ("KB", 1, "develop, with parents, a District parent involvement plan as required under Title I",
     "develop, with families, a District family engagement plan as required under Title I"),
    ("KB", 4, "schools should be welcoming places where every family feels respected", SAME),
    ("KB", 4, "for informal, confidential assistance in understanding options", "for assistance in understanding options"),
    ("ADF", 2, "This policy establishes the Board's expectations for identifying and eliminating those gaps", None),
    ("ADF", 2, "## Purpose", None),
]


# Labelled after the method was tuned on the list above, and not tuned on since: a held-out check.
HOLDOUT_LABELLED: list[tuple[str, int, str, str | tuple[str, ...] | None]] = [
    ("ADF", 3, "may bring recommendations directly to the Board once each year",
     "shall bring its recommendations directly to the Board twice each year"),
    ("ADF", 3, "## Equitable Resource Allocation", SAME),
    ("ADF", 4, "Members shall serve one-year terms",
     ("Members shall serve staggered two-year terms",
      "Members shall serve staggered two-year terms, and student members shall receive service-learning credit")),
    ("ADF", 4, "contract with an estimated annual cost of more than $250,000",
     "contract with an estimated annual cost of more than $100,000"),
    ("DJE", 3, "**Up to $3,000:** purchases may be made at the discretion of an",
     "**Up to $10,000:** purchases may be made at the discretion of an"),
    ("DJE", 3, "an aspirational goal that fifteen (15) percent of annual discretionary spending be awarded to certified MWBEs",
     "an aspirational goal that twenty (20) percent of annual discretionary spending be awarded to diverse suppliers"),
    ("DJE", 4, "## Records", SAME),
    ("IHBEA", 2, "## Parent Notification", SAME),
    ("IHBEA", 4, "newcomer support for recently arrived students",
     ("newcomer center at the secondary level for recently arrived students",
      "a newcomer center at the secondary level for recently arrived students")),
    ("IHBEA", 4, "The Director of ESL Programs shall evaluate the program annually",
     "The Director of Multilingual Learners shall evaluate the program annually"),
    ("IHBEA", 4, "and shall report the results to the Superintendent.",
     "and shall report the results to the Superintendent and the Board."),
    ("JD", 4, "Misconduct is classified into four levels.", SAME),
    ("JD", 4, "| Level 2 | Repeated Level 1 behavior, defiance or insubordination, cutting class, minor property damage",
     "| Level 2 | Repeated Level 1 behavior, cutting class, minor property damage"),
    ("JFABD", 1, "refer the student to the District Homeless Liaison",
     "refer the student to the school point of contact or the District Homeless Liaison"),
    ("JFABD", 2, "## Transportation", SAME),
    ("JFABD", 2, "The Liaison shall attempt to resolve the dispute within", SAME),
    ("JFABE", 2, "the school of origin shall send them promptly.",
     "the school of origin shall send them within two (2) school days of the request."),
    ("JFABE", 4, "facilitate the prompt transfer of records and immediate enrollment", SAME),
    ("JFABE", 4, "ensure that each student in foster care is connected with a school counselor or other trusted adult", SAME),
    ("JICFB", 3, "The investigation shall be completed within ten (10) school days of the report",
     "The investigation shall be completed within five (5) school days of the report"),
    ("JICFB", 3, "A restorative approach shall not be used when the conduct involved a serious physical threat.",
     "A restorative conference shall take place only with the voluntary agreement of the target and the target's parent or "
     "guardian, and shall not be used when the conduct involved a serious physical threat."),
    ("KB", 3, "contact the teacher or staff member most directly involved.", SAME),
    ("ADF", 1, "Reduce the disproportionate suspension of minority students and students with disabilities",
     "Reduce the disproportionate suspension of students of color and students with disabilities"),
    ("ADF", 1, "including students with disabilities and students with limited English proficiency",
     "including students with disabilities and English learners"),
    ("JFABE", 3, "## Legal References", SAME),
    ("JICFB", 4, "## Relationship to Civil Rights Laws", SAME),
]


def revision_hand(labels: list = HAND_LABELLED, category: str = "revision-hand") -> list[Case]:
    cases = []
    for index, (code, number, quote, outcome) in enumerate(labels):
        old, new = demo_versions()[code][number - 1], demo_versions()[code][number]
        assert old.count(quote) == 1, (code, number, quote)
        start = old.index(quote)
        end = start + len(quote)
        name = f"{category}:{code}v{number}:{index}"
        if outcome is SAME:
            assert new.count(quote) == 1, (code, number, quote)
            cases.append(unchanged(name, category, old, new, start, end, new.index(quote)))
        elif outcome is None:
            cases.append(orphaned(name, category, old, new, start, end))
        else:
            spans = []
            for wording in (outcome,) if isinstance(outcome, str) else outcome:
                context = wording.replace("[[", "").replace("]]", "")
                assert new.count(context) == 1, (code, number, wording)
                where = new.index(context) + (wording.index("[[") if "[[" in wording else 0)
                marked = re.search(r"\[\[(.*)\]\]", wording)
                spans.append((where, where + (len(marked.group(1)) if marked else len(wording))))
            case = edited(name, category, old, new, start, end, spans[0])
            cases.append(Case(case.name, category, old, new, case.selector, case.statuses, tuple(spans)))
    return cases


# --------------------------------------------------------------------------------------------
# Synthetic revisions
# --------------------------------------------------------------------------------------------
def _quote_in(rng: random.Random, text: str, block: tuple[int, int], whole: float = 0.5) -> tuple[int, int] | None:
    options = [s for s in sentences(text, block) if len(words(text, s)) >= 5]
    if not options:
        return None
    pick = rng.choice(options)
    span = pick if rng.random() < whole else clause(rng, text, pick)
    return span if unique(text, *span) else (pick if unique(text, *pick) else None)


def insert_far(rng: random.Random, count: int) -> list[Case]:
    cases = []
    for code, number, text in bases(rng, count * 3):
        bl = blocks(text)
        paras = [i for i, b in enumerate(bl) if kind(text, b) == "paragraph"]
        if len(bl) < 8 or not paras:
            continue
        target = rng.choice(paras)
        span = _quote_in(rng, text, bl[target])
        far = [i for i in range(len(bl)) if abs(i - target) >= 3]
        if span is None or not far:
            continue
        at = bl[rng.choice(far)][0]
        ed = Edits(text, [(at, at, other_paragraph(rng, code) + "\n\n")])
        cases.append(unchanged(f"insert-far:{code}v{number}:{span[0]}", "insert-far", text, ed.new, *span, ed.move(span[0], "start")))
        if len(cases) == count:
            break
    return cases


def context_edit(rng: random.Random, count: int) -> list[Case]:
    """The words right before and/or after the quote change; the quote does not."""
    cases = []
    for code, number, text in bases(rng, count * 4):
        paras = paragraphs(text)
        if not paras:
            continue
        block = rng.choice(paras)
        options = [s for s in sentences(text, block) if len(words(text, s)) >= 10]
        if not options:
            continue
        ws = words(text, rng.choice(options))
        first = rng.randrange(2, len(ws) - 6)
        last = first + rng.randint(2, 4)
        start, end = ws[first][0], ws[last][1]
        if not unique(text, start, end) or not re.fullmatch(r"[A-Za-z]+", text[ws[first - 1][0] : ws[first - 1][1]]):
            continue
        changes = [(ws[first - 1][0], ws[first - 1][1], rng.choice(["also", "further", "then", "promptly"]))]
        if rng.random() < 0.5 and re.fullmatch(r"[A-Za-z]+", text[ws[last + 1][0] : ws[last + 1][1]]):
            changes.append((ws[last + 1][0], ws[last + 1][1], "thereafter"))
        ed = Edits(text, changes)
        cases.append(unchanged(f"context-edit:{code}v{number}:{start}", "context-edit", text, ed.new, start, end,
                               ed.move(start, "start")))
        if len(cases) == count:
            break
    return cases


def reworded(rng: random.Random, count: int) -> list[Case]:
    cases = []
    for code, number, text in bases(rng, count * 3):
        paras = paragraphs(text)
        if not paras:
            continue
        options = [s for s in sentences(text, rng.choice(paras)) if len(words(text, s)) >= 8 and unique(text, *s)]
        if not options:
            continue
        sentence = rng.choice(options)
        change = reword(rng, text, sentence)
        if change is None:
            continue
        ed = Edits(text, [change])
        cases.append(edited(f"reworded:{code}v{number}:{sentence[0]}", "reworded", text, ed.new, *sentence, ed.span(*sentence)))
        if len(cases) == count:
            break
    return cases


def _move_block(text: str, source: tuple[int, int], before: tuple[int, int]) -> Edits:
    """Move block ``source`` (with its trailing blank line) to just before block ``before``."""
    moved = text[source[0] : source[1]] + "\n\n"
    cut_end = source[1] + 2 if text[source[1] : source[1] + 2] == "\n\n" else source[1]
    return Edits(text, [(source[0], cut_end, ""), (before[0], before[0], moved)])


def moved(rng: random.Random, count: int, across: bool) -> list[Case]:
    """The annotated paragraph moves (``across=False``) or another paragraph moves across it."""
    category = "moved-across" if across else "moved-paragraph"
    cases = []
    for code, number, text in bases(rng, count * 4):
        bl = blocks(text)
        paras = [i for i, b in enumerate(bl) if kind(text, b) == "paragraph"]
        if len(bl) < 6 or len(paras) < 2:
            continue
        target = rng.choice(paras)
        span = _quote_in(rng, text, bl[target])
        if span is None:
            continue
        if across:
            movers = [i for i in range(len(bl) - 1) if abs(i - target) >= 1 and kind(text, bl[i]) != "heading" and i != target]
            if not movers:
                continue
            source = rng.choice(movers)
            dests = [j for j in range(len(bl)) if (source < target < j) or (j <= target < source)]
            dests = [j for j in dests if j not in (source, source + 1)]
            if not dests:
                continue
            dest = rng.choice(dests)
            ed = _move_block(text, bl[source], bl[dest])
            new_start = ed.move(span[0], "start")
        else:
            dests = [j for j in range(len(bl)) if abs(j - target) >= 2]
            if not dests or target == len(bl) - 1:
                continue
            dest = rng.choice(dests)
            ed = _move_block(text, bl[target], bl[dest])
            new_start = ed.new.index(text[bl[target][0] : bl[target][1]] + "\n\n") + span[0] - bl[target][0]
        cases.append(unchanged(f"{category}:{code}v{number}:{span[0]}", category, text, ed.new, *span, new_start))
        if len(cases) == count:
            break
    return cases


def moved_edited(rng: random.Random, count: int) -> list[Case]:
    cases = []
    for code, number, text in bases(rng, count * 4):
        bl = blocks(text)
        paras = [i for i, b in enumerate(bl) if kind(text, b) == "paragraph"]
        if len(bl) < 6 or not paras:
            continue
        target = rng.choice(paras)
        if target == len(bl) - 1:
            continue
        options = [s for s in sentences(text, bl[target]) if len(words(text, s)) >= 8 and unique(text, *s)]
        dests = [j for j in range(len(bl)) if abs(j - target) >= 2]
        if not options or not dests:
            continue
        sentence = rng.choice(options)
        change = reword(rng, text, sentence)
        if change is None:
            continue
        # Edit inside the paragraph first, then move the edited paragraph.
        inner = Edits(text, [change])
        edited_block = (bl[target][0], inner.move(bl[target][1], "end"))
        new_sentence = inner.span(*sentence)
        dest = rng.choice(dests)
        dest_block = (inner.move(bl[dest][0], "start"), inner.move(bl[dest][1], "end"))
        ed = _move_block(inner.new, edited_block, dest_block)
        block_text = inner.new[edited_block[0] : edited_block[1]] + "\n\n"
        where = ed.new.index(block_text) - edited_block[0]
        span = (new_sentence[0] + where, new_sentence[1] + where)
        cases.append(edited(f"moved-edited:{code}v{number}:{sentence[0]}", "moved-edited", text, ed.new, *sentence, span))
        if len(cases) == count:
            break
    return cases


def deleted(rng: random.Random, count: int) -> list[Case]:
    """The annotated sentence, list item or paragraph is deleted."""
    cases = []
    for code, number, text in bases(rng, count * 4):
        bl = blocks(text)
        mode = rng.choice(["sentence", "sentence", "paragraph", "item"])
        if mode == "item":
            lists = [b for b in bl if kind(text, b) == "list" and text[b[0] : b[1]].count("\n") >= 2]
            if not lists:
                continue
            block = rng.choice(lists)
            lines = [(m.start() + block[0], m.end() + block[0]) for m in re.finditer(r"[^\n]+", text[block[0] : block[1]])]
            line = rng.choice(lines[:-1])
            marker = re.match(r"(?:- |\d+\. )", text[line[0] : line[1]])
            assert marker
            span = (line[0] + marker.end(), line[1])
            cut = (line[0], line[1] + 1)
        elif mode == "paragraph":
            paras = [b for b in paragraphs(text) if b[1] + 2 < len(text)]
            if not paras:
                continue
            block = rng.choice(paras)
            span = _quote_in(rng, text, block)
            cut = (block[0], block[1] + 2)
        else:
            paras = paragraphs(text, 2)
            if not paras:
                continue
            block = rng.choice(paras)
            sents = sentences(text, block)
            pick = rng.randrange(len(sents))
            sentence = sents[pick]
            span = sentence if rng.random() < 0.5 else clause(rng, text, sentence)
            cut = (sentence[0], sents[pick + 1][0]) if pick + 1 < len(sents) else (sents[pick - 1][1], sentence[1])
        if span is None or not unique(text, *span) or len(words(text, span)) < 3:
            continue
        ed = Edits(text, [(cut[0], cut[1], "")])
        if text[span[0] : span[1]] in ed.new:
            continue
        cases.append(orphaned(f"deleted-{mode}:{code}v{number}:{span[0]}", "deleted", text, ed.new, *span))
        if len(cases) == count:
            break
    return cases


def replaced(rng: random.Random, count: int) -> list[Case]:
    """The annotated sentence is replaced by an unrelated one."""
    cases = []
    for code, number, text in bases(rng, count * 3):
        paras = paragraphs(text)
        if not paras:
            continue
        options = [s for s in sentences(text, rng.choice(paras)) if len(words(text, s)) >= 6 and unique(text, *s)]
        if not options:
            continue
        sentence = rng.choice(options)
        ed = Edits(text, [(sentence[0], sentence[1], other_sentence(rng, code))])
        cases.append(orphaned(f"replaced:{code}v{number}:{sentence[0]}", "replaced", text, ed.new, *sentence))
        if len(cases) == count:
            break
    return cases


REPEATED_PHRASES = (
    "the District shall", "the Superintendent or designee", "working days", "school days", "the Board", "shall be",
    "the student", "the Ombuds", "students experiencing homelessness", "the Liaison", "English learners", "the complainant",
    "the grievant", "this policy", "the District", "in writing", "families", "students in foster care",
)


def _instances(text: str, phrase: str) -> list[int]:
    base = body_start(text)
    return [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text) if m.start() >= base]


def repeated(rng: random.Random, count: int) -> list[Case]:
    """A phrase that occurs several times; which instance was annotated must survive."""
    cases: list[Case] = []
    variants = ["insert-before", "delete-own", "move-own", "context", "delete-other"]
    attempts = 0
    while len(cases) < count and attempts < count * 40:
        attempts += 1
        code, number, text = bases(rng, 1)[0]
        phrase = rng.choice(REPEATED_PHRASES)
        found = _instances(text, phrase)
        if len(found) < 3:
            continue
        variant = variants[len(cases) % len(variants)]
        index = rng.randrange(1, len(found))
        start = found[index]
        end = start + len(phrase)
        block = next((b for b in blocks(text) if b[0] <= start < b[1]), None)
        if block is None:
            continue
        sentence = next((s for s in sentences(text, block) if s[0] <= start < s[1]), None)
        name = f"repeated-{variant}:{code}v{number}:{phrase}:{index}:{attempts}"
        if variant == "insert-before":
            at = blocks(text)[0][0]
            ed = Edits(text, [(at, at, other_paragraph(rng, code) + "\n\n")])
            cases.append(unchanged(name, "repeated-phrase", text, ed.new, start, end, ed.move(start, "start")))
        elif variant == "delete-own":
            if kind(text, block) != "paragraph" or sentence is None:
                continue
            sents = sentences(text, block)
            if len(sents) < 2 or len(_instances(text[sentence[0] : sentence[1]], phrase)) != 1:
                continue
            pick = sents.index(sentence)
            cut = (sentence[0], sents[pick + 1][0]) if pick + 1 < len(sents) else (sents[pick - 1][1], sentence[1])
            ed = Edits(text, [(cut[0], cut[1], "")])
            cases.append(orphaned(name, "repeated-phrase", text, ed.new, start, end))
        elif variant == "move-own":
            bl = blocks(text)
            target = bl.index(block)
            dests = [j for j in range(len(bl)) if abs(j - target) >= 2]
            if kind(text, block) != "paragraph" or not dests or target == len(bl) - 1:
                continue
            ed = _move_block(text, block, bl[rng.choice(dests)])
            new_start = ed.new.index(text[block[0] : block[1]] + "\n\n") + start - block[0]
            cases.append(unchanged(name, "repeated-phrase", text, ed.new, start, end, new_start))
        elif variant == "context":
            before = re.search(r"(\w+)(\W+)$", text[max(0, start - 40) : start])
            if not before or not before.group(1).isalpha() or before.group(1) in phrase:
                continue
            a = start - len(before.group(0))
            ed = Edits(text, [(a, a + len(before.group(1)), "and also")])
            cases.append(unchanged(name, "repeated-phrase", text, ed.new, start, end, ed.move(start, "start")))
        else:
            other = found[rng.randrange(0, index)]
            other_block = next((b for b in blocks(text) if b[0] <= other < b[1]), None)
            if other_block is None or other_block == block or kind(text, other_block) != "paragraph":
                continue
            sents = sentences(text, other_block)
            own = next(s for s in sents if s[0] <= other < s[1])
            if len(sents) < 2:
                continue
            pick = sents.index(own)
            cut = (own[0], sents[pick + 1][0]) if pick + 1 < len(sents) else (sents[pick - 1][1], own[1])
            ed = Edits(text, [(cut[0], cut[1], "")])
            cases.append(unchanged(name, "repeated-phrase", text, ed.new, start, end, ed.move(start, "start")))
    return cases


def _word_edits(rng: random.Random, text: str, span: tuple[int, int], count: int, boundary: str = "") -> list[tuple[int, int, str]]:
    """``count`` substitutions of distinct words inside ``span``; ``boundary`` "first"/"last" replaces that word."""
    ws = [w for w in words(text, span) if re.fullmatch(r"[A-Za-z]+", text[w[0] : w[1]])]
    chosen: list[tuple[int, int]] = []
    if boundary == "first" and re.fullmatch(r"[A-Za-z]+", text[span[0] : words(text, span)[0][1]]):
        chosen.append(words(text, span)[0])
    if boundary == "last" and re.fullmatch(r"[A-Za-z]+", text[words(text, span)[-1][0] : span[1]]):
        last = words(text, span)[-1]
        chosen.append((last[0], span[1]))
    inner = [w for w in ws[1:-1] if all(abs(w[0] - c[0]) > 1 for c in chosen)]
    chosen += rng.sample(inner, min(len(inner), count - len(chosen)))
    edits = []
    for a, b in sorted(chosen):
        word = text[a:b]
        edits.append((a, b, _SUBSTITUTES.get(word) or rng.choice(["relevant", "applicable", "designated", "timely", "written"])))
    return edits


def reworded_hard(rng: random.Random, count: int) -> list[Case]:
    """Several words of a sentence or clause change, including the first or last word of the quote."""
    cases = []
    for code, number, text in bases(rng, count * 4):
        paras = paragraphs(text)
        if not paras:
            continue
        options = [s for s in sentences(text, rng.choice(paras)) if len(words(text, s)) >= 10]
        if not options:
            continue
        sentence = rng.choice(options)
        span = sentence if rng.random() < 0.4 else clause(rng, text, sentence, 8, 16)
        size = len(words(text, span))
        if size < 8 or not unique(text, *span):
            continue
        boundary = rng.choice(["", "first", "last"])
        edits = _word_edits(rng, text, span, max(1, size // 5), boundary)
        if not edits:
            continue
        ed = Edits(text, edits)
        new_span = ed.span(*span)
        cases.append(edited(f"reworded-hard:{code}v{number}:{span[0]}:{boundary}", "reworded-hard", text, ed.new, *span, new_span))
        if len(cases) == count:
            break
    return cases


def rewritten(rng: random.Random, count: int) -> list[Case]:
    """Most words of the annotated sentence are replaced: the passage is gone."""
    cases = []
    for code, number, text in bases(rng, count * 3):
        paras = paragraphs(text)
        if not paras:
            continue
        options = [s for s in sentences(text, rng.choice(paras)) if len(words(text, s)) >= 8 and unique(text, *s)]
        if not options:
            continue
        sentence = rng.choice(options)
        ws = words(text, sentence)
        keep = set(rng.sample(range(len(ws)), max(1, len(ws) // 5)))
        donor = other_sentence(rng, code).split()
        edits = [(a, b, donor[i % len(donor)]) for i, (a, b) in enumerate(ws) if i not in keep]
        ed = Edits(text, edits)
        cases.append(orphaned(f"rewritten:{code}v{number}:{sentence[0]}", "rewritten", text, ed.new, *sentence))
        if len(cases) == count:
            break
    return cases


def restructured(rng: random.Random, count: int) -> list[Case]:
    """Sentences swapped, paragraphs split or merged, a sentence duplicated elsewhere: the quote is intact."""
    cases: list[Case] = []
    variants = ["swap", "split", "merge", "duplicate"]
    for code, number, text in bases(rng, count * 6):
        variant = variants[len(cases) % len(variants)]
        paras = paragraphs(text, 2)
        if not paras:
            continue
        block = rng.choice(paras)
        sents = sentences(text, block)
        pick = rng.randrange(len(sents) - 1)
        first, second = sents[pick], sents[pick + 1]
        target = rng.choice([first, second])
        span = target if rng.random() < 0.5 else clause(rng, text, target)
        if not unique(text, *span) or len(words(text, span)) < 4:
            continue
        name = f"restructured-{variant}:{code}v{number}:{span[0]}"
        if variant == "swap":
            ed = Edits(text, [(first[0], second[1], text[second[0] : second[1]] + " " + text[first[0] : first[1]])])
            quote = text[span[0] : span[1]]
            new_start = ed.new.index(quote)
        elif variant == "split":
            ed = Edits(text, [(first[1], second[0], "\n\n")])
            new_start = ed.move(span[0], "start")
        elif variant == "merge":
            following = next((b for b in blocks(text) if b[0] == block[1] + 2), None)
            if following is None or kind(text, following) != "paragraph":
                continue
            ed = Edits(text, [(block[1], block[1] + 2, " ")])
            new_start = ed.move(span[0], "start")
        else:
            others = [b for b in paragraphs(text) if b != block]
            if not others:
                continue
            host = rng.choice(others)
            ed = Edits(text, [(host[1], host[1], " " + text[target[0] : target[1]])])
            new_start = ed.move(span[0], "start")
        cases.append(unchanged(name, "restructured", text, ed.new, *span, new_start))
        if len(cases) == count:
            break
    return cases


def moved_hard(rng: random.Random, count: int) -> list[Case]:
    """The annotated paragraph moves and is edited around the quote; or a clause in it is reworded too."""
    cases: list[Case] = []
    for code, number, text in bases(rng, count * 6):
        bl = blocks(text)
        paras = [i for i, b in enumerate(bl) if kind(text, b) == "paragraph" and len(sentences(text, b)) >= 2]
        if len(bl) < 6 or not paras:
            continue
        target = rng.choice(paras)
        dests = [j for j in range(len(bl)) if abs(j - target) >= 2]
        if not dests or target == len(bl) - 1:
            continue
        sents = sentences(text, bl[target])
        index = rng.randrange(len(sents))
        sentence = sents[index]
        other = sents[index - 1] if index else sents[index + 1]
        edit_quote = len(cases) % 2 == 1
        span = clause(rng, text, sentence, 8, 14) if edit_quote else _quote_in(rng, text, (sentence[0], sentence[1]))
        if span is None or not unique(text, *span) or len(words(text, span)) < (8 if edit_quote else 4):
            continue
        changes = _word_edits(rng, text, other, 2)
        if edit_quote:
            changes += _word_edits(rng, text, span, max(1, len(words(text, span)) // 6))
        if not changes:
            continue
        inner = Edits(text, changes)
        block = (bl[target][0], inner.move(bl[target][1], "end"))
        dest = (inner.move(bl[dest][0], "start"), 0) if (dest := rng.choice(dests)) is not None else None
        assert dest is not None
        ed = _move_block(inner.new, block, dest)
        where = ed.new.index(inner.new[block[0] : block[1]] + "\n\n") - block[0]
        new_span = inner.span(*span)
        new_span = (new_span[0] + where, new_span[1] + where)
        name = f"moved-hard:{code}v{number}:{span[0]}:{'quote' if edit_quote else 'around'}"
        if edit_quote:
            cases.append(edited(name, "moved-hard", text, ed.new, *span, new_span))
        else:
            cases.append(unchanged(name, "moved-hard", text, ed.new, *span, new_span[0]))
        if len(cases) == count:
            break
    return cases


def markdown(rng: random.Random, count: int) -> list[Case]:
    """Formatting changes: bold added/removed, list markers, heading levels."""
    cases: list[Case] = []
    kinds = ["bold-around", "bold-inside", "bold-first", "list-marker", "list-marker-quoted", "heading", "heading-quoted",
             "bold-removed", "bold-removed-after"]
    attempts = 0
    while len(cases) < count and attempts < count * 40:
        attempts += 1
        code, number, text = bases(rng, 1)[0]
        variant = kinds[len(cases) % len(kinds)]
        name = f"markdown-{variant}:{code}v{number}:{attempts}"
        bl = blocks(text)
        if variant.startswith("bold-") and not variant.startswith("bold-removed"):
            paras = paragraphs(text)
            if not paras:
                continue
            options = [s for s in sentences(text, rng.choice(paras)) if len(words(text, s)) >= 8 and "*" not in text[s[0] : s[1]]]
            if not options:
                continue
            sentence = rng.choice(options)
            ws = words(text, sentence)
            if variant == "bold-around":
                first = rng.randrange(1, len(ws) - 4)
                start, end = ws[first][0], ws[first + rng.randint(1, 3)][1]
                while text[end - 1] in ",;:.":
                    end -= 1
                if not unique(text, start, end):
                    continue
                ed = Edits(text, [(start, start, "**"), (end, end, "**")])
                cases.append(unchanged(name, "markdown", text, ed.new, start, end, ed.move(start, "start")))
                continue
            if not unique(text, *sentence):
                continue
            if variant == "bold-inside":
                w = ws[rng.randrange(2, len(ws) - 2)]
                word_end = w[0] + len(re.match(r"\w*", text[w[0] : w[1]]).group(0))
                if word_end == w[0]:
                    continue
                ed = Edits(text, [(w[0], w[0], "**"), (word_end, word_end, "**")])
                cases.append(edited(name, "markdown", text, ed.new, *sentence, ed.span(*sentence)))
            else:
                w = ws[0]
                word_end = w[0] + len(re.match(r"\w*", text[w[0] : w[1]]).group(0))
                if word_end == w[0]:
                    continue
                ed = Edits(text, [(w[0], w[0], "**"), (word_end, word_end, "**")])
                new_span = (ed.move(sentence[0], "start") - 2, ed.move(sentence[1], "end"))
                cases.append(edited(name, "markdown", text, ed.new, *sentence, new_span))
        elif variant.startswith("list-marker"):
            lists = [b for b in bl if kind(text, b) == "list" and text[b[0]] == "-"]
            if not lists:
                continue
            block = rng.choice(lists)
            lines = [(m.start() + block[0], m.end() + block[0]) for m in re.finditer(r"[^\n]+", text[block[0] : block[1]])]
            ed = Edits(text, [(line[0], line[0] + 1, "*") for line in lines])
            line = rng.choice(lines)
            if variant == "list-marker":
                ws = words(text, (line[0] + 2, line[1]))
                if len(ws) < 3:
                    continue
                start, end = ws[0][0], ws[min(len(ws) - 1, rng.randint(2, 8))][1]
                if not unique(text, start, end):
                    continue
                cases.append(unchanged(name, "markdown", text, ed.new, start, end, ed.move(start, "start")))
            else:
                if not unique(text, *line):
                    continue
                cases.append(edited(name, "markdown", text, ed.new, *line, (ed.move(line[0], "start") - 1, ed.move(line[1], "end"))))
        elif variant == "heading":
            # "## X" becomes "### X"; the quote "X" is untouched.
            heads = [b for b in bl if kind(text, b) == "heading" and text[b[0] : b[0] + 3] == "## "]
            if not heads:
                continue
            block = rng.choice(heads)
            start = block[0] + 3
            if not unique(text, start, block[1]):
                continue
            ed = Edits(text, [(block[0], block[0], "#")])
            cases.append(unchanged(name, "markdown", text, ed.new, start, block[1], ed.move(start, "start")))
        elif variant == "heading-quoted":
            # "### X" becomes "## X" and the quote is the whole heading line.
            heads = [b for b in bl if kind(text, b) == "heading" and text[b[0] : b[0] + 4] == "### "]
            if not heads:
                continue
            block = rng.choice(heads)
            if not unique(text, *block):
                continue
            ed = Edits(text, [(block[0], block[0] + 1, "")])
            cases.append(edited(name, "markdown", text, ed.new, *block, ed.span(*block)))
        else:
            bolds = [m for m in re.finditer(r"\*\*([^*\n]+)\*\*", text) if m.start() >= body_start(text)]
            if not bolds:
                continue
            m = rng.choice(bolds)
            line_end = text.find("\n", m.end())
            line_end = len(text) if line_end == -1 else line_end
            after = words(text, (m.end(), line_end))
            if len(after) < 4:
                continue
            ed = Edits(text, [(m.start(), m.start() + 2, ""), (m.end() - 2, m.end(), "")])
            if variant == "bold-removed":
                start, end = m.start(), after[3][1]
                if not unique(text, start, end):
                    continue
                cases.append(edited(name, "markdown", text, ed.new, start, end, ed.span(start, end)))
            else:
                start, end = after[0][0], after[3][1]
                if not unique(text, start, end):
                    continue
                cases.append(unchanged(name, "markdown", text, ed.new, start, end, ed.move(start, "start")))
    return cases


def typos(rng: random.Random, count: int) -> list[Case]:
    """The old version has a typo that the new one fixes (and the typo elsewhere)."""
    cases: list[Case] = []
    variants = ["sentence", "word", "elsewhere"]
    for code, number, fixed in bases(rng, count * 6):
        paras = paragraphs(fixed)
        if not paras:
            continue
        options = [s for s in sentences(fixed, rng.choice(paras)) if len(words(fixed, s)) >= 6 and unique(fixed, *s)]
        if not options:
            continue
        sentence = rng.choice(options)
        ws = [w for w in words(fixed, sentence) if re.fullmatch(r"[a-z]{6,}", fixed[w[0] : w[1]])]
        if not ws:
            continue
        w = rng.choice(ws)
        wrong = typo(rng, fixed[w[0] : w[1]])
        if wrong is None:
            continue
        # Old text = fixed text with the typo; new text = the fixed text.
        spoil = Edits(fixed, [(w[0], w[1], wrong)])
        old, new = spoil.new, fixed
        variant = variants[len(cases) % len(variants)]
        name = f"typo-{variant}:{code}v{number}:{w[0]}"
        if variant == "sentence":
            old_span = spoil.span(*sentence)
            cases.append(edited(name, "typo", old, new, *old_span, sentence))
        elif variant == "word":
            if old.count(wrong) != 1:
                continue
            cases.append(edited(name, "typo", old, new, w[0], w[0] + len(wrong), w))
        else:
            others = [s for b in paragraphs(fixed) for s in sentences(fixed, b) if len(words(fixed, s)) >= 5 and unique(fixed, *s)
                      and (s[1] < w[0] - 40 or s[0] > w[1] + 40)]
            if not others:
                continue
            s = rng.choice(others)
            old_span = spoil.span(*s)
            cases.append(unchanged(name, "typo", old, new, *old_span, s[0]))
        if len(cases) == count:
            break
    return cases


def renumbered(rng: random.Random, count: int) -> list[Case]:
    """A numbered list gains (or loses) its first item; the other items are renumbered."""
    cases: list[Case] = []
    pool = []
    for code, texts in demo_versions().items():
        for number, text in enumerate(texts):
            for block in blocks(text):
                numbered = text[block[0] : block[0] + 3] == "1. " and text[block[0] : block[1]].count("\n") >= 2
                if kind(text, block) == "list" and numbered:
                    pool.append((code, number + 1, text, block))
    rng.shuffle(pool)
    for code, number, text, block in pool:
        lines = [(m.start() + block[0], m.end() + block[0]) for m in re.finditer(r"[^\n]+", text[block[0] : block[1]])]
        insert = rng.random() < 0.6
        changes = []
        for index, line in enumerate(lines):
            marker = re.match(r"\d+", text[line[0] : line[1]])
            assert marker
            changes.append((line[0], line[0] + marker.end(), str(index + 2 if insert else index)))
        if insert:
            changes[0] = (lines[0][0], lines[0][0] + 1, "1. " + other_sentence(rng, code) + "\n2")
        else:
            changes[0] = (lines[0][0], lines[1][0], "")
        ed = Edits(text, changes)
        line = rng.choice(lines[1:])
        marker = re.match(r"\d+\. ", text[line[0] : line[1]])
        assert marker
        quoted_number = len(cases) % 2 == 1
        name = f"renumbered-{'number' if quoted_number else 'item'}:{code}v{number}:{line[0]}"
        if quoted_number:
            if not unique(text, *line):
                continue
            cases.append(edited(name, "renumbered", text, ed.new, *line, ed.span(*line)))
        else:
            start = line[0] + marker.end()
            if not unique(text, start, line[1]):
                continue
            cases.append(unchanged(name, "renumbered", text, ed.new, start, line[1], ed.move(start, "start")))
        if len(cases) == count:
            break
    return cases


def whitespace(rng: random.Random, count: int) -> list[Case]:
    """Line re-wrapping and doubled spaces inside the quote (edited) or elsewhere (not)."""
    cases: list[Case] = []
    variants = ["rewrap", "double-space", "elsewhere"]
    for code, number, text in bases(rng, count * 4):
        paras = paragraphs(text, 2)
        if not paras:
            continue
        block = rng.choice(paras)
        sents = sentences(text, block)
        variant = variants[len(cases) % len(variants)]
        name = f"whitespace-{variant}:{code}v{number}:{block[0]}"
        if variant == "rewrap":
            sentence = rng.choice(sents)
            ws = words(text, sentence)
            if len(ws) < 6 or not unique(text, *sentence):
                continue
            gap = ws[rng.randrange(2, len(ws) - 2)][0] - 1
            ed = Edits(text, [(gap, gap + 1, "\n")])
            cases.append(edited(name, "whitespace", text, ed.new, *sentence, ed.span(*sentence)))
        elif variant == "double-space":
            # The old text has two spaces after each sentence of the paragraph; the new one has one.
            spaced = Edits(text, [(s[1], s[1] + 1, "  ") for s in sents[:-1]])
            old = spaced.new
            start, end = spaced.move(sents[0][0], "start"), spaced.move(sents[1][1], "end")
            if old.count(old[start:end]) != 1:
                continue
            cases.append(edited(name, "whitespace", old, text, start, end, (sents[0][0], sents[1][1])))
        else:
            sentence = rng.choice(sents)
            if not unique(text, *sentence):
                continue
            changes = [(b[1], b[1], "  ") for b in blocks(text) if b[1] < block[0] - 2 or b[0] > block[1] + 2][:6]
            changes += [(b[0], b[0], "\n") for b in blocks(text) if b[0] > block[1] + 2][:3]
            ed = Edits(text, sorted(set(changes)))
            cases.append(unchanged(name, "whitespace", text, ed.new, *sentence, ed.move(sentence[0], "start")))
        if len(cases) == count:
            break
    return cases


def typography(rng: random.Random, count: int) -> list[Case]:
    """Straight quotes become curly ones throughout, or a paragraph is re-wrapped at 60 columns."""
    cases: list[Case] = []
    for code, number, text in bases(rng, count * 6):
        variant = "curly" if len(cases) % 2 == 0 else "rewrap"
        if variant == "curly":
            options = [s for b in paragraphs(text) for s in sentences(text, b)
                       if "'" in text[s[0] : s[1]] and len(words(text, s)) >= 6 and unique(text, *s)]
            if not options:
                continue
            sentence = rng.choice(options)
            base = body_start(text)
            ed = Edits(text, [(m.start(), m.end(), "\u2019") for m in re.finditer("'", text) if m.start() >= base])
            cases.append(edited(f"typography-curly:{code}v{number}:{sentence[0]}", "typography", text, ed.new, *sentence,
                                ed.span(*sentence)))
        else:
            paras = [b for b in paragraphs(text, 2) if b[1] - b[0] > 200]
            if not paras:
                continue
            block = rng.choice(paras)
            changes, column = [], 0
            for w in words(text, block)[:-1]:
                column += w[1] - w[0] + 1
                if column > 60:
                    changes.append((w[1], w[1] + 1, "\n"))
                    column = 0
            ed = Edits(text, changes)
            sentence = rng.choice(sentences(text, block))
            span = sentence if rng.random() < 0.5 else clause(rng, text, sentence)
            if not unique(text, *span):
                continue
            name = f"typography-rewrap:{code}v{number}:{span[0]}"
            new_span = ed.span(*span)
            if ed.new[new_span[0] : new_span[1]] == text[span[0] : span[1]]:
                cases.append(unchanged(name, "typography", text, ed.new, *span, new_span[0]))
            else:
                cases.append(edited(name, "typography", text, ed.new, *span, new_span))
        if len(cases) == count:
            break
    return cases


def stale(rng: random.Random, sources: list[Case], count: int) -> list[Case]:
    """The same placements with the selector's offsets stale, missing or out of range."""
    cases = []
    picks = rng.sample(sources, min(count, len(sources)))
    for index, base in enumerate(picks):
        selector = dict(base.selector)
        mode = index % 4
        if mode == 0:
            shift = rng.choice([-1, 1]) * rng.randint(1, 60)
            selector["start"] = max(0, selector["start"] + shift)
            selector["end"] = selector["start"] + len(selector["exact"])
        elif mode == 1:
            selector["start"] = selector["end"] = None
        elif mode == 2:
            del selector["start"], selector["end"]
        else:
            selector["start"] = len(base.old_text) + 10
            selector["end"] = selector["start"] + len(selector["exact"])
        cases.append(Case(f"stale-{mode}:{base.name}", "stale-offsets", base.old_text, base.new_text, selector,
                          base.statuses, base.spans))
    return cases


def unicode_cases() -> list[Case]:
    """Offsets are code points: CJK, emoji (astral, ZWJ sequences) and combining marks."""
    old = (
        "# 規則 📘\n\n第一条 学校は全ての生徒の権利を守る。保護者は学校に相談できる。\n\n"
        "Families 👨\u200d👩\u200d👧 may ask the Ombuds 🙂 for help.\n\n"
        "The cafe\u0301 committee reviews the nai\u0308ve draft each year.\n\n"
        "Emoji only: 🎉🎉 and 👍🏽 mark approvals.\n"
    )
    cases = []

    def span(text: str, quote: str) -> tuple[int, int]:
        assert text.count(quote) == 1, quote
        return text.index(quote), text.index(quote) + len(quote)

    inserted = old.replace("# 規則 📘\n\n", "# 規則 📘\n\n前文 😀 新しい段落。\n\n")
    for quote in ["学校は全ての生徒の権利を守る", "👨\u200d👩\u200d👧 may ask", "cafe\u0301 committee", "👍🏽 mark"]:
        s = span(old, quote)
        cases.append(unchanged(f"unicode-insert:{quote}", "unicode", old, inserted, *s, span(inserted, quote)[0]))
    changed = old.replace("全ての生徒", "すべての児童生徒").replace("nai\u0308ve draft", "final draft")
    s = span(old, "第一条 学校は全ての生徒の権利を守る。")
    cases.append(edited("unicode-edit:cjk", "unicode", old, changed, *s, span(changed, "第一条 学校はすべての児童生徒の権利を守る。")))
    s = span(old, "The cafe\u0301 committee reviews the nai\u0308ve draft each year.")
    cases.append(edited("unicode-edit:combining", "unicode", old, changed, *s,
                        span(changed, "The cafe\u0301 committee reviews the final draft each year.")))
    swapped = old.replace("Families 👨\u200d👩\u200d👧 may ask the Ombuds 🙂 for help.\n\n", "")
    swapped = swapped.replace("Emoji only:", "Families 👨\u200d👩\u200d👧 may ask the Ombuds 🙂 for help.\n\nEmoji only:")
    s = span(old, "may ask the Ombuds 🙂 for help")
    cases.append(unchanged("unicode-moved:emoji", "unicode", old, swapped, *s, span(swapped, "may ask the Ombuds 🙂 for help")[0]))
    gone = old.replace("保護者は学校に相談できる。", "")
    cases.append(orphaned("unicode-deleted:cjk", "unicode", old, gone, *span(old, "保護者は学校に相談できる。")))
    return cases


SEED = 20240611


@cache
def build_cases(seed: int = SEED) -> tuple[Case, ...]:
    """The evaluation set; another ``seed`` draws a fresh sample of the synthetic cases."""
    rng = random.Random(seed)
    cases: list[Case] = []
    cases += revision_unchanged(rng)
    cases += revision_hand()
    cases += revision_hand(HOLDOUT_LABELLED, "revision-holdout")
    cases += insert_far(rng, 15)
    cases += context_edit(rng, 15)
    cases += reworded(rng, 25)
    cases += moved(rng, 15, across=False)
    cases += moved(rng, 10, across=True)
    cases += moved_edited(rng, 15)
    cases += deleted(rng, 20)
    cases += replaced(rng, 10)
    cases += repeated(rng, 30)
    cases += reworded_hard(rng, 25)
    cases += rewritten(rng, 12)
    cases += restructured(rng, 20)
    cases += moved_hard(rng, 20)
    cases += markdown(rng, 27)
    cases += typos(rng, 15)
    cases += renumbered(rng, 10)
    cases += whitespace(rng, 12)
    cases += typography(rng, 12)
    stale_sources = [c for c in cases if c.category in ("insert-far", "moved-paragraph", "reworded", "repeated-phrase", "deleted",
                                                           "context-edit", "moved-edited", "reworded-hard", "moved-hard")]
    cases += stale(rng, stale_sources, 32)
    cases += unicode_cases()
    names = Counter(case.name for case in cases)
    assert all(n == 1 for n in names.values()), [name for name, n in names.items() if n > 1]
    return tuple(cases)


# --------------------------------------------------------------------------------------------
# Scoring and baselines
# --------------------------------------------------------------------------------------------
def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


def span_ok(case: Case, result: dict) -> bool:
    if "orphaned" in case.statuses:
        return result["start"] is None and result["end"] is None
    if result["start"] is None:
        return False
    got = (result["start"], result["end"])
    if got in case.spans:
        return True
    if "edited" in case.statuses:
        return any(_trimmed(case.new_text, *got) == _trimmed(case.new_text, *span) for span in case.spans)
    return False


def correct(case: Case, result: dict) -> bool:
    """Right status and right span."""
    return result["status"] in case.statuses and span_ok(case, result)


def placed_right(case: Case, result: dict) -> bool:
    """Right passage (or rightly orphaned), whatever ``exact``/``moved``/``edited`` says."""
    if "orphaned" in case.statuses:
        return result["status"] == "orphaned"
    return result["status"] != "orphaned" and span_ok(case, result)


def keep_offsets(old_text: str, new_text: str, selector: dict) -> dict:
    """Baseline: the old offsets, unchanged."""
    start, end = selector.get("start"), selector.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end <= len(new_text):
        return {"status": "orphaned", "start": None, "end": None, "score": 0.0}
    status = "exact" if new_text[start:end] == selector["exact"] else "edited"
    return {"status": status, "start": start, "end": end, "score": 1.0 if status == "exact" else 0.0}


def first_occurrence(old_text: str, new_text: str, selector: dict) -> dict:
    """Baseline: the first occurrence of the exact quote, else orphaned."""
    found = new_text.find(selector["exact"]) if selector["exact"] else -1
    if found == -1:
        return {"status": "orphaned", "start": None, "end": None, "score": 0.0}
    status = "exact" if found == selector.get("start") else "moved"
    return {"status": status, "start": found, "end": found + len(selector["exact"]), "score": 1.0}


@dataclass
class Report:
    total: int
    correct: int
    placed: int
    by_category: dict[str, tuple[int, int, int]]  # category -> (cases, correct, placed)
    failures: list[tuple[Case, dict]]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total

    @property
    def placement(self) -> float:
        return self.placed / self.total


def evaluate(method: Callable[[str, str, dict], dict], cases: Iterable[Case] | None = None) -> Report:
    cases = build_cases() if cases is None else tuple(cases)
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    failures = []
    right = placed = 0
    for case in cases:
        result = method(case.old_text, case.new_text, dict(case.selector))
        ok, near = correct(case, result), placed_right(case, result)
        row = tally[case.category]
        row[0] += 1
        row[1] += ok
        row[2] += near
        right += ok
        placed += near
        if not ok:
            failures.append((case, result))
    return Report(len(cases), right, placed, {k: tuple(v) for k, v in tally.items()}, failures)  # type: ignore[misc]


def report_text(reports: dict[str, Report]) -> str:
    names = list(reports)
    categories = list(next(iter(reports.values())).by_category)
    lines = ["accuracy = right status and span; placed = right span or rightly orphaned (exact/moved/edited not told apart)", ""]
    header = f"{'category':<20} {'cases':>5}  " + "  ".join(f"{name:>24}" for name in names)
    lines += [header, " " * 28 + "  ".join(f"{'accuracy   placed':>24}" for _ in names)]
    for category in categories:
        cells = []
        for name in names:
            cases_n, ok, near = reports[name].by_category[category]
            cells.append(f"{ok / cases_n:>10.1%} {near / cases_n:>12.1%} ")
        lines.append(f"{category:<20} {reports[names[0]].by_category[category][0]:>5}  " + "  ".join(f"{c:>24}" for c in cells))
    cells = [f"{r.accuracy:>10.1%} {r.placement:>12.1%} " for r in reports.values()]
    lines.append(f"{'ALL':<20} {reports[names[0]].total:>5}  " + "  ".join(f"{c:>24}" for c in cells))
    return "\n".join(lines)


def main() -> None:
    from policyflow.core.anchoring import reanchor

    reports = {"ours (reanchor)": evaluate(reanchor), "keep old offsets": evaluate(keep_offsets),
               "first exact occurrence": evaluate(first_occurrence)}
    print(report_text(reports))
    ours = reports["ours (reanchor)"]
    if ours.failures:
        print(f"\n{len(ours.failures)} failures of ours:")
        for case, result in ours.failures:
            got = case.new_text[result["start"] : result["end"]] if result["start"] is not None else None
            want = [case.new_text[a:b] for a, b in case.spans]
            print(f"- {case.name}: want {sorted(case.statuses)} {want!r:.160}\n    got {result['status']} {got!r:.160} "
                  f"score={result['score']}\n    quote {case.selector['exact']!r:.160}")


if __name__ == "__main__":
    main()
