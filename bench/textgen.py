"""Deterministic, policy-like text for benchmarks and property tests (no external data)."""

from __future__ import annotations

import random

_WORDS = (
    "the district shall ensure that every student family employee and community member "
    "has equitable access to programs services and activities without regard to race color "
    "national origin sex gender identity sexual orientation disability religion immigration "
    "status or housing status the superintendent or designee will establish procedures for "
    "reporting investigating and resolving complaints within ten school days of receipt "
    "including students experiencing homelessness students in foster care English learners "
    "students receiving special education services and LGBTQIA+ students the ombuds office "
    "provides informal confidential impartial and independent assistance to stakeholders "
    "who raise concerns about policies practices or decisions of the board of education"
).split()

_HEADINGS = ("Purpose", "Scope", "Definitions", "Responsibilities", "Procedures", "Reporting",
             "Confidentiality", "Appeals", "Training", "Monitoring", "Records", "Review")


def sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 24))]
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice(".....;:?")[0].replace(";", ".").replace(":", ".")


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))


def policy_text(size: int, seed: int = 1) -> str:
    """Markdown of about ``size`` characters: headings, paragraphs and list items."""
    rng = random.Random(seed)
    lines = ["# Policy of the Board", ""]
    length = 0
    while length < size:
        if rng.random() < 0.12:
            line = "## " + rng.choice(_HEADINGS)
        elif rng.random() < 0.2:
            line = f"{rng.randint(1, 9)}. " + sentence(rng)
        else:
            line = paragraph(rng)
        lines.extend([line, ""])
        length += len(line) + 2
    return "\n".join(lines)


def edit_sentences(text: str, fraction: float, seed: int = 2) -> str:
    """Rewrite, delete or add a word inside about ``fraction`` of the sentences."""
    rng = random.Random(seed)
    pieces = text.split(". ")
    for index in range(len(pieces)):
        if rng.random() >= fraction:
            continue
        words = pieces[index].split(" ")
        action = rng.random()
        position = rng.randrange(len(words))
        if action < 0.4:
            words[position] = rng.choice(_WORDS)
        elif action < 0.7 and len(words) > 1:
            del words[position]
        else:
            words.insert(position, rng.choice(_WORDS) + " " + rng.choice(_WORDS))
        pieces[index] = " ".join(words)
    return ". ".join(pieces)
