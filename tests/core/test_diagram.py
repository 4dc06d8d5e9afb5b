"""The server-side workflow diagram."""

from __future__ import annotations

from xml.etree import ElementTree

from policyflow.core.diagram import workflow_svg
from policyflow.core.workflow import Action, Stage, WorkflowDefinition, load_workflow
from policyflow.resources import workflows_dir


def test_every_stage_and_action_is_drawn_and_current_marked() -> None:
    definition = load_workflow(workflows_dir() / "standard-review.yaml")
    svg = workflow_svg(definition, "approval")
    tree = ElementTree.fromstring(svg)  # well-formed XML
    texts = "".join(tree.itertext())
    for stage in definition.stages:
        assert stage.label in texts
    for action in definition.actions:
        assert action.label in texts  # as a visible label or an arrow's <title>
    assert "Leadership approval (current)" in texts and "current stage Leadership approval" in texts
    assert texts.count("(current)") == 1


def test_labels_are_escaped() -> None:
    definition = WorkflowDefinition(
        name="x", title="<script>alert(1)</script>", description="", initial="a",
        stages=(Stage("a", "A & <b>"), Stage("b", "B", final=True)),
        actions=(Action("go", "Go <now>", ("a",), "b", ("ombuds",)),),
    )
    svg = workflow_svg(definition)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "A &amp; &lt;b&gt;" in svg
    ElementTree.fromstring(svg)
