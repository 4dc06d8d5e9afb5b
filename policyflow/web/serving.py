"""The built-in web server, configured so its access log never records a visitor's IP address
(anonymous commenters are promised that no address is kept, in the database or the logs)."""

from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler


class AddresslessRequestHandler(WSGIRequestHandler):
    """Logs method, path and status as usual, with "-" where the client address would be."""

    def address_string(self) -> str:
        return "-"
