"""The Flask application: thin views over the services."""

from policyflow.web.app import create_app

__all__ = ["create_app"]
