"""A backend that keeps messages in a list, for tests."""

from __future__ import annotations

from email.message import EmailMessage

from scheduler.backends.base import MailBackend


class MemoryBackend(MailBackend):
    """Keeps every message sent in :attr:`messages`, in order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def send(self, msg: EmailMessage) -> str:
        self.messages.append(msg)
        return f"kept in memory as message {len(self.messages)}"
