"""Application factory (the flaskr pattern: ``create_app(test_config=None)``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from policyflow.config import Settings
from policyflow.db import make_engine, make_session_factory
from policyflow.models.base import utcnow
from policyflow.resources import static_dir, templates_dir
from policyflow.services.policies import StoreSettings
from policyflow.web import (
    annotation_pages,
    api,
    auth,
    comment_pages,
    concern_pages,
    equity_pages,
    errors,
    fragments,
    limits,
    notification_pages,
    page_cache,
    pages,
    public_pages,
    report_pages,
    request_log,
    requests,
    review_pages,
    search_pages,
    security,
)
from policyflow.web.extensions import csrf, login_manager
from policyflow.web.templating import register_filters


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = Settings.from_env()
    app = Flask(
        "policyflow",
        template_folder=str(templates_dir()),
        static_folder=str(static_dir()),
        instance_path=str(settings.instance_path),
        instance_relative_config=True,
    )
    max_body = settings.max_text_bytes * 3 + 256 * 1024  # form encoding may triple the text
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        POLICYFLOW_SETTINGS=settings,
        STORE_SETTINGS=StoreSettings(settings.keyframe_interval, settings.max_text_bytes),
        MAX_CONTENT_LENGTH=max_body,
        MAX_FORM_MEMORY_SIZE=max_body,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=True,
        JSON_SORT_KEYS=False,
        CLOCK=utcnow,  # injectable: tests move time instead of sleeping
    )
    if test_config:
        app.config.update(test_config)
        if "MAX_TEXT_BYTES" in test_config:
            limit = test_config["MAX_TEXT_BYTES"]
            store = app.config["STORE_SETTINGS"]
            app.config["STORE_SETTINGS"] = StoreSettings(store.keyframe_interval, limit)
            app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_FORM_MEMORY_SIZE"] = limit * 3 + 256 * 1024
    if "SESSION_FACTORY" not in app.config:
        engine = make_engine(app.config["DATABASE_URL"])
        app.config["SESSION_FACTORY"] = make_session_factory(engine)
    csrf.init_app(app)
    login_manager.init_app(app)
    # Before requests: Flask runs after-request hooks in reverse, so the line is written once the request's
    # transaction has committed (a failed commit is logged as the 500 it becomes, and its time counts).
    request_log.init_app(app)
    requests.init_app(app)
    security.init_app(app)
    limits.init_app(app)
    register_filters(app)
    fragments.init_app(app)
    page_cache.init_app(app)
    app.register_blueprint(auth.blueprint)
    # The review and notification routes live on the pages blueprint.
    assert report_pages.blueprint is review_pages.blueprint is pages.blueprint
    assert pages.blueprint is notification_pages.blueprint is annotation_pages.blueprint
    assert public_pages.blueprint is comment_pages.blueprint is equity_pages.blueprint is search_pages.blueprint
    assert search_pages.blueprint is concern_pages.blueprint is pages.blueprint
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(api.blueprint, url_prefix="/api/v1")
    csrf.exempt(api.blueprint)  # the API takes bearer tokens only, never cookies
    errors.init_app(app)
    if settings.proxy_count:
        # Behind a TLS-terminating proxy: trust its X-Forwarded-* headers, and only its. Outermost, so the page
        # cache's early answers (page_cache.PageHits) see the request as the app does.
        count = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
    return app
