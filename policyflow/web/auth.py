"""Sign-in and sign-out for the web pages (the API uses bearer tokens instead)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from policyflow.core.errors import NotAuthenticated, PolicyflowError
from policyflow.models import User
from policyflow.services import accounts, audit
from policyflow.services.actors import Actor
from policyflow.web.extensions import login_manager
from policyflow.web.limits import limit_sign_ins
from policyflow.web.requests import db, safe_next

blueprint = Blueprint("auth", __name__)


class WebUser(UserMixin):
    """Flask-Login's view of a user; the id carries the session generation."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_generation}"

    @property
    def is_active(self) -> bool:
        return self.user.is_active


@login_manager.user_loader
def _load_user(user_id: str) -> WebUser | None:
    try:
        raw_id, generation = user_id.split(":", 1)
        user = accounts.user_by_id(db(), int(raw_id))
    except ValueError:
        return None
    if user is None or not user.is_active or str(user.session_generation) != generation:
        return None
    return WebUser(user)


@blueprint.route("/login", methods=["GET", "POST"])
@limit_sign_ins
def login() -> str | Response:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("pages.dashboard"))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            user = accounts.authenticate(db(), username, request.form.get("password", ""))
        except NotAuthenticated as problem:
            error = problem.message
        else:
            login_user(WebUser(user))
            audit.record(db(), Actor.of(user), "user.signed_in", f"user:{user.username}")
            flash(f"Signed in as {user.display_name}.", "success")
            return redirect(next_url or url_for("pages.dashboard"))
    status = 401 if error else 200
    return render_template("login.html", error=error, username=username, next_url=next_url), status


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        user = current_user.user
        # A new generation invalidates every copy of the old session cookie.
        user.session_generation += 1
        audit.record(db(), Actor.of(user), "user.signed_out", f"user:{user.username}")
    logout_user()
    flash("You are signed out.", "success")
    return redirect(url_for("pages.home"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@limit_sign_ins  # a wrong current password is a failed sign-in: a borrowed session cannot guess it
def change_password() -> str | Response | tuple[str, int]:
    """Change one's own password; every other browser signed in as this user is signed out."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    error = None
    if request.method == "POST":
        try:
            user = accounts.change_password(db(), Actor.of(current_user.user), request.form.get("current_password", ""),
                                            request.form.get("new_password", ""),
                                            revoke_tokens=request.form.get("revoke_tokens") == "on")
        except PolicyflowError as problem:
            db().rollback()
            error, status = problem.message, problem.status
        else:
            login_user(WebUser(user))  # this browser stays signed in, with the new session generation
            flash("Your password is changed. Any other browser signed in as you has been signed out.", "success")
            return redirect(url_for("pages.dashboard"))
    if error:
        return render_template("account/password.html", error=error, min_length=accounts.MIN_PASSWORD_LENGTH), status
    return render_template("account/password.html", error=None, min_length=accounts.MIN_PASSWORD_LENGTH)
