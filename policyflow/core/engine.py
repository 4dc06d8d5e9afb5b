"""The state machine over a workflow definition, built on ``transitions``.

One ``Machine`` per definition (cached by content hash) with ``auto_transitions=False``, so no
``to_<state>`` shortcut can bypass the workflow. A review row is never made the machine's model:
each firing attaches a throwaway model at the stored state (``initial=`` is the row's state, the
default would overwrite it) and detaches it again, so nothing per row stays alive.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from transitions import Machine, MachineError

from policyflow.core.errors import Conflict
from policyflow.core.workflow import Action, WorkflowDefinition


class _Token:
    """The throwaway model a firing runs on; ``state`` is set by the machine."""

    state: str


@dataclass(frozen=True)
class WorkflowEngine:
    definition: WorkflowDefinition
    machine: Machine

    def actions_from(self, state: str) -> list[Action]:
        return self.definition.actions_from(state)

    def fire(self, state: str, action: str) -> str:
        """The stage reached by ``action`` from ``state``; Conflict if it is not possible there."""
        token = _Token()
        self.machine.add_model(token, initial=state)
        try:
            trigger = getattr(token, action, None)
            if trigger is None:
                raise Conflict(f"The workflow has no action {action!r}.")
            trigger()
            return token.state
        except MachineError:
            possible = ", ".join(a.name for a in self.actions_from(state)) or "none"
            raise Conflict(f"{action!r} is not possible in stage {state!r}; possible here: {possible}.") from None
        finally:
            self.machine.remove_model(token)


def engine_for(definition: WorkflowDefinition) -> WorkflowEngine:
    return _cached_engine(definition.content_hash or definition.name, definition)


@lru_cache(maxsize=64)
def _cached_engine(_key: str, definition: WorkflowDefinition) -> WorkflowEngine:
    machine = Machine(
        model=None,
        states=[stage.name for stage in definition.stages],
        transitions=[
            {"trigger": action.name, "source": list(action.sources), "dest": action.dest}
            for action in definition.actions
        ],
        initial=definition.initial,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )
    return WorkflowEngine(definition, machine)
