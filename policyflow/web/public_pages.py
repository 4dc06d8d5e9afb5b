"""The public portal: open comment periods, a review's public page with the comment form, receipts.

Nothing here needs an account. What the public may read is decided by the services: a review's
draft only while its stage is public (``comments.public_review``), published versions only
(``policies`` with the anonymous actor), public notes only, and comments through their receipt link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from policyflow.core.errors import Conflict, InvalidValue, NotFound, PolicyflowError
from policyflow.core.highlight import Highlight, highlight_html, source_span_for_quote
from policyflow.core.redline import inline_html
from policyflow.core.rendering import render_markdown
from policyflow.models import Comment, Policy, Review
from policyflow.services import annotations, comments, policies, reviews
from policyflow.services.actors import Actor
from policyflow.web.limits import limit_comments
from policyflow.web.pages import blueprint
from policyflow.web.requests import actor, db, optional_query_int, vocabularies

FORM_FIELDS = ("body", "quote", "occurrence", "category", "identity", "name", "email")
MAX_QUOTE = 1_000

# The commenter's choice, in the words the form uses (the ombuds office's promise, stated plainly).
IDENTITY_CHOICES = (
    ("public", "Public", "Your name is shown with your comment, to everyone."),
    ("confidential", "Confidential",
     "Only the ombuds office sees your name and contact details. Everyone else sees "
     f"\u201c{comments.WITHHELD}\u201d. You can later allow us to show your name."),
    ("anonymous", "Anonymous",
     "We keep no name, e-mail or address, so we cannot write back to you. You will get a receipt link instead "
     "to see what happened to your comment."),
)
IDENTITY_SHORT = {"public": "Public: your name is shown with your comment.",
                  "confidential": "Confidential: only the ombuds office sees your name.",
                  "anonymous": "Anonymous: no name or contact details were kept."}


def _now() -> datetime:
    return current_app.config["CLOCK"]()


def _private(response: Response) -> Response:
    """Pages that carry a receipt token: never cached, never sent on as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# ---------------------------------------------------------------------------------------------
# Templates' helper: is a draft of this policy open to the public?
# ---------------------------------------------------------------------------------------------

@blueprint.app_template_global("public_review_of")
def public_review_of(policy: Policy) -> Review | None:
    """The policy's review the public may read now, if any (a link from the published policy page)."""
    review = reviews.active_review(db(), policy)
    if review is None or not reviews.definition_of(review).stage(review.state).public:
        return None
    return review


# ---------------------------------------------------------------------------------------------
# A review's public page and the comment form
# ---------------------------------------------------------------------------------------------

def _period_message(window: comments.Period, now: datetime) -> str:
    """Why the form is not shown, worded for someone reading the page (not for a refused submission)."""
    if window.closes_on is not None and window.opens_on is not None and now.date() > window.closes_on:
        closes = window.closes_on
        return f"The comment period closed on {closes:%B} {closes.day}, {closes.year}."
    return window.reason


def _field_of(error: PolicyflowError) -> str | None:
    """Which form field a refusal is about, so the message can sit next to it."""
    if not isinstance(error, InvalidValue):
        return None
    message = error.message
    if message.startswith("Choose how your name"):
        return "identity"
    if "e-mail" in message:
        return "email"
    if "category" in message:
        return "category"
    if "passage" in message.lower() or "Select some words" in message:
        return "quote"
    if "name" in message:
        return "name"
    if "comment" in message.lower():
        return "body"
    return None


def _passage(review: Review, quote: str, occurrence: str) -> dict[str, int] | None:
    """The draft's source offsets of words the visitor selected or copied (as notes are placed)."""
    quote = quote.strip()
    if not quote:
        return None
    if len(quote) > MAX_QUOTE:
        raise InvalidValue(f"The passage is limited to {MAX_QUOTE:,} characters; quote a few words of the draft.")
    policy = review.policy
    version = policies.get_version(db(), Actor.system(), policy, review.version_number)
    try:
        nth = max(1, int(occurrence or 1))
    except ValueError:
        nth = 1
    span = source_span_for_quote(policies.version_text(db(), policy, version), policies.version_html(db(), policy, version),
                                 quote, nth)
    if span is None:
        raise InvalidValue("That passage was not found in the draft; select the words in the text or copy them exactly.")
    return {"start": span[0], "end": span[1]}


def _review_page(review_id: int, form: dict[str, str], error: PolicyflowError | None = None) -> tuple[str, int]:
    review = comments.public_review(db(), review_id)
    now = _now()
    window = comments.period(review, now)
    policy = review.policy
    system = Actor.system()
    version = policies.get_version(db(), system, policy, review.version_number)
    source = policies.version_text(db(), policy, version)
    html = policies.version_html(db(), policy, version)
    # Only public notes, whoever is looking: internal and confidential notes never reach this page.
    notes = [item for item in annotations.on_version(db(), system, policy, review.version_number)
             if item.annotation.visibility == "public"]
    highlights = [Highlight(item.annotation.id, item.start, item.end, "vis-public")
                  for item in notes if item.start is not None and item.end is not None]
    published = policy.published_version_number
    comparison = None
    if published is not None and published != review.version_number:
        comparison = policies.compare(db(), system, policy, published, review.version_number)
    current = actor()
    status = error.status if error is not None else 200
    return render_template(
        "public/review.html", review=review, policy=policy, version=version, window=window,
        period_message=_period_message(window, now), today=now.date(),
        stage=reviews.definition_of(review).stage(review.state),
        draft_html=highlight_html(source, html, highlights), notes=notes,
        summary_html=render_markdown(review.public_summary) if (review.public_summary or "").strip() else None,
        published=published, comparison=comparison, redline=inline_html(comparison.ops) if comparison else None,
        may_comment=window.accepting and (window.anonymous_allowed or current.user is not None),
        categories=vocabularies().comment_categories, identities=IDENTITY_CHOICES, form=form,
        error=error, error_field=_field_of(error) if error is not None else None, max_body=comments.MAX_BODY,
        max_name=comments.MAX_NAME, max_quote=MAX_QUOTE,
    ), status


@blueprint.route("/public/reviews/<int:review_id>")
def public_review(review_id: int) -> tuple[str, int]:
    current = actor()
    form = dict.fromkeys(FORM_FIELDS, "")
    if current.user is not None:
        form["name"] = current.user.display_name
        form["email"] = current.user.email or ""
    return _review_page(review_id, form)


@blueprint.route("/public/reviews/<int:review_id>/comments", methods=["POST"])
@limit_comments
def submit_public_comment(review_id: int) -> Response | tuple[str, int]:
    review = comments.public_review(db(), review_id)  # 404 before anything else for a review the public cannot see
    form = {name: request.form.get(name, "") for name in FORM_FIELDS}
    form["body"] = form["body"].replace("\r\n", "\n")
    now = _now()
    try:
        window = comments.period(review, now)
        if not window.accepting:  # a late (or early) comment is refused before anything else is looked at
            raise Conflict(window.reason, closes_on=window.closes_on.isoformat() if window.closes_on else None)
        submitted = comments.submit(
            db(), actor(), review.id, body=form["body"], identity=form["identity"], name=form["name"] or None,
            email=form["email"] or None, category=form["category"] or None,
            target=_passage(review, form["quote"], form["occurrence"]),
            allowed_categories=vocabularies().comment_categories, now=now,
        )
    except NotFound:
        raise
    except PolicyflowError as error:
        db().rollback()  # nothing of a refused comment is kept (the request's session would roll back too)
        if form["identity"] == "anonymous":
            form["name"] = form["email"] = ""
        return _review_page(review_id, form, error)
    comment = submitted.comment
    response = make_response(render_template(
        "public/thanks.html", review=review, policy=review.policy, comment=comment,
        receipt_url=url_for("pages.public_receipt", token=submitted.receipt_token, _external=True),
        identity_text=IDENTITY_SHORT[comment.identity_mode],
        notified=comment.identity_mode != "anonymous" and bool(comment.email),
    ))
    return _private(response)


# ---------------------------------------------------------------------------------------------
# Receipts: a comment's status for whoever holds the link, identifying no one
# ---------------------------------------------------------------------------------------------

def _receipt_context(comment: Comment) -> dict[str, Any]:
    review = comment.review
    still_public = review.ended_at is None and reviews.definition_of(review).stage(review.state).public
    return {
        "comment": comment, "review": review, "policy": comment.policy, "still_public": still_public,
        "policy_published": comment.policy.published_version_number is not None,
        "disposition_label": comments.DISPOSITION_LABELS.get(comment.disposition or "", ""),
        "identity_text": IDENTITY_SHORT[comment.identity_mode],
        "category_label": vocabularies().comment_categories.get(comment.category or "", comment.category or ""),
        "hidden": comment.hidden_at is not None,
    }


@blueprint.route("/public/comments/receipt/<token>")
def public_receipt(token: str) -> Response:
    comment = comments.by_receipt(db(), token)
    return _private(make_response(render_template("public/receipt.html", token=token, **_receipt_context(comment))))


@blueprint.route("/public/comments/receipt/<token>/disclosure", methods=["POST"])
def public_receipt_disclosure(token: str) -> Response:
    comment = comments.by_receipt(db(), token)
    choice = request.form.get("granted", "")
    if choice not in ("yes", "no"):
        raise InvalidValue("Choose whether your name may be shown.")
    comments.set_disclosure(db(), Actor.anonymous(), comment, choice == "yes", now=_now())
    flash("Thank you: from now on your name is shown with your comment." if choice == "yes"
          else "Thank you: your name is withheld again.", "success")
    return _private(redirect(url_for("pages.public_receipt", token=token)))


# ---------------------------------------------------------------------------------------------
# Redlines between published versions
# ---------------------------------------------------------------------------------------------

@blueprint.route("/public/policies/<code>/diff")
def public_redline(code: str) -> str:
    anonymous = Actor.anonymous()
    item = policies.get_policy(db(), anonymous, code)
    published = policies.visible_version_numbers(db(), anonymous, item)  # published versions only
    if not published:
        raise NotFound(f"There is no policy with the code {code!r}.")
    to_number = optional_query_int("to") or published[-1]
    from_number = optional_query_int("from") or max([n for n in published if n < to_number], default=to_number)
    comparison = policies.compare(db(), anonymous, item, from_number, to_number)  # 404 for an unpublished version
    return render_template("public/diff.html", policy=item, comparison=comparison, versions=published,
                           inline=inline_html(comparison.ops))
