"""Workflow definitions: the declarative review processes in ``workflows/*.yaml``.

A definition is parsed into these dataclasses (never handed to ``transitions`` as raw YAML:
roles, notes and conditions are ours, not options of the state machine) and validated strictly,
so a district editing a file learns the file, the line and what is wrong before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from policyflow.core.errors import PolicyflowError

KNOWN_ROLES = ("admin", "ombuds", "reviewer", "leadership", "stakeholder")


class WorkflowDefinitionError(PolicyflowError):
    """A workflow file is invalid; the message names the file, the line and the problem."""

    status, slug, title = 422, "invalid-workflow", "Invalid workflow definition"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Stage:
    name: str
    label: str
    description: str = ""
    editable: bool = False  # whether the policy text may change in this stage
    public: bool = False  # whether the public may read the draft in this stage
    final: bool = False
    deadline_days: int | None = None
    notify: tuple[str, ...] = ()  # roles notified on entry
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

    @property
    def final_stages(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages if stage.final)
