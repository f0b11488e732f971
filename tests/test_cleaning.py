"""Cleaning: scraped text made into lines, web chrome dropped, damage repaired (X1–X6)."""

import pytest

from scheduler.cleaning import clean_lines


def test_clean_lines_drops_chrome_and_repairs_damage():
    raw = (
        "加盟电话:152-6623-5191\\n\\t　　一、任务\n"
        "(一)做事。責(zé)任單位:市卫健委\n"
        "|\n— 3 —\n"
        "重许昌市人民政府文件许政〔2020〕21号大工作\n"
        "完成时间:20176月\n"
        "扫一扫在手机上查看当前页面\n相关解读\n"
    )
    assert clean_lines(raw) == ["一、任务", "(一)做事。責任單位:市卫健委", "重大工作", "完成时间:2017年6月"]


def test_page_footer_ends_the_text():
    assert clean_lines("一、任务\n(一)甲\n【打印本页】【关闭窗口】\n版权所有 © 2023 某市人民政府\n2023年\n") == ["一、任务", "(一)甲"]


def test_one_character_markers_are_written_out():
    assert clean_lines("㈠加强\n⑴做\n⒈做\n（三）做") == ["(一)加强", "(1)做", "1.做", "(三)做"]


def test_mojibake_item_marker_is_realigned():
    assert clean_lines("一、任务\n?。ㄒ唬┚o扣\n") == ["一、任务", "(一)緊扣"]


@pytest.mark.parametrize(
    ("line", "dropped"),
    [
        ("首页 > 政务公开 > 政策文件", True),
        ("【收藏】", True),
        ("1亿VIP精品文档", True),
        ("Baidu", True),
        ("Baidu地图是一个网站", False),  # a whole-line word, not a line start
        ("字体:[大 中 小]", True),
        ("(一)字体规范。做好公文字体规范工作。", False),
    ],
)
def test_web_chrome_lines_from_the_wording_file(line, dropped):
    assert (clean_lines(f"一、任务\n{line}\n二、保障") == ["一、任务", "二、保障"]) == dropped


@pytest.mark.parametrize("footer", ["网站地图", "京ICP备05070218号", "下一篇:关于某事的通知"])
def test_the_text_ends_at_a_footer_line(footer):
    assert clean_lines(f"一、任务\n(一)甲\n{footer}\n(二)乙") == ["一、任务", "(一)甲"]
