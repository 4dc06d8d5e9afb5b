"""Names of the conditions (guards) a workflow definition may use, with words for people.

YAML names a condition; it never contains code. The service layer registers one evaluator per
name (``policyflow.services.conditions``); an unmet condition is reported with its ``unmet``
sentence. Later capabilities (annotations, comments, equity assessment, decisions) add theirs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConditionInfo:
    name: str
    description: str  # what must hold
    unmet: str  # what a person reads when it does not


CONDITIONS: dict[str, ConditionInfo] = {
    info.name: info
    for info in (
        ConditionInfo("approval_quorum_met",
                      "enough leaders approved the version under review (the workflow's quorum and required positions)",
                      "Not enough approvals of version {version}: {shortfall}."),
        ConditionInfo("all_comments_dispositioned",
                      "every comment has a disposition (a hidden comment counts: it was hidden with a reason)",
                      "{undecided} comment(s) have no disposition yet; answer them on the triage page first."),
        ConditionInfo("comment_period_ended", "the comment period's closing date has passed",
                      "The comment period is still open: it closes on {closes}."),
        ConditionInfo("comment_period_scheduled", "the review has comment period dates",
                      "Set the opening and closing dates of the comment period first."),
        ConditionInfo("equity_assessment_complete",
                      "the equity impact assessment is marked complete, and any change to the text since is explained",
                      "Equity impact assessment: {equity}."),
        ConditionInfo("legal_basis_documented", "the review records the legal basis for expediting it",
                      "Record the legal basis (statute, regulation or court order) that requires this change."),
        ConditionInfo("no_open_blocking_annotations", "no blocking note on the policy is still open",
                      "{blocking} blocking note(s) are still open; resolve them first."),
        ConditionInfo("text_changed_since_published", "the version under review differs from the published text",
                      "The version under review is the published text; save the proposed changes first."),
    )
}
