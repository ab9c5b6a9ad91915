"""A real SMTP server on loopback for tests (aiosmtpd), which can refuse or drop on demand."""

import email
import socket
from email import policy

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self):
        self.messages = []  # (envelope recipients, parsed message)
        self.refuse = set()  # addresses answered with 550
        self.drop_after_data = set()  # message numbers whose connection is dropped after the data arrived
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=policy.default)))
        if len(self.messages) in self.drop_after_data:
            server.transport.close()  # the client never hears "250": it cannot know the message arrived
            return "250 OK"
        return "250 OK"

    @property
    def message_ids(self):
        return [message["Message-ID"] for _, message in self.messages]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self):
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
