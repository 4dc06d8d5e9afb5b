"""The equity impact assessment in Chromium: autosave, follow-up questions per group, read-only and public
views; axe checks every page and in-page change (see conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

SAVED = "() => (document.getElementById('autosave-status').textContent || '').startsWith('Saved')"


def _review_id(live_server: Any, code: str) -> int:
    from sqlalchemy import select

    from policyflow.db import make_engine, make_session_factory, transaction
    from policyflow.models import Policy, Review

    engine = make_engine(live_server.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            review_id = session.scalar(select(Review.id).join(Review.policy).where(Policy.code == code))
            assert review_id is not None, code
            return review_id
    finally:
        engine.dispose()


def autosaved(page: Any, change: Any) -> None:
    """Make a change and wait for its autosave's answer and the "Saved" message."""
    with page.expect_response(lambda response: response.url.endswith("/equity-assessment/autosave")) as answer:
        change()
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_function(SAVED)
    assert page.locator("#autosave-status").get_attribute("role") == "status"


def test_answers_save_by_themselves_and_groups_reveal_their_questions(page: Any, login: Any, visit: Any,
                                                                      check_a11y: Any, live_server: Any) -> None:
    review_id = _review_id(live_server, "JICFB")  # in equity review, assessment in progress
    url = f"/reviews/{review_id}/equity-assessment"
    login(page, "reviewer")
    visit(page, f"/reviews/{review_id}")
    assert "Equity impact assessment" in page.locator("#equity-heading").inner_text()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Answer the equity assessment").click()
    assert page.url.endswith(url)
    check_a11y(page, "assessment form")

    # Type an answer: it saves by itself and says so.
    answer = "Families told us at two listening sessions that they want one number to call."
    autosaved(page, lambda: page.get_by_label("Who was engaged, and how?").fill(answer))
    check_a11y(page, "saved")
    visit(page, url)
    assert page.locator("#answer-engagement").input_value() == answer

    # Choosing a group shows its three questions at once; they save too.
    follow_ups = page.locator("#answer-groups-black-follow-up")
    assert follow_ups.is_hidden()
    autosaved(page, lambda: page.get_by_label("Black students, families and staff").check())
    assert follow_ups.is_visible()
    assert follow_ups.get_by_label("Anticipated benefits").is_visible()
    check_a11y(page, "group chosen")
    autosaved(page, lambda: follow_ups.get_by_label("Barriers").fill("Bus routes do not reach the east side after practice."))
    missing = page.locator("#missing-list").inner_text()
    assert "Black students, families and staff: Anticipated benefits" in missing
    assert "Black students, families and staff: Barriers" not in missing
    visit(page, url)
    assert page.get_by_label("Black students, families and staff").is_checked()
    assert page.locator("#answer-groups-black-follow-up").is_visible()
    assert page.locator("#answer-groups-black-barriers").input_value().startswith("Bus routes")
    # Unchoosing hides the questions again (their answers are kept).
    autosaved(page, lambda: page.get_by_label("Black students, families and staff").uncheck())
    assert page.locator("#answer-groups-black-follow-up").is_hidden()


def test_leadership_reads_and_the_public_sees_only_published_answers(page: Any, login: Any, visit: Any,
                                                                     check_a11y: Any, live_server: Any) -> None:
    approval = _review_id(live_server, "GAE")  # waiting for leadership, assessment complete
    login(page, "leader1")
    visit(page, f"/reviews/{approval}")
    assert page.locator("details.approval-assessment").is_visible()
    visit(page, f"/reviews/{approval}/equity-assessment")
    assert page.locator("#equity-form").count() == 0
    assert "Reading grade level by section" in page.locator("table.reading caption").inner_text()
    page.context.clear_cookies()
    published = _review_id(live_server, "JD")
    visit(page, f"/public/reviews/{published}/report")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="read the equity impact assessment").click()
    assert page.url.endswith(f"/public/reviews/{published}/equity-assessment")
    check_a11y(page, "public assessment")
    text = page.locator("main").inner_text()
    assert "Black students, families and staff" in text and "one-year check-in" not in text
    visit(page, f"/public/reviews/{approval}/equity-assessment", status=404)


def _review_with_a_later_version(live_server: Any, code: str) -> int:
    """A new policy whose assessment was completed for version 1, now back in equity review with version 2."""
    from policyflow.db import make_engine, make_session_factory, transaction
    from policyflow.services import policies, reviews
    from policyflow.services.policies import StoreSettings
    from tests.reviewing import STANDARD, complete_assessment, who

    engine = make_engine(live_server.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            ombuds = who(session, "ombuds")
            from policyflow.core.workflow import load_workflow

            saved = policies.create_policy(session, ombuds, StoreSettings(), code=code, title="School meals",
                                           text="# School meals\n\nEvery student may eat breakfast at school.\n",
                                           summary="Draft.")
            review = reviews.start_review(session, ombuds, saved.policy, load_workflow(STANDARD))
            reviews.perform_action(session, ombuds, review.id, "submit_for_equity_review")
            complete_assessment(session, review)
            reviews.perform_action(session, ombuds, review.id, "return_to_draft", "Add lunch.")
            policies.save_version(session, ombuds, StoreSettings(), saved.policy, base_version=1, summary="Lunch too.",
                                  text="# School meals\n\nEvery student may eat breakfast and lunch at school.\n")
            reviews.perform_action(session, ombuds, review.id, "submit_for_equity_review")
            return review.id
    finally:
        engine.dispose()


def test_what_changed_after_the_equity_review(page: Any, login: Any, visit: Any, check_a11y: Any,
                                              live_server: Any) -> None:
    from tests.e2e.test_browser import submit

    review_id = _review_with_a_later_version(live_server, "EQE2E")
    login(page, "reviewer")
    visit(page, f"/reviews/{review_id}/equity-assessment")
    box = page.locator(".changes-box")
    assert "What changed after the equity review?" in box.locator("h2").inner_text()
    box.locator("summary").click()
    assert box.locator(".redline ins.rl-ins").first.inner_text().strip() == "and lunch"
    check_a11y(page, "redline open")
    submit(page, "Save the explanation", status=422)  # empty: refused, with the reason
    check_a11y(page, "explanation refused")
    page.get_by_role("textbox", name="What changed after the equity review?").fill("Adds lunch; the answers still hold.")
    submit(page, "Save the explanation")
    assert "explanation of what changed" in page.locator(".flash-success").inner_text()
    check_a11y(page, "explanation saved")
