"""The equity assessment's questions file: the shipped set, strict validation with file and line, and the
pure answer rules (valid, missing, publishable)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from policyflow.core.assessment import (
    MAX_ANSWER_CHARS,
    clean_answers,
    load_assessment,
    load_assessment_file,
    load_assessment_text,
    missing_required,
    pinned_assessment,
    public_answers,
    validate_answers,
)
from policyflow.core.workflow import EXCLUDED_FILES, WorkflowDefinitionError, check_folder, workflow_names
from policyflow.resources import workflows_dir

# A small valid file; the line numbers in the tests below refer to it.
SMALL = """\
title: Equity
sections:
  - title: Purpose
    questions:
      - id: purpose
        label: Why?
        type: text
        required: true
      - id: groups
        label: Who?
        type: multi_choice
        required: true
        options:
          latinx: Latinx students
          foster-care: Students in foster care
        follow_up:
          - id: benefits
            label: Benefits
            type: text
            required: true
          - id: size
            label: How many?
            type: choice
            options:
              few: A few
              many: Many
      - id: level
        label: Engagement
        type: choice
        options:
          informed: Informed
          involved: Involved
      - id: notes
        label: Notes
        type: text
        internal: true
"""


@pytest.fixture
def small():
    return load_assessment_text(SMALL, "small.yaml")


def test_shipped_questions_cover_the_issue() -> None:
    definition = load_assessment(workflows_dir())
    ids = [q.id for q in definition.questions]
    for needed in ("purpose", "groups", "data_considered", "engagement", "unintended_consequences", "mitigations", "tracking"):
        assert needed in ids
    groups = definition.question("groups")
    assert groups.type == "multi_choice" and groups.required
    labels = " | ".join(label for _key, label in groups.options)
    for group in ("Black", "Latinx", "Asian American and Pacific Islander", "Native American", "Multiracial",
                  "English learners", "disabilities", "special education", "McKinney-Vento", "foster care", "LGBTQIA+",
                  "Economically disadvantaged", "home language is not English"):
        assert group in labels, group
    assert [f.id for f in groups.follow_up] == ["benefits", "burdens", "barriers"]
    assert all(f.required and f.type == "text" for f in groups.follow_up)
    assert any(q.internal for q in definition.questions)  # notes for the team, never published
    assert all(q.label and (q.help or q.internal or q.type == "choice" or q.id == "other_groups") for q in definition.questions)
    # Every answer slot has its own key: each question, and each follow-up for each group.
    keys = [item.key for item in definition.fields()]
    assert "groups.mckinney-vento.barriers" in keys and len(keys) == len(set(keys))
    assert len({item.html_id for item in definition.fields()}) == len(keys)


def test_the_file_is_not_a_workflow_but_is_checked(tmp_path: Path) -> None:
    assert "equity-assessment.yaml" in EXCLUDED_FILES
    assert "equity-assessment" not in workflow_names(workflows_dir())
    (tmp_path / "equity-assessment.yaml").write_text("not: a workflow\n")
    assert check_folder(tmp_path) == []  # the workflow checker leaves it to its own loader


def test_small_file_loads(small) -> None:
    assert [s.title for s in small.sections] == ["Purpose"]
    groups = small.question("groups")
    assert groups.options == (("latinx", "Latinx students"), ("foster-care", "Students in foster care"))
    assert [f.id for f in groups.follow_up] == ["benefits", "size"]
    assert small.field("groups.foster-care.size").title == "Students in foster care: How many?"
    assert small.field("groups.nobody.benefits") is None
    assert small.question("notes").internal and not small.question("purpose").internal
    assert len(small.content_hash) == 64 and small.source == SMALL


@pytest.mark.parametrize(("text", "expected"), [
    ("", "q.yaml:1: the file is empty"),
    ("- a\n", "q.yaml:1: the top level must be a mapping"),
    ("title: T\n", "q.yaml:1: the assessment is missing the required key 'sections'"),
    ("title: T\nsections: []\n", "q.yaml:2: 'sections' must list at least one section"),
    ("title: T\nsections:\n  - questions: []\n", "q.yaml:3: section #1 is missing the required key 'title'"),
    (SMALL.replace("type: text\n        required: true", "type: essay\n        required: true", 1),
     "q.yaml:7: the type of question 'purpose' must be text or choice or multi_choice, not 'essay'"),
    (SMALL.replace("      - id: level", "      - id: purpose"),
     "q.yaml:27: duplicate question id 'purpose' in the file (first used on line 5)"),
    (SMALL.replace("id: purpose", "id: Purpose"), "q.yaml:5: the id 'Purpose' of question #1 of section #1 must be"),
    (SMALL.replace("        required: true\n      - id: groups", "        required: yes please\n      - id: groups"),
     "q.yaml:8: 'required' of question 'purpose' must be true or false"),
    (SMALL.replace("          latinx: Latinx students", "          Latinx Students: Latinx students"),
     "q.yaml:14: the option key 'Latinx Students' in question 'groups' must be"),
    (SMALL.replace("        type: choice\n        options:\n          informed",
                   "        type: choice\n        opts:\n          informed"),
     "q.yaml:30: unknown key 'opts' in question 'level'"),
    (SMALL.replace("type: choice\n            options", "type: multi_choice\n            options"),
     "q.yaml:23: the type of follow-up 'size' of 'groups' must be text or choice, not 'multi_choice' (a follow-up cannot"),
    (SMALL.replace("        type: text\n        internal: true", "        type: text\n        options:\n          a: A"),
     "q.yaml:36: question 'notes' is a text question and takes no 'options'"),
    (SMALL.replace("        label: Engagement\n        type: choice\n", "        label: Engagement\n        type: choice\n"
                                                                      "        follow_up: []\n"),
     "q.yaml:30: only a multi_choice question has 'follow_up' questions; question 'level' is choice"),
    (SMALL.replace("          - id: benefits", "          - id: size"),
     "q.yaml:21: duplicate question id 'size' among the follow-ups of 'groups' (first used on line 17)"),
    ("title: T\nsections:\n  - title: A\n    questions:\n      - id: q\n        label: Q\n        type: choice\n",
     "q.yaml:5: question 'q' is a choice question and needs 'options'"),
    ("title: [T\n", "q.yaml:2: invalid YAML"),
])
def test_problems_name_the_line(text: str, expected: str) -> None:
    with pytest.raises(WorkflowDefinitionError) as raised:
        load_assessment_text(text, "q.yaml")
    assert any(problem.startswith(expected) for problem in raised.value.problems), raised.value.problems


def test_every_problem_is_reported_at_once() -> None:
    text = SMALL.replace("type: text\n        required: true", "type: essay\n        required: true", 1).replace(
        "          latinx: Latinx students", "          Latinx Students: Latinx students")
    with pytest.raises(WorkflowDefinitionError) as raised:
        load_assessment_text(text, "q.yaml")
    assert [p.split(":")[1] for p in raised.value.problems] == ["7", "14"]


def test_an_edited_file_is_read_again_and_a_pinned_copy_is_not(tmp_path: Path) -> None:
    path = tmp_path / "equity-assessment.yaml"
    path.write_text(SMALL)
    first = load_assessment(tmp_path)
    assert first.question("purpose").label == "Why?"
    path.write_text(SMALL.replace("label: Why?", "label: What for?"))
    later = time.time() + 5
    os.utime(path, (later, later))
    assert load_assessment(tmp_path).question("purpose").label == "What for?"
    assert pinned_assessment(first.source).question("purpose").label == "Why?"
    path.write_bytes(b"title: \xff\n")
    with pytest.raises(WorkflowDefinitionError, match=r"equity-assessment\.yaml:1: the file is not UTF-8 text"):
        load_assessment_file(path)
    path.unlink()
    with pytest.raises(WorkflowDefinitionError, match=r"equity-assessment\.yaml:1: cannot be read"):
        load_assessment(tmp_path)


def test_answers_are_checked_against_their_questions(small) -> None:
    problems = validate_answers(small, {
        "purpose": 3, "groups": ["latinx", "martians"], "level": "shared", "nowhere": "x",
        "groups.latinx.size": "lots", "groups.nobody.benefits": "x", "notes": "x" * (MAX_ANSWER_CHARS + 1),
    })
    by_key = {p.key: p.message for p in problems}
    assert by_key["purpose"] == "the answer must be text"
    assert by_key["groups"].startswith("'martians' is not one of the options (latinx, foster-care)")
    assert by_key["level"].startswith("'shared' is not one of the options")
    assert by_key["nowhere"] == by_key["groups.nobody.benefits"] == "there is no such question in this assessment"
    assert by_key["groups.latinx.size"].startswith("'lots' is not one of the options (few, many)")
    assert "limited to 20,000 characters" in by_key["notes"]
    assert str(problems[0]).startswith("Why? (purpose): ")
    assert validate_answers(small, {"purpose": "Because.", "groups": ["foster-care"], "level": None}) == []


def test_answers_are_stored_in_one_form(small) -> None:
    cleaned, problems = clean_answers(small, {"purpose": "  Line one\r\nline two  ", "groups": ["foster-care", "latinx",
                                                                                                   "latinx"],
                                              "level": "", "notes": "   ", "groups.latinx.benefits": None})
    assert problems == []
    assert cleaned == {"purpose": "Line one\nline two", "groups": ["latinx", "foster-care"], "level": None, "notes": None,
                       "groups.latinx.benefits": None}


def test_missing_required_follows_the_chosen_groups(small) -> None:
    assert [m.key for m in missing_required(small, {})] == ["purpose", "groups"]
    answers = {"purpose": "Because.", "groups": ["foster-care"]}
    assert [m.key for m in missing_required(small, answers)] == ["groups.foster-care.benefits"]
    assert missing_required(small, answers)[0].title == "Students in foster care: Benefits"
    answers["groups.foster-care.benefits"] = "Stability."
    answers["groups.latinx.benefits"] = ""  # a group not chosen asks nothing
    assert missing_required(small, answers) == []


def test_public_answers_leave_out_internal_ones_and_unchosen_groups(small) -> None:
    answers = {"purpose": "Because.", "groups": ["latinx"], "groups.latinx.benefits": "More reports.",
               "groups.foster-care.benefits": "Written before the group was unchosen.", "notes": "Ask Legal."}
    assert public_answers(small, answers) == {"purpose": "Because.", "groups": ["latinx"],
                                              "groups.latinx.benefits": "More reports."}
