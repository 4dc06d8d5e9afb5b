"""One database session per request, committed once if the response succeeded."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

from flask import Flask, current_app, flash, g, request
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from policyflow.core.errors import InvalidInput, InvalidValue, NotFound, PermissionDenied, PolicyflowError
from policyflow.core.vocabulary import Vocabularies, load_vocabularies
from policyflow.services.actors import Actor
from policyflow.services.policies import StoreSettings

MAX_INTEGER = 2**31 - 1  # the largest value an integer column holds on every backend


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


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None: never an open redirect.

    Browsers read a backslash as a slash and drop tabs and newlines anywhere in a URL, so ``/\\evil.example``
    and ``/<tab>/evil.example`` would leave the site as surely as ``//evil.example``: any backslash, space or
    control character refuses the target."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return None
    return target


def _check_text(value: Any, where: str) -> None:
    """Text that no database column can hold (NUL, lone surrogates) is refused here, not by a crash later."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(f"{where} contains a NUL character, which text cannot hold.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{where} contains a lone surrogate (\\ud800-\\udfff), which is not text.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_text(item, f"The field '{key}'" if where == "The request body" else where)
    elif isinstance(value, list):
        for item in value:
            _check_text(item, where)


def check_request_text() -> None:
    """The path, every query parameter and form field of every request: text only (the JSON body is checked
    as parsed)."""
    _check_text(request.path, "The address")
    for name, value in request.args.items(multi=True):
        _check_text(name, "A query parameter's name")
        _check_text(value, f"The query parameter '{name[:40]}'")
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        request.get_data(cache=True)  # kept for the form's UTF-8 check (policyflow.web.security), which reads it raw
        for name, value in request.form.items(multi=True):
            _check_text(name, "A form field's name")
            _check_text(value, f"The field '{name[:40]}'")


def _not_a_json_number(value: str) -> float:
    raise ValueError(f"{value} is not a number JSON allows")


def _finite_number(value: str) -> float:
    number = float(value)
    if math.isinf(number):
        raise ValueError(f"{value[:20]} is too large a number")
    return number


def json_body() -> dict[str, Any]:
    """The request's JSON object: 400 for anything else (not JSON, not UTF-8, NaN, a number too large for a
    float, not an object, NUL)."""
    raw = request.get_data(cache=True)
    if not request.is_json:
        raise InvalidInput("Send a JSON object with 'Content-Type: application/json'.")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_not_a_json_number, parse_float=_finite_number)
    except UnicodeDecodeError:
        raise InvalidInput("The request body is not valid UTF-8.") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"The request body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.") from None
    except (ValueError, RecursionError) as error:
        raise InvalidInput(f"The request body is not valid JSON: {str(error)[:80] or 'nested too deeply'}.") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.")
    try:
        _check_text(body, "The request body")
    except RecursionError:
        raise InvalidInput("The request body is nested too deeply.") from None
    return body


def json_field(body: dict[str, Any], name: str, kind: type, *, required: bool = True, default: Any = None) -> Any:
    """One field of a JSON body, of the given type (422 otherwise); integers within what a column holds."""
    if name not in body or body[name] is None:
        if required:
            raise InvalidValue(f"The field '{name}' is required.")
        return default
    value = body[name]
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue(f"The field '{name}' must be an integer.")
        if abs(value) > MAX_INTEGER:
            raise InvalidValue(f"The field '{name}' is out of range (at most {MAX_INTEGER}).")
    if kind is str and not isinstance(value, str):
        raise InvalidValue(f"The field '{name}' must be a string.")
    if kind is dict and not isinstance(value, dict):
        raise InvalidValue(f"The field '{name}' must be an object.")
    return value


def query_int(name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    """A whole-number query parameter: 400 when not a number, 422 when out of range."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"The query parameter '{name}' must be a whole number, not {raw[:20]!r}.") from None
    highest = MAX_INTEGER if maximum is None else maximum
    if value < minimum or value > highest:
        raise InvalidValue(f"The query parameter '{name}' must be between {minimum} and {highest}.")
    return value


def optional_query_int(name: str) -> int | None:
    """A whole-number query parameter when one is given (400 if not a number, 422 beyond what a column holds)."""
    return query_int(name, 0, minimum=-MAX_INTEGER) if request.args.get(name) else None


def page_number() -> int:
    """The 'page' of a paged list, page or API alike: from 1 (422 below; 400 if not a number)."""
    return query_int("page", 1)


class DatabaseInteger(IntegerConverter):
    """``<int:...>`` in a URL: a number beyond what an integer column holds is a 404 (there is no such
    object), never a crash in the database driver."""

    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        if number > MAX_INTEGER:
            raise HTTPNotFound()
        return number


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
    app.url_map.converters["int"] = DatabaseInteger
    app.before_request(check_request_text)

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
