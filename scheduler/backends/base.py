"""The interface every mail backend fulfils, after Django's mail backends.

A backend is opened once for a batch, sends messages one at a time and is closed;
it is a context manager so a batch reads ``with backend: for m in batch: backend.send(m)``.
``start`` splits a delivery in two, for a caller that has work to do while the server
takes a message.
``send`` returns what the server said (or a note saying where the message went) for the
notification log, and raises :class:`~scheduler.errors.DeliveryError` when the message
was not accepted; ``permanent`` tells the dispatcher whether a retry can help.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from email.message import EmailMessage
from types import TracebackType


class MailBackend(ABC):
    """Hands messages to somewhere they are read: a mail server, files, a terminal."""

    def open(self) -> None:
        """Get ready to send (connect, create a directory); calling it again is harmless."""

    def close(self) -> None:
        """Release what :meth:`open` acquired; calling it again is harmless."""

    def __enter__(self) -> MailBackend:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abstractmethod
    def send(self, msg: EmailMessage) -> str:
        """Deliver ``msg``, opening first if needed; return the reply for the log."""

    def start(self, msg: EmailMessage) -> Callable[[], str]:
        """Begin delivering ``msg``; the function returned completes it and returns the reply.

        Between the two the caller may do other work (build the next message) while the
        server handles this one; it must complete one delivery before starting another.
        A failure may come from either. This default delivers at once.
        """
        reply = self.send(msg)
        return lambda: reply
