"""Extraction: responsibility forms (R1–R17), metadata and task rules, on small literal plans."""

from datetime import date

import pytest

from scheduler.extract import extract, jurisdiction, parse_date_line, parse_responsibility

L, S, R = "lead", "support", "responsible"

RESPONSIBILITY = [
    # R3: labelled bracket, lead and others
    ("牵头单位:区卫计局,相关责任单位:区编委办、区发改局", [("区卫计局", L), ("区编委办", S), ("区发改局", S)]),
    ("牵头单位:A局;责任单位:B局,C局", [("A局", L), ("B局", S), ("C局", S)]),
    ("牵头单位:市卫健委,配合单位:市财政局、医保局,市直有关部门", [("市卫健委", L), ("市财政局", S), ("市医保局", S), ("市直有关部门", S)]),
    # R4: lead only
    ("牵头单位:区卫计局", [("区卫计局", L)]),
    # R5: verb bracket
    ("市卫生计生委牵头;市科技局、人力资源社会保障局配合", [("市卫生计生委", L), ("市科技局", S), ("市人力资源社会保障局", S)]),
    ("市财政局牵头,市直有关部门、各县市区人民政府配合", [("市财政局", L), ("市直有关部门", S), ("各县市区人民政府", S)]),
    ("市发改委、工信局牵头,科技局、商务局等配合,各县(市、区)人民政府负责落实",
     [("市发改委", L), ("市工信局", L), ("市科技局", S), ("市商务局", S), ("各县(市、区)人民政府", R)]),
    # R6: lead only, one a group
    ("市交通局、各縣(市、區)政府牵头", [("市交通局", L), ("各縣(市、區)政府", L)]),
    # R7: all responsible
    ("市卫生计生委、科技局、食品药品监管局按职责分别负责", [("市卫生计生委", R), ("市科技局", R), ("市食品药品监管局", R)]),
    # R8: 按职责分工负责 after a lead is support
    ("市卫健委、医保局牵头,市财政局及市人社局按职责分工负责", [("市卫健委", L), ("市医保局", L), ("市财政局", S), ("市人社局", S)]),
    # R9: two leads each for its part
    ("市卫生计生委、人力资源社会保障局按职责分别牵头负责,市保险行业协会配合",
     [("市卫生计生委", L), ("市人力资源社会保障局", L), ("市保险行业协会", S)]),
    # R10: bare inline responsibility
    ("责任单位:市卫健委、发改委、财政局,福建医科大学附属第二医院",
     [("市卫健委", R), ("市发改委", R), ("市财政局", R), ("福建医科大学附属第二医院", R)]),
    # R13: three roles by labels
    ("牵头单位:市发改委;配合单位:市财政局;主责单位:各区政府", [("市发改委", L), ("市财政局", S), ("各区政府", R)]),
    # X3: traditional labels
    ("牽頭單位:市衛生局,配合單位:市財政局", [("市衛生局", L), ("市財政局", S)]),
]


@pytest.mark.parametrize(("clause", "expected"), RESPONSIBILITY)
def test_parse_responsibility(clause, expected):
    assert [(ref.name, ref.role) for ref in parse_responsibility(clause).agencies] == expected


@pytest.mark.parametrize(
    ("mode", "expected"), [("lead", [("A局", L), ("B局", L)]), ("first", [("A局", L), ("B局", S)])]
)
def test_notice_role_rules(mode, expected):
    assert [(ref.name, ref.role) for ref in parse_responsibility("责任单位:A局、B局", mode).agencies] == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2018年7月11日", date(2018, 7, 11)),
        ("2017年3月29", date(2017, 3, 29)),
        ("二○一一年四月十四日", date(2011, 4, 14)),
        ("201999", date(2019, 9, 9)),
        ("20171116", date(2017, 11, 16)),
        ("{ 2017 6 23", date(2017, 6, 23)),
        ("2017年底前", None),
        ("12", None),
    ],
)
def test_parse_date_line(line, expected):
    assert parse_date_line(line) == expected


@pytest.mark.parametrize(
    ("issuer", "place"),
    [("温州市鹿城区人民政府", "鹿城区"), ("漳州市人民政府办公室", "漳州市"), ("凉山州人民政府", "凉山州"), ("四川省人民政府办公厅", "四川省")],
)
def test_jurisdiction(issuer, place):
    assert jurisdiction(issuer) == place


PLAN = """某市人民政府办公室关于印发某市卫生工作实施方案的通知
某政办〔2020〕7号
各县(市、区)人民政府:
现印发给你们。
某市人民政府办公室
20203月5
某市卫生工作实施方案
一、工作目标
到2022年,全市卫生服务能力明显提升。
二、主要任务
(一)加强基层。做好基层卫生工作,2020年底前完成。
责任单位:市卫健委、财政局
(二)推进改革。深化改革。(市医保局牵头,市财政局配合)
(三)数字化。建设平台。〔责任单位:市卫健委、数字办,以下任务均需各县(市、区)人民政府落实,不再列出〕
(四)强化宣传。做好宣传。
三、保障措施
(一)加强领导。各地要加强领导。
"""


def test_extract_small_plan():
    doc = extract(PLAN, "plan.txt")
    assert (doc.title, doc.doc_number, doc.issuer, doc.issued_on, doc.jurisdiction) == (
        "某市卫生工作实施方案", "某政办〔2020〕7号", "某市人民政府办公室", date(2020, 3, 5), "某市"
    )
    tasks = {task.number: task for task in doc.tasks}
    assert list(tasks) == ["二.(一)", "二.(二)", "二.(三)", "二.(四)"]
    first = tasks["二.(一)"]
    assert (first.key, first.title) == ("某政办〔2020〕7号#二.(一)", "加强基层")
    assert [(a.name, a.role) for a in first.agencies] == [("市卫健委", R), ("市财政局", R)]
    assert [(d.text, d.date) for d in first.deadlines] == [("2020年底前", date(2020, 12, 31))]
    assert first.text[first.deadlines[0].start : first.deadlines[0].end] == "2020年底前"
    assert "责任单位" not in first.text
    assert [(a.name, a.role) for a in tasks["二.(四)"].agencies] == [("各县(市、区)人民政府", R)]
    assert any("一" in w and "goal" in w for w in doc.warnings)


def test_document_without_tasks_warns():
    doc = extract("某市关于做好某事的通知\n请认真落实。\n", "x.txt")
    assert doc.tasks == () and doc.warnings
