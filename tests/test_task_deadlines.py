"""Which time phrases bind a task: citations, baselines, starts and notice-level reports set apart."""

from datetime import date

import pytest

from scheduler.task_deadlines import notice_obligations, task_deadlines

BASE = date(2020, 3, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020年底前完成。", [("2020年底前", date(2020, 12, 31))]),
        # D17: years of a cited title or 文号 are no deadlines
        ("根据《某市2016—2020年规划》和某政〔2019〕3号文件,2021年6月底前完成。", [("2021年6月底前", date(2021, 6, 30))]),
        # D17: a baseline year, and a start
        ("比2015年下降10%,2018年起实施。", []),
        # D18: a report to the issuer binds only an item with its own agency (notices=True)
        ("各地于2020年6月底前将方案报市政府。", []),
        # relative phrases count from the base
        ("年底前完成。", [("年底前", date(2020, 12, 31))]),
    ],
)
def test_task_deadlines(text, expected):
    found = task_deadlines(text, BASE)
    assert [(d.text, d.date) for d in found] == expected
    assert all(text[d.start : d.end] == d.text for d in found)


def test_a_report_date_binds_when_asked():
    found = task_deadlines("于2020年6月底前报市政府审定。", BASE, notices=True)
    assert [(d.text, d.date) for d in found] == [("于2020年6月底前", date(2020, 6, 30))]


def test_recurring_obligations_bind():
    assert [d.kind for d in task_deadlines("每季度开展一次检查。", BASE)] == ["recurring"]


def test_notice_obligations_as_written():
    assert notice_obligations("各地于2021年3月1日前将方案报市卫健委。每季度末向市政府报送进展。") == [
        "于2021年3月1日前将方案报", "每季度末向市政府报送",
    ]
