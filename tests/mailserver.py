"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it accepted, for the worker's tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what it accepted; it can refuse a recipient or stall one message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.stall_subject: str | None = None  # the first message with this subject waits for `release`
        self.stalled = threading.Event()
        self.release = threading.Event()

    # aiosmtpd calls its hooks by these names.
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        if self.stall_subject is not None and message["Subject"] == self.stall_subject:
            self.stall_subject = None
            self.stalled.set()
            await asyncio.to_thread(self.release.wait, 60)
            # The client is gone by now; a server that never said "250" has not taken the message.
            return "451 4.3.0 Aborted: the client went away"
        self.messages.append(message)
        return "250 2.0.0 Accepted"

    def subjects(self) -> list[str]:
        return sorted(str(m["Subject"]) for m in self.messages)


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
