"""The state machine over pure definitions: moves, refusals, and no per-review leftovers."""

from __future__ import annotations

import gc

import pytest

from policyflow.core.engine import _Token, engine_for
from policyflow.core.errors import Conflict
from policyflow.core.workflow import load_workflow
from policyflow.resources import workflows_dir


@pytest.fixture(scope="module")
def standard():
    return load_workflow(workflows_dir() / "standard-review.yaml")


def test_moves_along_the_standard_path(standard) -> None:
    engine = engine_for(standard)
    state = standard.initial
    for action in ("submit_for_equity_review", "open_comment_period", "close_comment_period", "publish"):
        state = engine.fire(state, action)
    assert state == "published"
    assert engine.fire("approval", "return_to_draft") == "draft"


def test_refuses_actions_not_possible_in_a_stage(standard) -> None:
    engine = engine_for(standard)
    with pytest.raises(Conflict, match="possible here: submit_for_equity_review"):
        engine.fire("draft", "publish")
    with pytest.raises(Conflict, match="no action"):
        engine.fire("draft", "to_published")  # no auto transitions: to_<state> does not exist
    with pytest.raises(Conflict):
        engine.fire("published", "withdraw")  # final stages have no way out


def test_one_machine_per_definition_and_no_models_kept(standard) -> None:
    engine = engine_for(standard)
    assert engine_for(standard) is engine
    for _ in range(200):
        engine.fire("draft", "submit_for_equity_review")
    assert engine.machine.models == []
    gc.collect()
    assert not [obj for obj in gc.get_objects() if isinstance(obj, _Token)]
