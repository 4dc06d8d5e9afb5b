"""One database session per request, committed once if the response succeeded."""

from __future__ import annotations

from datetime import date

from flask import Flask, current_app, flash, g, request
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from policyflow.core.errors import InvalidValue, NotFound, PermissionDenied, PolicyflowError
from policyflow.core.vocabulary import Vocabularies, load_vocabularies
from policyflow.services.actors import Actor
from policyflow.services.policies import StoreSettings


def db() -> Session:
    if "db" not in g:
        g.db = current_app.config["SESSION_FACTORY"]()
    return g.db


def store_settings() -> StoreSettings:
    return current_app.config["STORE_SETTINGS"]


def vocabularies() -> Vocabularies:
    """The district's word lists from the configured workflows folder."""
    return load_vocabularies(current_app.config["POLICYFLOW_SETTINGS"].workflows_dir)


def form_date(name: str) -> date | None:
    """A date field of the submitted form (YYYY-MM-DD); None when left empty."""
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidValue(f"{name.replace('_', ' ').capitalize()} must be a date (YYYY-MM-DD).") from None


def flash_problem(error: PolicyflowError) -> None:
    """A form's mistake goes back to the page as a message; a refusal (403, 404) stays an error response,
    so a form never answers "done, with a note" for something the user may not touch or see."""
    if isinstance(error, PermissionDenied | NotFound):
        raise error
    db().rollback()
    flash(error.message, "error")


def actor() -> Actor:
    """The actor of this request: the API's token user, or the signed-in web user."""
    if "api_user" in g:
        return Actor.of(g.api_user)
    if current_user.is_authenticated:
        return Actor.of(current_user.user)
    return Actor.anonymous()


def init_app(app: Flask) -> None:
    @app.after_request
    def _finish(response: Response) -> Response:
        session = g.pop("db", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _cleanup(_error: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:  # after_request did not run: an exception escaped
            session.rollback()
            session.close()
