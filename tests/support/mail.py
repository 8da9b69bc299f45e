"""Mail helpers: wait for the outbox sender, a mail server that holds each message until
released (a slow server), and a mailer that notes which thread sent each message."""

from __future__ import annotations

import threading

from tests.support.smtp import Outbox


def settle(app, timeout: float = 30.0) -> None:
    """Wait until the app's background mail sender has nothing left to send."""
    from idp.outbox import EXTENSION

    app.extensions[EXTENSION].join(timeout)


class HeldOutbox(Outbox):
    """aiosmtpd handler that answers DATA only once ``release()`` is called."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        import asyncio

        while not self.gate.is_set():
            await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)

    def release(self) -> None:
        self.gate.set()


def start_held_smtp_server():
    """(controller, outbox) of a server that holds every message until ``outbox.release()``."""
    from aiosmtpd.controller import Controller

    from tests.support.smtp import free_port

    outbox = HeldOutbox()
    controller = Controller(outbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, outbox


class ThreadNotingMailer:
    """Wraps a real mailer; ``threads`` lists the name of the thread of each send."""

    def __init__(self, mailer):
        self.mailer, self.threads = mailer, []

    def send(self, message) -> None:
        self.threads.append(threading.current_thread().name)
        self.mailer.send(message)
