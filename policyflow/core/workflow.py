"""Workflow definitions: the declarative review processes in ``workflows/*.yaml``.

A definition is parsed into these dataclasses (never handed to ``transitions`` as raw YAML:
roles, notes and conditions are ours, not options of the state machine) and validated strictly,
so a district editing a file learns the file, the line and what is wrong before anything runs.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from policyflow.core.conditions import CONDITIONS
from policyflow.core.errors import PolicyflowError

KNOWN_ROLES = ("admin", "ombuds", "reviewer", "leadership", "stakeholder")


class WorkflowDefinitionError(PolicyflowError):
    """A workflow file is invalid; the message names the file, the line and the problem."""

    status, slug, title = 422, "invalid-workflow", "Invalid workflow definition"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ApprovalRule:
    """How leadership decides in a stage: the quorum, who must be among the approvers, what follows."""

    min_approvals: int = 1
    required_positions: tuple[str, ...] = ()  # e.g. "Chief Equity and Social Justice Officer"
    publish_on_quorum: bool = False  # reaching the quorum performs ``publish_action`` by itself
    publish_action: str = "publish"
    request_changes_action: str = "return_to_draft"
    reject_action: str = "withdraw"
    line: int = 0


@dataclass(frozen=True)
class Stage:
    name: str
    label: str
    description: str = ""
    editable: bool = False  # whether the policy text may change in this stage
    public: bool = False  # whether the public may read the draft in this stage
    comments: bool = False  # stakeholders may comment here, between the review's comment dates
    anonymous_comments: bool = False  # ... also without an account and without giving a name
    final: bool = False
    deadline_days: int | None = None
    notify: tuple[str, ...] = ()  # roles notified on entry
    approval: ApprovalRule | None = None  # leadership records decisions here
    line: int = 0


@dataclass(frozen=True)
class Action:
    name: str  # the trigger, e.g. submit_for_equity_review
    label: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    note_required: bool = False
    conditions: tuple[str, ...] = ()
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class TimedAction:
    """An action the worker performs by itself when a stage's time is up."""

    action: str
    stage: str
    when: str  # "deadline": when the stage's deadline passes
    line: int = 0


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str  # file name without .yaml
    title: str
    description: str
    initial: str
    stages: tuple[Stage, ...]
    actions: tuple[Action, ...]
    timed: tuple[TimedAction, ...] = ()
    requires_legal_basis: bool = False
    review_cycle_months: int = 36  # a published policy's next review date, counted from publication
    content_hash: str = ""
    source: str = ""  # the YAML text, kept with reviews so a changed file never breaks one
    path: Path | None = field(default=None, compare=False)

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def action(self, name: str) -> Action:
        for action in self.actions:
            if action.name == name:
                return action
        raise KeyError(name)

    def actions_from(self, stage: str) -> list[Action]:
        return [action for action in self.actions if stage in action.sources]

    def moves_forward(self, action: Action, stage: str) -> bool:
        """Whether ``action`` advances the review from ``stage`` (not back, not withdrawing it).

        Dashboards use this for "waiting for you": returning or withdrawing is always possible
        for some roles, but it is not what a review waits for.
        """
        order = [item.name for item in self.stages]
        return action.dest != "withdrawn" and order.index(action.dest) > order.index(stage)

    @property
    def final_stages(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages if stage.final)


# ---------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------

EXCLUDED_FILES = ("equity-assessment.yaml", "vocabularies.yaml")  # live in the same folder but are not workflows

_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_RESERVED_NAMES = frozenset({"state", "trigger"})  # attributes of the engine's model; an action may not shadow them
_TIMED_WHEN = ("deadline",)

_TOP_REQUIRED = ("title", "initial", "stages", "actions")
_TOP_ALLOWED = ("title", "description", "initial", "legal_basis_required", "review_cycle_months", "stages", "actions", "timed")
_STAGE_REQUIRED = ("label",)
_STAGE_ALLOWED = ("label", "description", "editable", "public", "comments", "anonymous_comments", "final", "deadline_days",
                  "notify", "approval")
_APPROVAL_ALLOWED = ("min_approvals", "required_positions", "publish_on_quorum", "publish_action", "request_changes_action",
                     "reject_action")
_ACTION_REQUIRED = ("name", "label", "from", "to", "roles")
_ACTION_ALLOWED = ("name", "label", "description", "from", "to", "roles", "note_required", "conditions")
_TIMED_REQUIRED = ("action", "stage", "when")
_TIMED_ALLOWED = ("action", "stage", "when")

_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_NULL_TAG = "tag:yaml.org,2002:null"
_KIND = {"tag:yaml.org,2002:float": "a number", _INT_TAG: "a whole number", _BOOL_TAG: "true/false",
         _NULL_TAG: "empty", "tag:yaml.org,2002:timestamp": "a date"}


def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def describe_node(node: yaml.Node) -> str:
    """What a node is, in words, for 'must be X, not Y' messages."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _STR_TAG:
        return f"the text {node.value!r}"
    if not node.tag.startswith("tag:yaml.org,2002:"):
        return f"a value with the YAML tag {node.tag!r} (tags are not supported)"
    return f"{_KIND.get(node.tag, 'a value')} ({node.value!r})" if node.value else _KIND.get(node.tag, "a value")


def _join(names: Iterable[str]) -> str:
    return ", ".join(names)


class YamlChecker:
    """Walks the composed YAML node tree, collecting every problem with its line number."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[tuple[int, int, str]] = []
        # Later checks stay quiet where an earlier problem makes their answer a guess.
        self.unnamed_stages = False  # a stage was left out because its name is invalid
        self.doubtful_stages: set[str] = set()  # stages with a problem of their own (a flag or deadline may be wrong)

    def problem(self, line: int, message: str) -> None:
        self.problems.append((line, len(self.problems), f"{self.label}:{line}: {message}"))

    def sorted_problems(self) -> list[str]:
        return [text for _line_no, _order, text in sorted(self.problems)]

    # -- structure ----------------------------------------------------------------------------

    def mapping(self, node: yaml.MappingNode, where: str, required: Sequence[str],
                allowed: Sequence[str]) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Key -> (key node, value node); reports duplicate, unknown, non-text and missing keys."""
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:merge":
                    self.problem(line_of(key_node), f"merge keys (<<) are not supported in {where}; write the keys out")
                else:
                    self.problem(line_of(key_node), f"keys in {where} must be text, not {describe_node(key_node)}")
                continue
            key = key_node.value
            if key in entries:
                self.problem(line_of(key_node), f"duplicate key {key!r} in {where} (first given on line {line_of(entries[key][0])})")
                continue
            entries[key] = (key_node, value_node)
            if key not in allowed:
                self.problem(line_of(key_node), f"unknown key {key!r} in {where}; allowed keys: {_join(allowed)}")
        missing = [key for key in required if key not in entries]
        if missing:
            noun = "key" if len(missing) == 1 else "keys"
            self.problem(line_of(node), f"{where} is missing the required {noun} {_join(repr(k) for k in missing)}")
        return {key: value for key, value in entries.items() if key in allowed}

    def text(self, node: yaml.Node, what: str, *, empty_ok: bool = False) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
            if not node.value.strip() and not empty_ok:
                self.problem(line_of(node), f"{what} must not be empty")
                return None
            return node.value
        hint = " (put it in quotes)" if isinstance(node, yaml.ScalarNode) and node.value and node.tag in _KIND else ""
        self.problem(line_of(node), f"{what} must be text, not {describe_node(node)}{hint}")
        return None

    def name(self, node: yaml.Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        if not _NAME_PATTERN.match(value):
            self.problem(line_of(node), f"{what} {value!r} must be lower-case letters, digits and underscores, starting with a letter")
            return None
        return value

    def flag(self, node: yaml.Node, what: str) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL_TAG:
            return node.value.lower() in ("true", "yes", "on", "y")
        self.problem(line_of(node), f"{what} must be true or false, not {describe_node(node)}")
        return False

    def positive_int(self, node: yaml.Node, what: str, unit: str = " of days") -> int | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT_TAG:
            try:
                value = int(node.value.replace("_", ""), 10)
            except ValueError:
                value = 0
            if value > 0:
                return value
        self.problem(line_of(node), f"{what} must be a positive whole number{unit}, not {describe_node(node)}")
        return None

    def text_list(self, node: yaml.Node, what: str, item: str) -> list[tuple[str, yaml.Node]] | None:
        """A list of text items (item nodes kept for line numbers); duplicates reported and dropped."""
        if not isinstance(node, yaml.SequenceNode):
            self.problem(line_of(node), f"{what} must be a list of {item}s (write [] for none), not {describe_node(node)}")
            return None
        items: list[tuple[str, yaml.Node]] = []
        seen: dict[str, int] = {}
        for child in node.value:
            value = self.text(child, f"each entry of {what}")
            if value is None:
                continue
            if value in seen:
                self.problem(line_of(child), f"{what} lists {value!r} twice (also on line {seen[value]})")
                continue
            seen[value] = line_of(child)
            items.append((value, child))
        return items


@dataclass
class _ActionEntry:
    """An action entry as read, with the nodes needed to point at it."""

    action: Action
    name_node: yaml.Node
    from_node: yaml.Node
    to_node: yaml.Node
    source_nodes: tuple[yaml.Node, ...]
    roles_node: yaml.Node
    no_roles: bool  # roles was given as an empty list


def compose_yaml(text: str, checker: YamlChecker) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        message = f"invalid YAML: {error.problem or error.context}"
        if isinstance(error, yaml.composer.ComposerError) and error.context == "expected a single document in the stream":
            message = "invalid YAML: a second document starts here ('---'); a workflow file holds exactly one"
        elif error.context and error.problem:
            context_line = f" on line {error.context_mark.line + 1}" if error.context_mark else ""
            message += f" ({error.context}{context_line})"
        checker.problem(line, message)
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        checker.problem(line, f"invalid YAML: the file contains a character YAML does not allow ({error.reason})")
    except yaml.YAMLError as error:  # any other parser failure still names the file
        checker.problem(1, f"invalid YAML: {error}")
    return None


def _read_stages(checker: YamlChecker, node: yaml.Node) -> dict[str, Stage]:
    stages: dict[str, Stage] = {}
    key_nodes: dict[str, yaml.Node] = {}
    if not isinstance(node, yaml.MappingNode) or not node.value:
        checker.problem(line_of(node), f"'stages' must be a mapping of stage name to stage, not {describe_node(node)}"
                        if not isinstance(node, yaml.MappingNode) else "'stages' must define at least one stage")
        return stages
    for key_node, value_node in node.value:
        name = checker.name(key_node, "stage name")
        if name is None:
            checker.unnamed_stages = True
            continue
        if name in key_nodes:
            checker.problem(line_of(key_node), f"duplicate stage {name!r} (first defined on line {line_of(key_nodes[name])})")
            continue
        key_nodes[name] = key_node
        where = f"stage {name!r}"
        if not isinstance(value_node, yaml.MappingNode):
            checker.problem(line_of(value_node),
                            f"{where} must be a mapping with keys {_join(_STAGE_ALLOWED)}, not {describe_node(value_node)}")
            checker.doubtful_stages.add(name)
            stages[name] = Stage(name=name, label=name, line=line_of(key_node))
            continue
        before = len(checker.problems)
        fields = checker.mapping(value_node, where, _STAGE_REQUIRED, _STAGE_ALLOWED)
        values: dict[str, Any] = {}
        if "label" in fields:
            values["label"] = checker.text(fields["label"][1], f"the label of {where}")
        if "description" in fields:
            values["description"] = checker.text(fields["description"][1], f"the description of {where}", empty_ok=True)
        for flag in ("editable", "public", "comments", "anonymous_comments", "final"):
            if flag in fields:
                values[flag] = checker.flag(fields[flag][1], f"{flag!r} of {where}")
        if "deadline_days" in fields:
            values["deadline_days"] = checker.positive_int(fields["deadline_days"][1], f"'deadline_days' of {where}")
        if "notify" in fields:
            roles = checker.text_list(fields["notify"][1], f"'notify' of {where}", "role")
            for role, role_node in roles or ():
                if role not in KNOWN_ROLES:
                    checker.problem(line_of(role_node),
                                    f"unknown role {role!r} in 'notify' of {where}; known roles: {_join(KNOWN_ROLES)}")
            values["notify"] = tuple(role for role, _ in roles or () if role in KNOWN_ROLES)
        if "approval" in fields:
            values["approval"] = _read_approval(checker, fields["approval"][1], where)
            if values.get("final"):
                checker.problem(line_of(fields["approval"][0]), f"final {where} cannot take decisions: nothing happens after it")
        stage = Stage(name=name, label=values.get("label") or name, description=values.get("description") or "",
                      editable=values.get("editable", False), public=values.get("public", False), final=values.get("final", False),
                      comments=values.get("comments", False), anonymous_comments=values.get("anonymous_comments", False),
                      deadline_days=values.get("deadline_days"), notify=values.get("notify", ()),
                      approval=values.get("approval"), line=line_of(key_node))
        if stage.comments and not stage.public and "comments" in fields:
            checker.problem(line_of(fields["comments"][0]), f"{where} takes comments but is not public; set 'public: true'")
        if stage.anonymous_comments and not stage.comments and "anonymous_comments" in fields:
            checker.problem(line_of(fields["anonymous_comments"][0]),
                            f"{where} allows anonymous comments but takes no comments; add 'comments: true'")
        if stage.final and "deadline_days" in fields:
            checker.problem(line_of(fields["deadline_days"][0]), f"final {where} cannot have a deadline: nothing happens after it")
        stages[name] = stage
        if len(checker.problems) != before:
            checker.doubtful_stages.add(name)
    return stages


def _read_approval(checker: YamlChecker, node: yaml.Node, where: str) -> ApprovalRule | None:
    where = f"'approval' of {where}"
    if not isinstance(node, yaml.MappingNode):
        checker.problem(line_of(node), f"{where} must be a mapping with keys {_join(_APPROVAL_ALLOWED)}, not {describe_node(node)}")
        return None
    fields = checker.mapping(node, where, (), _APPROVAL_ALLOWED)
    values: dict[str, Any] = {"line": line_of(node)}
    if "min_approvals" in fields:
        values["min_approvals"] = checker.positive_int(fields["min_approvals"][1], f"'min_approvals' of {where}", "") or 1
    if "required_positions" in fields:
        positions = checker.text_list(fields["required_positions"][1], f"'required_positions' of {where}", "position")
        values["required_positions"] = tuple(position.strip() for position, _node in positions or ())
    if "publish_on_quorum" in fields:
        values["publish_on_quorum"] = checker.flag(fields["publish_on_quorum"][1], f"'publish_on_quorum' of {where}")
    for key in ("publish_action", "request_changes_action", "reject_action"):
        if key in fields:
            values[key] = checker.name(fields[key][1], f"{key!r} of {where}") or ""
    rule = ApprovalRule(**values)
    if len(rule.required_positions) > rule.min_approvals:
        checker.problem(line_of(fields["required_positions"][0]),
                        f"{where} requires {len(rule.required_positions)} positions to approve but 'min_approvals' is "
                        f"{rule.min_approvals}; raise 'min_approvals' to at least {len(rule.required_positions)}")
    return rule


def _check_approval_actions(checker: YamlChecker, stages: dict[str, Stage], entries: list[_ActionEntry]) -> None:
    """The actions a decision performs must exist and leave the deciding stage."""
    for stage in stages.values():
        rule = stage.approval
        if rule is None:
            continue
        leaving = {entry.action.name: entry.action for entry in entries if stage.name in entry.action.sources}
        for key, name in (("publish_action", rule.publish_action), ("request_changes_action", rule.request_changes_action),
                          ("reject_action", rule.reject_action)):
            if name and name not in leaving:
                checker.problem(rule.line, f"'approval' of stage {stage.name!r} names {key} {name!r}, but no action of that "
                                           f"name leaves {stage.name!r}; actions from there: {_join(leaving) or 'none'}")
        publish = leaving.get(rule.publish_action)
        if publish is not None and not stages.get(publish.dest, stage).final:
            checker.problem(rule.line, f"the publish action {publish.name!r} of stage {stage.name!r} must lead to a final stage")
        names = [rule.publish_action, rule.request_changes_action, rule.reject_action]
        if len(set(names)) != len(names):
            checker.problem(rule.line, f"'approval' of stage {stage.name!r} must name three different actions to publish, "
                                       f"request changes and reject, not {', '.join(names)}")
            continue
        changes = leaving.get(rule.request_changes_action)
        if changes is not None and stages.get(changes.dest, stage).final:
            checker.problem(rule.line, f"the request_changes_action {changes.name!r} of stage {stage.name!r} must send the "
                                       "review back to a stage that is not final (where the text can change)")
        reject = leaving.get(rule.reject_action)
        if reject is not None and not stages.get(reject.dest, stage).final:
            checker.problem(rule.line, f"the reject_action {reject.name!r} of stage {stage.name!r} must end the review "
                                       "(lead to a final stage)")


def _read_actions(checker: YamlChecker, node: yaml.Node, stages: dict[str, Stage] | None) -> tuple[list[_ActionEntry], bool]:
    """The action entries that could be read, and whether every entry was read completely."""
    entries: list[_ActionEntry] = []
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        checker.problem(line_of(node), f"'actions' must be a list of actions, not {describe_node(node)}"
                        if not isinstance(node, yaml.SequenceNode) else "'actions' must list at least one action")
        return entries, False
    complete = True
    for index, item in enumerate(node.value, start=1):
        if not isinstance(item, yaml.MappingNode):
            checker.problem(line_of(item),
                            f"action #{index} must be a mapping with keys {_join(_ACTION_ALLOWED)}, not {describe_node(item)}")
            complete = False
            continue
        name = None
        for key_node, value_node in item.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "name" and isinstance(value_node, yaml.ScalarNode):
                name = value_node.value
                break
        where = f"action {name!r}" if name else f"action #{index}"
        fields = checker.mapping(item, where, _ACTION_REQUIRED, _ACTION_ALLOWED)
        name = checker.name(fields["name"][1], "action name") if "name" in fields else None
        if name in _RESERVED_NAMES:
            checker.problem(line_of(fields["name"][1]), f"{name!r} is reserved and cannot name an action")
            name = None
        label = checker.text(fields["label"][1], f"the label of {where}") if "label" in fields else None
        description = ""
        if "description" in fields:
            description = checker.text(fields["description"][1], f"the description of {where}", empty_ok=True)

        sources: list[tuple[str, yaml.Node]] = []
        if "from" in fields:
            from_node = fields["from"][1]
            if isinstance(from_node, yaml.SequenceNode):
                if not from_node.value:
                    checker.problem(line_of(from_node), f"'from' of {where} must name at least one stage")
                sources = checker.text_list(from_node, f"'from' of {where}", "stage name") or []
            else:
                value = checker.text(from_node, f"'from' of {where} (a stage name or a list of stage names)")
                sources = [(value, from_node)] if value is not None else []
            if stages is not None:
                for source, source_node in sources:
                    if source not in stages:
                        checker.problem(line_of(source_node), f"{where} starts from unknown stage {source!r}; stages: {_join(stages)}")
                    elif stages[source].final:
                        checker.problem(line_of(source_node),
                                        f"{where} leaves final stage {source!r}; nothing may happen after a final stage")
        dest = None
        if "to" in fields:
            dest = checker.text(fields["to"][1], f"'to' of {where} (one stage name)")
            if dest is not None and stages is not None and dest not in stages:
                checker.problem(line_of(fields["to"][1]), f"{where} goes to unknown stage {dest!r}; stages: {_join(stages)}")

        roles: list[tuple[str, yaml.Node]] = []
        no_roles = False
        if "roles" in fields:
            no_roles = isinstance(fields["roles"][1], yaml.SequenceNode) and not fields["roles"][1].value
            roles = checker.text_list(fields["roles"][1], f"'roles' of {where}", "role") or []
            for role, role_node in roles:
                if role not in KNOWN_ROLES:
                    checker.problem(line_of(role_node), f"unknown role {role!r} in {where}; known roles: {_join(KNOWN_ROLES)}")
        note_required = checker.flag(fields["note_required"][1], f"'note_required' of {where}") if "note_required" in fields else False
        conditions: list[tuple[str, yaml.Node]] = []
        if "conditions" in fields:
            conditions = checker.text_list(fields["conditions"][1], f"'conditions' of {where}", "condition name") or []
            for condition, condition_node in conditions:
                if condition not in CONDITIONS:
                    checker.problem(line_of(condition_node),
                                    f"unknown condition {condition!r} in {where}; known conditions: {_join(sorted(CONDITIONS))}")

        resolved = stages is not None and dest in stages and all(s in stages for s, _ in sources)
        if name is None or dest is None or not sources or not resolved:
            complete = False
        if name is None or dest is None or not sources:
            continue
        action = Action(name=name, label=label or name, sources=tuple(s for s, _ in sources), dest=dest,
                        roles=tuple(r for r, _ in roles if r in KNOWN_ROLES), note_required=note_required,
                        conditions=tuple(c for c, _ in conditions if c in CONDITIONS), description=description or "",
                        line=line_of(item))
        entries.append(_ActionEntry(action, fields["name"][1], fields["from"][1], fields["to"][1],
                                    tuple(n for _, n in sources), fields["roles"][1] if "roles" in fields else item, no_roles))
    return entries, complete


def _read_timed(checker: YamlChecker, node: yaml.Node, stages: dict[str, Stage] | None,
                entries: list[_ActionEntry] | None) -> list[TimedAction]:
    timed: list[TimedAction] = []
    if not isinstance(node, yaml.SequenceNode):
        checker.problem(line_of(node), f"'timed' must be a list of timed actions (write [] for none), not {describe_node(node)}")
        return timed
    by_stage: dict[str, int] = {}
    for index, item in enumerate(node.value, start=1):
        where = f"timed action #{index}"
        if not isinstance(item, yaml.MappingNode):
            checker.problem(line_of(item), f"{where} must be a mapping with keys {_join(_TIMED_ALLOWED)}, not {describe_node(item)}")
            continue
        fields = checker.mapping(item, where, _TIMED_REQUIRED, _TIMED_ALLOWED)
        action = checker.text(fields["action"][1], f"'action' of {where}") if "action" in fields else None
        stage = checker.text(fields["stage"][1], f"'stage' of {where}") if "stage" in fields else None
        when = checker.text(fields["when"][1], f"'when' of {where}") if "when" in fields else None
        if when is not None and when not in _TIMED_WHEN:
            choices = " or ".join(map(repr, _TIMED_WHEN))
            checker.problem(line_of(fields["when"][1]), f"'when' of {where} must be {choices}, not {when!r}")
            when = None
        stage_ok = False
        if stage is not None and stages is not None:
            if stage not in stages:
                checker.problem(line_of(fields["stage"][1]), f"{where} names unknown stage {stage!r}; stages: {_join(stages)}")
            elif stages[stage].deadline_days is None and stage not in checker.doubtful_stages:
                checker.problem(line_of(fields["stage"][1]),
                                f"{where} runs at the deadline of stage {stage!r}, which has no 'deadline_days'")
            elif stages[stage].deadline_days is None:
                pass
            elif stage in by_stage:
                checker.problem(line_of(fields["stage"][1]), f"stage {stage!r} already has a timed action (line {by_stage[stage]})")
            else:
                stage_ok = True
                by_stage[stage] = line_of(item)
        if action is not None and entries is not None:
            matching = [entry for entry in entries if entry.action.name == action]
            if not matching:
                known = _join(sorted({entry.action.name for entry in entries}))
                checker.problem(line_of(fields["action"][1]), f"{where} names unknown action {action!r}; actions: {known}")
            elif stage_ok and not any(stage in entry.action.sources for entry in matching):
                checker.problem(line_of(fields["action"][1]), f"{where}: action {action!r} is not available from stage {stage!r}")
        if action is not None and stage is not None and when is not None:
            timed.append(TimedAction(action=action, stage=stage, when=when, line=line_of(item)))
    return timed


def _check_graph(checker: YamlChecker, initial: str, stages: dict[str, Stage], entries: list[_ActionEntry]) -> None:
    """Duplicate actions per stage, reachability from the initial stage, and a way out of every stage."""
    seen: dict[tuple[str, str], int] = {}
    for entry in entries:
        for source, source_node in zip(entry.action.sources, entry.source_nodes, strict=True):
            key = (entry.action.name, source)
            if key in seen:
                checker.problem(line_of(source_node), f"action {entry.action.name!r} is defined twice from stage {source!r} "
                                                    f"(also by the entry on line {seen[key]}); each stage may offer an action once")
            else:
                seen[key] = line_of(entry.name_node)
    leaving: dict[str, set[str]] = {name: set() for name in stages}
    for entry in entries:
        for source in entry.action.sources:
            if source in leaving and entry.action.dest in stages:
                leaving[source].add(entry.action.dest)
    reached = {initial}
    pending = [initial]
    while pending:
        for dest in sorted(leaving[pending.pop()]):
            if dest not in reached:
                reached.add(dest)
                pending.append(dest)
    for name, stage in stages.items():
        if name not in reached:
            checker.problem(stage.line, f"stage {name!r} cannot be reached from the initial stage {initial!r} by any action")
        if not stage.final and not leaving[name] and name not in checker.doubtful_stages:
            checker.problem(stage.line, f"stage {name!r} is not final but no action leaves it; add an action or mark it 'final: true'")


def load_workflow_text(text: str, name: str, source_label: str) -> WorkflowDefinition:
    """Parse and validate a definition from its YAML text; ``source_label`` names it in messages."""
    checker = YamlChecker(source_label)
    root = compose_yaml(text, checker)
    if root is None:
        if not checker.problems:
            checker.problem(1, f"the file is empty; a workflow needs the keys {_join(_TOP_REQUIRED)}")
        raise WorkflowDefinitionError(checker.sorted_problems())
    if not isinstance(root, yaml.MappingNode):
        checker.problem(line_of(root), f"the top level must be a mapping with keys {_join(_TOP_ALLOWED)}, not {describe_node(root)}")
        raise WorkflowDefinitionError(checker.sorted_problems())

    fields = checker.mapping(root, "the workflow", _TOP_REQUIRED, _TOP_ALLOWED)
    title = checker.text(fields["title"][1], "'title'") if "title" in fields else None
    description = checker.text(fields["description"][1], "'description'", empty_ok=True) if "description" in fields else ""
    legal = checker.flag(fields["legal_basis_required"][1], "'legal_basis_required'") if "legal_basis_required" in fields else False
    cycle = 36
    if "review_cycle_months" in fields:
        cycle = checker.positive_int(fields["review_cycle_months"][1], "'review_cycle_months'", " of months") or 36

    stages: dict[str, Stage] | None = None
    if "stages" in fields:
        stages = _read_stages(checker, fields["stages"][1]) or None
        if stages and not any(stage.final for stage in stages.values()) and not checker.unnamed_stages and not checker.doubtful_stages:
            checker.problem(line_of(fields["stages"][0]),
                            "no stage is final; mark the stage(s) where a review ends with 'final: true'")

    initial = None
    if "initial" in fields:
        initial = checker.text(fields["initial"][1], "'initial'")
        if initial is not None and stages is not None:
            if initial not in stages:
                checker.problem(line_of(fields["initial"][1]), f"'initial' names unknown stage {initial!r}; stages: {_join(stages)}")
                initial = None
            elif stages[initial].final:
                checker.problem(line_of(fields["initial"][1]), f"the initial stage {initial!r} cannot be final")

    entries: list[_ActionEntry] | None = None
    actions_complete = False
    if "actions" in fields:
        entries, actions_complete = _read_actions(checker, fields["actions"][1], stages)

    timed: list[TimedAction] = []
    if "timed" in fields:
        timed = _read_timed(checker, fields["timed"][1], stages, entries if actions_complete else None)

    if entries is not None:
        for entry in entries:
            if entry.no_roles and not any(t.action == entry.action.name for t in timed):
                checker.problem(line_of(entry.roles_node), f"action {entry.action.name!r} has no roles, so nobody could take it "
                                                         "(only an action that also runs as a timed action may have none)")
        if stages is not None and initial is not None and actions_complete:
            _check_graph(checker, initial, stages, entries)
            _check_approval_actions(checker, stages, entries)

    if checker.problems or stages is None or entries is None or initial is None or title is None:
        raise WorkflowDefinitionError(checker.sorted_problems())
    return WorkflowDefinition(
        name=name, title=title, description=(description or "").strip(), initial=initial,
        stages=tuple(stages.values()), actions=tuple(entry.action for entry in entries), timed=tuple(timed),
        requires_legal_basis=legal, review_cycle_months=cycle, content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=text,
    )


def read_definition_text(path: Path) -> str:
    """A definition file's text; a file that is not UTF-8 is reported with its file and line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise WorkflowDefinitionError([f"{path}:{line}: the file is not UTF-8 text"]) from None


def modified_stamp(path: Path) -> int:
    """The file's modification time, the cache key that makes an edited file be read again."""
    try:
        return path.stat().st_mtime_ns
    except OSError as error:
        raise WorkflowDefinitionError([f"{path}:1: cannot be read ({error.strerror})"]) from None


def folder_stamp(folder: str | Path) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of every file in ``folder``: changes when any definition is added,
    removed or edited, so what was built from the folder can be keyed by it."""
    try:
        with os.scandir(folder) as entries:
            found = [entry for entry in entries if entry.is_file()]
    except OSError as error:
        raise WorkflowDefinitionError([f"{folder}: cannot be read ({error.strerror})"]) from None
    files = []
    for entry in found:
        try:
            info = entry.stat()
        except FileNotFoundError:  # gone since the listing (an editor's temporary file): not part of the folder now
            continue
        files.append((entry.name, info.st_mtime_ns, info.st_size))
    return tuple(sorted(files))


def load_workflow(path: str | Path) -> WorkflowDefinition:
    """Load and validate one definition file; raises ``WorkflowDefinitionError`` listing every problem."""
    path = Path(path)
    definition = load_workflow_text(read_definition_text(path), path.stem, str(path))
    return replace(definition, path=path)


def _workflow_files(folder: str | Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.yaml") if p.is_file() and p.name not in EXCLUDED_FILES)


def workflow_names(folder: str | Path) -> list[str]:
    """The workflows a folder offers (file names without ``.yaml``), leaving out its other files."""
    return [path.stem for path in _workflow_files(folder)]


def load_folder(folder: str | Path) -> dict[str, WorkflowDefinition]:
    """Every definition in ``folder`` by name; raises ``WorkflowDefinitionError`` with the problems of all files."""
    definitions: dict[str, WorkflowDefinition] = {}
    problems: list[str] = []
    for path in _workflow_files(folder):
        try:
            definitions[path.stem] = load_workflow(path)
        except WorkflowDefinitionError as error:
            problems.extend(error.problems)
        except OSError as error:
            problems.append(f"{path}:1: cannot be read ({error.strerror})")
    if problems:
        raise WorkflowDefinitionError(problems)
    return definitions


def check_folder(folder: str | Path) -> list[str]:
    """Every problem of every definition in ``folder`` (empty when all are valid)."""
    try:
        load_folder(folder)
    except WorkflowDefinitionError as error:
        return list(error.problems)
    return []


# ---------------------------------------------------------------------------------------------
# Diagram
# ---------------------------------------------------------------------------------------------

_MERMAID_KEYWORDS = frozenset({"state", "note", "end", "class", "classdef", "direction", "style", "click", "as",
                               "fork", "join", "choice"})


def _mermaid_id(name: str) -> str:
    return f"{name}_" if name.lower() in _MERMAID_KEYWORDS else name


def _mermaid_text(text: str) -> str:
    """A label Mermaid will not misread: one line, no quotes, colons or semicolons."""
    return " ".join(text.replace('"', "'").replace(";", ",").replace(":", " -").replace("#", "no.").split())


def to_mermaid(definition: WorkflowDefinition, current: str | None = None) -> str:
    """The workflow as a Mermaid ``stateDiagram-v2``; ``current`` (a stage name) is highlighted."""
    lines = ["stateDiagram-v2"]
    for stage in definition.stages:
        lines.append(f'    state "{_mermaid_text(stage.label)}" as {_mermaid_id(stage.name)}')
    lines.append(f"    [*] --> {_mermaid_id(definition.initial)}")
    timed = {(t.action, t.stage) for t in definition.timed}
    for action in definition.actions:
        for source in action.sources:
            label = _mermaid_text(action.label)
            if (action.name, source) in timed:
                label += " (automatic at the deadline)"
            lines.append(f"    {_mermaid_id(source)} --> {_mermaid_id(action.dest)}: {label}")
    for name in definition.final_stages:
        lines.append(f"    {_mermaid_id(name)} --> [*]")
    lines.append("    classDef final fill:#e5e7eb,stroke:#374151")
    lines.append("    classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px,font-weight:bold")
    finals = [_mermaid_id(name) for name in definition.final_stages if name != current]
    if finals:
        lines.append(f"    class {','.join(finals)} final")
    if current is not None and any(stage.name == current for stage in definition.stages):
        lines.append(f"    class {_mermaid_id(current)} current")
    return "\n".join(lines) + "\n"
