"""A backend that prints each message for a person to read.

Headers are shown decoded (less the MIME ones) and only the plain-text part of the
body, because a raw message (encoded words, base64 bodies) is unreadable on a
terminal; the file backend is the one that keeps messages byte for byte.
"""

from __future__ import annotations

import sys
from email.message import EmailMessage
from typing import TextIO

from scheduler.backends.base import MailBackend

SEPARATOR = "-" * 72
# Headers about the encoding, which mean nothing once the text is shown decoded.
_MIME_HEADERS = {"mime-version", "content-type", "content-transfer-encoding"}


class ConsoleBackend(MailBackend):
    """Writes messages to ``stream``, standard output by default."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, msg: EmailMessage) -> str:
        stream = self._stream or sys.stdout
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        headers = "".join(
            f"{name}: {value}\n"
            for name, value in msg.items()
            if name.lower() not in _MIME_HEADERS
        )
        stream.write(f"{headers}\n{text.rstrip()}\n{SEPARATOR}\n")
        stream.flush()
        return "printed to the console"
