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
short ASCII already in its wire form.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.header import Header
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.base64mime import body_encode
from email.message import EmailMessage, MIMEPart
from email.policy import Policy
from functools import cache, lru_cache
from email.utils import format_datetime, localtime

from scheduler.render import Rendered

# A subject longer than this is cut with an ellipsis; mail clients show ~80 columns.
MAX_SUBJECT = 120
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class _Subject(str):
    """A Subject header that keeps every space when folded.

    The policy's own folder drops a space that falls at a line break between two
    encoded words (CPython gh-144156), so a long Chinese subject could lose one;
    ``email.header.Header`` encodes spaces inside the words instead. A value with a
    ``name`` and a ``fold`` method is stored and folded as is (email.policy.EmailPolicy).
    """

    name = "Subject"

    def fold(self, *, policy: Policy) -> str:
        # Always encoded, so even ASCII text that looks like an encoded word stays text.
        encoded = Header(str(self), "utf-8", header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


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


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def one_line(text: str) -> str:
    """``text`` with every control or line-separator character made a single space."""
    cleaned = "".join(" " if _is_control(ch) else ch for ch in text)
    return re.sub(r"\s+", " ", cleaned).strip()


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
    if any(_is_control(ch) for ch in addr):
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
    msg["Date"] = _Header("Date", format_datetime(now or localtime()))
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


def _text(subtype: str, text: str) -> MIMEPart:
    """A UTF-8 text part in base64, its lines ending in CRLF as the SMTP policy has them."""
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = _Header("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = _Header("Content-Transfer-Encoding", "base64")
    body = b"".join(line + b"\r\n" for line in text.encode("utf-8").splitlines())
    part.set_payload(body_encode(body))
    return part
