"""Rows of an attachment table linked to the body tasks they restate, only when the table restates the body."""

from scheduler.model import AgencyRef, Task
from scheduler.outline import Row
from scheduler.restatement import restatements

TASKS = [
    Task("k#1", "1", "建设平台", "建设全市统一的政务数据共享平台,实现部门数据互通。", (AgencyRef("市大数据局", "lead"),)),
    Task("k#2", "2", "培训教师", "开展中小学教师数字素养全员培训。", (AgencyRef("市教育局", "lead"),)),
]
LEAD = (AgencyRef("市大数据局", "lead"),)


def row(number: str, task: str) -> Row:
    return Row(number, {"task": (task,), "lead": ("市大数据局",)}, 0)


def test_a_table_restating_the_body_links_its_rows():
    rows = [row("1", "建设全市统一的政务数据共享平台"), row("2", "开展中小学教师数字素养培训")]
    assert [t.key if t else None for t in restatements(rows, [LEAD, ()], TASKS)] == ["k#1", "k#2"]


def test_a_table_of_new_tasks_keeps_its_rows_even_when_one_shares_words():
    rows = [row("1", "建设全市统一的政务数据共享平台"), row("2", "整治城区河道黑臭水体"), row("3", "新建公共停车泊位")]
    assert restatements(rows, [LEAD, (), ()], TASKS) == [None, None, None]


def test_without_body_tasks_nothing_is_linked():
    assert restatements([row("1", "建设平台")], [LEAD], []) == [None]
