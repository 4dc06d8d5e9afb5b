"""Server-rendered pages: parse the request, call a service, render a template."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from policyflow import migrate
from policyflow.core.diffing import diff, make_patch
from policyflow.core.errors import PatchError, PermissionDenied, PolicyflowError, VersionConflict
from policyflow.core.patches import apply as apply_patch_fuzzy
from policyflow.core.redline import change_stats, fold_unchanged, inline_html, side_by_side_rows
from policyflow.core.rendering import render_markdown
from policyflow.core.workflow import load_workflow, workflow_names
from policyflow.models import Event, Policy, PolicyVersion
from policyflow.services import comments, policies, reviews
from policyflow.services.actors import Actor
from policyflow.web.page_cache import cached_page
from policyflow.web.requests import actor, db, optional_query_int, page_number, store_settings

blueprint = Blueprint("pages", __name__)
View = TypeVar("View", bound=Callable[..., Any])


def _requires(allowed: Callable[[Actor], bool], refusal: str) -> Callable[[View], View]:
    """Send visitors to sign in; refuse signed-in users the check does not allow."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            current = actor()
            if current.user is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not allowed(current):
                raise PermissionDenied(refusal)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


signed_in_required = _requires(lambda a: True, "")
staff_required = _requires(lambda a: a.is_staff, "This page is for district staff.")
editor_required = _requires(lambda a: a.can_edit_policies, "Only ombuds staff and administrators can edit policy text.")


def _form_text(name: str) -> str:
    # Browsers send CRLF line breaks; policy texts are stored with LF.
    return request.form.get(name, "").replace("\r\n", "\n").replace("\r", "\n")


@blueprint.route("/")
def home() -> str:
    anonymous = Actor.anonymous()
    page = policies.search_policies(db(), anonymous, query=request.args.get("q", ""),
                                    section=request.args.get("section", ""), page=page_number())
    return render_template("home.html", page=page, sections=policies.sections(db(), anonymous),
                           q=request.args.get("q", ""), section=request.args.get("section", ""),
                           open_periods=comments.open_periods(db(), current_app.config["CLOCK"]()))


@blueprint.route("/dashboard")
def dashboard() -> Response | str:
    current = actor()
    if current.user is None:
        return redirect(url_for("auth.login", next="/dashboard"))
    context: dict[str, Any] = {"recent": [], "drafts": [], "due": [], "by_stage": [], "waiting": [], "overdue": [],
                               "periodic_overdue": []}
    if current.is_staff:
        now = current_app.config["CLOCK"]()
        active = reviews.list_reviews(db(), current, active_only=True)
        in_flight = {item.policy_id: item for item in active}
        labels: dict[str, str] = {}
        counts: dict[str, int] = {}
        for item in active:
            labels.setdefault(item.state, reviews.definition_of(item).stage(item.state).label)
            counts[item.state] = counts.get(item.state, 0) + 1
        context.update(
            recent=list(db().scalars(select(PolicyVersion).order_by(PolicyVersion.created_at.desc()).limit(8))),
            drafts=policies.search_policies(db(), current, stage="draft", page_size=50).items,
            due=list(db().scalars(select(Policy).where(Policy.next_review_date.is_not(None))
                                  .order_by(Policy.next_review_date).limit(5))),
            by_stage=[(state, labels[state], counts[state]) for state in labels],
            waiting=[(item, reviews.waiting_actions(db(), current, item, now)) for item in active],
            overdue=[item for item in active if item.stage_due_at and item.stage_due_at < now],
            periodic_overdue=[(policy, in_flight.get(policy.id))
                              for policy in reviews.overdue_periodic_reviews(db(), now.date())],
        )
        context["waiting"] = [(item, allowed) for item, allowed in context["waiting"] if allowed]
    return render_template("dashboard.html", **context)


@blueprint.route("/policies")
def catalogue() -> str:
    current = actor()
    q = request.args.get("q", "")
    section = request.args.get("section", "")
    stage = request.args.get("stage", "")
    stages = _stage_choices()
    if stage and stage not in dict(stages):
        abort(400, description=f"Unknown stage {stage!r}.")
    page = policies.search_policies(db(), current, query=q, section=section, stage=stage if current.is_staff else "",
                                    page=page_number())
    in_review = {r.policy_id: r for r in reviews.list_reviews(db(), current, active_only=True)} if current.is_staff else {}
    return render_template("policies/list.html", page=page, sections=policies.sections(db(), current),
                           q=q, section=section, stage=stage, stages=stages, in_review=in_review,
                           stage_label=lambda r: reviews.definition_of(r).stage(r.state).label)


def _stage_choices() -> list[tuple[str, str]]:
    """Filter values: published, unpublished changes, and the stages of the standard review."""
    choices = [("published", "Published"), ("draft", "Draft changes")]
    standard = current_app.config["POLICYFLOW_SETTINGS"].workflows_dir / "standard-review.yaml"
    if standard.is_file():
        taken = {value for value, _ in choices}
        choices.extend((item.name, f"In review: {item.label.lower()}") for item in load_workflow(standard).stages
                       if not item.final and item.name not in taken)
    return choices


@blueprint.route("/policies/new", methods=["GET", "POST"])
@editor_required
def new_policy() -> Response | tuple[str, int] | str:
    form = {key: request.form.get(key, "") for key in ("code", "title", "section", "owner_department", "summary")}
    form["text"] = _form_text("text")
    if request.method == "POST":
        try:
            version = policies.create_policy(
                db(), actor(), store_settings(), code=form["code"], title=form["title"], text=form["text"],
                summary=form["summary"] or "First version.", section=form["section"],
                owner_department=form["owner_department"],
            )
        except PolicyflowError as error:
            return render_template("policies/new.html", form=form, error=error.message), error.status
        flash(f"Policy {version.policy.code} created.", "success")
        return redirect(url_for("pages.policy", code=version.policy.code))
    return render_template("policies/new.html", form=form, error=None)


@blueprint.route("/policies/<code>")
@cached_page()
def policy(code: str) -> Response | str:
    current = actor()
    item = policies.get_policy(db(), current, code)
    if not current.is_staff:
        return redirect(url_for("pages.public_policy", code=item.code))
    head = policies.get_version(db(), current, item, item.head_version_number)
    workflows_dir = current_app.config["POLICYFLOW_SETTINGS"].workflows_dir
    return render_template("policies/show.html", policy=item, version=head,
                           html=policies.version_html(db(), item, head),
                           versions=policies.list_versions(db(), current, item),
                           active_review=reviews.active_review(db(), item),
                           past_reviews=[r for r in reviews.list_reviews(db(), current, policy_code=item.code) if r.ended_at],
                           workflows=workflow_names(workflows_dir))


@blueprint.route("/policies/<code>/versions/<int:number>")
@cached_page()  # the notes filters keep a request out: their words are the visitor's
def version(code: str, number: int) -> str:
    from policyflow.web.annotation_pages import notes_section  # the notes module builds on this one

    current = actor()
    item, shown = policies.get_policy_version(db(), current, code, number)  # may they see it: checked before any cache
    previous, following = policies.neighbour_versions(db(), current, item, number)
    return render_template("policies/version.html", policy=item, version=shown, previous=previous, next=following,
                           section=notes_section(item, shown, current))


@blueprint.route("/policies/<code>/diff")
@cached_page(query=("from", "to", "view", "context"))
def redline(code: str) -> str:
    current = actor()
    item = policies.get_policy(db(), current, code)
    visible = policies.visible_version_numbers(db(), current, item)
    newest = visible[-1]
    to_number = optional_query_int("to") or newest
    default_from = max([n for n in visible if n < to_number], default=to_number)
    from_number = optional_query_int("from") or default_from
    view = request.args.get("view", "inline")
    if view not in ("inline", "side"):
        abort(400, description="The view is 'inline' or 'side'.")
    whole = request.args.get("context") == "all"
    comparison = policies.compare(db(), current, item, from_number, to_number)
    rows = None
    if view == "side":
        rows = side_by_side_rows(comparison.ops)
        rows = rows if whole else fold_unchanged(rows)
    return render_template(
        "policies/diff.html", policy=item, comparison=comparison, view=view, versions=visible, whole=whole,
        inline=inline_html(comparison.ops) if view == "inline" else None, rows=rows,
    )


@blueprint.route("/policies/<code>/history")
def history(code: str) -> str:
    current = actor()
    item = policies.get_policy(db(), current, code)
    events: list[Event] = []
    if current.is_staff:
        events = list(db().scalars(select(Event).where(Event.policy_id == item.id).order_by(Event.seq.desc()).limit(200)))
    return render_template("policies/history.html", policy=item,
                           versions=policies.list_versions(db(), current, item), events=events)


@blueprint.route("/policies/<code>/edit", methods=["GET", "POST"])
@editor_required
def edit(code: str) -> Response | tuple[str, int] | str:
    current = actor()
    item = policies.get_policy(db(), current, code)
    head = policies.get_version(db(), current, item, item.head_version_number)
    head_text = policies.version_text(db(), item, head)
    if request.method == "GET":
        return render_template("policies/edit.html", policy=item, text=head_text, summary="",
                               base_version=head.number)
    text = _form_text("text")
    summary = request.form.get("summary", "")
    try:
        base_version = int(request.form.get("base_version", ""))
    except ValueError:
        abort(400, description="The form lost its base version; reload the editor.")
    context: dict[str, Any] = {"policy": item, "text": text, "summary": summary, "base_version": base_version}
    if request.form.get("action") == "preview":
        base = policies.get_version(db(), current, item, base_version)
        ops = diff(policies.version_text(db(), item, base), text)
        return render_template("policies/edit.html", preview_html=render_markdown(text) if text.strip() else "",
                               preview_redline=inline_html(ops), preview_stats=change_stats(ops), **context)
    try:
        result = policies.save_version(db(), current, store_settings(), item, text=text, summary=summary,
                                       base_version=base_version)
    except VersionConflict as conflict:
        return _conflict(item, text, summary, conflict), 409
    except PolicyflowError as error:
        return render_template("policies/edit.html", error=error.message, **context), error.status
    if not result.created:
        flash("The text is the same as the current version, so no new version was saved.", "info")
        return redirect(url_for("pages.policy", code=item.code))
    flash(f"Version {result.version.number} of {item.code} saved.", "success")
    return redirect(url_for("pages.version", code=item.code, number=result.version.number))


def _conflict(item: Policy, text: str, summary: str, conflict: VersionConflict) -> str:
    """Show what others changed and offer the author's edits merged onto the current text."""
    current = actor()
    base = policies.get_version(db(), current, item, conflict.base_version)
    head = policies.get_version(db(), current, item, conflict.current_version)
    base_text = policies.version_text(db(), item, base)
    head_text = policies.version_text(db(), item, head)
    try:
        merged: str | None = apply_patch_fuzzy(head_text, make_patch(base_text, text))
    except PatchError:
        merged = None
    return render_template(
        "policies/edit.html", policy=item, text=merged if merged is not None else text, summary=summary,
        base_version=head.number, conflict=conflict, merged=merged is not None, your_text=text,
        their_redline=inline_html(diff(base_text, head_text)), head=head,
    )


@blueprint.route("/public/policies/<code>")
@cached_page()
def public_policy(code: str) -> str:
    anonymous = Actor.anonymous()
    item = policies.get_policy(db(), anonymous, code)
    published = policies.get_version(db(), anonymous, item, item.published_version_number or 0)
    versions = policies.list_versions(db(), anonymous, item)
    today = current_app.config["CLOCK"]().date()
    # Adopted but not yet in effect: say which text applies until then.
    in_effect = next((v for v in versions if v.number != published.number and (v.effective_date is None or v.effective_date <= today)),
                     None) if published.effective_date and published.effective_date > today else None
    return render_template("public/policy.html", policy=item, version=published,
                           html=policies.version_html(db(), item, published), versions=versions, in_effect=in_effect,
                           following=policies.is_following(db(), actor(), item))


@blueprint.route("/policies/<code>/follow", methods=["POST"])
def follow_policy(code: str) -> Response:
    """Follow or unfollow a published policy: an e-mail and a notification when a new version is published."""
    current = actor()
    if current.user is None:
        return redirect(url_for("auth.login", next=url_for("pages.public_policy", code=code)))
    item = policies.get_policy(db(), current, code)
    following = policies.set_following(db(), current, item, request.form.get("follow") == "yes")
    flash(f"You follow {item.code}: you will hear when a new version is published." if following
          else f"You no longer follow {item.code}.", "success")
    return redirect(url_for("pages.public_policy", code=item.code) + "#follow")


@blueprint.route("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@blueprint.route("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    try:
        current_revision = migrate.revision_of(db().connection())
    except Exception as error:  # noqa: BLE001 - any database failure means "not ready"
        return {"status": "unavailable", "detail": type(error).__name__}, 503
    head = migrate.head_revision()
    if current_revision != head:
        return {"status": "unavailable", "detail": f"database at {current_revision}, code expects {head}"}, 503
    return {"status": "ready", "revision": head}, 200


