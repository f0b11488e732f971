"""The outline: marker levels and paths (PATTERNS.md S1–S10), and table rows (R14, S7)."""

import pytest

from scheduler.outline import column_of, numeral, parse_outline
from scheduler.reader import CELL


def numbers(text: str) -> list[str]:
    return [item.number for item in parse_outline(text.splitlines()).items]


OUTLINES = [
    # S1: three levels
    ("一、总体要求\n二、任务\n(一)医疗\n1.甲\n2.乙\n(二)保险\n3.丙", ["一", "二", "二.(一)", "二.(一).1", "二.(一).2", "二.(二)", "二.(二).3"]),
    # S2: (一) continues across sections (三) after the goals' (一)(二)
    ("一、总体要求\n(一)指导思想\n(二)目标\n二、任务\n(三)甲\n(四)乙", ["一", "一.(一)", "一.(二)", "二", "二.(三)", "二.(四)"]),
    # S3/S4: 一、 then 1、
    ("一、任务\n1、甲\n2、乙\n二、保障\n1、丙", ["一", "一.1", "一.2", "二", "二.1"]),
    # S5: "1. " with a space, and a number followed by digits
    ("一、任务\n1. 甲\n2. 乙\n3.121人才梯队项目", ["一", "一.1", "一.2", "一.3"]),
    # (1) and ① levels
    ("一、任务\n(一)甲\n(1)子\n①孙\n②孙\n(2)子", ["一", "一.(一)", "一.(一).(1)", "一.(一).(1).①", "一.(一).(1).②", "一.(一).(2)"]),
    # figures at a line start are text: years, decimals, out-of-sequence numbers
    ("一、任务\n1.甲\n2017年,完成。\n1.5张床位\n5.不在序列\n2.乙", ["一", "一.1", "一.2"]),
    # S10: 一是…二是 are not items
    ("一、任务\n一是扩大资源,二是提高质量。", ["一"]),
    # attachments after the body get their own prefix
    ("一、任务\n(一)甲\n附件:分解表\n附件1\n一、清单\n(一)乙", ["一", "一.(一)", "附件1.一", "附件1.一.(一)"]),
]


@pytest.mark.parametrize(("text", "expected"), OUTLINES)
def test_paths(text, expected):
    assert numbers(text) == expected


def test_item_text_and_leaves():
    outline = parse_outline("一、任务\n(一)甲。正文\n续行\n(二)乙".splitlines())
    first = outline.items[1]
    assert (first.head, first.lines, first.text) == ("甲。正文", ("续行",), "甲。正文\n续行")
    assert outline.leaves() == [False, True, True]


def test_attachment_list_line_ends_the_item_body():
    outline = parse_outline("一、任务\n(一)甲\n附件:分解表\n重点工作分解表".splitlines())
    assert outline.items[-1].lines == ()


@pytest.mark.parametrize(("text", "value"), [("一", 1), ("十", 10), ("十七", 17), ("二十三", 23), ("③", 3), ("12", 12)])
def test_numeral(text, value):
    assert numeral(text) == value


@pytest.mark.parametrize(
    ("header", "column"),
    [("序号", "number"), ("牵头部门", "lead"), ("相关责任部门", "support"), ("完成 时间", "deadline"), ("2019年度", "2019"), ("备注", None)],
)
def test_columns(header, column):
    assert column_of(header) == column


def test_tab_table_with_category_rows():
    lines = [
        "附件",
        CELL.join(["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]),
        "一、扬尘治理",
        CELL.join(["1", "工地扬尘", "市住建局", "市城管局", "2021年底前"]),
        CELL.join(["2", "道路扬尘", "市城管局", "", "年底前"]),
        "二、秸秆禁烧",
        CELL.join(["1", "秸秆利用", "市农业农村局", "市生态环境局", "2022年底前"]),
    ]
    rows = parse_outline(lines).rows
    assert [row.number for row in rows] == ["一.1", "一.2", "二.1"]
    assert rows[1].cells["support"] == () and rows[1].cells["deadline"] == ("年底前",)


def test_cell_per_line_table():
    lines = ["序号", "工作任务", "牵头部门", "相关责任部门", "完成时间",
             "1", "成立办公室", "区卫计局", "区编委办", "2017年6月",
             "2", "制定方案", "区卫计局", "区财政局", "区人力社保局", "区卫计局", "2017年底前"]
    rows = parse_outline(lines).rows
    assert [(row.number, row.cells["task"], row.cells["lead"], row.cells["support"], row.cells["deadline"]) for row in rows] == [
        ("1", ("成立办公室",), ("区卫计局",), ("区编委办",), ("2017年6月",)),
        ("2", ("制定方案",), ("区卫计局",), ("区财政局", "区人力社保局"), ("2017年底前",)),
    ]
    assert [row.boundary_lost for row in rows] == [False, True]
    assert parse_outline(lines).items == ()


def test_space_separated_rows_with_three_agency_columns():
    lines = [
        "序号 类别 主要任务 牵头单位 参与单位 责任单位 完成时限",
        "1 医疗 建设区域医疗中心 市卫健委 市发改委、财政局 各县(市、区)人民政府 2023年底前",
        "2 推进远程医疗 市卫健委 市医保局 各县(市、区)人民政府 年底前",
    ]
    rows = parse_outline(lines).rows
    assert [(row.number, row.cells["task"], row.cells["lead"], row.cells["support"], row.cells["responsible"], row.cells["deadline"]) for row in rows] == [
        ("1", ("建设区域医疗中心",), ("市卫健委",), ("市发改委、财政局",), ("各县(市、区)人民政府",), ("2023年底前",)),
        ("2", ("推进远程医疗",), ("市卫健委",), ("市医保局",), ("各县(市、区)人民政府",), ("年底前",)),
    ]


def test_cell_per_line_year_columns_with_spanning_header_and_bars():
    lines = ["序号", "任务事项", "年度目标", "2018年度", "2019年度", "2020年度", "牵头责任部门", "主要参与部门",
             "1", "家庭医生签约", "签约率30%", "签约率40%", "签约率50%", "区卫计局", "区人力社保局",
             "2", "医联体建设", "全面完成", "区卫计局", "区财政局", "区人力社保局"]
    rows = parse_outline(lines).rows
    assert rows[0].cells["2019"] == ("签约率40%",) and rows[0].cells["lead"] == ("区卫计局",)
    # a merged year cell spans every year; the boundary between lead and support is lost
    assert [rows[1].cells[year] for year in ("2018", "2019", "2020")] == [("全面完成",)] * 3
    assert (rows[1].cells["lead"], rows[1].cells["support"], rows[1].boundary_lost) == (("区卫计局",), ("区财政局", "区人力社保局"), True)


def test_cell_per_line_category_rows():
    lines = ["序号", "重点任务", "牵头部门", "完成时限", "一", "扬尘治理", "1", "工地扬尘", "市住建局", "年底前",
             "2", "道路扬尘", "市城管局", "年底前", "二", "秸秆禁烧", "1", "秸秆利用", "市农业农村局", "2022年底前"]
    assert [row.number for row in parse_outline(lines).rows] == ["一.1", "一.2", "二.1"]


def test_header_without_rows_is_reported():
    outline = parse_outline(["序号", "工作任务", "牵头部门", "完成时间", "说明文字"])
    assert outline.rows == () and "no row" in outline.warnings[0]


def test_interleaved_table_is_read_with_low_confidence():
    lines = ["序号 重点任务 牵头部门 完成时限", "1", "治理扬尘", "(", "市生态环境局", ")", "年底前", "2", "治理秸秆", "市农业农村局", "年底前"]
    outline = parse_outline(lines)
    assert [row.cells["lead"] for row in outline.rows] == [("市生态环境局",), ("市农业农村局",)]
    assert all(row.boundary_lost for row in outline.rows) and "interleaved" in outline.warnings[0]


def test_tab_rows_with_written_serials_and_continuations():
    lines = [
        CELL.join(["序号", "工作任务", "牵头单位(部门)", "配合单位", "完成时限"]),
        CELL.join(["1.", "建设平台", "市大数据局", "市财政局", "年底前"]),
        CELL.join(["", "", "", "市发改委", ""]),
        CELL.join(["(2)", "开放数据", "市大数据局", "", "2024年底前"]),
    ]
    rows = parse_outline(lines).rows
    assert [row.number for row in rows] == ["1", "2"]
    assert rows[0].cells["support"] == ("市财政局", "市发改委")
