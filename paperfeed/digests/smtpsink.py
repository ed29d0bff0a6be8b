"""A real SMTP server on loopback (aiosmtpd) for tests and the benchmark.

It keeps what it receives, and can answer with 4xx/5xx on demand — per recipient, at
RCPT or DATA — so tests see how the sender copes with a real server saying no.
``python -m paperfeed.digests.smtpsink`` runs it as its own process (the benchmark's sink):
it prints its port, counts messages, and writes the count to ``--count-file`` on SIGTERM.

aiosmtpd is a test dependency (``pip install -e .[test]``); nothing in the site imports this.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import signal
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class Recorder:
    """An aiosmtpd handler. ``refuse`` maps an address to (stage, reply), stage "rcpt" or "data"."""

    keep: bool = True
    refuse: dict[str, tuple[str, str]] = field(default_factory=dict)
    on_data: Callable[[Received], None] | None = None  # runs after the message is stored
    data_gate: Callable[[object], Awaitable[None]] | None = None  # awaited before the reply
    # After storing a message, hang up on the sender: "before-reply" (it never hears the
    # 250: the connection broke mid-message) or "after-reply" (like a server whose idle
    # timeout runs out before the sender's next message). "" keeps the connection.
    hang_up: Callable[[Received], str] | None = None
    received: list[Received] = field(default_factory=list)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        stage, reply = self.refuse.get(address.lower(), ("", ""))
        if stage == "rcpt":
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            stage, reply = self.refuse.get(rcpt.lower(), ("", ""))
            if stage == "data":
                return reply
        if self.data_gate is not None:
            await self.data_gate(session)
        item = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        with self.lock:
            self.count += 1
            if self.keep:
                self.received.append(item)
        if self.on_data is not None:
            self.on_data(item)
        how = self.hang_up(item) if self.hang_up is not None else ""
        if how == "before-reply":
            server.transport.abort()
        elif how == "after-reply":
            asyncio.get_running_loop().call_soon(server.transport.close)  # once the 250 is out
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [r.message() for r in self.received if address in r.rcpt_tos]


class LoopbackController(Controller):
    """aiosmtpd's controller bound to 127.0.0.1 on a free port chosen by the kernel."""

    def __init__(self, handler, **kwargs):
        super().__init__(handler, hostname="127.0.0.1", port=0, **kwargs)

    def _trigger_server(self):
        # The kernel picked the port at bind time; learn it before the readiness probe.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Count messages received on a loopback SMTP port.")
    parser.add_argument("--count-file", required=True)
    args = parser.parse_args(argv)
    recorder = Recorder(keep=False)
    controller = LoopbackController(recorder, data_size_limit=0)
    controller.start()
    print(controller.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    controller.stop()
    with open(args.count_file, "w") as handle:
        handle.write(str(recorder.count))


if __name__ == "__main__":
    main()
