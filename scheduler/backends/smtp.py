"""A backend that talks SMTP to a real mail server.

One connection serves a whole batch: :meth:`SMTPBackend.open` connects (implicit TLS,
STARTTLS or plain) and logs in, :meth:`~SMTPBackend.send` runs one mail transaction per
message, :meth:`~SMTPBackend.close` says QUIT. :meth:`~SMTPBackend.start` runs it up to
the message data sent and leaves the server's verdict to be read when the caller has
built its next message: the same commands on the wire, one transaction at a time.

If the server dropped the connection while it sat idle (a closed socket, or a 421
"closing" reply before the message data went out) the backend reconnects once and tries
again; a connection lost while the data was in flight is not retried here, because the
server may already hold the message.

How failures are told apart (the dispatcher retries transient ones, gives up on
permanent ones):

* connection refused, timeouts, a dropped connection, any 4xx reply: transient;
* a 5xx reply to the sender or the data: permanent;
* recipients: a message accepted for at least one recipient counts as sent, and the
  refused ones are listed in the returned reply, which the log keeps; when every
  recipient is refused the failure is permanent if every refusal was 5xx, else
  transient;
* a wrong or missing login, a server without STARTTLS or AUTH, or a certificate that
  does not verify are not a message's fault: they raise
  :class:`~scheduler.errors.ConfigError` so the daemon stops with the reason instead
  of marking messages dead.

The password is kept out of every repr, exception message and log line.
"""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import getaddresses
from functools import lru_cache

from scheduler.backends.base import MailBackend
from scheduler.errors import ConfigError, DeliveryError, InputError
from scheduler.mail import wire_bytes

log = logging.getLogger(__name__)

SECURITY = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
_CLOSING = 421  # "service not available, closing transmission channel"
_START_DATA = 354  # "start mail input; end with <CRLF>.<CRLF>"
_LEADING_DOT = re.compile(rb"(?m)^\.")
_AUTH_REQUIRED = 530  # RFC 4954: the server wants AUTH before MAIL


def _data_lines(data: bytes) -> bytes:
    """``data`` as the DATA command carries it, as :meth:`smtplib.SMTP.data` sends bytes:
    a line starting with a dot gets another (RFC 5321 4.5.2), then the closing dot line."""
    quoted = _LEADING_DOT.sub(b"..", data)
    if not quoted.endswith(b"\r\n"):
        quoted += b"\r\n"
    return quoted + b".\r\n"


class _Dropped(Exception):
    """The server went away before the message data was sent; reconnecting is safe."""


def envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    """The envelope sender (From) and recipients (To and Cc) of ``msg``."""
    senders = _addr_specs(msg, ("From",))
    rcpts = list(dict.fromkeys(addr for addr in _addr_specs(msg, ("To", "Cc")) if addr))
    if not senders or not senders[0]:
        raise ValueError("the message has no From address")
    if not rcpts:
        raise ValueError("the message has no recipient")
    return senders[0], rcpts


def _addr_specs(msg: EmailMessage, names: tuple[str, ...]) -> list[str]:
    """The addresses in ``msg``'s headers ``names``, in order (an unreadable one as "")."""
    return [addr for name in names for value in msg.get_all(name, []) for addr in _parsed(str(value))]


@lru_cache(maxsize=4096)
def _parsed(value: str) -> tuple[str, ...]:
    """The addresses of one header value, parsed once: a run mails the same few agencies."""
    return tuple(addr for _, addr in getaddresses([value]))


def wire(msg: EmailMessage) -> tuple[str, list[str], bytes]:
    """What one mail transaction carries for ``msg``: envelope sender, recipients, data."""
    sender, rcpts = envelope(msg)
    return sender, rcpts, wire_bytes(msg)


class SMTPBackend(MailBackend):
    """Sends through an SMTP server; see the module docstring for the failure rules.

    ``port`` defaults by ``security`` (465, 587, 25); ``ssl_context`` replaces the
    system's trust store, for a private CA (and for tests); ``timeout`` bounds every
    network wait, in seconds. Not thread-safe: one backend per dispatching thread.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        security: str = "ssl",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in SECURITY:
            raise ConfigError(
                f"mail.smtp.security must be one of {', '.join(SECURITY)}, not {security!r}."
            )
        if username and password is None:
            raise ConfigError(
                f"The SMTP user {username!r} has no password; set it in the environment."
            )
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.security = security
        self.username = username
        self.timeout = timeout
        self._password = password
        self._ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        return (
            f"SMTPBackend(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r})"
        )

    @property
    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def _reply(self, code: int, text: bytes | str) -> str:
        """A server reply on one line, as logs and errors quote it, with no secret in it."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return self._scrub(f"{code} {' '.join(text.split())}")

    def _scrub(self, text: str) -> str:
        """``text`` with the password, plain or in its AUTH encodings, masked."""
        if not self._password:
            return text
        secrets = {self._password}
        for raw in (f"\0{self.username}\0{self._password}", self._password):
            secrets.add(base64.b64encode(raw.encode("utf-8")).decode("ascii"))
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    def open(self) -> None:
        if self._conn is not None:
            return
        context = self._ssl_context or ssl.create_default_context()
        conn: smtplib.SMTP | None = None
        try:
            if self.security == "ssl":
                conn = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                conn.starttls(context=context)
            if self.username:
                if self.security == "none":
                    log.warning("logging in to %s without TLS: the password goes in clear",
                                self._where)
                conn.login(self.username, self._password or "")
            conn.ehlo_or_helo_if_needed()
        except (OSError, UnicodeEncodeError) as exc:
            if conn is not None:
                conn.close()
            raise self._open_error(exc) from None
        log.debug("connected to %s (%s)", self._where, self.security)
        self._conn = conn

    def _open_error(self, exc: OSError | UnicodeEncodeError) -> InputError | DeliveryError:
        where = self._where
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return ConfigError(
                f"The SMTP server {where} refused the login of user {self.username!r}: "
                f"{self._reply(exc.smtp_code, exc.smtp_error)}."
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return ConfigError(
                f"The SMTP server {where} cannot do what the config asks: {str(exc).rstrip('.')}."
            )
        if isinstance(exc, UnicodeEncodeError):
            return ConfigError(
                f"The SMTP user name or password for {where} has non-ASCII characters, "
                "which SMTP login cannot carry."
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return ConfigError(
                f"The certificate of the SMTP server {where} does not verify: {exc.verify_message}."
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            reply = self._reply(exc.smtp_code, exc.smtp_error)
            return DeliveryError(
                f"The SMTP server {where} refused the session: {reply}.",
                permanent=500 <= exc.smtp_code < 600,
            )
        reason = exc.strerror or str(exc) or type(exc).__name__
        return DeliveryError(
            f"Cannot connect to the SMTP server {where}: {self._scrub(reason)}.", permanent=False
        )

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def send(self, msg: EmailMessage) -> str:
        return self.start(msg)()

    def start(self, msg: EmailMessage) -> Callable[[], str]:
        """Run the mail transaction up to the data sent; the function returned reads the
        server's verdict on it, which the server is meanwhile reaching."""
        sender, rcpts, data = wire(msg)
        for address in (sender, *rcpts):
            if not address.isascii():
                raise DeliveryError(
                    f"The address {address} is not ASCII, and duban does not use SMTPUTF8.",
                    permanent=True,
                )
        for retry in (False, True):
            self.open()
            try:
                return self._transact(sender, rcpts, data)
            except _Dropped as exc:
                self._drop()
                reason = str(exc)
                if not retry:
                    log.info("%s dropped the connection (%s); reconnecting", self._where, reason)
        raise DeliveryError(
            f"The SMTP server {self._where} dropped the connection twice: {reason}.",
            permanent=False,
        )

    def _transact(self, sender: str, rcpts: list[str], data: bytes) -> Callable[[], str]:
        """MAIL, RCPT and DATA as :meth:`smtplib.SMTP.mail`, ``rcpt`` and ``data`` send them,
        without parsing again the addresses :func:`envelope` took from the message."""
        assert self._conn is not None
        conn = self._conn
        try:
            code, text = conn.docmd("mail", f"from:<{sender}>")
            if code == _CLOSING:
                raise _Dropped(self._reply(code, text))
            if code == _AUTH_REQUIRED:
                self._reset()
                raise ConfigError(
                    f"The SMTP server {self._where} requires a login; set mail.smtp.username."
                )
            if code != 250:
                self._reset()
                raise self._refused(f"the sender {sender}", code, text)
            refused: dict[str, tuple[int, bytes]] = {}
            for rcpt in rcpts:
                code, text = conn.docmd("rcpt", f"to:<{rcpt}>")
                if code == _CLOSING:
                    raise _Dropped(self._reply(code, text))
                if code not in (250, 251):
                    refused[rcpt] = code, text
        except smtplib.SMTPServerDisconnected as exc:
            raise _Dropped(str(exc) or "connection closed") from None
        refusals = "; ".join(f"{rcpt} {self._reply(*reply)}" for rcpt, reply in refused.items())
        if len(refused) == len(rcpts):
            self._reset()
            raise DeliveryError(
                f"The SMTP server {self._where} refused every recipient: {refusals}.",
                permanent=all(500 <= code < 600 for code, _ in refused.values()),
            )
        try:
            code, text = conn.docmd("data")
            if code != _START_DATA:
                self._reset()
                raise self._refused("the message", code, text)
            conn.send(_data_lines(data))
        except OSError as exc:
            raise self._lost(exc) from None
        return lambda: self._verdict(refusals)

    def _verdict(self, refusals: str) -> str:
        """The server's reply to the message data just sent, for the log."""
        assert self._conn is not None
        try:
            code, text = self._conn.getreply()
        except OSError as exc:
            raise self._lost(exc) from None
        if code != 250:
            self._reset()
            raise self._refused("the message", code, text)
        reply = self._reply(code, text)
        return f"{reply}; refused: {refusals}" if refusals else reply

    def _lost(self, exc: OSError) -> DeliveryError:
        self._drop()
        return DeliveryError(
            f"The connection to the SMTP server {self._where} was lost while sending "
            f"the message, which may or may not have been accepted: {exc}.",
            permanent=False,
        )

    def _refused(self, what: str, code: int, text: bytes | str) -> DeliveryError:
        return DeliveryError(
            f"The SMTP server {self._where} refused {what}: {self._reply(code, text)}.",
            permanent=500 <= code < 600,
        )

    def _reset(self) -> None:
        """Abort the transaction so the connection serves the next message."""
        try:
            if self._conn is not None:
                self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()
