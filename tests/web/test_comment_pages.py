"""Comment pages: triage with near-duplicate groups, moderation, dispositions, the response to comments
and its exports, each checked for who may see which name."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.models import Comment, OutboxMessage, Review
from policyflow.services import comments
from policyflow.services.actors import Actor
from policyflow.web import comment_pages
from tests.conftest import login
from tests.reviewing import NOW, act, complete_assessment, start, who

TEXT = ("# Enrollment of students in foster care\n\n"
        "Students in foster care keep their school of origin when their placement changes.\n\n"
        "## Transportation\n\n"
        "The district arranges transportation to the school of origin within five school days.\n")
CATEGORIES = ("parent_guardian", "student", "employee", "community_member", "organization")
CAMPAIGN = ("Please keep every student in foster care at their school of origin and make sure the bus comes on "
            "the first day after a placement changes, because children should not miss school while adults sort "
            "out the paperwork and the district must pay for it")
SECRET_NAME = "Casey Sealedname"
SECRET_EMAIL = "casey.sealed@example.org"
PUBLIC_EMAIL = "pat.public@example.org"
HIDDEN_TEXT = "UNPRINTABLE-INSULT about the principal"
HIDDEN_REASON = "Abusive language about a named employee"
AFTER_CLOSING = NOW + timedelta(days=30)


@dataclass
class Setup:
    review: Review
    public: Comment
    confidential: Comment
    anonymous: Comment
    hidden: Comment
    campaign: list[Comment]


def _submit(session: Session, review: Review, body: str, identity: str, *, name: str | None = None, email: str | None = None,
            category: str | None = None, target: dict | None = None, actor: Actor | None = None) -> Comment:
    return comments.submit(session, actor or Actor.anonymous(), review.id, body=body, identity=identity, name=name,
                           email=email, category=category, target=target, allowed_categories=CATEGORIES, now=NOW).comment


@pytest.fixture
def setup(app: Flask, session: Session) -> Setup:
    """A review in its comment period with comments in every mode, a near-duplicate group and a hidden one."""
    app.config["CLOCK"] = lambda: NOW
    review = start(session, "CMTP", text=TEXT, comment_opens_on=date(2026, 2, 20), comment_closes_on=date(2026, 3, 20))
    act(session, review, "ombuds", "submit_for_equity_review")
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    passage = "within five school days"
    start_at = TEXT.index(passage)
    public = _submit(session, review, "Five school days is too long for a child to wait for a bus.", "public",
                     name="Pat Publicname", email=PUBLIC_EMAIL, category="parent_guardian",
                     target={"start": start_at, "end": start_at + len(passage)})
    confidential = _submit(session, review, "My foster placement changed twice and I missed two weeks of school.",
                           "confidential", name=SECRET_NAME, email=SECRET_EMAIL, category="student")
    anonymous = _submit(session, review, "Who pays for the transportation when two districts disagree?", "anonymous",
                        category="community_member")
    campaign = [
        _submit(session, review, CAMPAIGN, "public", name="Robin Campaigner", category="parent_guardian"),
        _submit(session, review, CAMPAIGN.replace("Please keep", "Keep"), "anonymous", category="parent_guardian"),
        _submit(session, review, CAMPAIGN + ". Thank you.", "confidential", name="Sam Campaigner",
                email="sam.campaigner@example.org", category="parent_guardian"),
    ]
    hidden = _submit(session, review, HIDDEN_TEXT, "public", name="Harold Hiddenname", category="employee")
    comments.hide(session, who(session, "ombuds"), hidden.id, HIDDEN_REASON, now=NOW)
    session.commit()  # visible to the app's sessions (they share the test's connection)
    return Setup(review, public, confidential, anonymous, hidden, campaign)


def _page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:800])
    return response.get_data(as_text=True)


def _flash(client: FlaskClient, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _answer_all(session: Session, setup: Setup) -> None:
    ombuds = who(session, "ombuds")
    comments.disposition_group(session, ombuds, setup.review.id, setup.campaign[0].group_id, disposition="not_accepted",
                               response="The bus contract already starts service the next school day.", now=NOW)
    comments.set_disposition(session, ombuds, setup.public.id, disposition="accepted",
                             response="We shortened the time to three school days.", changed_in_version=1, now=NOW)
    comments.set_disposition(session, ombuds, setup.confidential.id, disposition="partially_accepted",
                             response="Counselors now check attendance after every placement change.", now=NOW)
    comments.set_disposition(session, ombuds, setup.anonymous.id, disposition="out_of_scope",
                             response="Cost sharing between districts is set by state law.", now=NOW)


def _close(session: Session, setup: Setup) -> None:
    _answer_all(session, setup)
    act(session, setup.review, "ombuds", "close_comment_period", now=AFTER_CLOSING)
    session.commit()


def _no_identity_leaks(text: str) -> None:
    assert SECRET_NAME not in text and "Sam Campaigner" not in text
    assert "example.org" not in text and "@" not in text.replace("@media", "")


# ---------------------------------------------------------------------------------------------
# Triage
# ---------------------------------------------------------------------------------------------

def test_triage_groups_near_duplicates_counts_and_filters(client: FlaskClient, setup: Setup) -> None:
    login(client, "ombuds")
    url = f"/reviews/{setup.review.id}/comments"
    page = _page(client, url)
    assert len({c.group_id for c in setup.campaign}) == 1
    group = setup.campaign[0].group_id
    assert f'id="group-{group}"' in page
    assert re.search(r'<span class="group-count">3</span> comments with the same or nearly the same words', page)
    assert f"/reviews/{setup.review.id}/comments/groups/{group}" in page
    assert "6 comments in 4 groups" not in page and "7 comments in 5 groups" in page
    counts = re.search(r'<ul class="stats comment-counts">(.*?)</ul>', page, re.S).group(1)
    assert re.search(r"<strong>6</strong> not yet answered", counts) and re.search(r"<strong>1</strong> hidden", counts)
    # The ombuds office sees every identity, how it was given and how it must be handled.
    assert SECRET_NAME in page and SECRET_EMAIL in page and PUBLIC_EMAIL in page
    assert "Confidential (name seen by ombuds staff only)" in page and "Anonymous (no name kept)" in page
    assert HIDDEN_TEXT in page and HIDDEN_REASON in page
    # Filters
    student = _page(client, url + "?category=student")
    assert SECRET_NAME in student and "Pat Publicname" not in student and "1 comment in 1 group" in student
    hidden = _page(client, url + "?hidden=yes")
    assert HIDDEN_TEXT in hidden and SECRET_NAME not in hidden
    assert HIDDEN_TEXT not in _page(client, url + "?hidden=no")
    about_passage = _page(client, url + "?passage=yes")
    assert "Pat Publicname" in about_passage and SECRET_NAME not in about_passage
    whole = _page(client, url + "?passage=no")
    assert "Pat Publicname" not in whole and SECRET_NAME in whole
    assert "Pat Publicname" in _page(client, url + "?passage_words=five+school")
    assert "Pat Publicname" not in _page(client, url + "?passage_words=no+such+words")
    words = _page(client, url + "?q=transportation")
    assert "Who pays for the transportation" in words and SECRET_NAME not in words
    assert "Who pays" not in _page(client, url + "?disposition=accepted")
    assert "Who pays" in _page(client, url + "?disposition=none")
    assert "Pat Publicname" in _page(client, url + "?passage=five+school")  # words in 'passage', as comments.Filters takes them
    _page(client, url + "?page=2")
    _page(client, url + "?page=two", 400)
    _page(client, url + "?disposition=maybe", 400)
    _page(client, url + "?category=aliens", 400)
    # The group page lists every member.
    members = _page(client, f"{url}/groups/{group}")
    assert "Robin Campaigner" in members and "Sam Campaigner" in members and "sam.campaigner@example.org" in members
    assert members.count('class="comment"') == 3
    _page(client, f"{url}/groups/999999", 404)


@pytest.mark.parametrize("username", ["reviewer", "leader1", "admin", "stakeholder"])
def test_triage_is_for_ombuds_staff_only(client: FlaskClient, setup: Setup, username: str) -> None:
    login(client, username)
    url = f"/reviews/{setup.review.id}/comments"
    response = client.get(url)
    assert response.status_code == 403 and SECRET_NAME not in response.get_data(as_text=True)
    group = setup.campaign[0].group_id
    assert client.get(f"{url}/groups/{group}").status_code in (403, 404)
    for path, data in ((f"{url}/{setup.public.id}/disposition", {"disposition": "accepted", "response": "x"}),
                       (f"{url}/groups/{group}/disposition", {"disposition": "accepted", "response": "x"}),
                       (f"{url}/{setup.public.id}/hide", {"reason": "no"}),
                       (f"{url}/{setup.hidden.id}/unhide", {}),
                       (f"{url}/{setup.confidential.id}/disclosure", {"granted": "yes"}),
                       (f"{url}/new", {"body": "x", "identity": "anonymous", "filed_via": "phone"})):
        assert client.post(path, data=data).status_code in (403, 404), path


def test_visitors_are_sent_to_sign_in(client: FlaskClient, setup: Setup) -> None:
    response = client.get(f"/reviews/{setup.review.id}/comments")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get(f"/reviews/{setup.review.id}/report").status_code == 302
    assert client.get(f"/reviews/{setup.review.id}/report.csv").status_code == 302


def test_group_disposition_answers_every_member(client: FlaskClient, session: Session, setup: Setup) -> None:
    login(client, "ombuds")
    group = setup.campaign[0].group_id
    back = f"/reviews/{setup.review.id}/comments?disposition=none"
    response = client.post(f"/reviews/{setup.review.id}/comments/groups/{group}/disposition",
                           data={"disposition": "not_accepted", "response": "The bus already comes the next day.",
                                 "changed_in_version": "", "back": back})
    assert response.headers["Location"].endswith(f"{back}#group-{group}")
    assert "3 comments of the group answered: Not accepted." in _flash(client, response)
    session.expire_all()
    members = session.scalars(select(Comment).where(Comment.group_id == group)).all()
    assert [(c.disposition, c.response) for c in members] == [("not_accepted", "The bus already comes the next day.")] * 3
    # Commenters who left an e-mail hear about it; the confidential one too (to their own address).
    def answered_mails() -> list[dict]:
        return [m.payload for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if m.kind == "email" and "answered your comment" in m.payload["subject"]
                and f"/reviews/{setup.review.id}/report" in m.payload["body"]]

    assert [m["to"] for m in answered_mails()] == ["sam.campaigner@example.org"]
    assert "The bus already comes the next day." in answered_mails()[0]["body"]
    again = {"disposition": "not_accepted", "response": "The bus already comes the next day."}
    client.post(f"/reviews/{setup.review.id}/comments/groups/{group}/disposition", data=again)
    assert len(answered_mails()) == 1  # the same answer again tells no one twice
    client.post(f"/reviews/{setup.review.id}/comments/groups/{group}/disposition", data={**again, "response": "Day one."})
    assert [m["to"] for m in answered_mails()] == ["sam.campaigner@example.org"] * 2 and "Day one." in answered_mails()[1]["body"]
    client.post(f"/reviews/{setup.review.id}/comments/groups/{group}/disposition", data=again)
    session.expire_all()
    page = _page(client, f"/reviews/{setup.review.id}/comments")
    assert re.search(r"<strong>3</strong> not yet answered", page) and re.search(r"<strong>3</strong> not accepted", page)
    # A bad answer changes nothing and says why.
    refused = client.post(f"/reviews/{setup.review.id}/comments/groups/{group}/disposition",
                          data={"disposition": "accepted", "response": "  "})
    assert "Write the response the commenter and the public will read." in _flash(client, refused)
    session.expire_all()
    assert {c.disposition for c in session.scalars(select(Comment).where(Comment.group_id == group))} == {"not_accepted"}


def test_single_disposition_with_version_link(client: FlaskClient, session: Session, setup: Setup) -> None:
    login(client, "ombuds")
    url = f"/reviews/{setup.review.id}/comments/{setup.public.id}/disposition"
    done = client.post(url, data={"disposition": "accepted", "response": "Now three days.", "changed_in_version": "1"})
    assert f"#comment-{setup.public.id}" in done.headers["Location"]
    page = _flash(client, done)
    assert f"Comment {setup.public.id} answered: Accepted." in page
    assert 'href="/policies/CMTP/versions/1">version 1</a>' in page
    wrong = client.post(url, data={"disposition": "accepted", "response": "x", "changed_in_version": "9"})
    assert "has no version 9" in _flash(client, wrong)
    other = start(session, "CMTQ")
    session.commit()
    assert client.post(f"/reviews/{other.id}/comments/{setup.public.id}/disposition",
                       data={"disposition": "accepted", "response": "x"}).status_code == 404


def test_hide_requires_a_reason_and_unhide(client: FlaskClient, session: Session, setup: Setup) -> None:
    login(client, "ombuds")
    base = f"/reviews/{setup.review.id}/comments/{setup.anonymous.id}"
    refused = client.post(f"{base}/hide", data={"reason": "   "})
    assert "Say why the comment is hidden" in _flash(client, refused)
    session.expire_all()
    assert session.get(Comment, setup.anonymous.id).hidden_at is None
    hidden = client.post(f"{base}/hide", data={"reason": "Names a student"})
    assert "is hidden" in _flash(client, hidden)
    session.expire_all()
    assert session.get(Comment, setup.anonymous.id).hidden_reason == "Names a student"
    shown = client.post(f"{base}/unhide", data={})
    assert "is shown again" in _flash(client, shown)
    session.expire_all()
    assert session.get(Comment, setup.anonymous.id).hidden_at is None


def test_disclosure_consent_shows_the_name_to_staff(client: FlaskClient, session: Session, setup: Setup) -> None:
    login(client, "reviewer")
    assert SECRET_NAME not in _page(client, f"/reviews/{setup.review.id}/report")
    client.post("/logout")
    login(client, "ombuds")
    url = f"/reviews/{setup.review.id}/comments/{setup.confidential.id}/disclosure"
    assert "allows their name to be shown" in _flash(client, client.post(url, data={"granted": "yes"}))
    assert "only for" not in _flash(client, client.post(f"/reviews/{setup.review.id}/comments/{setup.public.id}/disclosure",
                                                          data={"granted": "yes"}))
    assert client.post(url, data={"granted": "perhaps"}).status_code == 400
    client.post("/logout")
    login(client, "reviewer")
    assert SECRET_NAME in _page(client, f"/reviews/{setup.review.id}/report")
    client.post("/logout")
    login(client, "ombuds")
    assert "withheld again" in _flash(client, client.post(url, data={"granted": "no"}))
    session.expire_all()
    assert [c.granted for c in session.get(Comment, setup.confidential.id).consents] == [True, False]


def test_ombuds_files_a_comment_for_a_caller(client: FlaskClient, session: Session, setup: Setup) -> None:
    login(client, "ombuds")
    url = f"/reviews/{setup.review.id}/comments/new"
    page = _page(client, f"/reviews/{setup.review.id}/comments")
    assert 'id="file-comment"' in page and "<legend>How the commenter wants their name handled</legend>" in page
    missing_channel = client.post(url, data={"body": "Called in.", "identity": "anonymous"})
    assert "Say how the comment reached the office" in _flash(client, missing_channel)
    filed = client.post(url, data={"body": "The caller asks for bus passes for parents.", "identity": "confidential",
                                   "name": "Caller Confidential", "email": "", "category": "parent_guardian",
                                   "filed_via": "phone", "passage": "school of origin"})
    page = _flash(client, filed)
    assert "filed on the commenter&#39;s behalf" in page and "receipt link: http" in page and "/public/comments/receipt/" in page
    session.expire_all()
    comment = session.scalars(select(Comment).where(Comment.review_id == setup.review.id).order_by(Comment.id.desc())).first()
    assert (comment.filed_via, comment.name, comment.identity_mode, comment.exact) == (
        "phone", "Caller Confidential", "confidential", "school of origin")
    assert comment.filed_by_id == who(session, "ombuds").user.id and comment.author_id is None
    triage = _page(client, f"/reviews/{setup.review.id}/comments?q=bus+passes")
    assert "Caller Confidential" in triage and "(ombuds) via phone" in triage
    anonymous = client.post(url, data={"body": "Anonymous letter about buses.", "identity": "anonymous",
                                       "name": "Should Not Be Kept", "filed_via": "letter"})
    assert "filed on the commenter&#39;s behalf" in _flash(client, anonymous)
    session.expire_all()
    letter = session.scalar(select(Comment).where(Comment.body == "Anonymous letter about buses."))
    assert letter.name is None and letter.email is None and letter.filed_via == "letter"
    bad = client.post(url, data={"body": "x", "identity": "public", "filed_via": "phone", "passage": "not in the text"})
    assert "not in the draft" in _flash(client, bad)


def test_review_page_has_a_comments_box(client: FlaskClient, setup: Setup) -> None:
    login(client, "ombuds")
    page = _page(client, f"/reviews/{setup.review.id}")
    box = page.split('id="comments-heading"')[1].split("</section>")[0]
    assert "<strong>7</strong> comments" in box and "<strong>6</strong> not yet answered" in box
    assert f"/reviews/{setup.review.id}/comments" in box and f"/reviews/{setup.review.id}/report" in box
    client.post("/logout")
    login(client, "reviewer")
    box = _page(client, f"/reviews/{setup.review.id}").split('id="comments-heading"')[1].split("</section>")[0]
    assert f"/reviews/{setup.review.id}/comments\"" not in box and f"/reviews/{setup.review.id}/report" in box


# ---------------------------------------------------------------------------------------------
# The response to comments
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["reviewer", "leader1", "admin"])
def test_staff_report_withholds_sealed_names(client: FlaskClient, setup: Setup, username: str) -> None:
    login(client, username)
    page = _page(client, f"/reviews/{setup.review.id}/report")
    assert "Name withheld at the commenter&#39;s request" in page and "Pat Publicname" in page
    assert "Robin Campaigner" in page and "Anonymous" in page
    _no_identity_leaks(page)
    assert HIDDEN_TEXT not in page and f"This comment was hidden: {HIDDEN_REASON}" in page
    assert "Harold Hiddenname" not in page
    assert "3 comments with the same or nearly the same words" in page
    assert "Transportation" in page and "The policy as a whole" in page  # sections by heading
    assert "<caption>By who commented</caption>" in page and 'scope="row">Student</th><td>1</td>' in page


def test_ombuds_report_shows_names_and_hidden_text(client: FlaskClient, setup: Setup) -> None:
    login(client, "ombuds")
    page = _page(client, f"/reviews/{setup.review.id}/report")
    assert SECRET_NAME in page and "confidential</span>" in page and HIDDEN_TEXT in page
    assert "example.org" not in page  # e-mail addresses stay on the triage page and in the ombuds export


def test_report_pages_and_whole_report_for_printing(client: FlaskClient, setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comments, "REPORT_PAGE_GROUPS", 2)
    monkeypatch.setattr(comment_pages, "NAMES_SHOWN", 1)
    login(client, "ombuds")
    rid = setup.review.id
    first = _page(client, f"/reviews/{rid}/report")
    assert "Page 1 of 3 (5 groups of comments)" in first and f'href="/reviews/{rid}/report?page=2" rel="next"' in first
    assert f'href="/reviews/{rid}/report?page=all"' in first
    pages = [first, _page(client, f"/reviews/{rid}/report?page=2"), _page(client, f"/reviews/{rid}/report?page=3")]
    bodies = [setup.public.body, setup.confidential.body, setup.anonymous.body, CAMPAIGN, HIDDEN_TEXT]
    for body in bodies:  # every comment on exactly one page
        assert sum(body in page for page in pages) == 1, body
    assert "Page 3 of 3" in _page(client, f"/reviews/{rid}/report?page=7")
    assert _page(client, f"/reviews/{rid}/report?page=two", status=400)
    # Each page lists every section and links to the page where it starts.
    assert 'href="#section-1">The policy as a whole</a>' in first and f'href="/reviews/{rid}/report?page=3#section-' in first
    whole = _page(client, f"/reviews/{rid}/report?page=all")
    assert all(body in whole for body in bodies) and 'rel="next"' not in whole
    # A campaign lists the first names and counts the rest, which stay in the downloads.
    assert "and 2 more names (all are in the downloads)" in whole


def test_public_report_after_the_comment_period(client: FlaskClient, session: Session, setup: Setup) -> None:
    rid = setup.review.id
    for path in (f"/public/reviews/{rid}/report", f"/public/reviews/{rid}/report.csv", f"/public/reviews/{rid}/report.json"):
        assert client.get(path).status_code == 404, path
    login(client, "ombuds")  # signed-in staff still get the public (masked) version there
    assert client.get(f"/public/reviews/{rid}/report").status_code == 404
    client.post("/logout")
    _close(session, setup)
    page = _page(client, f"/public/reviews/{rid}/report")
    assert "We shortened the time to three school days." in page and "Accepted" in page
    assert "Cost sharing between districts is set by state law." in page and "Out of scope" in page
    assert "The bus contract already starts service the next school day." in page
    assert 'scope="row">Student</th><td>fewer than 3</td>' in page
    assert 'scope="row">Parent or guardian</th><td>4</td>' in page
    assert "Name withheld at the commenter&#39;s request" in page and "Pat Publicname" in page
    _no_identity_leaks(page)
    assert HIDDEN_TEXT not in page and f"This comment was hidden: {HIDDEN_REASON}" in page
    assert "Changed in version 1." in page  # not yet published: no link the public cannot follow
    assert f'href="/public/reviews/{rid}/report.csv"' in page and "<form" not in page.split("<main")[1]
    login(client, "leader1")
    assert "Name withheld" in _page(client, f"/public/reviews/{rid}/report")


def test_exports_per_role(client: FlaskClient, session: Session, setup: Setup) -> None:
    rid = setup.review.id
    _close(session, setup)

    def rows(response) -> list[dict[str, str]]:
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))

    public_csv = client.get(f"/public/reviews/{rid}/report.csv")
    text = public_csv.get_data(as_text=True)
    _no_identity_leaks(text)
    assert HIDDEN_TEXT not in text and HIDDEN_REASON in text
    public_rows = rows(public_csv)
    assert len(public_rows) == 7 and "email" not in public_rows[0]
    assert {r["name"] for r in public_rows} >= {comments.WITHHELD, "Anonymous", "Pat Publicname"}
    public_json = client.get(f"/public/reviews/{rid}/report.json")
    assert public_json.mimetype == "application/json"
    data = public_json.get_json()
    assert data["review"]["id"] == rid and data["review"]["policy"] == "CMTP" and len(data["items"]) == 7
    _no_identity_leaks(public_json.get_data(as_text=True))
    assert HIDDEN_TEXT not in public_json.get_data(as_text=True)
    hidden = next(item for item in data["items"] if item["hidden"])
    assert hidden["body"] is None and hidden["hidden_reason"] == HIDDEN_REASON

    login(client, "reviewer")
    reviewer_text = client.get(f"/reviews/{rid}/report.csv").get_data(as_text=True)
    _no_identity_leaks(reviewer_text)
    assert HIDDEN_TEXT not in reviewer_text
    reviewer_json = client.get(f"/reviews/{rid}/report.json").get_data(as_text=True)
    _no_identity_leaks(reviewer_json)
    client.post("/logout")

    login(client, "ombuds")
    ombuds_rows = rows(client.get(f"/reviews/{rid}/report.csv"))
    sealed = next(r for r in ombuds_rows if r["id"] == str(setup.confidential.id))
    assert (sealed["name"], sealed["email"], sealed["disclosure_permitted"]) == (SECRET_NAME, SECRET_EMAIL, "false")
    assert next(r for r in ombuds_rows if r["id"] == str(setup.hidden.id))["body"] == HIDDEN_TEXT
    ombuds_json = client.get(f"/reviews/{rid}/report.json").get_json()
    assert any(item.get("email") == SECRET_EMAIL for item in ombuds_json["items"])
    assert client.get("/reviews/999999/report.csv").status_code == 404


def test_csv_export_is_valid_csv_and_defuses_spreadsheet_formulas(client: FlaskClient, session: Session, setup: Setup) -> None:
    formula = _submit(session, setup.review, '=HYPERLINK("http://evil.example","click")', "anonymous")
    tricky_body = 'He said "no, never",\nthen left; « élève » ✓\n\n  - and a list'
    tricky = _submit(session, setup.review, tricky_body, "public", name='O\'Brien, "Pat"')
    session.commit()
    login(client, "reviewer")
    response = client.get(f"/reviews/{setup.review.id}/report.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data(as_text=True)
    assert ",=HYPERLINK" not in text and ',"=HYPERLINK' not in text
    parsed = {row["id"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    assert len(parsed) == 9
    assert parsed[str(formula.id)]["body"] == "'" + '=HYPERLINK("http://evil.example","click")'
    assert parsed[str(tricky.id)]["body"] == tricky_body and parsed[str(tricky.id)]["name"] == 'O\'Brien, "Pat"'
    assert parsed[str(setup.hidden.id)]["hidden"] == "true" and parsed[str(setup.hidden.id)]["body"] == ""
    assert parsed[str(setup.public.id)]["passage"] == "within five school days"


def test_report_with_no_comments(client: FlaskClient, session: Session) -> None:
    review = start(session, "CMTE", comment_opens_on=date(2026, 2, 20), comment_closes_on=date(2026, 3, 20))
    session.commit()
    login(client, "reviewer")
    assert "No comments were received." in _page(client, f"/reviews/{review.id}/report")
    header = client.get(f"/reviews/{review.id}/report.csv").get_data(as_text=True).splitlines()
    assert header[0].startswith("id,review,version") and len(header) == 1
    assert client.get(f"/reviews/{review.id}/report.json").get_json()["items"] == []
