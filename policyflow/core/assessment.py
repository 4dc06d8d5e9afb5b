"""The equity impact assessment's questions, kept in ``workflows/equity-assessment.yaml`` so a district
adapts them without touching code; validated like a workflow file (every problem named with its file
and line), and the pure rules for answers: what is valid, what is still missing, what may be published.

Answers are a flat mapping of *answer keys* to values. A question's key is its id; a follow-up asked
for each item chosen in a multi-choice question has the key ``question.item.follow_up`` (for example
``groups.latinx.benefits``), so each group's answers autosave, merge and conflict on their own.
Values: text -> a string, choice -> an option key, multi_choice -> a list of option keys. An empty
answer is no answer (the key is absent).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from policyflow.core.workflow import (
    WorkflowDefinitionError,
    YamlChecker,
    compose_yaml,
    describe_node,
    line_of,
    modified_stamp,
    read_definition_text,
)

FILE_NAME = "equity-assessment.yaml"
QUESTION_TYPES = ("text", "choice", "multi_choice")
FOLLOW_UP_TYPES = ("text", "choice")  # asked once per chosen item: a nested multi-choice would be unreadable
MAX_ANSWER_CHARS = 20_000

_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_OPTION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_TOP_REQUIRED = ("title", "sections")
_TOP_ALLOWED = ("title", "description", "sections")
_SECTION_REQUIRED = ("title", "questions")
_SECTION_ALLOWED = ("title", "intro", "questions")
_QUESTION_REQUIRED = ("id", "label", "type")
_QUESTION_ALLOWED = ("id", "label", "help", "type", "required", "internal", "options", "follow_up")


@dataclass(frozen=True)
class Question:
    id: str
    label: str
    type: str  # text | choice | multi_choice
    help: str = ""
    required: bool = False
    internal: bool = False  # never published: notes for the district's own eyes
    options: tuple[tuple[str, str], ...] = ()  # (key, label) in the file's order
    follow_up: tuple[Question, ...] = ()  # multi_choice only: asked for each chosen option
    line: int = 0

    def option_label(self, key: str) -> str:
        return dict(self.options).get(key, key)


@dataclass(frozen=True)
class Section:
    title: str
    intro: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class AnswerField:
    """One answer slot: a question, or a follow-up question for one chosen option."""

    key: str
    question: Question
    parent: Question | None = None
    option: str | None = None

    @property
    def title(self) -> str:
        """How a person recognises the slot in a list ("Latinx students and families: Anticipated benefits")."""
        if self.parent is None or self.option is None:
            return self.question.label
        return f"{self.parent.option_label(self.option)}: {self.question.label}"

    @property
    def internal(self) -> bool:
        return self.question.internal or (self.parent is not None and self.parent.internal)

    @property
    def html_id(self) -> str:
        # Question ids never contain '-', so the id stays unique although options may.
        return "answer-" + self.key.replace(".", "-")


@dataclass(frozen=True)
class AssessmentDefinition:
    title: str
    description: str
    sections: tuple[Section, ...]
    content_hash: str = ""
    source: str = ""  # the YAML text, pinned with each assessment like a review pins its workflow
    path: Path | None = field(default=None, compare=False)

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(question for section in self.sections for question in section.questions)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def fields(self) -> Iterator[AnswerField]:
        """Every answer slot in page order: each question, then its follow-ups for each option."""
        for question in self.questions:
            yield AnswerField(question.id, question)
            for key, _label in question.options if question.follow_up else ():
                for follow in question.follow_up:
                    yield AnswerField(f"{question.id}.{key}.{follow.id}", follow, question, key)

    def field(self, key: str) -> AnswerField | None:
        return _field_index(self).get(key)


@lru_cache(maxsize=32)
def _field_index(definition: AssessmentDefinition) -> dict[str, AnswerField]:
    return {item.key: item for item in definition.fields()}


# ---------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------

def _options(checker: YamlChecker, node: yaml.Node, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(node, yaml.MappingNode) or not node.value:
        checker.problem(line_of(node), f"'options' of {where} must map each option's key to its label, not {describe_node(node)}")
        return ()
    keys = [k.value for k, _v in node.value if isinstance(k, yaml.ScalarNode)]
    options: list[tuple[str, str]] = []
    for key, (_key_node, label_node) in checker.mapping(node, f"'options' of {where}", (), keys).items():
        if not _OPTION.match(key):
            checker.problem(line_of(label_node), f"the option key {key!r} in {where} must be 1-32 lower-case letters, digits, "
                                                   "'-' or '_', starting with a letter or digit")
            continue
        label = checker.text(label_node, f"the label of option {key!r} in {where}")
        if label is not None:
            options.append((key, " ".join(label.split())))
    return tuple(options)


def _question(checker: YamlChecker, node: yaml.Node, where: str, seen: dict[str, int], *,
              follow_up_of: str | None = None) -> Question | None:
    if not isinstance(node, yaml.MappingNode):
        checker.problem(line_of(node),
                        f"{where} must be a mapping with keys {', '.join(_QUESTION_ALLOWED)}, not {describe_node(node)}")
        return None
    for key_node, value_node in node.value:  # name the question by its id in every message, if it has a usable one
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "id" and isinstance(value_node, yaml.ScalarNode) \
                and _ID.match(value_node.value) and value_node.value not in seen:
            where = f"follow-up {value_node.value!r} of {follow_up_of!r}" if follow_up_of else f"question {value_node.value!r}"
            break
    fields = checker.mapping(node, where, _QUESTION_REQUIRED, _QUESTION_ALLOWED)
    question_id = None
    if "id" in fields:
        question_id = checker.text(fields["id"][1], f"the id of {where}")
        id_node = fields["id"][1]
        if question_id is not None and not _ID.match(question_id):
            checker.problem(line_of(id_node), f"the id {question_id!r} of {where} must be 1-40 lower-case letters, digits and "
                                              "underscores, starting with a letter")
            question_id = None
        elif question_id is not None and question_id in seen:
            scope = f"among the follow-ups of {follow_up_of!r}" if follow_up_of else "in the file"
            checker.problem(line_of(id_node),
                            f"duplicate question id {question_id!r} {scope} (first used on line {seen[question_id]})")
            question_id = None
        elif question_id is not None:
            seen[question_id] = line_of(id_node)
            where = f"follow-up {question_id!r} of {follow_up_of!r}" if follow_up_of else f"question {question_id!r}"
    label = checker.text(fields["label"][1], f"the label of {where}") if "label" in fields else None
    help_text = checker.text(fields["help"][1], f"the help of {where}", empty_ok=True) if "help" in fields else ""
    required = checker.flag(fields["required"][1], f"'required' of {where}") if "required" in fields else False
    internal = checker.flag(fields["internal"][1], f"'internal' of {where}") if "internal" in fields else False
    kind = None
    allowed_types = FOLLOW_UP_TYPES if follow_up_of else QUESTION_TYPES
    if "type" in fields:
        kind = checker.text(fields["type"][1], f"the type of {where}")
        if kind is not None and kind not in allowed_types:
            also = " (a follow-up cannot be multi_choice)" if follow_up_of and kind == "multi_choice" else ""
            checker.problem(line_of(fields["type"][1]),
                            f"the type of {where} must be {' or '.join(allowed_types)}, not {kind!r}{also}")
            kind = None
    options: tuple[tuple[str, str], ...] = ()
    if "options" in fields:
        if kind == "text":
            checker.problem(line_of(fields["options"][0]), f"{where} is a text question and takes no 'options'")
        else:
            options = _options(checker, fields["options"][1], where)
    elif kind in ("choice", "multi_choice"):
        checker.problem(line_of(node), f"{where} is a {kind} question and needs 'options'")
    follow_up: list[Question] = []
    if "follow_up" in fields:
        follow_node = fields["follow_up"][1]
        if follow_up_of:
            checker.problem(line_of(fields["follow_up"][0]), f"{where} is itself a follow-up and cannot have follow-ups")
        elif kind is not None and kind != "multi_choice":
            checker.problem(line_of(fields["follow_up"][0]),
                            f"only a multi_choice question has 'follow_up' questions; {where} is {kind}")
        elif not isinstance(follow_node, yaml.SequenceNode) or not follow_node.value:
            checker.problem(line_of(follow_node),
                            f"'follow_up' of {where} must be a list of questions, not {describe_node(follow_node)}")
        else:
            follow_seen: dict[str, int] = {}
            for index, item in enumerate(follow_node.value, start=1):
                found = _question(checker, item, f"follow-up #{index} of {where}", follow_seen, follow_up_of=question_id or where)
                if found is not None:
                    follow_up.append(found)
    if question_id is None or label is None or kind is None:
        return None
    return Question(id=question_id, label=" ".join(label.split()), type=kind, help=" ".join((help_text or "").split()),
                    required=required, internal=internal, options=options, follow_up=tuple(follow_up), line=line_of(node))


def _section(checker: YamlChecker, node: yaml.Node, index: int, seen: dict[str, int]) -> Section | None:
    where = f"section #{index}"
    if not isinstance(node, yaml.MappingNode):
        checker.problem(line_of(node), f"{where} must be a mapping with keys {', '.join(_SECTION_ALLOWED)}, not {describe_node(node)}")
        return None
    fields = checker.mapping(node, where, _SECTION_REQUIRED, _SECTION_ALLOWED)
    title = checker.text(fields["title"][1], f"the title of {where}") if "title" in fields else None
    intro = checker.text(fields["intro"][1], f"the intro of {where}", empty_ok=True) if "intro" in fields else ""
    questions: list[Question] = []
    if "questions" in fields:
        items = fields["questions"][1]
        if not isinstance(items, yaml.SequenceNode) or not items.value:
            checker.problem(line_of(items),
                            f"'questions' of {where} must be a list of at least one question, not {describe_node(items)}"
                            if not isinstance(items, yaml.SequenceNode) else f"'questions' of {where} must list at least one question")
        else:
            for number, item in enumerate(items.value, start=1):
                found = _question(checker, item, f"question #{number} of {where}", seen)
                if found is not None:
                    questions.append(found)
    if title is None:
        return None
    return Section(title=" ".join(title.split()), intro=" ".join((intro or "").split()), questions=tuple(questions))


def load_assessment_text(text: str, source_label: str) -> AssessmentDefinition:
    """Parse and validate the questions; raises ``WorkflowDefinitionError`` listing every problem with its line."""
    checker = YamlChecker(source_label)
    root = compose_yaml(text, checker)
    if root is None and not checker.problems:
        checker.problem(1, f"the file is empty; it needs the keys {', '.join(_TOP_REQUIRED)}")
    if root is not None and not isinstance(root, yaml.MappingNode):
        checker.problem(line_of(root),
                        f"the top level must be a mapping with keys {', '.join(_TOP_ALLOWED)}, not {describe_node(root)}")
    if checker.problems:
        raise WorkflowDefinitionError(checker.sorted_problems())
    assert isinstance(root, yaml.MappingNode)
    fields = checker.mapping(root, "the assessment", _TOP_REQUIRED, _TOP_ALLOWED)
    title = checker.text(fields["title"][1], "'title'") if "title" in fields else None
    description = checker.text(fields["description"][1], "'description'", empty_ok=True) if "description" in fields else ""
    sections: list[Section] = []
    if "sections" in fields:
        node = fields["sections"][1]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            checker.problem(line_of(node), f"'sections' must be a list of sections, not {describe_node(node)}"
                            if not isinstance(node, yaml.SequenceNode) else "'sections' must list at least one section")
        else:
            seen: dict[str, int] = {}
            for index, item in enumerate(node.value, start=1):
                found = _section(checker, item, index, seen)
                if found is not None:
                    sections.append(found)
    if checker.problems or title is None:
        raise WorkflowDefinitionError(checker.sorted_problems())
    return AssessmentDefinition(title=" ".join(title.split()), description=" ".join((description or "").split()),
                                sections=tuple(sections), content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                                source=text)


def load_assessment_file(path: str | Path) -> AssessmentDefinition:
    """One questions file (any name); raises ``WorkflowDefinitionError`` naming the file and line."""
    path = Path(path)
    return replace(load_assessment_text(read_definition_text(path), str(path)), path=path)


@lru_cache(maxsize=8)
def _load_cached(path: Path, modified_ns: int) -> AssessmentDefinition:
    return load_assessment_file(path)


def load_assessment(folder: str | Path) -> AssessmentDefinition:
    """The questions in ``folder``/equity-assessment.yaml, re-read when the file changes."""
    path = Path(folder) / FILE_NAME
    return _load_cached(path, modified_stamp(path))


@lru_cache(maxsize=32)
def pinned_assessment(source: str) -> AssessmentDefinition:
    """The definition an assessment started with (its stored YAML), whatever the file says today."""
    return load_assessment_text(source, "pinned equity assessment questions")


# ---------------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerProblem:
    key: str
    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.label} ({self.key}): {self.message}"


def is_answered(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _clean_one(item: AnswerField, value: Any) -> Any:
    """The stored form of one answer (None: no answer); raises ValueError with a reason for a person."""
    if value is None:
        return None
    question = item.question
    if question.type == "text":
        if not isinstance(value, str):
            raise ValueError("the answer must be text")
        cleaned = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if "\x00" in cleaned:
            raise ValueError("the answer cannot contain a NUL character")
        if len(cleaned) > MAX_ANSWER_CHARS:
            raise ValueError(f"an answer is limited to {MAX_ANSWER_CHARS:,} characters")
        return cleaned or None
    keys = [key for key, _label in question.options]
    if question.type == "choice":
        if not isinstance(value, str):
            raise ValueError("the answer must be one option's key")
        if value == "":
            return None
        if value not in keys:
            raise ValueError(f"{_short(value)!r} is not one of the options ({', '.join(keys)})")
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("the answer must be a list of option keys")
    unknown = [v for v in value if v not in keys]
    if unknown:
        raise ValueError(f"{_short(unknown[0])!r} is not one of the options ({', '.join(keys)})")
    chosen = [key for key in keys if key in value]  # the file's order, once each
    return chosen or None


def _short(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "..."


def clean_answers(definition: AssessmentDefinition, answers: Mapping[str, Any]) -> tuple[dict[str, Any], list[AnswerProblem]]:
    """Answers in their stored form (None where cleared) and the problems of those that are not valid."""
    cleaned: dict[str, Any] = {}
    problems: list[AnswerProblem] = []
    for key, value in answers.items():
        item = definition.field(key) if isinstance(key, str) else None
        if item is None:
            problems.append(AnswerProblem(str(key), str(key), "there is no such question in this assessment"))
            continue
        try:
            cleaned[key] = _clean_one(item, value)
        except ValueError as error:
            problems.append(AnswerProblem(key, item.title, str(error)))
    return cleaned, problems


def validate_answers(definition: AssessmentDefinition, answers: Mapping[str, Any]) -> list[AnswerProblem]:
    """Every answer that does not fit its question (unknown question, wrong type, unknown option, too long)."""
    return clean_answers(definition, answers)[1]


def chosen(question: Question, answers: Mapping[str, Any]) -> list[str]:
    """The options chosen in a multi-choice question (only those still offered)."""
    value = answers.get(question.id)
    keys = [key for key, _label in question.options]
    return [key for key in keys if isinstance(value, list) and key in value]


def missing_required(definition: AssessmentDefinition, answers: Mapping[str, Any]) -> list[AnswerField]:
    """Required slots without an answer: required questions, and required follow-ups of each chosen option."""
    missing: list[AnswerField] = []
    for question in definition.questions:
        if question.required and not is_answered(answers.get(question.id)):
            missing.append(AnswerField(question.id, question))
        if question.follow_up:
            for option in chosen(question, answers):
                for follow in question.follow_up:
                    key = f"{question.id}.{option}.{follow.id}"
                    if follow.required and not is_answered(answers.get(key)):
                        missing.append(AnswerField(key, follow, question, option))
    return missing


def public_answers(definition: AssessmentDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """What may be published: answers to questions not marked internal, follow-ups only for chosen options."""
    shown: dict[str, Any] = {}
    for question in definition.questions:
        if question.internal:
            continue
        if is_answered(answers.get(question.id)):
            shown[question.id] = answers[question.id]
        for option in chosen(question, answers):
            for follow in question.follow_up:
                key = f"{question.id}.{option}.{follow.id}"
                if not follow.internal and is_answered(answers.get(key)):
                    shown[key] = answers[key]
    return shown
