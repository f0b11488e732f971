"""Building messages: encoding, threading, stable ids and header safety."""

import base64
import email
import sys
import unicodedata
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler import mail
from scheduler.mail import MAX_SUBJECT, build_message, clean_subject, message_id, one_line, validate_address, wire_bytes
from scheduler.render import Rendered

SENDER = "督查室 <duban@zhangzhou.example>"
NOW = datetime(2019, 11, 1, 9, 0, tzinfo=timezone.utc)
RENDERED = Rendered("【督办提醒】二.(三) 完善家庭医生签约服务", "文本正文\n第二行\n", "<p>网页正文</p>")


def build(rendered=RENDERED, **kw):
    args = dict(
        sender=SENDER,
        to=["漳州市卫生健康委员会 <wjw@zhangzhou.example>"],
        key="reminder:r:k:2019-12-31:a",
        thread="k",
        now=NOW,
    )
    args.update(kw)
    return build_message(rendered, **args)


def reparse(msg):
    """What a recipient's client sees: the bytes on the wire, parsed again."""
    return email.message_from_bytes(msg.as_bytes(), policy=policy.default)


def test_round_trip_keeps_chinese_subject_names_and_bodies():
    got = reparse(build(cc=["财政局 <czj@zhangzhou.example>"]))
    assert got["Subject"] == RENDERED.subject
    assert got["From"].addresses[0].display_name == "督查室"
    assert got["To"].addresses[0].display_name == "漳州市卫生健康委员会"
    assert got["Cc"].addresses[0].addr_spec == "czj@zhangzhou.example"
    assert got.get_body(("plain",)).get_content().replace("\r\n", "\n") == RENDERED.text
    assert got.get_body(("html",)).get_content().strip() == RENDERED.html
    assert got.get_content_type() == "multipart/alternative"
    assert got["Auto-Submitted"] == "auto-generated"
    assert got["Date"].datetime == NOW


def test_wire_format_is_ascii_with_short_lines():
    raw = build(rendered=Rendered("很长的主题" * 20, "正文" * 500, "<p>" + "网页" * 500 + "</p>")).as_bytes()
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert b"=?utf-8?" in raw


def test_message_id_is_stable_per_key_and_differs_between_keys():
    assert message_id("k1", "zhangzhou.example") == message_id("k1", "zhangzhou.example")
    assert message_id("k1", "zhangzhou.example") != message_id("k2", "zhangzhou.example")
    assert message_id("k1", "zhangzhou.example").endswith("@zhangzhou.example>")
    assert build()["Message-ID"] == build(now=datetime(2020, 1, 1, tzinfo=timezone.utc))["Message-ID"]
    assert build()["Message-ID"] == message_id("reminder:r:k:2019-12-31:a", "zhangzhou.example")


def test_messages_of_one_task_thread_under_one_root():
    first = build(key="reminder:r:k:2019-12-31:a")
    second = build(key="overdue:r:k:2019-12-31:a")
    other = build(key="reminder:r:k2:2019-12-31:a", thread="k2")
    assert first["References"] == second["References"] == first["In-Reply-To"]
    assert first["References"] != other["References"]
    assert first["Message-ID"] != second["Message-ID"]


def test_digest_has_no_thread_headers():
    msg = build(key="digest:weekly:a:2019-W44", thread=None)
    assert msg["References"] is None and msg["In-Reply-To"] is None


@pytest.mark.parametrize(
    "subject",
    [
        "标题\r\nBcc: victim@evil.example",
        "标题\nX-Injected: yes",
        "标题\rX-Injected: yes",
        "标题\u2028X-Injected: yes",
        "标题\x00\x1b[31m",
    ],
)
def test_document_text_cannot_inject_headers(subject):
    msg = build(rendered=Rendered(subject, "t", "h"))
    got = reparse(msg)
    assert got["Bcc"] is None and got["X-Injected"] is None
    assert "\n" not in got["Subject"] and "\r" not in got["Subject"]
    assert got["Subject"].startswith("标题 ")


def test_ascii_that_looks_encoded_stays_literal():
    subject = "=?utf-8?b?5YGH?= notice"
    assert reparse(build(rendered=Rendered(subject, "t", "h")))["Subject"] == subject


def test_overlong_subject_is_cut():
    assert len(clean_subject("督" * 500)) == MAX_SUBJECT
    assert clean_subject("督" * 500).endswith("…")
    assert clean_subject("  短  标题 ") == "短 标题"
    assert clean_subject("\r\n") == "督办通知"


def test_build_refuses_no_recipient_and_bad_addresses():
    with pytest.raises(ValueError, match="no recipient"):
        build(to=[])
    with pytest.raises(ValueError, match="wjw@"):
        build(to=["wjw@"])


@pytest.mark.parametrize(
    ("addr", "normalized"),
    [
        ("wjw@zhangzhou.example", "wjw@zhangzhou.example"),
        ("督查室 <duban@zhangzhou.example>", "督查室 <duban@zhangzhou.example>"),
        ("<wjw@zhangzhou.example>", "wjw@zhangzhou.example"),
        ('"督查室" <duban@zhangzhou.example>', "督查室 <duban@zhangzhou.example>"),
        ("a@政府.cn", "a@xn--mxtq1m.cn"),
        ("政府 <a@政府.cn>", "政府 <a@xn--mxtq1m.cn>"),
    ],
)
def test_valid_addresses(addr, normalized):
    assert validate_address(addr) == normalized


@pytest.mark.parametrize(
    ("addr", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("wjw", "not a valid e-mail address"),
        ("wjw@", "not an e-mail address"),
        ("wjw@zhangzhou", "not a valid host name"),
        ("wjw@zhang_zhou.example", "not a valid host name"),
        ("wjw@-zz.example", "not a valid host name"),
        ("a@@b.example", "not a valid e-mail address"),
        ("a b@zz.example", "not a valid e-mail address"),
        ("<wjw@zz.example", "not a valid e-mail address"),
        ("a@zz.example, b@zz.example", "exactly one address"),
        ("组: a@zz.example;", "exactly one address"),
        ("张三@zz.example", "non-ASCII"),
        ("wjw@zz.example\r\nBcc: x@evil.example", "line break"),
    ],
)
def test_invalid_addresses_say_why(addr, reason):
    with pytest.raises(ValueError, match=reason):
        validate_address(addr)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_any_subject_text_becomes_one_safe_header(subject):
    """Spaces survive folding too (CPython's folder alone drops some, gh-144156)."""
    msg = build(rendered=Rendered(subject, "t", "h"))
    raw = msg.as_bytes()
    assert raw.isascii()
    got = reparse(msg)
    assert got["Subject"] == clean_subject(subject)
    assert sorted(got.keys()) == sorted(msg.keys())


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.from_regex(r"[^\n]{0,20}<?[a-z.]{0,8}@[a-z.\-_]{0,12}>?", fullmatch=True),
    )
)
def test_any_text_is_either_refused_with_a_reason_or_a_usable_address(text):
    try:
        normalized = validate_address(text)
    except ValueError as exc:
        assert str(exc)
        return
    header = policy.SMTP.header_factory("To", normalized)
    assert len(header.addresses) == 1 and not header.defects
    assert validate_address(normalized) == normalized


def test_a_space_at_a_fold_between_encoded_words_survives():
    subject = "0000 000¡¡¡𐀀𐀀𐀀𐀀𐀀𐀀𐀀 ¡"  # the case hypothesis found against the stock folder
    assert reparse(build(rendered=Rendered(subject, "t", "h")))["Subject"] == subject


@settings(max_examples=150, deadline=None)
@given(
    subject=st.text(max_size=200),
    text=st.text(max_size=400),
    html=st.text(max_size=400),
    cc=st.lists(st.sampled_from(["财政局 <czj@zhangzhou.example>", "b@x.example", "甲 乙 <c@政府.cn>"]), max_size=3),
)
def test_wire_bytes_are_what_the_generator_writes(subject, text, html, cc):
    msg = build(rendered=Rendered(subject, text, html), cc=cc)
    assert wire_bytes(msg) == msg.as_bytes(policy=policy.SMTP)


def test_wire_bytes_of_a_changed_or_foreign_message_come_from_the_generator():
    changed = build()
    changed.replace_header("Subject", "changed by hand")
    changed.get_payload()[0].set_payload("a\rb\nc\r\n")
    assert wire_bytes(changed) == changed.as_bytes(policy=policy.SMTP)
    assert b"changed by hand" in wire_bytes(changed)
    foreign = EmailMessage()
    foreign["Subject"] = "plain"
    foreign.set_content("body\n")
    foreign.add_alternative("<p>body</p>", subtype="html")
    assert wire_bytes(foreign) == foreign.as_bytes(policy=policy.SMTP)


def test_subject_words_hold_whole_characters_and_fit_the_line():
    subject = "督" * 13 + "a" + "😀" * 30
    raw = build(rendered=Rendered(subject, "t", "h")).as_bytes()
    lines = raw.split(b"\r\n")
    subject_lines = lines[: next(i for i, line in enumerate(lines[1:], 1) if not line.startswith(b" "))]
    assert all(len(line) <= 78 for line in subject_lines)
    assert all(len(word) <= 75 for line in subject_lines for word in line.split() if word.startswith(b"=?"))
    for word in (w for line in subject_lines for w in line.split() if w.startswith(b"=?")):
        base64.b64decode(word[10:-2]).decode("utf-8")  # each word decodes alone
    assert reparse(build(rendered=Rendered(subject, "t", "h")))["Subject"] == subject


def test_control_characters_are_exactly_unicode_cc_zl_zp():
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    controls = {ch for ch in everything if unicodedata.category(ch) in ("Cc", "Zl", "Zp")}
    assert set(mail._CONTROL.findall(everything)) == controls
    assert {ch for ch in controls if one_line(f"a{ch}b") == "a b"} == controls
    assert one_line("a\u3000b") == "a b"  # an ideographic space is a blank, not a control
    assert one_line("a\u200bb") == "a\u200bb"  # a zero-width space (Cf) stays
