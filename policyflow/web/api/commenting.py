"""API for stakeholder comments: list and submit, dispositions, moderation, the report exports."""

from __future__ import annotations

from policyflow.web.api import blueprint  # noqa: F401
