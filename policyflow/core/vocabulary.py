"""The district's own word lists (note tags, commenter categories), kept in ``vocabularies.yaml``
beside the workflows so the district edits them without touching code; validated like a workflow
file, every problem named with its file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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

FILE_NAME = "vocabularies.yaml"
_TERM = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_LISTS = {
    "annotation_tags": "tags reviewers put on notes",
    "comment_categories": "the stakeholder categories a commenter may choose",
    "concern_themes": "the themes ombuds staff file concerns under",
    "referral_targets": "the offices a concern may be referred to",
}
_REQUIRED = ("annotation_tags", "comment_categories")  # the lists added later fall back to the shipped defaults


@dataclass(frozen=True)
class Vocabularies:
    """Each list maps a term (stored) to its label (shown), in the file's order."""

    annotation_tags: dict[str, str] = field(default_factory=dict)
    comment_categories: dict[str, str] = field(default_factory=dict)
    concern_themes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CONCERN_THEMES))
    referral_targets: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_REFERRAL_TARGETS))


DEFAULT_CONCERN_THEMES = {
    "discipline": "Discipline and safety", "enrollment": "Enrollment and placement", "transportation": "Transportation",
    "special-education": "Special education services", "language-access": "Language access and interpretation",
    "bullying": "Bullying, harassment and discrimination", "communication": "Communication with families",
    "employment": "Employment and workplace", "other": "Other",
}
DEFAULT_REFERRAL_TARGETS = {
    "employee-relations": "Employee Relations", "human-resources": "Human Resources",
    "internal-resolution": "Office of Internal Resolution", "eap": "Employee Assistance Program",
    "equity-center": "Center for Equity and Social Justice",
}


def _read_list(checker: YamlChecker, key: str, node: yaml.Node) -> dict[str, str]:
    if not isinstance(node, yaml.MappingNode) or not node.value:
        checker.problem(line_of(node), f"'{key}' must map each term to its label, not {describe_node(node)}")
        return {}
    terms: dict[str, str] = {}
    for term, (_key_node, label_node) in checker.mapping(node, f"'{key}'", (), [k.value for k, _v in node.value
                                                                           if isinstance(k, yaml.ScalarNode)]).items():
        if not _TERM.match(term):
            checker.problem(line_of(label_node), f"the term {term!r} in '{key}' must be 1-32 lower-case letters, digits, "
                                                   "'-' or '_', starting with a letter or digit")
            continue
        label = checker.text(label_node, f"the label of {term!r} in '{key}'")
        if label is not None:
            terms[term] = " ".join(label.split())
    return terms


def load_vocabularies_text(text: str, source_label: str) -> Vocabularies:
    checker = YamlChecker(source_label)
    root = compose_yaml(text, checker)
    if root is None and not checker.problems:
        checker.problem(1, f"the file is empty; it needs the keys {', '.join(_LISTS)}")
    if root is not None and not isinstance(root, yaml.MappingNode):
        checker.problem(line_of(root), f"the top level must be a mapping with keys {', '.join(_LISTS)}, not {describe_node(root)}")
    if checker.problems:
        raise WorkflowDefinitionError(checker.sorted_problems())
    assert isinstance(root, yaml.MappingNode)
    fields = checker.mapping(root, "the vocabularies file", _REQUIRED, tuple(_LISTS))
    lists = {key: _read_list(checker, key, value) for key, (_k, value) in fields.items()}
    if checker.problems:
        raise WorkflowDefinitionError(checker.sorted_problems())
    return Vocabularies(**lists)


@lru_cache(maxsize=8)
def _load_cached(path: Path, modified_ns: int) -> Vocabularies:
    return load_vocabularies_text(read_definition_text(path), str(path))


def load_vocabularies(folder: str | Path) -> Vocabularies:
    """The lists in ``folder``/vocabularies.yaml, re-read when the file changes."""
    path = Path(folder) / FILE_NAME
    return _load_cached(path, modified_stamp(path))
