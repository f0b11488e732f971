"""A real SMTP server for tests: aiosmtpd in a thread, with AUTH and optional TLS.

Load it as a pytest plugin (``pytest_plugins = ["tests.smtpserver"]`` in conftest.py)
and ask for the ``smtp_server`` fixture: plain SMTP on 127.0.0.1, AUTH required (user
:data:`USERNAME`, password :data:`PASSWORD`). ``smtp_server.settings()`` gives the
keyword arguments of :class:`scheduler.backends.SMTPBackend` that reach it.

The server can misbehave on purpose:

* ``refuse["x@example.com"] = "550 5.1.1 no such user"`` refuses a recipient;
* ``fail("DATA", "451 4.3.0 try again later")`` answers the next DATA so (or MAIL);
  ``fail("DATA", DROP)`` hangs up instead of answering, ``fail("DATA", HANG)`` never
  answers (the client's timeout fires);
* ``stop()`` then ``start()`` is an outage on the same port; connections die.

``connections`` counts the client connections made since ``start()``, ``received``
the messages accepted. ``SMTPServer(keep=False)`` parses each message but keeps none,
for long benchmark runs.

Received messages are in ``messages`` (parsed, in order), their ids in
``message_ids`` and the envelopes (recipients, login) in ``envelopes``. ``SMTPServer("ssl" | "starttls", certificate=smtp_certificate)``
serves implicit TLS or STARTTLS on the session's self-signed certificate (the
``smtp_certificate`` fixture); its ``settings()`` carry a client context that trusts it.
"""

from __future__ import annotations

import asyncio
import email
import logging
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd warns on every successful AUTH about an attribute it sets itself.
logging.getLogger("mail.log").addFilter(
    lambda record: "login_data is deprecated" not in record.getMessage()
)

USERNAME = "duban"
PASSWORD = "Zz-secret-7f3a9"
HOST = "127.0.0.1"
DROP = "DROP"  # a scripted reply that closes the connection instead of answering
HANG = "HANG"  # a scripted reply that never comes, until the server stops


@dataclass(frozen=True)
class Received:
    """One message as the server took it: envelope and parsed content."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    authenticated_as: str | None


def free_port() -> int:
    """A port free right now on :data:`HOST`, for a server (or a refusal) to use next."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 and localhost, made with the openssl tool."""
    cert, key = directory / "server.crt", directory / "server.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def _scripted(self, smtp: Any, command: str) -> str | None:
        with self.server.lock:
            queue = self.server.scripted.get(command)
            reply = queue.pop(0) if queue else None
        if reply == DROP:
            smtp.transport.close()
        if reply == HANG:
            await asyncio.Event().wait()
        return reply

    async def handle_MAIL(
        self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        reply = await self._scripted(smtp, "MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self.server.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        reply = await self._scripted(smtp, "DATA")
        if reply:
            return reply
        with self.server.lock:
            message = email.message_from_bytes(envelope.original_content, policy=policy.default)
            user = session.auth_data.login.decode() if session.authenticated else None
            self.server.received += 1
            if self.server.keep:
                self.server.envelopes.append(
                    Received(envelope.mail_from, tuple(envelope.rcpt_tos), message, user)
                )
            return f"250 2.0.0 Ok: queued as Q{self.server.received}"


class _CountingController(Controller):
    def __init__(self, server: SMTPServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._server = server

    def factory(self) -> Any:
        self._server.connections += 1
        return super().factory()


class SMTPServer:
    """An aiosmtpd server on a fixed free port that can be stopped and started again."""

    def __init__(
        self,
        security: str = "none",
        *,
        certificate: tuple[Path, Path] | None = None,
        username: str = USERNAME,
        password: str = PASSWORD,
        keep: bool = True,
    ) -> None:
        self.security = security
        self.host = HOST
        self.port = free_port()
        self.username = username
        self.password = password
        self.refuse: dict[str, str] = {}
        self.scripted: dict[str, list[str]] = {}
        self.connections = 0
        self.keep = keep
        self.received = 0
        self.envelopes: list[Received] = []
        self.lock = threading.Lock()
        self._certificate = certificate
        self._controller: Controller | None = None

    def fail(self, command: str, reply: str) -> None:
        """Answer the next ``command`` ("MAIL" or "DATA") with ``reply``, or hang up on DROP."""
        with self.lock:
            self.scripted.setdefault(command, []).append(reply)

    @property
    def messages(self) -> list[EmailMessage]:
        return [received.message for received in self.envelopes]

    @property
    def message_ids(self) -> list[str]:
        """The Message-IDs received, in order; a resent message shows up twice."""
        return [str(received.message["Message-ID"]) for received in self.envelopes]

    def _server_context(self) -> ssl.SSLContext:
        assert self._certificate, f"security {self.security!r} needs a certificate"
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, self._certificate))
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        assert self._certificate
        return ssl.create_default_context(cafile=str(self._certificate[0]))

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == self.username.encode()
            and data.password == self.password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def start(self) -> None:
        kwargs: dict[str, Any] = dict(
            hostname=self.host,
            port=self.port,
            authenticator=self._authenticate,
            # AUTH is offered on every connection and enforced at MAIL (handle_MAIL);
            # aiosmtpd's own auth_required warns on plain connections.
            auth_require_tls=False,
            ready_timeout=10,
        )
        if self.security == "ssl":
            kwargs["ssl_context"] = self._server_context()
        elif self.security == "starttls":
            kwargs.update(tls_context=self._server_context(), require_starttls=True)
        self._controller = _CountingController(self, _Handler(self), **kwargs)
        self._controller.start()
        self.connections = 0  # the controller's own readiness probe does not count

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SMTPServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """SMTPBackend keyword arguments that reach this server."""
        settings: dict[str, Any] = dict(
            host=self.host,
            port=self.port,
            security=self.security,
            username=self.username,
            password=self.password,
            timeout=5,
        )
        if self._certificate:
            settings["ssl_context"] = self.client_context()
        settings.update(overrides)
        return settings


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the TLS servers, made once per session."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl tool is needed to make a test certificate")
    return self_signed_certificate(tmp_path_factory.mktemp("smtp-cert"))


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A running plain SMTP server with AUTH required; see the module docstring."""
    with SMTPServer() as server:
        yield server
