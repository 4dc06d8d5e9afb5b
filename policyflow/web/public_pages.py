"""The public portal: open comment periods, a review's public page with the comment form, receipts."""

from __future__ import annotations

from policyflow.web.pages import blueprint  # noqa: F401  (routes are added to the pages blueprint)
