"""Security headers and checks every request passes before a view sees it."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, request
from werkzeug.wrappers import Response

from policyflow.core.errors import InvalidInput

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


def check_form_encoding() -> None:
    """Reject form bodies that are not UTF-8 instead of storing replacement characters."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    body = request.get_data(cache=True)
    for pair in body.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput("The submitted form is not valid UTF-8 text.") from None


def init_app(app: Flask) -> None:
    app.before_request(check_form_encoding)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.path.startswith(("/api/", "/login", "/policies")) and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
