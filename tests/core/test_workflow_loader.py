"""Loading, strict validation and diagrams of the workflow definitions in ``workflows/*.yaml``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from policyflow.core.conditions import CONDITIONS
from policyflow.core.engine import engine_for
from policyflow.core.workflow import (
    KNOWN_ROLES,
    WorkflowDefinitionError,
    check_folder,
    load_folder,
    load_workflow,
    load_workflow_text,
    to_mermaid,
)

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
SHIPPED = ("standard-review", "expedited-review", "periodic-review")
STANDARD_STAGES = ("draft", "equity_review", "stakeholder_comment", "approval", "published", "withdrawn")
STANDARD_ACTIONS = ("submit_for_equity_review", "open_comment_period", "close_comment_period",
                    "return_to_draft", "publish", "withdraw")

# A minimal valid definition; the line numbers below refer to it.
TINY = """\
title: Tiny
initial: draft
stages:
  draft:
    label: Draft
  done:
    label: Done
    final: true
actions:
  - name: finish
    label: Finish
    from: draft
    to: done
    roles: [ombuds]
"""
ROLES = ", ".join(KNOWN_ROLES)
KNOWN_CONDITIONS = ", ".join(sorted(CONDITIONS))


def problems_of(tmp_path: Path, text: str | bytes, name: str = "broken.yaml") -> tuple[Path, list[str]]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(WorkflowDefinitionError) as caught:
        load_workflow(path)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return path, caught.value.problems


def only_problem(tmp_path: Path, text: str | bytes) -> str:
    path, problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:")
    return problems[0]


# -- the shipped definitions -------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_definitions_load(name: str) -> None:
    path = WORKFLOWS / f"{name}.yaml"
    definition = load_workflow(path)
    assert definition.name == name
    assert definition.path == path
    assert definition.source == path.read_text(encoding="utf-8")
    assert definition.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert definition.title and definition.description
    assert all(stage.label and stage.description for stage in definition.stages)
    assert all(action.label and action.roles for action in definition.actions)
    assert {"published", "withdrawn"} <= set(definition.final_stages)
    for stage in STANDARD_STAGES:
        definition.stage(stage)
    for action in STANDARD_ACTIONS:
        definition.action(action)


def test_check_folder_of_shipped_workflows_is_clean() -> None:
    assert check_folder(WORKFLOWS) == []
    assert set(load_folder(WORKFLOWS)) >= set(SHIPPED)


def test_standard_review_matches_the_design() -> None:
    definition = load_workflow(WORKFLOWS / "standard-review.yaml")
    assert [stage.name for stage in definition.stages] == list(STANDARD_STAGES)
    assert definition.initial == "draft"
    assert not definition.requires_legal_basis
    draft, equity, comment, approval = (definition.stage(n) for n in STANDARD_STAGES[:4])
    assert draft.editable and not draft.public
    assert (equity.deadline_days, set(equity.notify)) == (21, {"reviewer", "ombuds"})
    assert comment.public and (comment.deadline_days, comment.notify) == (30, ("ombuds",))
    assert (approval.deadline_days, approval.notify) == (14, ("leadership",))
    for group in ("Latinx", "LGBTQIA+", "McKinney-Vento", "foster care", "special education", "English learners"):
        assert group in " ".join(equity.description.split())

    def one(name: str):
        return definition.action(name)

    assert (one("submit_for_equity_review").sources, one("submit_for_equity_review").dest) == (("draft",), "equity_review")
    assert one("submit_for_equity_review").conditions == ("no_open_blocking_annotations",)
    assert one("open_comment_period").conditions == ("no_open_blocking_annotations", "equity_assessment_complete",
                                                     "comment_period_scheduled")
    assert one("close_comment_period").conditions == ("comment_period_ended", "all_comments_dispositioned",
                                                      "equity_assessment_complete")
    assert comment.comments and comment.anonymous_comments and not any(s.comments for s in definition.stages if s is not comment)
    assert one("close_comment_period").dest == "approval"
    assert set(one("return_to_draft").sources) == {"equity_review", "stakeholder_comment", "approval"}
    assert set(one("return_to_draft").roles) == {"ombuds", "leadership"} and one("return_to_draft").note_required
    assert (one("publish").sources, one("publish").dest, one("publish").roles, one("publish").conditions) == (
        ("approval",), "published", ("leadership",), ("approval_quorum_met",))
    assert approval.approval is not None and approval.approval.min_approvals == 2
    assert approval.approval.required_positions == ("Chief Equity and Social Justice Officer",)
    assert not approval.approval.publish_on_quorum and definition.review_cycle_months == 36
    assert all(stage.approval is None for stage in definition.stages if stage is not approval)
    assert set(one("withdraw").sources) == {"draft", "equity_review", "stakeholder_comment", "approval"}
    assert set(one("withdraw").roles) == {"ombuds", "admin"} and one("withdraw").note_required
    assert [(t.action, t.stage, t.when) for t in definition.timed] == [("close_comment_period", "stakeholder_comment", "deadline")]


def test_expedited_and_periodic_reviews() -> None:
    expedited = load_workflow(WORKFLOWS / "expedited-review.yaml")
    assert expedited.requires_legal_basis
    assert [s.name for s in expedited.stages] == list(STANDARD_STAGES)
    assert expedited.stage("stakeholder_comment").deadline_days == 10
    assert "legal_basis_documented" in expedited.action("submit_for_equity_review").conditions

    periodic = load_workflow(WORKFLOWS / "periodic-review.yaml")
    assert periodic.initial == "scheduled_review"
    scheduled = periodic.stage("scheduled_review")
    assert scheduled.deadline_days == 30 and not scheduled.editable
    assert periodic.stage("reaffirmed").final
    reaffirm, revise = periodic.action("reaffirm"), periodic.action("begin_revision")
    assert (reaffirm.dest, reaffirm.roles, reaffirm.note_required) == ("reaffirmed", ("leadership",), True)
    assert (revise.sources, revise.dest, revise.roles) == (("scheduled_review",), "draft", ("ombuds",))
    engine = engine_for(periodic)
    state = "scheduled_review"
    for action in ("begin_revision", "submit_for_equity_review", "open_comment_period", "close_comment_period", "publish"):
        state = engine.fire(state, action)
    assert state == "published"
    # Leaving the equity review, and reaching leadership, need a complete (and current) equity assessment.
    for definition in (expedited, periodic):
        for action in ("open_comment_period", "close_comment_period"):
            assert "equity_assessment_complete" in definition.action(action).conditions, (definition.name, action)


def test_check_folder_reports_every_file_and_skips_the_equity_assessment(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(TINY, encoding="utf-8")
    (tmp_path / "equity-assessment.yaml").write_text("questions: [not, a, workflow]\n", encoding="utf-8")
    (tmp_path / "bad-one.yaml").write_text(TINY.replace("title: Tiny", "titel: Tiny"), encoding="utf-8")
    (tmp_path / "bad-two.yaml").write_text(TINY.replace("roles: [ombuds]", "roles: [janitor]"), encoding="utf-8")
    problems = check_folder(tmp_path)
    assert problems == [
        f"{tmp_path / 'bad-one.yaml'}:1: unknown key 'titel' in the workflow; "
        "allowed keys: title, description, initial, legal_basis_required, review_cycle_months, stages, actions, timed",
        f"{tmp_path / 'bad-one.yaml'}:1: the workflow is missing the required key 'title'",
        f"{tmp_path / 'bad-two.yaml'}:14: unknown role 'janitor' in action 'finish'; known roles: {ROLES}",
    ]
    with pytest.raises(WorkflowDefinitionError) as caught:
        load_folder(tmp_path)
    assert caught.value.problems == problems
    (tmp_path / "bad-one.yaml").unlink()
    (tmp_path / "bad-two.yaml").unlink()
    assert list(load_folder(tmp_path)) == ["good"]


# -- broken definitions: one problem each, with file, line and words ---------------------------


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = TINY.replace("    label: Done\n", "    label: Done\n   colour: red\n")
    problem = only_problem(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'broken.yaml'}:8: invalid YAML: expected <block end>")


def test_unclosed_flow_list(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, TINY.replace("roles: [ombuds]", "roles: [ombuds"))
    assert problem.startswith(f"{tmp_path / 'broken.yaml'}:15: invalid YAML: expected ',' or ']'")
    assert "(while parsing a flow sequence on line 14)" in problem


def test_tab_indentation(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, TINY.replace("    label: Draft", "\tlabel: Draft"))
    assert problem == f"{tmp_path / 'broken.yaml'}:5: invalid YAML: found character '\\t' that cannot start any token " \
                      "(while scanning for the next token)"


def test_two_documents(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY + "---\ntitle: Again\n") == (
        f"{tmp_path / 'broken.yaml'}:15: invalid YAML: a second document starts here ('---'); a workflow file holds exactly one")


def test_empty_file(tmp_path: Path) -> None:
    assert only_problem(tmp_path, "# nothing yet\n") == (
        f"{tmp_path / 'broken.yaml'}:1: the file is empty; a workflow needs the keys title, initial, stages, actions")


def test_not_utf8(tmp_path: Path) -> None:
    text = TINY.replace("Done", "Fertig \xfc").encode("latin-1")
    assert only_problem(tmp_path, text) == f"{tmp_path / 'broken.yaml'}:7: the file is not UTF-8 text"


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    assert only_problem(tmp_path, "- draft\n- done\n") == (
        f"{tmp_path / 'broken.yaml'}:1: the top level must be a mapping with keys "
        "title, description, initial, legal_basis_required, review_cycle_months, stages, actions, timed, not a list")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY + "owner: ombuds\n") == (
        f"{tmp_path / 'broken.yaml'}:15: unknown key 'owner' in the workflow; "
        "allowed keys: title, description, initial, legal_basis_required, review_cycle_months, stages, actions, timed")


def test_unknown_stage_key(tmp_path: Path) -> None:
    text = TINY.replace("    label: Draft\n", "    label: Draft\n    colour: blue\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:6: unknown key 'colour' in stage 'draft'; "
        "allowed keys: label, description, editable, public, comments, anonymous_comments, final, deadline_days, notify, approval")


def test_unknown_action_key(tmp_path: Path) -> None:
    text = TINY.replace("    roles: [ombuds]\n", "    roles: [ombuds]\n    guard: is_ready\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:15: unknown key 'guard' in action 'finish'; "
        "allowed keys: name, label, description, from, to, roles, note_required, conditions")


def test_unknown_timed_key(tmp_path: Path) -> None:
    text = TINY.replace("    label: Draft\n", "    label: Draft\n    deadline_days: 5\n") + (
        "timed:\n  - action: finish\n    stage: draft\n    when: deadline\n    after: 3\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:20: unknown key 'after' in timed action #1; allowed keys: action, stage, when")


def test_missing_required_keys(tmp_path: Path) -> None:
    text = TINY.replace("    to: done\n", "").replace("    roles: [ombuds]\n", "")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:10: action 'finish' is missing the required keys 'to', 'roles'")


def test_missing_top_level_key(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY.replace("title: Tiny\n", "description: no title\n")) == (
        f"{tmp_path / 'broken.yaml'}:1: the workflow is missing the required key 'title'")


def test_missing_stage_label(tmp_path: Path) -> None:
    text = TINY.replace("    label: Draft\n", "    editable: true\n")
    assert only_problem(tmp_path, text) == f"{tmp_path / 'broken.yaml'}:5: stage 'draft' is missing the required key 'label'"


def test_roles_not_a_list(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY.replace("roles: [ombuds]", "roles: ombuds")) == (
        f"{tmp_path / 'broken.yaml'}:14: 'roles' of action 'finish' must be a list of roles (write [] for none), "
        "not the text 'ombuds'")


def test_role_not_text(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY.replace("roles: [ombuds]", "roles:\n      - ombuds\n      - 42")) == (
        f"{tmp_path / 'broken.yaml'}:16: each entry of 'roles' of action 'finish' must be text, "
        "not a whole number ('42') (put it in quotes)")


@pytest.mark.parametrize(("value", "described"), [
    ("0", "a whole number ('0')"),
    ("-3", "a whole number ('-3')"),
    ("ten", "the text 'ten'"),
    ("2.5", "a number ('2.5')"),
    ("true", "true/false ('true')"),
])
def test_deadline_days_must_be_a_positive_integer(tmp_path: Path, value: str, described: str) -> None:
    text = TINY.replace("    label: Draft\n", f"    label: Draft\n    deadline_days: {value}\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:6: 'deadline_days' of stage 'draft' must be a positive whole number of days, not {described}")


def test_flag_must_be_a_boolean(tmp_path: Path) -> None:
    text = TINY.replace("    label: Draft\n", '    label: Draft\n    editable: "yes"\n')
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:6: 'editable' of stage 'draft' must be true or false, not the text 'yes'")


def test_label_must_be_text(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY.replace("label: Finish", "label: 2024")) == (
        f"{tmp_path / 'broken.yaml'}:11: the label of action 'finish' must be text, not a whole number ('2024') (put it in quotes)")


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY + "title: Tiny again\n") == (
        f"{tmp_path / 'broken.yaml'}:15: duplicate key 'title' in the workflow (first given on line 1)")


def test_duplicate_stage(tmp_path: Path) -> None:
    text = TINY.replace("actions:\n", "  draft:\n    label: Draft again\nactions:\n")
    assert only_problem(tmp_path, text) == f"{tmp_path / 'broken.yaml'}:9: duplicate stage 'draft' (first defined on line 4)"


def test_duplicate_key_in_action(tmp_path: Path) -> None:
    text = TINY.replace("    to: done\n", "    to: done\n    to: draft\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:14: duplicate key 'to' in action 'finish' (first given on line 13)")


def test_unknown_stage_in_from(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY.replace("from: draft", "from: [draft, drafting]")) == (
        f"{tmp_path / 'broken.yaml'}:12: action 'finish' starts from unknown stage 'drafting'; stages: draft, done")


def test_unknown_stage_in_to(tmp_path: Path) -> None:
    _path, problems = problems_of(tmp_path, TINY.replace("to: done", "to: finished"))
    # the real stage 'done' is now unreachable too, but the graph is not judged while an action is broken
    assert problems == [f"{tmp_path / 'broken.yaml'}:13: action 'finish' goes to unknown stage 'finished'; stages: draft, done"]


def test_unknown_initial_stage(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY.replace("initial: draft", "initial: start")) == (
        f"{tmp_path / 'broken.yaml'}:2: 'initial' names unknown stage 'start'; stages: draft, done")


def test_unknown_role(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY.replace("roles: [ombuds]", "roles: [ombuds, superintendent]")) == (
        f"{tmp_path / 'broken.yaml'}:14: unknown role 'superintendent' in action 'finish'; known roles: {ROLES}")


def test_unknown_notify_role(tmp_path: Path) -> None:
    text = TINY.replace("    label: Draft\n", "    label: Draft\n    notify:\n      - ombuds\n      - board\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:8: unknown role 'board' in 'notify' of stage 'draft'; known roles: {ROLES}")


def test_unknown_condition(tmp_path: Path) -> None:
    text = TINY.replace("    roles: [ombuds]\n", "    roles: [ombuds]\n    conditions: [moon_is_full]\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:15: unknown condition 'moon_is_full' in action 'finish'; known conditions: {KNOWN_CONDITIONS}")
    assert "comment_period_ended" in KNOWN_CONDITIONS


def test_duplicate_action_from_the_same_stage(tmp_path: Path) -> None:
    text = """\
title: Two ways to finish
initial: draft
stages:
  draft:
    label: Draft
  check:
    label: Check
  done:
    label: Done
    final: true
  dropped:
    label: Dropped
    final: true
actions:
  - name: check
    label: Check
    from: draft
    to: check
    roles: [reviewer]
  - name: finish
    label: Finish
    from: [draft, check]
    to: done
    roles: [ombuds]
  - name: finish
    label: Finish by dropping
    from:
      - check
    to: dropped
    roles: [admin]
"""
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:28: action 'finish' is defined twice from stage 'check' (also by the entry on line 20); "
        "each stage may offer an action once")


def test_same_action_name_from_different_stages_is_fine(tmp_path: Path) -> None:
    text = TINY.replace("  done:\n", "  middle:\n    label: Middle\n  done:\n").replace("to: done", "to: middle") + (
        "  - name: finish\n    label: Finish\n    from: middle\n    to: done\n    roles: [ombuds]\n")
    path = tmp_path / "fine.yaml"
    path.write_text(text, encoding="utf-8")
    definition = load_workflow(path)
    assert [a.sources for a in definition.actions if a.name == "finish"] == [("draft",), ("middle",)]
    assert engine_for(definition).fire(engine_for(definition).fire("draft", "finish"), "finish") == "done"


def test_action_leaving_a_final_stage(tmp_path: Path) -> None:
    text = TINY + "  - name: reopen\n    label: Reopen\n    from: done\n    to: draft\n    roles: [admin]\n"
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:17: action 'reopen' leaves final stage 'done'; nothing may happen after a final stage")


def test_unreachable_stage(tmp_path: Path) -> None:
    text = TINY.replace("actions:\n", "  archived:\n    label: Archived\n    final: true\nactions:\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:9: stage 'archived' cannot be reached from the initial stage 'draft' by any action")


def test_stage_without_a_way_out(tmp_path: Path) -> None:
    text = TINY.replace("  done:\n", "  stuck:\n    label: Stuck\n  done:\n") + (
        "  - name: park\n    label: Park\n    from: draft\n    to: stuck\n    roles: [ombuds]\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:6: stage 'stuck' is not final but no action leaves it; add an action or mark it 'final: true'")


def test_no_final_stage(tmp_path: Path) -> None:
    text = TINY.replace("    final: true\n", "") + (
        "  - name: reopen\n    label: Reopen\n    from: done\n    to: draft\n    roles: [admin]\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:3: no stage is final; mark the stage(s) where a review ends with 'final: true'")


def test_action_without_roles_must_be_timed(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY.replace("roles: [ombuds]", "roles: []")) == (
        f"{tmp_path / 'broken.yaml'}:14: action 'finish' has no roles, so nobody could take it "
        "(only an action that also runs as a timed action may have none)")


def test_timed_action_may_have_no_roles(tmp_path: Path) -> None:
    text = TINY.replace("    label: Draft\n", "    label: Draft\n    deadline_days: 5\n").replace("roles: [ombuds]", "roles: []")
    definition = load_workflow_text(text + "timed:\n  - action: finish\n    stage: draft\n    when: deadline\n", "t", "t.yaml")
    assert definition.action("finish").roles == ()
    assert definition.timed[0].line == 17


def test_missing_roles_key_alone(tmp_path: Path) -> None:
    assert only_problem(tmp_path, TINY.replace("    roles: [ombuds]\n", "")) == (
        f"{tmp_path / 'broken.yaml'}:10: action 'finish' is missing the required key 'roles'")


TIMED_BASE = TINY.replace("    label: Draft\n", "    label: Draft\n    deadline_days: 5\n")  # the lines after 5 move down by one


def test_timed_unknown_action(tmp_path: Path) -> None:
    text = TIMED_BASE + "timed:\n  - action: finsh\n    stage: draft\n    when: deadline\n"
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:17: timed action #1 names unknown action 'finsh'; actions: finish")


def test_timed_action_not_available_from_its_stage(tmp_path: Path) -> None:
    text = TIMED_BASE.replace("  done:\n", "  waiting:\n    label: Waiting\n    deadline_days: 3\n  done:\n") + (
        "  - name: wait\n    label: Wait\n    from: draft\n    to: waiting\n    roles: [ombuds]\n"
        "  - name: resume\n    label: Resume\n    from: waiting\n    to: done\n    roles: [ombuds]\n"
        "timed:\n  - action: wait\n    stage: waiting\n    when: deadline\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:30: timed action #1: action 'wait' is not available from stage 'waiting'")


def test_timed_when_other_than_deadline(tmp_path: Path) -> None:
    text = TIMED_BASE + "timed:\n  - action: finish\n    stage: draft\n    when: midnight\n"
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:19: 'when' of timed action #1 must be 'deadline', not 'midnight'")


def test_timed_action_on_a_stage_without_deadline(tmp_path: Path) -> None:
    text = TINY + "timed:\n  - action: finish\n    stage: draft\n    when: deadline\n"
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:17: timed action #1 runs at the deadline of stage 'draft', which has no 'deadline_days'")


def test_timed_unknown_stage(tmp_path: Path) -> None:
    text = TIMED_BASE + "timed:\n  - action: finish\n    stage: drafting\n    when: deadline\n"
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:18: timed action #1 names unknown stage 'drafting'; stages: draft, done")


def test_final_stage_cannot_have_a_deadline(tmp_path: Path) -> None:
    text = TINY.replace("    final: true\n", "    final: true\n    deadline_days: 9\n")
    assert only_problem(tmp_path, text) == (
        f"{tmp_path / 'broken.yaml'}:9: final stage 'done' cannot have a deadline: nothing happens after it")


def test_bad_stage_name(tmp_path: Path) -> None:
    text = TINY.replace("  done:\n", "  Done Stage:\n").replace("to: done", "to: Done Stage")
    _path, problems = problems_of(tmp_path, text)
    assert problems[0] == (f"{tmp_path / 'broken.yaml'}:6: stage name 'Done Stage' must be lower-case letters, digits and "
                           "underscores, starting with a letter")


# -- several problems at once ------------------------------------------------------------------


def test_every_problem_is_reported_in_line_order(tmp_path: Path) -> None:
    text = """\
title: Broken in many ways
initial: draft
colour: green
stages:
  draft:
    label: Draft
    deadline_days: 0
    editable: maybe
  review:
    label: Review
    notify: [board]
  done:
    label: Done
    final: true
actions:
  - name: send
    label: Send
    from: draft
    to: reveiw
    roles: [ombuds, janitor]
    conditions: [stars_align]
  - name: finish
    label: Finish
    from: review
    to: done
    roles: [leadership]
    roles: [admin]
timed:
  - action: finish
    stage: draft
    when: noon
"""
    path, problems = problems_of(tmp_path, text, "many.yaml")
    assert problems == [
        f"{path}:3: unknown key 'colour' in the workflow; "
        "allowed keys: title, description, initial, legal_basis_required, review_cycle_months, stages, actions, timed",
        f"{path}:7: 'deadline_days' of stage 'draft' must be a positive whole number of days, not a whole number ('0')",
        f"{path}:8: 'editable' of stage 'draft' must be true or false, not the text 'maybe'",
        f"{path}:11: unknown role 'board' in 'notify' of stage 'review'; known roles: {ROLES}",
        f"{path}:19: action 'send' goes to unknown stage 'reveiw'; stages: draft, review, done",
        f"{path}:20: unknown role 'janitor' in action 'send'; known roles: {ROLES}",
        f"{path}:21: unknown condition 'stars_align' in action 'send'; known conditions: {KNOWN_CONDITIONS}",
        f"{path}:27: duplicate key 'roles' in action 'finish' (first given on line 26)",
        f"{path}:31: 'when' of timed action #1 must be 'deadline', not 'noon'",
    ]
    assert all(problem.startswith(f"{path}:") for problem in problems)


def test_load_workflow_text_names_the_source(tmp_path: Path) -> None:
    definition = load_workflow_text(TINY, "tiny", "review 7 (tiny)")
    assert (definition.name, definition.path, definition.source) == ("tiny", None, TINY)
    with pytest.raises(WorkflowDefinitionError) as caught:
        load_workflow_text(TINY.replace("initial: draft", "initial: nowhere"), "tiny", "review 7 (tiny)")
    assert caught.value.problems == ["review 7 (tiny):2: 'initial' names unknown stage 'nowhere'; stages: draft, done"]


def test_content_hash_follows_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    first = load_workflow(path)
    assert first.content_hash == hashlib.sha256(TINY.encode()).hexdigest()
    assert load_workflow(path).content_hash == first.content_hash
    path.write_text(TINY.replace("label: Finish", "label: Finish the review"), encoding="utf-8")
    second = load_workflow(path)
    assert second.content_hash != first.content_hash
    assert second.source != first.source and second.action("finish").label == "Finish the review"


# -- diagrams ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_mermaid_shows_every_stage_and_action(name: str) -> None:
    definition = load_workflow(WORKFLOWS / f"{name}.yaml")
    diagram = to_mermaid(definition)
    lines = diagram.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert f"    [*] --> {definition.initial}" in lines
    for stage in definition.stages:
        assert f'    state "{stage.label}" as {stage.name}' in lines
    for final in definition.final_stages:
        assert f"    {final} --> [*]" in lines
    for action in definition.actions:
        for source in action.sources:
            assert any(line.startswith(f"    {source} --> {action.dest}: {action.label}") for line in lines), (source, action.name)
    assert "class" not in "".join(line for line in lines if "current" in line and line.startswith("    class "))
    assert to_mermaid(definition) == diagram  # deterministic


def test_mermaid_marks_the_current_stage() -> None:
    definition = load_workflow(WORKFLOWS / "standard-review.yaml")
    diagram = to_mermaid(definition, current="stakeholder_comment")
    assert "    classDef current " in diagram
    assert diagram.splitlines()[-1] == "    class stakeholder_comment current"
    assert "stakeholder_comment --> approval: Close the comment period (automatic at the deadline)" in diagram
    assert "class published,withdrawn final" in diagram
    assert to_mermaid(definition, current="published").splitlines()[-2:] == [
        "    class withdrawn final", "    class published current"]
    assert "class nowhere" not in to_mermaid(definition, current="nowhere")


def test_mermaid_keeps_labels_safe(tmp_path: Path) -> None:
    text = TINY.replace("label: Finish", 'label: "Finish: sign; \\"done\\""').replace("  done:\n", "  end:\n").replace(
        "to: done", "to: end")
    definition = load_workflow_text(text, "tiny", "tiny.yaml")
    diagram = to_mermaid(definition, current="end")
    assert "draft --> end_: Finish - sign, 'done'" in diagram
    assert 'state "Done" as end_' in diagram
    assert "class end_ current" in diagram


# -- leadership decisions ----------------------------------------------------------------------

DECIDING = TINY.replace("    label: Draft\n", "    label: Draft\n    approval:\n      min_approvals: 2\n").replace(
    "actions:\n", "  dropped:\n    label: Dropped\n    final: true\nactions:\n") + """\
  - name: return_to_draft
    label: Back
    from: draft
    to: draft
    roles: [leadership]
  - name: abandon
    label: Abandon
    from: draft
    to: dropped
    roles: [leadership]
"""


def test_an_approval_rule_is_read(tmp_path: Path) -> None:
    text = DECIDING.replace("      min_approvals: 2\n", "      min_approvals: 2\n      required_positions: [Superintendent]\n"
                            "      publish_action: finish\n      reject_action: abandon\n      publish_on_quorum: true\n")
    path = tmp_path / "ok.yaml"
    path.write_text(text + "review_cycle_months: 24\n", encoding="utf-8")
    definition = load_workflow(path)
    rule = definition.stage("draft").approval
    assert rule is not None and (rule.min_approvals, rule.required_positions, rule.publish_on_quorum) == (2, ("Superintendent",), True)
    assert definition.review_cycle_months == 24 and definition.stage("done").approval is None


def test_approval_actions_must_leave_the_stage(tmp_path: Path) -> None:
    # The defaults: publish (missing here), return_to_draft (present), withdraw (missing).
    path, problems = problems_of(tmp_path, DECIDING)
    assert problems == [
        f"{path}:7: 'approval' of stage 'draft' names publish_action 'publish', but no action of that name leaves 'draft'; "
        "actions from there: finish, return_to_draft, abandon",
        f"{path}:7: 'approval' of stage 'draft' names reject_action 'withdraw', but no action of that name leaves 'draft'; "
        "actions from there: finish, return_to_draft, abandon",
    ]


def test_approval_rule_values_are_checked(tmp_path: Path) -> None:
    text = DECIDING.replace("      min_approvals: 2\n", "      min_approvals: 1\n      required_positions: [A, B]\n"
                            "      publish_action: finish\n      reject_action: abandon\n      quorum: 3\n")
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:8: 'approval' of stage 'draft' requires 2 positions to approve but 'min_approvals' is 1; "
        "raise 'min_approvals' to at least 2",
        f"{path}:11: unknown key 'quorum' in 'approval' of stage 'draft'; allowed keys: min_approvals, required_positions, "
        "publish_on_quorum, publish_action, request_changes_action, reject_action",
    ]
    zero = DECIDING.replace("min_approvals: 2", "min_approvals: 0")
    assert f"{tmp_path / 'broken.yaml'}:7: 'min_approvals' of 'approval' of stage 'draft' must be a positive whole number, not " \
           "a whole number ('0')" in problems_of(tmp_path, zero)[1]
    final = TINY.replace("    final: true\n", "    final: true\n    approval: {}\n", 1)
    expected = f"{tmp_path / 'broken.yaml'}:9: final stage 'done' cannot take decisions: nothing happens after it"
    assert expected in problems_of(tmp_path, final)[1]


def test_decision_actions_must_do_what_their_names_say(tmp_path: Path) -> None:
    text = DECIDING.replace("      min_approvals: 2\n", "      publish_action: finish\n      reject_action: finish\n")
    path, problems = problems_of(tmp_path, text)
    assert problems == [f"{path}:7: 'approval' of stage 'draft' must name three different actions to publish, request changes "
                        "and reject, not finish, return_to_draft, finish"]
    text = DECIDING.replace("      min_approvals: 2\n", "      publish_action: abandon\n      reject_action: return_to_draft\n"
                            "      request_changes_action: finish\n")
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}:7: the request_changes_action 'finish' of stage 'draft' must send the review back to a stage that is not "
        "final (where the text can change)",
        f"{path}:7: the reject_action 'return_to_draft' of stage 'draft' must end the review (lead to a final stage)"]
