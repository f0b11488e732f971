"""A backend that writes each message as an .eml file: a dry run one can read.

The file is named after the Message-ID, which is derived from the notification key,
so a message sent again after a crash replaces its file instead of adding a second
one. Each file is written to a temporary name, synced and renamed, and the rename is
synced too, so a reader (or a crash) never sees half a message and a message the log
records as sent is on disk. A crash mid-write can leave a hidden ``.*.tmp`` file,
which nothing reads.
"""

from __future__ import annotations

import os
import re
import tempfile
from email import policy
from email.message import EmailMessage
from pathlib import Path

from scheduler.backends.base import MailBackend
from scheduler.errors import ConfigError, DeliveryError


def file_name(message_id: str) -> str:
    """The .eml name for a Message-ID: its characters that are safe in a file name."""
    return re.sub(r"[^A-Za-z0-9._@-]", "_", message_id.strip().strip("<>")) + ".eml"


def _sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable before the log records the message sent."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileBackend(MailBackend):
    """Writes one ``<message-id>.eml`` per message into ``outbox``."""

    def __init__(self, outbox: Path | str) -> None:
        self.outbox = Path(outbox)

    def open(self) -> None:
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"The mail outbox {self.outbox} cannot be created: {exc.strerror}."
            ) from None

    def send(self, msg: EmailMessage) -> str:
        message_id = msg["Message-ID"]
        if not message_id:
            raise ValueError("the file backend needs a message with a Message-ID")
        self.open()
        path = self.outbox / file_name(str(message_id))
        data = msg.as_bytes(policy=policy.SMTP)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.outbox, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
            _sync_directory(self.outbox)
        except OSError as exc:
            raise DeliveryError(f"Cannot write {path}: {exc.strerror}.", permanent=False) from None
        return f"written to {path}"
