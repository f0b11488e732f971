"""Responsibility: clauses read into agencies and roles (R2–R16), and clauses found in items."""

import pytest

from scheduler.clauses import Heads, split_responsibility
from scheduler.outline import Item
from scheduler.responsibility import carry_forward, parse_responsibility, role_mode, same_below, split_time

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
    # a plain 负责 beside 配合 leads; 、 after a verb separates roles
    ("市卫健委负责,市财政局配合", [("市卫健委", L), ("市财政局", S)]),
    ("市卫健委牵头、市财政局配合", [("市卫健委", L), ("市财政局", S)]),
    ("市交通局牵头,各县(市、区)人民政府负责", [("市交通局", L), ("各县(市、区)人民政府", R)]),
    # labels in 【】
    ("【牵头单位】市卫健委【配合单位】市财政局、医保局", [("市卫健委", L), ("市财政局", S), ("市医保局", S)]),
    # a lead marked inside a list
    ("责任单位:市发改委(牵头)、市财政局、人社局", [("市发改委", L), ("市财政局", S), ("市人社局", S)]),
    # 会同: the first leads, the others support
    ("由市发改委会同市财政局、市自然资源局负责", [("市发改委", L), ("市财政局", S), ("市自然资源局", S)]),
    ("市卫健委会同有关部门", [("市卫健委", L), ("有关部门", S)]),
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
    ("text", "mode"),
    [
        ("无牵头单位的,责任单位即为牵头单位,下同。", "lead"),
        ("列第一位的责任单位为牵头单位或汇总单位。", "first"),
        ("無牽頭單位的,責任單位即為牽頭單位。", "lead"),
        ("各单位要按照分工抓好落实。", "responsible"),
    ],
)
def test_role_mode_is_the_notices_rule(text, mode):
    assert role_mode(text) == mode


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("牵头单位:市应急局;完成时限:2021年6月底前", ("牵头单位:市应急局", ["2021年6月底前"])),
        ("市卫健委牵头,2018年底前完成", ("市卫健委牵头", ["2018年底前完成"])),
        ("市卫健委牵头,市财政局配合", ("市卫健委牵头,市财政局配合", [])),
    ],
)
def test_split_time(clause, expected):
    assert split_time(clause) == expected


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("责任单位:市卫健委,以下任务均需各县(市、区)人民政府落实,不再列出", ("责任单位:市卫健委", "各县(市、区)人民政府")),
        ("市卫健委牵头;具体任务均涉及各区政府,不再做分工,下同", ("市卫健委牵头", "各区政府")),
        ("市卫健委牵头", ("市卫健委牵头", None)),
    ],
)
def test_carry_forward(clause, expected):
    assert carry_forward(clause) == expected


@pytest.mark.parametrize(
    ("clause", "expected"),
    [("责任单位:各区政府,下同", ("责任单位:各区政府", True)), ("责任单位:各区政府", ("责任单位:各区政府", False))],
)
def test_same_below(clause, expected):
    assert same_below(clause) == expected


@pytest.mark.parametrize(
    ("head", "lines", "body", "clauses"),
    [
        # R1: an own line after the item
        ("加强基层。做好基层工作。", ("责任单位:市卫健委、财政局",), "加强基层。做好基层工作。", ["责任单位:市卫健委、财政局"]),
        # R3/R5: a bracket closing the item
        ("推进改革。深化改革。(市医保局牵头,市财政局配合)", (), "推进改革。深化改革。", ["市医保局牵头,市财政局配合"]),
        # R15: brackets inside the text, each a clause
        ("建立A制度(市卫健委负责);建立B机制(市医保局牵头)。", (), "建立A制度;建立B机制", ["市卫健委负责", "市医保局牵头"]),
        # labels ending a paragraph without brackets
        ("加强宣传。开展宣传。牵头单位:市应急局;配合单位:市委宣传部。", (), "加强宣传。开展宣传。", ["牵头单位:市应急局;配合单位:市委宣传部"]),
        # R15: 由A承办,B配合 before the text
        ("建设专网。由市教育局承办,市财政局配合。建成专网。", (), "建设专网。建成专网。", ["市教育局牵头,市财政局配合"]),
        # a bare list of agencies after a sentence, but not an alias or a sentence's bracket
        ("做好甲项工作。(市卫健委、财政局)", (), "做好甲项工作。", ["市卫健委、财政局"]),
        ("做好丙项工作。(以下简称丙办)", (), "做好丙项工作。(以下简称丙办)", []),
        ("建设社区医院(中心)", (), "建设社区医院(中心)", []),
    ],
)
def test_split_responsibility(head, lines, body, clauses):
    item = Item(("一",), head, lines, 0)
    assert split_responsibility(item, Heads.of([item])) == (body, tuple(clauses))
