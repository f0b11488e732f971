"""Build the e-mail for a rendered notification, safely and reproducibly.

The standard ``email`` package (policy SMTP) does the encoding: Chinese subjects and
display names become RFC 2047 encoded words, the body is multipart/alternative with a
UTF-8 text part and an HTML part, both base64 so no relay has to speak 8BITMIME.

Three headers make the log's guarantees visible to mail clients:

* ``Message-ID`` is a hash of the notification key, so a message resent after a crash
  carries the same id and the recipient's client shows it once;
* ``References``/``In-Reply-To`` point at a root id derived from the task key, so all
  of one task's reminders, warnings and escalations thread together;
* ``Auto-Submitted: auto-generated`` (RFC 3834) keeps vacation responders quiet.

Text that comes from documents (task titles in subjects) never reaches a header raw:
control characters and line breaks become spaces and an overlong subject is cut, so a
scraped title cannot inject a header; what remains is folded into encoded words.

A dispatch run builds hundreds of messages to a few dozen addresses, and the
``email`` package parses every header value it is given and every MIME parameter it
sets. So the message is assembled from values duban composed and checked itself
(:class:`_Header`): addresses are parsed once per address, and a header is folded by
the policy's own header classes once per distinct value, or written as is when it is
short ASCII already in its wire form. Its bytes are written by :func:`wire_bytes`, the
same bytes as the ``email`` generator's, without asking the policy to fold each header
or writing the base64 bodies a line at a time.
"""

from __future__ import annotations

import hashlib
import re
from binascii import b2a_base64
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import Policy
from functools import cache, lru_cache
from email.utils import format_datetime, localtime

from scheduler.render import Rendered

# A subject longer than this is cut with an ellipsis; mail clients show ~80 columns.
MAX_SUBJECT = 120
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# Unicode's control characters (category Cc, fixed for good by Unicode's stability
# policy) and the line and paragraph separators (Zl, Zp): none may reach a header.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BLANKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Bytes of UTF-8 text per encoded word: 42 bytes are 56 base64 characters, a 68-character
# word, so "Subject: " and a word fit in 78 columns, and a word stays under RFC 2047's 75.
_WORD_BYTES = 42
_BASE64_LINE = 76  # characters per body line, as email.base64mime writes them
SMTP = policy.SMTP
CRLF = SMTP.linesep


class _Subject(str):
    """A Subject header that keeps every space when folded.

    The policy's own folder drops a space that falls at a line break between two
    encoded words (CPython gh-144156), so a long Chinese subject could lose one. Here
    the whole subject, spaces included, is written as base64 encoded words of whole
    characters, one a line: the folds fall between words, where a reader ignores them.
    Always encoded, so even ASCII text that looks like an encoded word stays text. A
    value with a ``name`` and a ``fold`` method is stored and folded as is
    (email.policy.EmailPolicy).
    """

    name = "Subject"

    def fold(self, *, policy: Policy) -> str:
        words = f"{policy.linesep} ".join(_encoded_words(str(self).encode("utf-8")))
        return f"{self.name}: {words}{policy.linesep}"


def _encoded_words(data: bytes) -> list[str]:
    """``data`` (UTF-8) as RFC 2047 base64 words of at most :data:`_WORD_BYTES` bytes,
    never splitting a character (a continuation byte is 0b10xxxxxx)."""
    words = []
    start = 0
    while start < len(data):
        end = min(start + _WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        words.append(f"=?utf-8?b?{b2a_base64(data[start:end], newline=False).decode('ascii')}?=")
        start = end
    return words


class _Header(str):
    """A header value duban composed (checked, and in its decoded form), with its name.

    Stored as is, like :class:`_Subject`, rather than parsed by the policy; folded on
    output by the policy's header class of that name, once per distinct value.
    """

    def __new__(cls, name: str, value: str) -> _Header:
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: Policy) -> str:
        value = str(self)
        if value.isascii() and len(self.name) + 2 + len(value) <= (policy.max_line_length or len(value) + 80):
            return f"{self.name}: {value}{policy.linesep}"
        return _fold(self.name, value, policy)


@lru_cache(maxsize=4096)
def _fold(name: str, value: str, policy: Policy) -> str:
    return policy.header_factory(name, value).fold(policy=policy)


class _Registry(HeaderRegistry):
    """The standard header classes, each made once.

    ``HeaderRegistry`` builds a new class on every lookup, and setting a header looks
    its class up (for how many of it a message may have): a cost paid for every
    header of every message.
    """

    @cache
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)


POLICY = policy.SMTP.clone(header_factory=_Registry())


def message_id(key: str, domain: str) -> str:
    """The Message-ID of notification ``key``: the same key always gives the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<duban.{digest}@{_ascii_domain(domain)}>"


def one_line(text: str) -> str:
    """``text`` with every run of blanks, control or line-separator characters made a single space."""
    return _BLANKS.sub(" ", text).strip()


def clean_subject(subject: str) -> str:
    """A subject that is one line and at most :data:`MAX_SUBJECT` characters."""
    line = one_line(subject) or "督办通知"
    return line if len(line) <= MAX_SUBJECT else line[: MAX_SUBJECT - 1] + "…"


@lru_cache(maxsize=1024)
def _ascii_domain(domain: str) -> str:
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"the domain {domain!r} is not a valid host name") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"the domain {domain!r} is not a valid host name")
    return ascii_domain


@lru_cache(maxsize=4096)
def _parse(addr: str) -> Address:
    if not isinstance(addr, str) or not addr.strip():
        raise ValueError("the address is empty")
    if _CONTROL.search(addr):
        raise ValueError(f"the address {addr!r} contains a line break or control character")
    try:
        header = policy.SMTP.header_factory("To", addr)
    except Exception:
        raise ValueError(f"{addr!r} is not an e-mail address") from None
    if len(header.addresses) != 1 or header.groups[0].display_name is not None:
        raise ValueError(f"{addr!r} must be exactly one address; list several as separate entries")
    if header.defects:
        raise ValueError(f"{addr!r} is not a valid e-mail address ({header.defects[0]})")
    address = header.addresses[0]
    if not address.username or not address.domain:
        raise ValueError(f"{addr!r} lacks a user name or a domain")
    if not address.username.isascii():
        raise ValueError(f"{addr!r} has a non-ASCII user name, which SMTP servers rarely accept")
    # An internationalized domain travels as its ASCII (punycode) form, in headers and
    # in the SMTP envelope alike; neither may carry raw UTF-8 without SMTPUTF8.
    return Address(address.display_name, address.username, _ascii_domain(address.domain))


def validate_address(addr: str) -> str:
    """Check one address as written in config.toml and return it normalized.

    ``"督查室 <duban@zhangzhou.example>"`` and ``"wjw@zhangzhou.example"`` pass (an
    internationalized domain comes back in its ASCII form, ``a@xn--mxtq1m.cn``);
    anything else raises ValueError with the reason, for the config loader to report.
    """
    return str(_parse(addr))


def build_message(
    rendered: Rendered,
    *,
    sender: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    key: str,
    thread: str | None,
    now: datetime | None = None,
) -> EmailMessage:
    """The message for notification ``key``, threaded under task ``thread`` if given.

    ``now`` stamps the Date header (the local time when omitted).
    """
    if not to:
        raise ValueError(f"notification {key!r} has no recipient")
    from_addr = _parse(sender)
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = _Subject(clean_subject(rendered.subject))
    msg["From"] = _Header("From", str(from_addr))
    msg["To"] = _Header("To", ", ".join(str(_parse(a)) for a in to))
    if cc:
        msg["Cc"] = _Header("Cc", ", ".join(str(_parse(a)) for a in cc))
    msg["Date"] = _Header("Date", _date(now or localtime()))
    msg["Message-ID"] = _Header("Message-ID", message_id(key, from_addr.domain))
    if thread is not None:
        root = message_id(f"thread:{thread}", from_addr.domain)
        msg["In-Reply-To"] = _Header("In-Reply-To", root)
        msg["References"] = _Header("References", root)
    msg["Auto-Submitted"] = _Header("Auto-Submitted", "auto-generated")
    msg["MIME-Version"] = _Header("MIME-Version", "1.0")
    # A boundary from the key makes a rebuilt message byte-identical; base64 never holds "-".
    boundary = f"duban-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}"
    msg["Content-Type"] = _Header("Content-Type", f'multipart/alternative; boundary="{boundary}"')
    msg.set_payload([_text("plain", rendered.text), _text("html", rendered.html)])
    return msg


@lru_cache(maxsize=64)
def _date(now: datetime) -> str:
    """The Date header of a dispatch run, whose messages share its ``now``."""
    return format_datetime(now)


def _text(subtype: str, text: str) -> MIMEPart:
    """A UTF-8 text part in base64, its lines ending in CRLF as the SMTP policy has them."""
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = _Header("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = _Header("Content-Transfer-Encoding", "base64")
    body = b"".join(line + b"\r\n" for line in text.encode("utf-8").splitlines())
    part.set_payload(_base64_lines(body))
    return part


def _base64_lines(data: bytes) -> str:
    """``data`` in base64 lines of 76 characters, each ending in a newline: what
    ``email.base64mime.body_encode`` writes, encoded in one call rather than 57 bytes at a time."""
    encoded = b2a_base64(data, newline=False).decode("ascii")
    return "".join(f"{encoded[i:i + _BASE64_LINE]}\n" for i in range(0, len(encoded), _BASE64_LINE))


def wire_bytes(msg: EmailMessage) -> bytes:
    """``msg.as_bytes(policy=email.policy.SMTP)``, byte for byte, written at once when
    :func:`build_message` made ``msg``.

    The generator asks the policy to fold every header and writes a base64 body a line
    at a time (two writes per 76 characters), a cost paid for every message sent. A
    message of :func:`build_message`'s shape (headers duban composed; text parts under
    one boundary) is written here from its folded headers and its bodies with their
    line ends made CRLF, as the generator would; any other message goes to the generator.
    """
    layout = _layout(msg)
    if layout is None:
        return msg.as_bytes(policy=SMTP)
    head, boundary, parts = layout
    body = f"{CRLF}--{boundary}{CRLF}".join(parts)
    return f"{head}--{boundary}{CRLF}{body}{CRLF}--{boundary}--{CRLF}".encode("ascii")


def _layout(msg: EmailMessage) -> tuple[str, str, list[str]] | None:
    """``msg``'s header block, boundary and parts as the generator writes them; None
    unless it has :func:`build_message`'s shape."""
    payload = msg.get_payload()
    if not isinstance(payload, list) or msg.preamble is not None or msg.epilogue is not None:
        return None
    if msg.get_content_type() != "multipart/alternative":
        return None
    boundary = msg.get_boundary()
    head = _headers(msg)
    parts = [_text_part(part) for part in payload]
    if not boundary or head is None or None in parts:
        return None
    return head, boundary, parts


def _text_part(part: EmailMessage) -> str | None:
    """A text part as the generator writes it (headers, a blank line, its lines ending in
    CRLF); None unless duban composed its headers and its payload is ASCII text."""
    payload = part.get_payload()
    head = _headers(part)
    if head is None or not isinstance(payload, str) or not payload.isascii():
        return None
    if part.get_content_maintype() != "text":
        return None
    return head + _crlf(payload)


def _headers(msg: EmailMessage) -> str | None:
    """The header block as the policy folds it (each value folds itself), then a blank
    line; None unless every header is one duban composed."""
    values = [value for _, value in msg.raw_items()]
    if not all(isinstance(value, (_Header, _Subject)) for value in values):
        return None
    return "".join(value.fold(policy=SMTP) for value in values) + CRLF


def _crlf(text: str) -> str:
    """Every line end of ``text`` (CRLF, CR or LF, as the generator reads them) made CRLF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", CRLF)
