"""Rendering: every kind says every fact in Chinese, HTML is escaped, errors name template and line."""

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from scheduler.errors import TemplateError
from scheduler.render import KINDS, Renderer, cn_date, days_phrase, role_name, sample


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def test_default_templates_pass_check(renderer):
    renderer.check()


@pytest.mark.parametrize(
    ("days", "phrase"),
    [(7, "还有7天"), (1, "还有1天"), (0, "今日到期"), (-1, "已逾期1天"), (-30, "已逾期30天"), (None, "无明确时限")],
)
def test_days_phrase(days, phrase):
    assert days_phrase(days) == phrase


@pytest.mark.parametrize(
    ("role", "name"), [("lead", "牵头"), ("support", "配合"), ("responsible", "责任"), (None, "责任")]
)
def test_role_name(role, name):
    assert role_name(role) == name


def test_cn_date():
    assert cn_date(date(2019, 11, 1)) == "2019年11月1日"


@pytest.mark.parametrize(
    ("kind", "subject_mark", "headline"),
    [
        ("reminder", "【督办提醒】", "将于2019年12月31日到期，还有7天"),
        ("due", "【今日到期】", "今日（2019年12月31日）到期"),
        ("overdue", "【逾期催办】", "目前已逾期3天"),
        ("escalation", "【逾期督办】", "请督促责任单位落实"),
    ],
)
def test_task_notice_says_everything(renderer, kind, subject_mark, headline):
    notice = sample(kind)
    out = renderer.render(kind, notice)
    assert out.subject.startswith(subject_mark)
    assert "二.(三) 完善家庭医生签约服务" in out.subject
    assert "\n" not in out.subject
    for body in (out.text, out.html):
        assert headline in body
        assert "漳州市推进家庭医生签约服务实施方案" in body
        assert "漳政办〔2018〕98号" in body
        assert "2019年底前" in body and "2019年12月31日" in body
        assert "漳州市财政局（配合）" in body
        assert "漳政办〔2018〕98号#二.(三)" in body
    if notice.role:
        assert "本单位职责：牵头" in out.text


def test_escalation_names_the_responsible_agencies_and_no_own_role(renderer):
    out = renderer.render("escalation", sample("escalation"))
    assert out.text.startswith("漳州市人民政府督查室：")
    assert "责任单位：漳州市卫生健康委员会（牵头）、漳州市财政局（配合）" in out.text
    assert "本单位职责" not in out.text and "本单位职责" not in out.html


def test_no_other_agencies_says_none(renderer):
    out = renderer.render("reminder", replace(sample("reminder"), others=()))
    assert "其他相关单位：无" in out.text


def test_day_precision_has_no_period_note(renderer):
    out = renderer.render("due", replace(sample("due"), precision="day", deadline_text="2019年12月31日前"))
    assert "最后一日" not in out.text
    assert "按所述期限的最后一日计" in renderer.render("due", sample("due")).text


def test_html_is_escaped_and_text_is_not(renderer):
    notice = replace(sample("reminder"), task_title="<script>alert(1)</script>", task_text="A & B")
    out = renderer.render("reminder", notice)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "A &amp; B" in out.html
    assert "<script>alert(1)</script>" in out.text and "A & B" in out.text


def test_digest_groups_by_document_with_sections(renderer):
    out = renderer.render("digest", sample("digest"))
    assert out.subject == "【督办汇总】漳州市卫生健康委员会 2019年11月1日：逾期1项，30天内到期1项"
    for body in (out.text, out.html):
        for heading in ("逾期未办结（1项）", "即将到期（1项）", "无明确时限、长期推进或已开始（1项）", "近期已办结（1项）"):
            assert heading in body
        assert "已于2019年10月20日办结" in body
        assert "已逾期32天" in body
    order = [out.text.index(h) for h in ("逾期未办结（", "即将到期（", "无明确时限、", "近期已办结（")]
    assert order == sorted(order)


def test_empty_digest_says_so(renderer):
    out = renderer.render("digest", replace(sample("digest"), sections=()))
    assert "目前没有需要提醒的任务" in out.text
    assert "逾期0项" in out.subject


def test_override_replaces_one_part(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("{{ agency }}，请办理 {{ task_number }}。\n", encoding="utf-8")
    out = Renderer({"reminder.txt.j2": path}).render("reminder", sample("reminder"))
    assert out.text == "漳州市卫生健康委员会，请办理 二.(三)。\n"
    assert out.subject.startswith("【督办提醒】")


def test_override_of_html_is_still_escaped(tmp_path):
    path = tmp_path / "mine.html"
    path.write_text("<p>{{ task_title }}</p>", encoding="utf-8")
    out = Renderer({"reminder.html.j2": path}).render(
        "reminder", replace(sample("reminder"), task_title="a<b")
    )
    assert out.html == "<p>a&lt;b</p>"


def test_syntax_error_names_template_and_line(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_text("第一行\n第二行\n{% if agency %}\n没有结束\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"'overdue.txt.j2' \(.*broken.txt\) has a syntax error at line \d"):
        Renderer({"overdue.txt.j2": path}).check()


def test_undefined_name_names_template_and_line(tmp_path):
    path = tmp_path / "typo.html"
    path.write_text("<p>{{ agency }}</p>\n<p>{{ agencyy }}</p>\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"'digest.html.j2' .* fails at line 2: 'agencyy' is undefined"):
        Renderer({"digest.html.j2": path}).check()


def test_error_in_shared_part_names_it(tmp_path):
    path = tmp_path / "notice.txt"
    path.write_text("{{ agency }}\n{{ task_titel }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"_notice.txt.j2.* line 2"):
        Renderer({"_notice.txt.j2": path}).render("reminder", sample("reminder"))


def test_unknown_filter_is_a_syntax_error_with_line(tmp_path):
    path = tmp_path / "filter.txt"
    path.write_text("{{ agency }}\n{{ due|chinese }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"'due.txt.j2' .* syntax error at line 2: No filter named 'chinese'"):
        Renderer({"due.txt.j2": path}).check()


def test_broken_shared_part_is_named_when_a_kind_extends_it(tmp_path):
    path = tmp_path / "notice.html"
    path.write_text("<p>\n{% for x in others %}\n</p>\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"'_notice.html.j2' \(.*notice.html\) has a syntax error at line \d"):
        Renderer({"_notice.html.j2": path}).render("overdue", sample("overdue"))


def test_extending_a_missing_template_is_named(tmp_path):
    path = tmp_path / "base.txt"
    path.write_text('{% extends "house.txt.j2" %}\n', encoding="utf-8")
    with pytest.raises(TemplateError, match=r"Template 'house.txt.j2' is missing \(needed by 'reminder.txt.j2'\)"):
        Renderer({"reminder.txt.j2": path}).check()


def test_missing_override_file_is_named(tmp_path):
    with pytest.raises(TemplateError, match=r"'due.subject.j2' cannot be read from .*nowhere.j2"):
        Renderer({"due.subject.j2": tmp_path / "nowhere.j2"}).check()


def test_unknown_override_name_is_refused(tmp_path):
    with pytest.raises(TemplateError, match=r"'remind.txt.j2' names no template"):
        Renderer({"remind.txt.j2": tmp_path / "x"})


def test_unknown_kind_is_refused(renderer):
    with pytest.raises(TemplateError, match="'weekly'"):
        renderer.render("weekly", sample("digest"))


def test_every_kind_has_three_parts():
    names = set(Renderer.template_names())
    for kind in KINDS:
        assert {f"{kind}.subject.j2", f"{kind}.txt.j2", f"{kind}.html.j2"} <= names
