"""An in-process SMTP server (aiosmtpd) that keeps every message it receives."""

import email
import email.policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.servers import free_port


class _Collector:
    def __init__(self):
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(message)
        return "250 OK"


class SmtpServer:
    def __init__(self):
        self.collector = _Collector()
        self.port = free_port()
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages

    def close(self) -> None:
        self.controller.stop()
