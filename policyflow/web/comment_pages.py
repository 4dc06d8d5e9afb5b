"""Staff pages for comments: triage with near-duplicate groups, moderation, dispositions, the report."""

from __future__ import annotations

from policyflow.web.pages import blueprint  # noqa: F401  (routes are added to the pages blueprint)
