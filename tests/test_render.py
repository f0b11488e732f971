"""Rendering: every kind says every fact in Chinese, HTML is escaped, errors name template and line."""

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from scheduler.errors import TemplateError
from scheduler.render import (
    Rendered,
    Renderer,
    cn_date,
    days_phrase,
    role_name,
    role_verb,
    sample,
    with_roles,
)


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


@pytest.mark.parametrize(
    ("role", "verb"), [("lead", "牵头"), ("support", "配合"), ("responsible", "负责"), (None, "承担")]
)
def test_role_verb(role, verb):
    assert role_verb(role) == verb


def test_headline_says_what_the_agency_does(renderer):
    out = renderer.render("overdue", replace(sample("overdue"), role="responsible"))
    assert "您单位负责的以下任务" in out.text and "本单位职责：责任" in out.text


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


REMINDER_TEXT = """漳州市卫生健康委员会：

您单位牵头的以下任务将于2019年12月31日到期，还有7天，请抓紧推进落实。

文件：漳州市推进家庭医生签约服务实施方案（漳政办〔2018〕98号）
任务：二.(三) 完善家庭医生签约服务
内容：到2019年底,家庭医生签约服务覆盖率达到35%以上。
时限：2019年底前（2019年12月31日，按所述期限的最后一日计），还有7天
本单位职责：牵头
其他相关单位：漳州市财政局（配合）、漳州市人力资源和社会保障局（配合）

办结后请运行以下命令标记完成，或告知督查室代为登记：
    duban done "漳政办〔2018〕98号#二.(三)"

——
本邮件由督办系统自动发送。
"""


def test_reminder_text_reads_as_written(renderer):
    assert renderer.render("reminder", sample("reminder")).text == REMINDER_TEXT


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


def test_an_undated_line_shows_its_phrase_only(renderer):
    out = renderer.render("digest", sample("digest"))
    assert "    配合｜持续推进\n" in out.text
    assert "无明确时限" not in out.text.replace("无明确时限、长期推进", "")


def test_a_completed_line_without_a_date_says_done(renderer):
    digest = sample("digest")
    line = replace(digest.sections[0].completed[0], done_at=None)
    section = replace(digest.sections[0], completed=(line,))
    out = renderer.render("digest", replace(digest, sections=(section,)))
    assert "｜已办结" in out.text and "<td>已办结</td>" in out.html


def test_empty_digest_says_so(renderer):
    out = renderer.render("digest", replace(sample("digest"), sections=()))
    assert "目前没有需要提醒的任务" in out.text
    assert "逾期0项" in out.subject


def write(tmp_path, name: str, source: str):
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return path


MINE = """{% extends "_message.j2" %}
{% block subject %}请办理 {{ task_number }}{% endblock %}
{% block text %}{{ agency }}，请办理 {{ task_number }}。
{% endblock %}
{% block html %}<p>{{ task_title }}</p>{% endblock %}
"""


def test_override_replaces_a_whole_message(tmp_path):
    renderer = Renderer({"reminder": write(tmp_path, "mine.j2", MINE)})
    renderer.check()
    out = renderer.render("reminder", replace(sample("reminder"), task_title="a<b"))
    assert out == Rendered("请办理 二.(三)", "漳州市卫生健康委员会，请办理 二.(三)。\n", "<p>a&lt;b</p>")
    assert renderer.render("due", sample("due")).subject.startswith("【今日到期】")


def test_override_may_extend_the_shared_notice(tmp_path):
    source = '{% extends "_notice.j2" %}\n{% block subject %}【提醒】{{ task_title }}{% endblock %}\n'
    source += "{% block headline %}请在{{ due|cn_date }}前完成。{% endblock %}\n"
    out = Renderer({"reminder": write(tmp_path, "short.j2", source)}).render("reminder", sample("reminder"))
    assert out.subject == "【提醒】完善家庭医生签约服务"
    assert "请在2019年12月31日前完成。" in out.text and "请在2019年12月31日前完成。" in out.html
    assert "漳政办〔2018〕98号" in out.text


def test_a_rule_may_name_a_new_template(tmp_path):
    renderer = Renderer({"urgent": write(tmp_path, "urgent.j2", MINE)})
    renderer.check({"urgent": "reminder"})
    assert renderer.render("urgent", sample("reminder")).subject == "请办理 二.(三)"


def test_a_template_without_the_three_blocks_is_refused(tmp_path):
    path = write(tmp_path, "flat.j2", "{{ agency }}，请办理。\n")
    with pytest.raises(TemplateError, match=r"'due' \(.*flat.j2\) fills no 'html' block; .* extends \"_message.j2\""):
        Renderer({"due": path}).check()


def test_syntax_error_names_template_and_line(tmp_path):
    path = write(tmp_path, "broken.j2", "第一行\n第二行\n{% if agency %}\n没有结束\n")
    with pytest.raises(TemplateError, match=r"'overdue' \(.*broken.j2\) has a syntax error at line \d"):
        Renderer({"overdue": path}).check()


def test_undefined_name_names_template_and_line(tmp_path):
    path = write(tmp_path, "typo.j2", MINE.replace("<p>{{ task_title }}</p>", "<p>\n{{ agencyy }}</p>"))
    with pytest.raises(TemplateError, match=r"'escalation' \(.*typo.j2\) fails at line 6: 'agencyy' is undefined"):
        Renderer({"escalation": path}).check()


def test_the_other_agencies_are_listed_with_their_roles_in_text_and_escaped_in_html(renderer):
    assert with_roles([("漳州市财政局", "support"), ("A&B", None)]) == "漳州市财政局（配合）、A&B（责任）"
    assert with_roles([]) == "无"
    out = renderer.render("due", replace(sample("due"), others=(("A&B", "lead"),)))
    assert "其他相关单位：A&B（牵头）\n\n办结后" in out.text
    assert "<td>A&amp;B（牵头）</td>" in out.html


def test_an_error_in_the_text_block_names_its_line(tmp_path):
    """The text is rendered from the subject's context, block by block: still the template's line."""
    path = write(tmp_path, "text.j2", MINE.replace("{{ agency }}，", "\n\n{{ 1 // 0 }}"))
    with pytest.raises(TemplateError, match=r"'due' \(.*text.j2\) fails at line 5: integer division or modulo by zero"):
        Renderer({"due": path}).check()


def test_unknown_filter_is_a_syntax_error_with_line(tmp_path):
    path = write(tmp_path, "filter.j2", MINE.replace("{{ agency }}", "{{ due|chinese }}"))
    with pytest.raises(TemplateError, match=r"'due' .* syntax error at line 3: No filter named 'chinese'"):
        Renderer({"due": path}).check()


def test_a_digest_template_rendered_with_a_notice_names_the_missing_field(renderer):
    with pytest.raises(TemplateError, match=r"'digest.j2' fails at line \d+: 'as_of' is undefined"):
        renderer.render("digest", sample("reminder"))


def test_extending_a_missing_template_is_named(tmp_path):
    path = write(tmp_path, "base.j2", '{% extends "house.j2" %}\n')
    with pytest.raises(TemplateError, match=r"Template 'house.j2' is missing \(needed by 'reminder' \("):
        Renderer({"reminder": path}).check()


def test_missing_override_file_is_named(tmp_path):
    with pytest.raises(TemplateError, match=r"'due' cannot be read from .*nowhere.j2"):
        Renderer({"due": tmp_path / "nowhere.j2"}).check()


def test_bad_override_name_is_refused(tmp_path):
    with pytest.raises(TemplateError, match=r"'../reminder' is not a template name"):
        Renderer({"../reminder": tmp_path / "x"})


def test_unknown_template_is_refused(renderer):
    with pytest.raises(TemplateError, match=r"No message template is called 'weekly' \(no weekly.j2 in"):
        renderer.render("weekly", sample("digest"))


def test_a_rule_naming_a_missing_template_fails_the_check(renderer):
    with pytest.raises(TemplateError, match="No message template is called 'urgent'"):
        renderer.check({"urgent": "reminder"})
