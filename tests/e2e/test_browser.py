"""What a person does in Chromium: sign in, find a policy, read redlines, edit, resolve a conflict.

Every page load is followed by an axe-core WCAG 2.1 A/AA check (see conftest.py); checks also run
after in-page changes such as change navigation, a preview and a conflict.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD
from tests.reviewing import complete_assessment

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}


def submit(page: Any, button: str, status: int = 200) -> Any:
    """Click a submit button by its accessible name and wait for the page it leads to."""
    with page.expect_navigation(wait_until="load") as navigation:
        page.get_by_role("button", name=button, exact=True).click()
    response = navigation.value
    assert response is not None and response.status == status, (
        f"{button!r} led to HTTP {response.status if response else None} at {page.url}, expected {status}"
    )
    return response


def follow(page: Any, link: str) -> None:
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name=link, exact=True).first.click()


def version_rows(page: Any) -> int:
    return page.locator("table.versions tbody tr").count()


def catalogue_versions(page: Any, code: str) -> int:
    row = page.locator("table.data tbody tr").filter(has=page.get_by_role("link", name=code, exact=True))
    return int(row.locator("td").nth(4).inner_text())


def test_anonymous_visitor_reads_public_pages(page: Any, visit: Any, check_a11y: Any) -> None:
    visit(page, "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Riverbend Public Schools policies"
    assert page.get_by_role("link", name="Sign in").is_visible()
    assert page.get_by_role("button", name="Sign out").count() == 0
    card = page.locator(".card a").filter(has=page.locator(".code", has_text=re.compile(r"^JD$")))
    with page.expect_navigation(wait_until="load"):
        card.click()
    assert page.url.endswith("/public/policies/JD")
    check_a11y(page)
    visit(page, "/public/policies/JD")
    assert page.locator("h1 .code").inner_text() == "JD"
    assert page.locator("article.policy-text").inner_text().strip()
    changed = page.get_by_role("link", name=re.compile(r"^what changed from version \d+$"))
    if changed.count():
        with page.expect_navigation(wait_until="load"):
            changed.first.click()
        assert "/policies/JD/diff" in page.url
        check_a11y(page, "public redline")
    # Staff pages send an anonymous visitor to the public page or to sign-in.
    visit(page, "/policies/JD")
    assert page.url.endswith("/public/policies/JD")
    visit(page, "/policies/JD/edit")
    assert "/login?next=" in page.url


def test_ombuds_searches_catalogue_and_opens_policy(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "ombuds")
    visit(page, "/policies")
    assert page.locator("table.data tbody tr").count() == 10
    page.fill("#q", "JD")
    submit(page, "Search")
    assert "q=JD" in page.url
    check_a11y(page, "search results")
    codes = page.locator("table.data tbody tr td:first-child").all_inner_texts()
    assert "JD" in codes
    assert len(codes) < 10
    follow(page, "JD")
    assert page.url.endswith("/policies/JD")
    check_a11y(page)
    assert page.locator("h1 .code").inner_text() == "JD"
    assert page.get_by_role("link", name="Edit text").is_visible()
    assert version_rows(page) >= 5
    # The stage filter narrows the catalogue.
    visit(page, "/policies")
    page.select_option("#stage", "published")
    submit(page, "Search")
    check_a11y(page, "stage filter")
    assert "stage=published" in page.url


def test_staff_pages_are_accessible(page: Any, login: Any, visit: Any) -> None:
    login(page, "admin")
    for path in ("/", "/dashboard", "/policies", "/policies/JD", "/policies/JD/history",
                 "/policies/JD/versions/1", "/policies/JD/versions/5", "/policies/new", "/policies/JD/edit",
                 "/public/policies/JD"):
        visit(page, path)
    visit(page, "/policies/NOPE", status=404)
    assert page.get_by_role("heading", level=1).inner_text()


@pytest.mark.parametrize("view", ["inline", "side"])
def test_redline_change_navigation(page: Any, login: Any, visit: Any, check_a11y: Any, view: str) -> None:
    login(page, "ombuds")
    visit(page, f"/policies/JD/diff?from=1&to=5&view={view}")
    assert page.locator("ins.rl-ins").count() + page.locator("del.rl-del").count() > 0
    count = int(page.locator(".diff-toolbar").get_attribute("data-change-count"))
    assert count >= 2
    assert page.locator(f"[id='change-{count}']").count() == 1
    position = page.locator(".change-position")
    current = page.locator(".current-change")
    assert current.count() == 0

    page.get_by_role("link", name="Next change").click()
    assert position.inner_text() == f"Change 1 of {count}"
    assert current.count() == 1
    assert page.locator("#change-1.current-change").count() == 1
    assert page.evaluate("document.activeElement.id") == "change-1"
    assert page.url.endswith("#change-1")
    check_a11y(page, "after Next change")

    page.get_by_role("link", name="Next change").click()
    assert position.inner_text() == f"Change 2 of {count}"
    assert page.evaluate("document.activeElement.id") == "change-2"
    assert page.locator(".current-change").count() == 1
    assert page.locator("#change-1.current-change").count() == 0

    page.get_by_role("link", name="Previous change").click()
    page.get_by_role("link", name="Previous change").click()
    assert position.inner_text() == f"Change {count} of {count}", "Previous change wraps around to the last"
    assert page.evaluate("document.activeElement.id") == f"change-{count}"

    if view == "side":
        assert page.locator("table.side-by-side").is_visible()
        assert page.locator("td.old del.rl-del, td.new ins.rl-ins").count() > 0
    # The layout switch keeps the compared versions.
    other = "Side by side" if view == "inline" else "Inline"
    follow(page, other)
    check_a11y(page, "other layout")
    assert "from=1" in page.url and "to=5" in page.url


def test_edit_preview_and_save_new_version(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "ombuds")
    visit(page, "/policies")
    listed_before = catalogue_versions(page, "KB")
    visit(page, "/policies/KB")
    rows_before = version_rows(page)
    follow(page, "Edit text")
    assert page.url.endswith("/policies/KB/edit")
    check_a11y(page)

    original = page.input_value("#text")
    edited = original.rstrip("\n") + "\n\nThe Superintendent reviews this policy with families every spring.\n"
    page.fill("#text", edited)
    page.fill("#summary", "Adds the spring review with families.")
    submit(page, "Preview")
    preview = page.get_by_role("region", name="Preview")
    assert preview.is_visible()
    assert "every spring" in preview.locator("ins.rl-ins").all_inner_texts()[-1]
    assert "every spring" in preview.locator("article.policy-text").inner_text()
    assert page.input_value("#text").rstrip("\n") == edited.rstrip("\n"), "the preview keeps the edited text"
    assert page.input_value("#summary") == "Adds the spring review with families."
    check_a11y(page, "preview")

    submit(page, "Save new version")
    number = rows_before + 1
    assert re.search(rf"/policies/KB/versions/{number}$", page.url), page.url
    check_a11y(page)
    assert page.locator(".flash-success").inner_text() == f"Version {number} of KB saved."
    assert page.locator("main > h1").inner_text() == f"KB — version {number}"
    assert "every spring" in page.locator("article.policy-text").inner_text()

    visit(page, "/policies/KB")
    assert version_rows(page) == rows_before + 1
    visit(page, "/policies")
    assert catalogue_versions(page, "KB") == listed_before + 1


def test_concurrent_edits_show_conflict_with_merged_text(
    page: Any, new_page: Any, login: Any, visit: Any, check_a11y: Any
) -> None:
    login(page, "ombuds")
    other = new_page()  # same profile: the same signed-in ombuds in a second tab
    visit(page, "/policies/ADF/edit")
    visit(other, "/policies/ADF/edit")
    base = page.input_value("#text")
    assert "## Board Commitment\n" in base

    page.fill("#text", base.replace("## Board Commitment\n", "## Board Commitment and Purpose\n", 1))
    page.fill("#summary", "Renames the first heading.")
    submit(page, "Save new version")
    check_a11y(page)
    assert page.locator(".flash-success").is_visible()

    closing = "The Board reviews progress under this policy at a public meeting each year."
    other.fill("#text", other.input_value("#text").rstrip("\n") + f"\n\n{closing}\n")
    other.fill("#summary", "Adds an annual public review.")
    submit(other, "Save new version", status=409)
    conflict = other.get_by_role("alert").filter(has=other.locator("#conflict-heading"))
    assert conflict.is_visible()
    assert "Your changes have been merged" in conflict.inner_text()
    merged = other.input_value("#text")
    assert "## Board Commitment and Purpose\n" in merged, "the other editor's change is kept"
    assert closing in merged, "this editor's change is merged in"
    assert other.input_value("#summary") == "Adds an annual public review."
    check_a11y(other, "conflict")

    # Saving the merged text now succeeds on top of the newer version.
    submit(other, "Save new version")
    check_a11y(other)
    assert other.locator(".flash-success").inner_text().endswith("of ADF saved.")
    assert closing in other.locator("article.policy-text").inner_text()


def test_skip_link_is_first_and_visible(page: Any, visit: Any, check_a11y: Any) -> None:
    visit(page, "/")
    skip = page.locator("a.skip-link")
    assert not skip.is_visible() or (skip.bounding_box() or {"y": -1})["y"] < 0, "hidden until focused"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] > 0, f"skip link off screen when focused: {box}"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    check_a11y(page, "skip link focused")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null"), "Tab continues inside main"


def assert_no_horizontal_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > NARROW["width"] + 1:
        culprits = page.evaluate(
            """limit => [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > limit + 1
                              && (!el.closest('.table-scroll') || getComputedStyle(el).position === 'absolute'))
                .slice(0, 8).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))""",
            NARROW["width"],
        )
        pytest.fail(f"{page.url}: page is {width}px wide at {NARROW['width']}px; wide elements: {culprits}")


def test_pages_reflow_at_320px(page: Any, login: Any, visit: Any) -> None:
    page.set_viewport_size(NARROW)
    visit(page, "/")
    assert_no_horizontal_overflow(page)
    visit(page, "/public/policies/JD")
    assert_no_horizontal_overflow(page)
    login(page, "ombuds")
    for path in ("/policies", "/policies/JD", "/policies/JD/diff?from=1&to=5",
                 "/policies/JD/diff?from=1&to=5&view=side", "/policies/JD/edit"):
        visit(page, path)
        assert_no_horizontal_overflow(page)
    # The side-by-side table keeps its columns and scrolls inside its own container.
    visit(page, "/policies/JD/diff?from=1&to=5&view=side")
    scroller = page.locator(".table-scroll").filter(has=page.locator("table.side-by-side"))
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")


def test_stakeholder_cannot_edit(page: Any, login: Any, visit: Any) -> None:
    login(page, "stakeholder")
    assert page.get_by_role("link", name="All policies").count() == 0
    visit(page, "/policies/JD/edit", status=403)
    assert page.get_by_role("heading", level=1).is_visible()
    assert "Only ombuds staff and administrators can edit policy text." in page.locator("main").inner_text()
    assert page.locator("#text").count() == 0
    visit(page, "/policies/JD")
    assert page.url.endswith("/public/policies/JD"), "a stakeholder reads the public page"
    assert page.get_by_role("link", name="Edit text").count() == 0


def test_sign_out(page: Any, login: Any, check_a11y: Any) -> None:
    login(page, "reviewer", fresh=True)
    assert page.get_by_role("link", name="Edit text").count() == 0
    submit(page, "Sign out")
    check_a11y(page)
    assert page.url.endswith("/")
    assert page.locator(".flash-success").inner_text() == "You are signed out."
    assert page.get_by_role("link", name="Sign in").is_visible()


def test_policy_goes_from_draft_to_published_through_the_pages(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    from datetime import date, timedelta

    login(page, "ombuds")
    visit(page, "/policies/IHBEA")
    start = page.get_by_role("button", name=re.compile(r"^Start a review of version \d+$"))
    with page.expect_navigation(wait_until="load"):
        start.click()
    assert re.search(r"/reviews/\d+$", page.url), page.url
    review_url = page.url
    check_a11y(page, "review started")
    assert page.locator(".stage-track li.current").inner_text().endswith("Draft")
    submit(page, "Submit for equity review")
    check_a11y(page, "equity review")
    # Opening the comment period needs its dates: the greyed-out button says so.
    assert page.get_by_role("button", name="Open the comment period").is_disabled()
    assert "dates of the comment period" in page.locator(".reasons").first.inner_text()
    today = date.today()
    page.fill("#comment_opens_on", (today - timedelta(days=2)).isoformat())
    page.fill("#comment_closes_on", (today - timedelta(days=1)).isoformat())
    submit(page, "Save dates")
    check_a11y(page, "dates saved")
    # ... and a complete equity impact assessment, answered on its page by a reviewer.
    assert "Equity impact assessment: not started yet" in page.locator(".reasons").first.inner_text()
    assert page.get_by_role("button", name="Open the comment period").is_disabled()
    review_path = "/" + review_url.split("/", 3)[-1]
    page.context.clear_cookies()
    login(page, "reviewer")
    visit(page, review_path)
    follow(page, "Answer the equity assessment")
    check_a11y(page, "assessment form")
    for field, answer in (("purpose", "Make sure English learners get services in their first weeks."),
                          ("data_considered", "Enrollment and service start dates for the last three years."),
                          ("engagement", "Two listening sessions with families, in Spanish and Vietnamese."),
                          ("unintended_consequences", "Schools could delay testing to meet the timeline on paper."),
                          ("mitigations", "The office checks service start dates each quarter."),
                          ("tracking", "Days from enrollment to first service, by school, published each year.")):
        page.fill(f"#answer-{field}", answer)
    page.get_by_label("Consulted (we asked for their views)").check()
    page.get_by_label("English learners", exact=True).check()
    for follow_up, answer in (("benefits", "Services start sooner."), ("burdens", "More testing in week one."),
                              ("barriers", "Families may not get notices in their language.")):
        page.fill(f"#answer-groups-english-learners-{follow_up}", answer)
    submit(page, "Save")
    check_a11y(page, "assessment saved")
    submit(page, "Mark complete")
    check_a11y(page, "assessment complete")
    page.context.clear_cookies()
    login(page, "ombuds")
    visit(page, review_path)
    submit(page, "Open the comment period")
    check_a11y(page, "comment period")
    assert page.locator(".stage-track li.current").inner_text().endswith("Public comment")
    submit(page, "Close the comment period")
    check_a11y(page, "approval")
    # Ombuds staff neither publish nor decide: leadership does, two approvals of the exact version first.
    assert page.get_by_role("button", name="Publish").is_disabled()
    assert page.get_by_role("button", name="Record my decision").count() == 0
    page.context.clear_cookies()
    leader = page
    for username, note in (("leader1", "Clear and fair."), ("leader2", "The equity review answered my questions.")):
        leader.context.clear_cookies()
        login(leader, username)
        visit(leader, review_path)
        assert "sha-256" in leader.locator(".decisions").inner_text().lower()
        leader.get_by_label(re.compile(r"^Approve")).check()
        leader.fill("#decision-note", note)
        submit(leader, "Record my decision")
        assert "Your decision on version" in leader.locator("body").inner_text()
        check_a11y(leader, f"{username} approved")
    assert "met" in leader.locator(".decisions dl").inner_text().lower()
    leader.context.clear_cookies()
    login(leader, "leader1")
    visit(leader, review_path)
    effective = date.today() + timedelta(days=30)
    leader.fill("#effective-publish", effective.isoformat())
    leader.fill("#note-publish", "Adopted by the Board of Education.")
    submit(leader, "Publish")
    assert leader.locator(".stage-track li.current").inner_text().endswith("Published")
    assert "Adopted by the Board of Education." in leader.locator(".timeline").inner_text()
    check_a11y(leader, "published")
    # The public portal shows the adopted text, its effective date and what applies until then.
    leader.context.clear_cookies()
    visit(leader, "/public/policies/IHBEA")
    notice = leader.locator(".notice").first.inner_text()
    assert f"takes effect on {effective.day} {effective:%B %Y}" in notice and "Until then, version" in notice
    login(leader, "leader1")
    visit(leader, "/notifications")
    assert leader.get_by_role("heading", name="Notifications", level=1).is_visible()
    visit(leader, "/" + review_url.split("/", 3)[-1])
    follow(leader, "Standard policy review")
    assert "Published (current)" in (leader.locator("svg text").all_text_contents())
    check_a11y(leader, "workflow diagram")


def test_reviewer_selects_words_and_adds_a_note(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "reviewer")
    visit(page, "/policies/JFABD/versions/5")
    # Select the first words of the first paragraph, as a mouse user would, then use the button.
    quote = page.evaluate("""() => {
        const node = document.querySelector("article.policy-text p").firstChild;
        const words = node.textContent.split(" ").slice(0, 4).join(" ");
        const range = document.createRange();
        range.setStart(node, 0); range.setEnd(node, words.length);
        const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
        document.querySelector("article.policy-text").dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
        return words;
    }""")
    page.get_by_role("button", name="Add a note on the selection").click()
    assert page.locator("#note-quote").input_value() == quote
    assert page.evaluate("document.activeElement.id") == "note-body"
    page.fill("#note-body", "Families should see the enrollment timeline first.")
    page.fill("#note-tags", "family-impact")
    check_a11y(page, "note form open")
    submit(page, "Add note")
    check_a11y(page, "note added")
    card = page.locator(".note-card").filter(has_text="Families should see the enrollment timeline first.")
    assert card.count() == 1
    note_id = card.get_attribute("id").removeprefix("note-")
    marked = " ".join(page.locator(f'mark[data-notes~="{note_id}"]').all_text_contents())
    assert " ".join(marked.split()) == quote
    page.locator(f'mark[data-notes~="{note_id}"]').first.click()
    assert page.evaluate("document.activeElement.id") == f"note-{note_id}"


def test_saved_version_carries_notes_and_shows_anchor_health(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "ombuds")
    visit(page, "/policies/KB/edit")
    base = page.locator("input[name=base_version]").input_value()
    visit(page, f"/policies/KB/versions/{base}")
    cards = page.locator(".note-card:not(.resolved)").count()
    assert cards >= 2
    visit(page, "/policies/KB/edit")
    text = page.locator("#text").input_value()
    paragraph = next(p for p in text.split("\n\n") if len(p) > 200 and not p.startswith(("#", "|", "-")))
    page.fill("#text", text.replace(paragraph, paragraph + " Families may ask for this in their home language."))
    page.fill("#summary", "Adds a home-language sentence.")
    submit(page, "Save new version")
    check_a11y(page, "version saved with notes")
    assert page.locator(".note-card").count() >= cards  # every open note of the base version is on the new one
    visit(page, "/policies/KB")
    follow(page, re.search(r"Review \d+ \(standard-review\)", page.locator(".review-box").inner_text()).group(0))
    check_a11y(page, "review with anchor health")
    assert "Notes carried to version" in page.locator(".anchor-health").inner_text()


# Notes on the version page. The demo puts notes on KB, JICFB, JFABE and GAE (see services/demo.py);
# other tests save new versions of KB and add notes to JFABD, so these use JICFB, JFABE and GAE and
# look up the head version rather than assuming it.


def head_version(page: Any, visit: Any, code: str) -> int:
    """The newest version of a policy, from the editor's hidden base_version (ombuds staff and admins)."""
    visit(page, f"/policies/{code}/edit")
    return int(page.locator("input[name=base_version]").input_value())


def submit_within(page: Any, scope: Any, button: str, status: int = 200) -> Any:
    """Like ``submit``, for a button that appears once per note card: click it inside ``scope``."""
    with page.expect_navigation(wait_until="load") as navigation:
        scope.get_by_role("button", name=button, exact=True).click()
    response = navigation.value
    assert response is not None and response.status == status, (
        f"{button!r} led to HTTP {response.status if response else None} at {page.url}, expected {status}"
    )
    return response


def note_id(card: Any) -> str:
    return card.get_attribute("id").removeprefix("note-")


def status_badge(card: Any) -> str:
    """The open/resolved badge: the only one with no badge-* modifier class."""
    return card.locator('.note-meta span[class="badge"]').inner_text()


def notes_heading(page: Any) -> str:
    return page.locator("#notes-heading").inner_text()


def card_summaries(page: Any) -> list[dict[str, Any]]:
    """Each card's id, visibility, status and author line, as the page shows them."""
    return page.locator(".note-card").evaluate_all("""cards => cards.map(card => ({
        id: card.id.replace('note-', ''),
        visibility: [...card.classList].find(c => c.startsWith('vis-')).slice(4),
        resolved: card.classList.contains('resolved'),
        author: card.querySelector(':scope > p.muted').textContent.trim(),
    }))""")


def test_ombuds_replies_to_resolves_and_reopens_a_note(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "ombuds")
    head = head_version(page, visit, "JICFB")
    visit(page, f"/policies/JICFB/versions/{head}")
    card = page.locator(".note-card").filter(has_text="Legal should confirm this timeline")
    assert card.count() == 1
    number = note_id(card)
    card = page.locator(f"#note-{number}")
    assert "resolved" not in (card.get_attribute("class") or "").split()
    assert status_badge(card) == "open"
    reply = "Counsel confirmed the timeline against the state anti-bullying statute."
    replies_before = card.locator(".note-reply").filter(has_text=reply).count()

    page.fill(f"#reply-{number}", reply)
    submit_within(page, card, "Reply")
    check_a11y(page, "reply added")
    assert page.url.endswith(f"/policies/JICFB/versions/{head}#note-{number}"), page.url
    assert page.locator(".flash-success").inner_text() == "Reply added."
    added = card.locator(".note-reply").filter(has_text=reply)
    assert added.count() == replies_before + 1
    assert added.last.locator("p.muted").inner_text().startswith("Rosa Delgado (Ombuds), ")
    assert page.input_value(f"#reply-{number}") == "", "the reply form is empty again"

    submit_within(page, card, "Resolve")
    check_a11y(page, "note resolved")
    assert page.locator(".flash-success").inner_text() == "Note resolved."
    assert "resolved" in card.get_attribute("class").split()
    assert status_badge(card) == "resolved"
    assert card.get_by_role("button", name="Resolve", exact=True).count() == 0
    assert card.locator(".note-reply").filter(has_text=reply).count() == replies_before + 1, "the reply stays"

    submit_within(page, card, "Reopen")
    check_a11y(page, "note reopened")
    assert page.locator(".flash-success").inner_text() == "Note reopened."
    assert "resolved" not in card.get_attribute("class").split()
    assert status_badge(card) == "open"
    assert card.get_by_role("button", name="Resolve", exact=True).is_visible()


def test_note_filters_narrow_the_cards(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "ombuds")
    head = head_version(page, visit, "JFABE")
    visit(page, f"/policies/JFABE/versions/{head}")
    everything = card_summaries(page)
    total = len(everything)
    assert notes_heading(page) == f"Notes ({total})"
    confidential = [c["id"] for c in everything if c["visibility"] == "confidential"]
    resolved = [c["id"] for c in everything if c["resolved"]]
    assert confidential and resolved, everything

    def shown() -> list[str]:
        return [c["id"] for c in card_summaries(page)]

    def heading_says(count: int) -> None:
        assert notes_heading(page) == f"Notes ({count} of {total})"

    page.select_option("#f-visibility", "confidential")
    submit(page, "Filter notes")
    check_a11y(page, "confidential notes")
    assert "visibility=confidential" in page.url
    assert shown() == confidential
    heading_says(len(confidential))
    assert page.locator("#f-visibility").input_value() == "confidential", "the filter keeps its choice"
    assert page.locator("mark.note-hl:not(.vis-confidential)").count() == 0, "only shown notes are highlighted"

    # Both filters at once: confidential and resolved.
    page.select_option("#f-status", "resolved")
    submit(page, "Filter notes")
    check_a11y(page, "confidential and resolved notes")
    both = [i for i in confidential if i in resolved]
    assert shown() == both
    heading_says(len(both))
    if not both:
        assert page.locator(".note-cards li.muted").inner_text() == "No notes match the filter."
        assert page.locator("mark.note-hl").count() == 0

    page.select_option("#f-visibility", "")
    submit(page, "Filter notes")
    check_a11y(page, "resolved notes")
    assert shown() == resolved
    heading_says(len(resolved))
    assert page.locator(".note-card:not(.resolved)").count() == 0

    # Author and tag.
    page.select_option("#f-status", "")
    page.select_option("#f-author", "reviewer")
    submit(page, "Filter notes")
    check_a11y(page, "notes by the reviewer")
    by_reviewer = [c["id"] for c in everything if c["author"].startswith("Sam Okafor (Legal Reviewer), ")]
    assert by_reviewer and shown() == by_reviewer
    heading_says(len(by_reviewer))
    page.select_option("#f-author", "")
    page.select_option("#f-tag", "legal")
    submit(page, "Filter notes")
    check_a11y(page, "notes tagged legal")
    assert page.locator(".note-card").count() == 1
    assert "Legal should confirm this timeline" in page.locator(".note-card").inner_text()
    heading_says(1)


# The demo carries an orphaned note to GAE's head version and an edited one to JFABE's.
@pytest.mark.parametrize(("code", "placement", "button"), [("GAE", "orphaned", "Re-attach"),
                                                           ("JFABE", "edited", "Confirm or re-attach")])
def test_ombuds_reattaches_a_carried_note(
    page: Any, login: Any, visit: Any, check_a11y: Any, code: str, placement: str, button: str
) -> None:
    login(page, "ombuds")
    head = head_version(page, visit, code)
    visit(page, f"/policies/{code}/versions/{head}")
    carried = (page.locator(".note-card")
               .filter(has=page.locator(".badge-placement", has_text=re.compile(rf"^{placement}\b")))
               .filter(has=page.get_by_role("button", name=button, exact=True)))
    assert carried.count() >= 1, f"no {placement} note on {code} version {head}"
    number = note_id(carried.first)
    card = page.locator(f"#note-{number}")
    if placement == "orphaned":
        assert card.get_by_role("link", name="show in text").count() == 0
        assert page.locator(f'mark[data-notes~="{number}"]').count() == 0
    # Words of this version's text, from a paragraph without highlights, that appear once on the page.
    words = page.evaluate("""() => {
        const article = document.querySelector("article.policy-text");
        const flat = article.textContent.replace(/\\s+/g, " ");
        for (const p of article.querySelectorAll("p")) {
            const node = p.firstChild;
            if (p.querySelector("mark") || !node || node.nodeType !== Node.TEXT_NODE) continue;
            const words = node.textContent.trim().split(/\\s+/).slice(1, 8);
            const quote = words.join(" ");
            if (words.length === 7 && flat.indexOf(quote) === flat.lastIndexOf(quote)) return quote;
        }
        return null;
    }""")
    assert words, "no paragraph of plain words to attach to"

    page.fill(f"#reattach-{number}", words)
    submit_within(page, card, button)
    check_a11y(page, "note re-attached")
    assert page.locator(".flash-success").inner_text() == "Note re-attached."
    assert page.url.endswith(f"#note-{number}"), page.url
    if placement == "orphaned":
        assert card.locator(".badge-placement").filter(has_text="orphaned").count() == 0
    show = card.get_by_role("link", name="show in text")
    assert show.is_visible()
    assert show.get_attribute("href") == f"#hl-{number}"
    marks = page.locator(f'mark[data-notes~="{number}"]')
    assert " ".join(" ".join(marks.all_text_contents()).split()) == words
    # "show in text" leads to an anchor just before the highlight's first piece.
    assert page.locator(f"#hl-{number}").evaluate(
        "(el, id) => el.nextElementSibling.matches(`mark[data-notes~='${id}']`)", number)
    show.click()
    assert page.url.endswith(f"#hl-{number}")
    marks.first.click()
    assert page.evaluate("document.activeElement.id") == f"note-{number}"
    check_a11y(page, "highlight of the re-attached note")


def test_reviewer_never_sees_confidential_notes(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "ombuds")
    head = head_version(page, visit, "GAE")
    path = f"/policies/GAE/versions/{head}"
    visit(page, path)
    seen_by_ombuds = card_summaries(page)
    secret = page.locator(".note-card.vis-confidential")
    assert secret.count() >= 1, "ombuds staff see the confidential notes"
    secret_bodies = secret.locator(".note-body").all_inner_texts()
    secret_ids = [c["id"] for c in seen_by_ombuds if c["visibility"] == "confidential"]

    page.context.clear_cookies()
    login(page, "reviewer")
    visit(page, path)
    others = [c["id"] for c in seen_by_ombuds if c["visibility"] != "confidential"]
    assert [c["id"] for c in card_summaries(page)] == others
    assert notes_heading(page) == f"Notes ({len(others)})"
    assert page.locator(".note-card.vis-confidential, mark.vis-confidential, .badge-confidential").count() == 0
    for number in secret_ids:
        assert page.locator(f'#note-{number}, mark[data-notes~="{number}"], #hl-{number}').count() == 0
    html = page.content()
    for body in secret_bodies:
        assert body not in html, f"a confidential note's text is on the reviewer's page: {body!r}"
    assert page.locator("#note-visibility option[value=confidential]").count() == 0

    assert page.locator("#f-visibility option[value=confidential], #f-visibility option:text-is('confidential')").count() == 0
    # Asking for them by URL shows nothing either.
    visit(page, path + "?visibility=confidential")
    assert page.locator(".note-card").count() == 0
    assert page.locator(".note-cards li.muted").inner_text() == "No notes match the filter."
    assert notes_heading(page) == f"Notes (0 of {len(others)})"
    assert page.locator("mark.note-hl").count() == 0


def _open_comment_review(live_server: Any, code: str) -> int:
    """A new policy whose standard review is taking comments from today for ten days (set up through the services)."""
    from datetime import timedelta

    from policyflow.core.workflow import load_workflow
    from policyflow.db import make_engine, make_session_factory, transaction
    from policyflow.models.base import utcnow
    from policyflow.resources import workflows_dir
    from policyflow.services import policies, reviews
    from policyflow.services.actors import Actor
    from policyflow.services.policies import StoreSettings

    engine = make_engine(live_server.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            from sqlalchemy import select

            from policyflow.models import User

            ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
            text = ("# School transportation\n\nStudents in foster care keep their school of origin.\n\n"
                    "## Timelines\n\nThe District shall arrange transportation within 5 school days of a request.\n")
            saved = policies.create_policy(session, ombuds, StoreSettings(), code=code, title="School transportation",
                                           text=text, summary="Draft for comment.")
            today = utcnow().date()
            review = reviews.start_review(session, ombuds, saved.policy, load_workflow(workflows_dir() / "standard-review.yaml"),
                                          comment_opens_on=today, comment_closes_on=today + timedelta(days=10))
            from policyflow.services import annotations

            for visibility in ("public", "internal", "confidential"):
                quote = "school of origin" if visibility == "public" else "5 school days"
                at = text.index(quote)
                annotations.create(session, ombuds, saved.policy, 1, target={"start": at, "end": at + len(quote)},
                                   body=f"NOTE-{visibility.upper()}: about {quote}.", visibility=visibility)
            reviews.perform_action(session, ombuds, review.id, "submit_for_equity_review")
            complete_assessment(session, review)
            reviews.perform_action(session, ombuds, review.id, "open_comment_period")
            return review.id
    finally:
        engine.dispose()


def test_visitor_comments_confidentially_and_reads_the_response(page: Any, login: Any, visit: Any, check_a11y: Any,
                                                                live_server: Any) -> None:
    from datetime import timedelta

    from policyflow.models.base import utcnow

    review_id = _open_comment_review(live_server, "CMTE2E")
    secret_name = "Marisol Quintanilla-Reyes"
    words = "Please guarantee a bus from the first day for students in foster care."
    # A visitor without an account finds the open comment period on the home page and comments confidentially.
    visit(page, "/")
    follow(page, next(t for t in page.locator("a").all_inner_texts() if "CMTE2E" in t))
    check_a11y(page, "public review page")
    # The public reads the district's public notes, never its internal or confidential ones.
    assert "NOTE-PUBLIC" in page.locator("main").inner_text()
    assert "NOTE-INTERNAL" not in page.content() and "NOTE-CONFIDENTIAL" not in page.content()
    page.fill("#comment-body", words)
    page.select_option("#comment-category", "parent_guardian")
    page.check("#identity-confidential")
    page.fill("#comment-name", secret_name)
    page.fill("#comment-email", "marisol@example.org")
    submit(page, "Send comment")
    check_a11y(page, "thank you page")
    receipt = page.locator(".receipt-link a").get_attribute("href")
    # Ombuds staff see the name, answer the comment, and close the period once it has ended.
    login(page, "ombuds")
    visit(page, f"/reviews/{review_id}/comments")
    group = page.locator("article.comment-group").filter(has_text=words)
    assert secret_name in group.inner_text()
    group.locator("summary").filter(has_text="Answer comment").click()
    group.locator("select[name=disposition]").select_option("accepted")
    group.locator("textarea[name=response]").fill("Section 2 now promises transportation from the first school day.")
    check_a11y(page, "answer form open")
    submit_within(page, group, "Save the answer")
    check_a11y(page, "answer saved")
    visit(page, f"/reviews/{review_id}/report")
    assert secret_name in page.locator("main").inner_text()  # ombuds staff read the sealed name
    clock = live_server.app.config["CLOCK"]
    live_server.app.config["CLOCK"] = lambda: utcnow() + timedelta(days=12)
    try:
        visit(page, f"/reviews/{review_id}")
        submit(page, "Close the comment period")
        check_a11y(page, "review in approval")
    finally:
        live_server.app.config["CLOCK"] = clock
    # The public report shows the response, not the name; the receipt shows the answer too.
    page.context.clear_cookies()
    visit(page, f"/public/reviews/{review_id}/report")
    report = page.locator("main").inner_text()
    assert words in report and "Section 2 now promises transportation" in report
    assert secret_name not in page.content() and "marisol@example.org" not in page.content()
    assert "Name withheld at the commenter's request" in report
    visit(page, receipt)
    assert "Section 2 now promises transportation" in page.locator("main").inner_text()
    assert secret_name not in page.content()


def test_leader_finds_the_decision_waiting_and_reads_the_packet(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "leader2")
    visit(page, "/dashboard")
    waiting = page.locator("section", has=page.get_by_role("heading", name="Waiting for you"))
    assert "Record your decision" in waiting.inner_text()
    with page.expect_navigation(wait_until="load"):
        waiting.get_by_role("link", name=re.compile("^GAE ")).first.click()
    check_a11y(page, "review waiting for a decision")
    assert page.get_by_role("button", name="Record my decision").is_visible()
    page.get_by_text("Declare a conflict of interest and recuse").click()
    check_a11y(page, "recusal form open")
    follow(page, "Leadership packet (printable)")
    check_a11y(page, "packet")
    assert page.get_by_role("heading", name="5. Decisions").is_visible()
    visit(page, "/reports/pipeline")
    assert page.get_by_role("heading", name="Time in each stage").is_visible()


def test_search_from_the_header_shows_each_reader_what_they_may_read(page: Any, login: Any, visit: Any,
                                                                       check_a11y: Any) -> None:
    visit(page, "/")
    follow(page, "Search")
    assert page.url.endswith("/search")
    check_a11y(page, "search form")
    assert page.get_by_role("status").first.inner_text().startswith("Type one or more words")
    page.get_by_label("Words to find").fill("supervisor")
    submit(page, "Search")
    check_a11y(page, "search results")
    results = page.locator("ol.search-results > li")
    assert results.count() >= 1
    assert page.locator("ol.search-results mark").first.inner_text().lower() == "supervisor"
    links = results.locator("h3 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert all(href.startswith("/public/") for href in links), links
    assert "Name withheld at the commenter's request" in page.locator("ol.search-results").inner_text()
    assert "Michael Chen" not in page.content()
    for secret in ("Michael Chen", "Forsythe"):  # a confidential commenter's name; words of a hidden comment
        visit(page, f"/search?q={secret.replace(' ', '+')}")
        assert page.locator("ol.search-results > li").count() == 0, secret
    page.set_viewport_size(NARROW)
    visit(page, "/search?q=transportation")
    assert_no_horizontal_overflow(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, "ombuds")
    for secret in ("Michael Chen", "Forsythe"):
        visit(page, f"/search?q={secret.replace(' ', '+')}")
        assert page.locator("ol.search-results > li").count() >= 1, secret
    assert "hidden" in page.locator("ol.search-results .result-meta").first.inner_text()
    visit(page, "/search?q=x" + "x" * 200, status=422)
    assert "limited to 200 characters" in page.get_by_role("alert").inner_text()


def test_ombuds_records_a_concern_and_the_pages_are_accessible(page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "ombuds")
    visit(page, "/concerns")
    follow(page, "Record a concern")
    check_a11y(page, "intake form")
    page.select_option("#channel", "phone")
    page.select_option("#raised_by", "student")
    page.fill("#summary", "A student in foster care was told to wait two weeks for a bus.")
    page.get_by_label("Transportation").check()
    page.get_by_label("Students in foster care").check()
    page.fill("#policies", "JFABE")
    page.fill("#name", "A. Student")
    submit(page, "Record the concern")
    check_a11y(page, "concern recorded")
    assert "A. Student" in page.locator("main").inner_text()
    page.get_by_text("Only for an imminent risk of serious harm").click()
    check_a11y(page, "exception form open")
    visit(page, "/concerns?theme=transportation")
    assert "JFABE" in page.locator("table.data").inner_text() and "A. Student" not in page.content()
    visit(page, "/policies/JFABE/concerns")
    assert page.get_by_role("heading", name=re.compile("What concerns say about JFABE")).is_visible()
    visit(page, "/concerns/overview")
    assert "JFABE" in page.locator("main").inner_text()
    visit(page, "/concerns/annual-report")
    assert page.get_by_role("table").first.is_visible()


def test_a_concern_about_a_passage_becomes_a_review_rationale_a_reviewer_reads_without_identity(
        page: Any, login: Any, visit: Any, check_a11y: Any) -> None:
    login(page, "ombuds")
    visit(page, "/policies/DJE")
    passage = page.locator("article.policy-text p").first.inner_text().split(".")[0][:60].strip()
    visit(page, "/concerns/new")
    page.select_option("#channel", "email")
    page.select_option("#raised_by", "organization")
    page.fill("#summary", "A minority-owned supplier says bids are decided before small firms hear of them.")
    page.get_by_label("Other", exact=True).check()
    page.fill("#passage", passage)
    page.fill("#policies", "DJE")
    page.fill("#name", "Bright Path Supplies")
    page.fill("#contact", "owner@brightpath.example.org")
    submit(page, "Record the concern")
    check_a11y(page, "concern with a passage")
    assert passage in page.locator("main q").first.inner_text()
    visit(page, "/policies/DJE")
    page.locator("fieldset.concern-choices input[type=checkbox]").last.check()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name=re.compile(r"^Start a review of version \d+$")).click()
    review_path = "/" + page.url.split("/", 3)[-1]
    check_a11y(page, "review started from a concern")
    page.context.clear_cookies()
    login(page, "reviewer")
    visit(page, review_path)
    rationale = page.locator("section", has=page.get_by_role("heading", name=re.compile("Why this review")))
    assert passage[:30] in rationale.inner_text() and "fewer than 3" in rationale.inner_text()
    assert "Bright Path" not in page.content() and "brightpath" not in page.content()


def test_a_person_changes_their_password_from_their_name_in_the_header(
        page: Any, login: Any, visit: Any, check_a11y: Any, signed_in_cookies: dict[str, Any]) -> None:
    login(page, "stakeholder", fresh=True)
    signed_in_cookies.pop("stakeholder", None)  # the change signs out every other browser of this person
    with page.expect_navigation(wait_until="load"):
        page.locator("header a.who").click()
    assert page.url.endswith("/account/password")
    check_a11y(page)
    page.fill("#current_password", "not-the-password")
    page.fill("#new_password", "three unrelated words")
    submit(page, "Change password", status=401)
    check_a11y(page)
    assert "current password is not right" in page.get_by_role("alert").inner_text()
    for current, new in ((DEMO_PASSWORD, "three unrelated words"), ("three unrelated words", DEMO_PASSWORD)):
        page.fill("#current_password", current)
        page.fill("#new_password", new)
        submit(page, "Change password")
        check_a11y(page)
        assert page.url.endswith("/dashboard")
        assert "Your password is changed" in page.locator(".flash-success").inner_text()
        if new != DEMO_PASSWORD:
            visit(page, "/account/password")
