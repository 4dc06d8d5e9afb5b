"""The district's word lists: the shipped file is valid, and a broken edit is reported by file and line."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from policyflow.core.vocabulary import load_vocabularies, load_vocabularies_text
from policyflow.core.workflow import WorkflowDefinitionError, workflow_names
from policyflow.resources import workflows_dir


def test_shipped_lists() -> None:
    words = load_vocabularies(workflows_dir())
    assert {"equity", "legal", "clarity", "family-impact", "mckinney-vento", "foster-care"} <= set(words.annotation_tags)
    assert words.annotation_tags["legal"].startswith("Legal")
    assert list(words.comment_categories) == ["parent_guardian", "student", "employee", "community_member", "organization"]
    assert "vocabularies" not in workflow_names(workflows_dir())  # not offered as a workflow


@pytest.mark.parametrize(("text", "expected"), [
    ("", "words.yaml:1: the file is empty"),
    ("- a\n- b\n", "words.yaml:1: the top level must be a mapping"),
    ("annotation_tags:\n  equity: Equity\n", "words.yaml:1: the vocabularies file is missing the required key 'comment_categories'"),
    ("annotation_tags: [equity]\ncomment_categories:\n  student: Student\n", "words.yaml:1: 'annotation_tags' must map each term"),
    ("annotation_tags:\n  equity: Equity\n  equity: Again\ncomment_categories:\n  student: Student\n",
     "words.yaml:3: duplicate key 'equity'"),
    ("annotation_tags:\n  Equity Now: Equity\ncomment_categories:\n  student: Student\n", "words.yaml:2: the term 'Equity Now'"),
    ("annotation_tags:\n  equity: 3\ncomment_categories:\n  student: Student\n", "words.yaml:2: the label of 'equity'"),
    ("annotation_tags:\n  equity: Equity\ncomment_categories:\n  student: Student\ntags: []\n", "words.yaml:5: unknown key 'tags'"),
    ("annotation_tags:\n  equity: [Equity\n", "words.yaml:3: invalid YAML"),
])
def test_problems_name_the_line(text: str, expected: str) -> None:
    with pytest.raises(WorkflowDefinitionError) as raised:
        load_vocabularies_text(text, "words.yaml")
    assert any(problem.startswith(expected) for problem in raised.value.problems), raised.value.problems


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "vocabularies.yaml"
    path.write_text("annotation_tags:\n  equity: Equity\ncomment_categories:\n  student: Student\n")
    assert list(load_vocabularies(tmp_path).annotation_tags) == ["equity"]
    path.write_text("annotation_tags:\n  equity: Equity\n  budget: Budget\ncomment_categories:\n  student: Student\n")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert list(load_vocabularies(tmp_path).annotation_tags) == ["equity", "budget"]
    path.unlink()
    with pytest.raises(WorkflowDefinitionError, match=r"vocabularies\.yaml:1: cannot be read"):
        load_vocabularies(tmp_path)
