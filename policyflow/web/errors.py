"""Every error mapped once: problem+json under /api, a readable page elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from policyflow.core.errors import PolicyflowError

PROBLEM_TYPE = "urn:policyflow:problem:"


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _render(status: int, title: str, detail: str, **extra: Any) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, detail=detail, extra=extra), status


def init_app(app: Flask) -> None:
    @app.errorhandler(PolicyflowError)
    def _domain(error: PolicyflowError) -> Any:
        if error.status >= 500:
            app.logger.error("%s: %s", type(error).__name__, error.message)
        if _wants_json():
            return problem(error.status, error.slug, error.title, error.message, **error.extra)
        return _render(error.status, error.title, error.message, **error.extra)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        detail = ("The form expired or was sent from another site (missing or wrong security token). "
                  "Go back, reload the page and try again.")
        return _render(400, "Form could not be accepted", detail)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        status = error.code or 500
        detail = error.description or ""
        if status == 413:
            detail = "The request is larger than this server accepts."
        slug = (error.name or "error").lower().replace(" ", "-")
        if _wants_json():
            response = problem(status, slug, error.name or "Error", detail)
            if status == 405 and error.get_response().headers.get("Allow"):
                response.headers["Allow"] = error.get_response().headers["Allow"]
            return response
        return _render(status, error.name or "Error", detail)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        app.logger.exception("Unhandled error")
        detail = "Something went wrong on our side; nothing was saved. Please try again."
        if _wants_json():
            return problem(500, "internal-error", "Internal server error", detail)
        return _render(500, "Internal server error", detail)
