"""policyflow: a policy-review workflow engine for a school district's ombuds office."""

__version__ = "0.1.0"
