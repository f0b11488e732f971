"""Mail backends: one contract suite for every backend, then what only SMTP can get wrong.

The SMTP cases run against a real aiosmtpd server (tests/smtpserver.py) with AUTH, in
all three security modes.
"""

from __future__ import annotations

import base64
import email
import io
import logging
import re
import smtplib
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage

import pytest

from scheduler.backends import (
    ConsoleBackend,
    FileBackend,
    MailBackend,
    MemoryBackend,
    SMTPBackend,
    make_backend,
)
from scheduler.backends.console import SEPARATOR
from scheduler.backends.smtp import _data_lines, envelope
from scheduler.errors import ConfigError, DeliveryError
from scheduler.mail import build_message
from scheduler.render import KINDS, Rendered, Renderer, sample
from tests.smtpserver import DROP, HANG, PASSWORD, SMTPServer, free_port

SENDER = "督查室 <duban@zhangzhou.example>"
TO = "漳州市卫生健康委员会 <wjw@zhangzhou.example>"
NOW = datetime(2019, 11, 1, 9, 0, tzinfo=timezone.utc)


def message(n: int = 1, to: tuple[str, ...] = (TO,), cc: tuple[str, ...] = ()) -> EmailMessage:
    rendered = Rendered(f"【督办提醒】任务{n} 完善家庭医生签约服务", f"第{n}封正文：还有7天。\n", f"<p>第{n}封</p>")
    return build_message(
        rendered, sender=SENDER, to=to, cc=cc, key=f"reminder:r:task{n}:2019-12-31:wjw",
        thread=f"task{n}", now=NOW,
    )


@dataclass(frozen=True)
class Seen:
    """What a reader of a delivered message sees: its id, subject and text."""

    message_id: str
    subject: str
    text: str


def mid(n: int) -> str:
    return str(message(n)["Message-ID"])


def seen(msg: EmailMessage) -> Seen:
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    return Seen(str(msg["Message-ID"]), str(msg["Subject"]), text)


def from_console(output: str) -> list[Seen]:
    result = []
    for block in output.split(SEPARATOR + "\n")[:-1]:
        head, _, text = block.partition("\n\n")
        headers = dict(line.split(": ", 1) for line in head.splitlines())
        result.append(Seen(headers["Message-ID"], headers["Subject"], text))
    return result


@dataclass
class Case:
    backend: MailBackend
    delivered: Callable[[], list[Seen]]
    server: SMTPServer | None = None


@pytest.fixture(params=["memory", "file", "console", "smtp-none", "smtp-starttls", "smtp-ssl"])
def case(request, tmp_path) -> Iterator[Case]:
    kind = request.param
    if kind == "memory":
        backend = MemoryBackend()
        yield Case(backend, lambda: [seen(m) for m in backend.messages])
    elif kind == "file":
        outbox = tmp_path / "outbox"

        def read() -> list[Seen]:
            return [
                seen(email.message_from_bytes(p.read_bytes(), policy=policy.default))
                for p in sorted(outbox.glob("*.eml"))
            ]

        yield Case(FileBackend(outbox), read)
    elif kind == "console":
        stream = io.StringIO()
        yield Case(ConsoleBackend(stream), lambda: from_console(stream.getvalue()))
    else:
        security = kind.removeprefix("smtp-")
        certificate = request.getfixturevalue("smtp_certificate") if security != "none" else None
        with SMTPServer(security, certificate=certificate) as server:
            backend = SMTPBackend(**server.settings())
            yield Case(backend, lambda: [seen(m) for m in server.messages], server)
            backend.close()


# --- the contract every backend keeps -------------------------------------------------


def test_send_delivers_the_message_as_built(case):
    with case.backend as backend:
        reply = backend.send(message(1))
    assert isinstance(reply, str) and reply
    assert case.delivered() == [seen(message(1))]
    assert case.delivered()[0].subject == "【督办提醒】任务1 完善家庭医生签约服务"
    assert case.delivered()[0].text == "第1封正文：还有7天。\n"


def test_a_batch_goes_through_one_open(case):
    batch = [message(n) for n in range(1, 6)]
    with case.backend as backend:
        replies = [backend.send(m) for m in batch]
    assert len(replies) == 5
    assert sorted(case.delivered(), key=lambda s: s.message_id) == sorted(
        (seen(m) for m in batch), key=lambda s: s.message_id
    )
    if case.server:
        assert case.server.connections == 1


def test_send_without_open_opens_by_itself(case):
    case.backend.send(message(1))
    case.backend.close()
    assert len(case.delivered()) == 1


def test_open_and_close_are_repeatable(case):
    backend = case.backend
    backend.open()
    backend.open()
    backend.send(message(1))
    backend.close()
    backend.close()
    with backend:
        backend.send(message(2))
    assert {s.message_id for s in case.delivered()} == {mid(1), mid(2)}


def test_a_delivery_started_is_completed_by_the_function_returned(case):
    with case.backend as backend:
        replies = []
        for n in (1, 2, 3):
            finish = backend.start(message(n))
            replies.append(finish())
    assert all(isinstance(reply, str) and reply for reply in replies)
    assert sorted(s.message_id for s in case.delivered()) == sorted(mid(n) for n in (1, 2, 3))


def test_a_resend_carries_the_same_message_id(case):
    with case.backend as backend:
        backend.send(message(1))
        backend.send(message(1))
    assert {s.message_id for s in case.delivered()} == {mid(1)}


# --- make_backend ---------------------------------------------------------------------


def test_make_backend_builds_each_by_name(tmp_path):
    assert isinstance(make_backend("file", outbox=tmp_path), FileBackend)
    assert isinstance(make_backend("console"), ConsoleBackend)
    assert isinstance(make_backend("memory"), MemoryBackend)
    smtp = make_backend(
        "smtp", host="smtp.zhangzhou.example", security="starttls", username="u", password="p"
    )
    assert isinstance(smtp, SMTPBackend) and smtp.port == 587


@pytest.mark.parametrize(
    ("name", "settings", "error"),
    [
        ("sendmail", {}, r"mail.backend 'sendmail' is unknown; use one of console, file, memory, smtp"),
        ("file", {}, r"The file mail backend cannot take these settings: missing a required argument: 'outbox'"),
        ("smtp", {"host": "h", "pasword": "x"}, r"unexpected keyword argument 'pasword'"),
        ("smtp", {"host": "h", "security": "tls"}, r"mail.smtp.security must be one of ssl, starttls, none, not 'tls'"),
        ("smtp", {"host": "h", "username": "duban"}, r"The SMTP user 'duban' has no password"),
    ],
)
def test_make_backend_refuses_bad_config(name, settings, error):
    with pytest.raises(ConfigError, match=error):
        make_backend(name, **settings)


# --- file and console -----------------------------------------------------------------


def test_file_backend_overwrites_a_resend_and_leaves_no_temporary_files(tmp_path):
    backend = FileBackend(tmp_path / "outbox")
    first = backend.send(message(1))
    assert backend.send(message(1)) == first
    files = list((tmp_path / "outbox").iterdir())
    assert [p.name for p in files] == [re.sub(r"[<>]", "", mid(1)) + ".eml"]
    assert files[0].read_bytes() == message(1).as_bytes()


def test_a_failed_write_leaves_neither_a_file_nor_a_temporary(tmp_path, monkeypatch):
    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("scheduler.backends.file.os.replace", full_disk)
    outbox = tmp_path / "outbox"
    with pytest.raises(DeliveryError, match="No space left on device") as err:
        FileBackend(outbox).send(message(1))
    assert err.value.permanent is False
    assert list(outbox.iterdir()) == []


def test_file_backend_names_an_unusable_outbox(tmp_path):
    (tmp_path / "taken").write_text("not a directory")
    with pytest.raises(ConfigError, match=r"The mail outbox .*taken cannot be created"):
        FileBackend(tmp_path / "taken").open()


def test_console_backend_prints_readable_chinese(capsys):
    ConsoleBackend().send(message(1))
    out = capsys.readouterr().out
    assert "Subject: 【督办提醒】任务1 完善家庭医生签约服务" in out
    assert "From: 督查室 <duban@zhangzhou.example>" in out
    assert "第1封正文：还有7天。" in out
    assert "Content-Type" not in out and "base64" not in out


def test_envelope_takes_to_and_cc_once_each():
    msg = message(1, to=(TO, "b@zhangzhou.example"), cc=("b@zhangzhou.example", "c@zhangzhou.example"))
    assert envelope(msg) == (
        "duban@zhangzhou.example",
        ["wjw@zhangzhou.example", "b@zhangzhou.example", "c@zhangzhou.example"],
    )


# --- SMTP: failures, told apart -------------------------------------------------------


def test_every_kind_arrives_over_smtp_as_rendered(smtp_server):
    renderer = Renderer()
    sent = {}
    with SMTPBackend(**smtp_server.settings()) as backend:
        for kind in KINDS:
            rendered = renderer.render(kind, sample(kind))
            msg = build_message(rendered, sender=SENDER, to=(TO,), key=f"{kind}:k", thread="t", now=NOW)
            backend.send(msg)
            sent[str(msg["Message-ID"])] = rendered
    for got in smtp_server.messages:
        rendered = sent[str(got["Message-ID"])]
        assert got["Subject"] == rendered.subject
        assert got.get_body(("plain",)).get_content().replace("\r\n", "\n") == rendered.text
        assert got.get_body(("html",)).get_content().replace("\r\n", "\n") == rendered.html
    assert len(smtp_server.messages) == len(KINDS)


def test_an_internationalized_domain_travels_as_punycode(smtp_server):
    msg = build_message(
        Rendered("s", "t", "h"), sender="督查室 <duban@督查.中国>", to=["wjw@政府.cn"], key="k", thread=None
    )
    assert msg.as_bytes().isascii()
    with SMTPBackend(**smtp_server.settings()) as backend:
        backend.send(msg)
    received = smtp_server.envelopes[0]
    assert received.mail_from == "duban@xn--jvvt85a.xn--fiqs8s"
    assert received.rcpt_tos == ("wjw@xn--mxtq1m.cn",)
    assert received.message["To"].addresses[0].domain == "xn--mxtq1m.cn"


def test_a_non_ascii_envelope_is_refused_before_connecting():
    msg = EmailMessage()
    msg["From"], msg["To"] = "duban@zhangzhou.example", "张三@zhangzhou.example"
    with pytest.raises(DeliveryError, match="张三@zhangzhou.example is not ASCII") as err:
        SMTPBackend(host="127.0.0.1", port=free_port(), security="none").send(msg)
    assert err.value.permanent is True


def test_smtp_logs_in(smtp_server):
    with SMTPBackend(**smtp_server.settings()) as backend:
        reply = backend.send(message(1))
    assert reply == "250 2.0.0 Ok: queued as Q1"
    assert smtp_server.envelopes[0].authenticated_as == "duban"
    assert smtp_server.envelopes[0].mail_from == "duban@zhangzhou.example"


def test_wrong_password_is_a_config_error_that_never_shows_the_password(smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Wrong-Pass-91xq"
    backend = SMTPBackend(**smtp_server.settings(password=secret))
    with pytest.raises(ConfigError) as err:
        backend.send(message(1))
    assert str(err.value).startswith(
        f"The SMTP server 127.0.0.1:{smtp_server.port} refused the login of user 'duban': 535"
    )
    for text in (str(err.value), repr(err.value), repr(backend), caplog.text):
        assert secret not in text
    assert PASSWORD not in repr(SMTPBackend(**smtp_server.settings()))
    assert smtp_server.messages == []


def test_a_server_echoing_the_password_is_quoted_without_it():
    backend = SMTPBackend(host="h", username="duban", password="Pw-123456")
    plain = base64.b64encode(b"\0duban\0Pw-123456").decode()
    login = base64.b64encode(b"Pw-123456").decode()
    quoted = backend._reply(535, f"bad Pw-123456 {plain} {login}".encode())
    assert quoted == "535 bad *** *** ***"


def test_missing_login_is_a_config_error(smtp_server):
    backend = SMTPBackend(**smtp_server.settings(username=None, password=None))
    with pytest.raises(ConfigError, match="requires a login; set mail.smtp.username"):
        backend.send(message(1))


def test_non_ascii_password_is_a_config_error_without_the_password(smtp_server):
    backend = SMTPBackend(**smtp_server.settings(password="密码-Secret"))
    with pytest.raises(ConfigError, match="non-ASCII") as err:
        backend.open()
    assert "密码" not in str(err.value)


def test_connection_refused_is_transient():
    backend = SMTPBackend(host="127.0.0.1", port=free_port(), security="none", timeout=2)
    refused = r"Cannot connect to the SMTP server 127.0.0.1:\d+: Connection refused"
    with pytest.raises(DeliveryError, match=refused) as err:
        backend.send(message(1))
    assert err.value.permanent is False


def test_a_silent_server_times_out_as_transient():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        backend = SMTPBackend(host="127.0.0.1", port=port, security="none", timeout=0.3)
        with pytest.raises(DeliveryError, match="timed out") as err:
            backend.open()
    assert err.value.permanent is False


def test_starttls_on_a_server_without_it_is_a_config_error(smtp_server):
    backend = SMTPBackend(**smtp_server.settings(security="starttls"))
    with pytest.raises(ConfigError, match="STARTTLS extension not supported by server"):
        backend.open()


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_an_untrusted_certificate_is_a_config_error(smtp_certificate, security):
    with SMTPServer(security, certificate=smtp_certificate) as server:
        backend = SMTPBackend(**server.settings(ssl_context=None))
        with pytest.raises(ConfigError, match="certificate .* does not verify: self.signed certificate"):
            backend.open()


def test_a_refused_recipient_is_permanent_and_the_batch_goes_on(smtp_server):
    smtp_server.refuse["nobody@zhangzhou.example"] = "550 5.1.1 <nobody@zhangzhou.example>: no such user"
    with SMTPBackend(**smtp_server.settings()) as backend:
        backend.send(message(1))
        with pytest.raises(DeliveryError) as err:
            backend.send(message(2, to=("nobody@zhangzhou.example",)))
        backend.send(message(3))
    assert err.value.permanent is True
    assert "refused every recipient: nobody@zhangzhou.example 550 5.1.1" in str(err.value)
    assert smtp_server.message_ids == [mid(1), mid(3)]
    assert smtp_server.connections == 1


def test_a_partly_refused_message_is_sent_and_the_refusal_recorded(smtp_server):
    smtp_server.refuse["nobody@zhangzhou.example"] = "550 5.1.1 no such user"
    with SMTPBackend(**smtp_server.settings()) as backend:
        reply = backend.send(message(1, to=(TO,), cc=("nobody@zhangzhou.example",)))
    assert reply == "250 2.0.0 Ok: queued as Q1; refused: nobody@zhangzhou.example 550 5.1.1 no such user"
    assert smtp_server.envelopes[0].rcpt_tos == ("wjw@zhangzhou.example",)


def test_every_recipient_refused_with_one_4xx_is_transient(smtp_server):
    smtp_server.refuse["a@zhangzhou.example"] = "550 5.1.1 no such user"
    smtp_server.refuse["b@zhangzhou.example"] = "452 4.2.2 mailbox full"
    with SMTPBackend(**smtp_server.settings()) as backend:
        with pytest.raises(DeliveryError) as err:
            backend.send(message(1, to=("a@zhangzhou.example", "b@zhangzhou.example")))
    assert err.value.permanent is False


@pytest.mark.parametrize(
    ("command", "reply", "permanent"),
    [
        ("DATA", "451 4.3.0 try again later", False),
        ("DATA", "554 5.7.1 message rejected as spam", True),
        ("MAIL", "452 4.3.1 insufficient storage", False),
        ("MAIL", "553 5.7.1 sender not allowed", True),
    ],
)
def test_replies_decide_permanence_and_the_connection_serves_on(
    smtp_server, command, reply, permanent
):
    smtp_server.fail(command, reply)
    with SMTPBackend(**smtp_server.settings()) as backend:
        with pytest.raises(DeliveryError) as err:
            backend.send(message(1))
        backend.send(message(2))
    assert err.value.permanent is permanent
    assert reply in str(err.value)
    assert smtp_server.message_ids == [mid(2)]
    assert smtp_server.connections == 1


def test_a_dropped_idle_connection_is_reopened_once(smtp_server):
    with SMTPBackend(**smtp_server.settings()) as backend:
        backend.send(message(1))
        smtp_server.stop()
        smtp_server.start()
        backend.send(message(2))
    assert smtp_server.message_ids == [mid(1), mid(2)]
    assert smtp_server.connections == 1


def test_a_421_before_data_reconnects(smtp_server):
    smtp_server.fail("MAIL", "421 4.3.2 shutting down")
    with SMTPBackend(**smtp_server.settings()) as backend:
        backend.send(message(1))
    assert len(smtp_server.messages) == 1
    assert smtp_server.connections == 2


def test_a_server_that_drops_twice_fails_transiently(smtp_server):
    smtp_server.fail("MAIL", "421 4.3.2 shutting down")
    smtp_server.fail("MAIL", "421 4.3.2 still shutting down")
    with SMTPBackend(**smtp_server.settings()) as backend:
        with pytest.raises(DeliveryError, match="dropped the connection twice: 421 4.3.2 still") as err:
            backend.send(message(1))
        backend.send(message(2))
    assert err.value.permanent is False
    assert smtp_server.message_ids == [mid(2)]


def test_a_connection_lost_during_data_is_transient_and_not_retried(smtp_server):
    smtp_server.fail("DATA", DROP)
    with SMTPBackend(**smtp_server.settings()) as backend:
        with pytest.raises(DeliveryError, match="may or may not have been accepted") as err:
            backend.send(message(1))
        backend.send(message(2))
    assert err.value.permanent is False
    assert smtp_server.message_ids == [mid(2)]


def test_a_server_silent_after_the_data_times_out_as_in_flight(smtp_server):
    smtp_server.fail("DATA", HANG)
    with SMTPBackend(**smtp_server.settings(timeout=0.5)) as backend:
        with pytest.raises(DeliveryError, match="may or may not have been accepted: .*timed out") as err:
            backend.send(message(1))
        backend.send(message(2))
    assert err.value.permanent is False
    assert smtp_server.message_ids == [mid(2)]
    assert smtp_server.connections == 2


def test_the_verdict_on_the_data_is_read_by_the_function_start_returns(smtp_server):
    """start sends the data and returns; the server's refusal of it, or its silence,
    comes from the function, and the connection serves on."""
    smtp_server.fail("DATA", "554 5.7.1 message rejected as spam")
    with SMTPBackend(**smtp_server.settings()) as backend:
        verdict = backend.start(message(1))
        with pytest.raises(DeliveryError, match="554 5.7.1") as err:
            verdict()
        assert backend.start(message(2))().startswith("250")
    assert err.value.permanent is True
    assert smtp_server.message_ids == [mid(2)]
    smtp_server.fail("DATA", HANG)
    with SMTPBackend(**smtp_server.settings(timeout=0.5)) as backend:
        verdict = backend.start(message(3))
        with pytest.raises(DeliveryError, match="may or may not have been accepted"):
            verdict()


def test_envelope_addresses_go_out_as_smtplib_would_quote_them():
    """The backend writes MAIL FROM:<a> and RCPT TO:<a> itself, without parsing the
    addresses again; smtplib's quoteaddr would write the same."""
    msg = message(1, to=("漳州市卫生健康委员会 <wjw@zhangzhou.example>", "b.c+d@zhangzhou.example"), cc=("c@政府.cn",))
    sender, rcpts = envelope(msg)
    assert [smtplib.quoteaddr(a) for a in (sender, *rcpts)] == [f"<{a}>" for a in (sender, *rcpts)]


@pytest.mark.parametrize(
    ("data", "sent"),
    [
        (b"a\r\n.b\r\n..c\r\n", b"a\r\n..b\r\n...c\r\n.\r\n"),
        (b"x\r\n.\r\ny\r\n", b"x\r\n..\r\ny\r\n.\r\n"),
        (b"no line end", b"no line end\r\n.\r\n"),
        (b"", b"\r\n.\r\n"),
    ],
)
def test_data_lines_are_dot_stuffed_and_closed_as_smtplib_sends_them(data, sent):
    assert _data_lines(data) == sent


def test_an_outage_fails_transiently_then_recovers(smtp_server):
    backend = SMTPBackend(**smtp_server.settings())
    backend.send(message(1))
    smtp_server.stop()
    with pytest.raises(DeliveryError, match="Connection refused") as err:
        backend.send(message(2))
    assert err.value.permanent is False
    smtp_server.start()
    backend.send(message(2))
    backend.close()
    assert smtp_server.message_ids == [mid(1), mid(2)]
