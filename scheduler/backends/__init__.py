"""Mail backends: where messages go once built.

``make_backend(config["mail"]["backend"], **settings)`` picks one by name:

* ``smtp``: a real mail server (:class:`SMTPBackend`);
* ``file``: one .eml per message in an outbox directory, the embedded default;
* ``console``: prints each message, for trying things out;
* ``memory``: keeps messages in a list, for tests.

Every backend fulfils :class:`MailBackend` and passes the same contract tests.
"""

from __future__ import annotations

import inspect
from typing import Any

from scheduler.backends.base import MailBackend
from scheduler.backends.console import ConsoleBackend
from scheduler.backends.file import FileBackend
from scheduler.backends.memory import MemoryBackend
from scheduler.backends.smtp import SMTPBackend
from scheduler.errors import ConfigError

BACKENDS: dict[str, type[MailBackend]] = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "memory": MemoryBackend,
    "smtp": SMTPBackend,
}

__all__ = [
    "BACKENDS",
    "ConsoleBackend",
    "FileBackend",
    "MailBackend",
    "MemoryBackend",
    "SMTPBackend",
    "make_backend",
]


def make_backend(name: str, **settings: Any) -> MailBackend:
    """The backend called ``name``, built from ``settings``; bad ones are ConfigErrors."""
    try:
        cls = BACKENDS[name]
    except KeyError:
        raise ConfigError(
            f"mail.backend {name!r} is unknown; use one of {', '.join(BACKENDS)}."
        ) from None
    try:
        inspect.signature(cls).bind(**settings)
    except TypeError as exc:
        raise ConfigError(f"The {name} mail backend cannot take these settings: {exc}.") from None
    return cls(**settings)
