"""Extraction end to end: small literal plans and fixtures in the genre (HTML, GBK, UTF-16, DOCX)."""

from datetime import date
from pathlib import Path

import docx

from scheduler.extract import extract, parse_file
from scheduler.reader import CELL

DATA = Path(__file__).resolve().parent / "data"
L, S, R = "lead", "support", "responsible"


def roles(task):
    return [(a.name, a.role) for a in task.agencies]


def dates(task):
    return [(d.kind, d.date) for d in task.deadlines]


def by_number(doc):
    return {task.number: task for task in doc.tasks}


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


# -- fixtures in the genre: an HTML page, a GBK text, a UTF-16 traditional text, a DOCX ------

def test_html_page():
    doc = parse_file(DATA / "plan.html")
    assert (doc.title, doc.doc_number, doc.issuer, doc.issued_on, doc.jurisdiction) == (
        "南平市大气污染防治攻坚行动方案", "南政办〔2021〕12号", "南平市人民政府办公室", date(2021, 3, 5), "南平市"
    )
    tasks = by_number(doc)
    assert list(tasks) == ["二.(一).1", "二.(一).2", "二.(二).3", "二.(二).4", "一.1", "一.2", "二.1"]
    assert roles(tasks["二.(一).1"]) == [("市生态环境局", L), ("市工信局", L), ("市发改委", S), ("市财政局", S)]
    assert dates(tasks["二.(一).1"]) == [("deadline", date(2021, 12, 31)), ("deadline", date(2022, 6, 30))]
    assert roles(tasks["二.(一).2"]) == [("市生态环境局", R), ("市工信局", R), ("市市场监管局", R)]
    assert roles(tasks["二.(二).3"]) == [("市交通运输局", L), ("市公安局", S), ("市生态环境局", S), ("各县(市、区)人民政府", R)]
    assert dates(tasks["二.(二).3"]) == [("recurring", None), ("deadline", date(2022, 12, 31))]
    assert roles(tasks["二.(二).4"]) == [("市生态环境局", L), ("市住建局", S), ("市交通运输局", S)]
    assert (tasks["一.1"].title, roles(tasks["一.1"]), dates(tasks["一.1"])) == (
        "建筑工地落实“六个百分之百”扬尘防控措施", [("市住建局", L), ("市城管局", S), ("市生态环境局", S)], [("deadline", date(2021, 6, 30))]
    )
    assert dates(tasks["一.2"]) == [("deadline", date(2021, 12, 31))]  # 年底前 in the plan's year
    assert any("notice-level" in w and "三.(二)" in w for w in doc.warnings)
    assert any("等部门" in w for w in doc.warnings)


def test_gbk_text_with_notice_rules():
    doc = parse_file(DATA / "plan_gbk.txt")
    assert (doc.title, doc.doc_number, doc.issued_on, doc.jurisdiction) == (
        "许昌市学前教育提升行动计划", "许政〔2020〕20号", date(2020, 4, 14), "许昌市"
    )
    tasks = by_number(doc)
    assert list(tasks) == ["二.1", "二.2", "二.3", "二.4", "二.5"]
    # R16: 无牵头单位的,责任单位即为牵头单位
    assert roles(tasks["二.1"]) == [("市教育局", L), ("市发改委", L), ("市自然资源和规划局", L)]
    assert dates(tasks["二.1"]) == [("deadline", date(2020, 12, 31))]  # 2021年起 is a start
    # R2: own lines, 责任单位 beside 牵头单位 is support; the baseline 比2019年 is no deadline
    assert roles(tasks["二.2"]) == [("市教育局", L), ("市委编办", S), ("市人社局", S), ("市财政局", S)]
    assert dates(tasks["二.2"]) == []
    # R12 carried forward from 二.3 on, in a 责任单位 line
    carried = ("各县(市、区)人民政府", R)
    assert roles(tasks["二.3"]) == [("市教育局", L), ("市市场监管局", L), carried]
    assert roles(tasks["二.4"]) == [("市教育局", R), carried]
    # N12: 牵头领导 names a post, not an agency
    assert roles(tasks["二.5"]) == [("市教育局", L), ("市公安局", L), ("市卫健委", L), carried]
    assert dates(tasks["二.5"]) == [("deadline", date(2020, 12, 31))]


def test_utf16_traditional_text():
    doc = parse_file(DATA / "plan_utf16.txt")
    assert (doc.title, doc.issuer, doc.jurisdiction) == ("溫州市數字政府建設實施方案", "溫州市人民政府辦公室", "溫州市")
    tasks = by_number(doc)
    assert list(tasks) == ["二.(一)", "二.(二).①", "二.(二).②", "二.(三)"]
    # X4 pinyin in the label, R11 hexagonal brackets, N13 traditional names kept
    assert roles(tasks["二.(一)"]) == [("市大數據局", R), ("市財政局", R), ("各縣(市、區)政府", R)]
    assert roles(tasks["二.(二).①"]) == [("市大數據局", L), ("市級各有關部門", S)]
    assert roles(tasks["二.(二).②"]) == [("市大數據局", R), ("市市場監管局", R)]
    # X10: the heading repeated at the end of the line does not hide the bracket
    assert roles(tasks["二.(三)"]) == [("市行政審批局", L), ("市大數據局", S)]
    assert dates(tasks["二.(三)"]) == [("deadline", date(2022, 12, 31))]
    assert not tasks["二.(三)"].text.endswith("保障措施")


def make_docx(path: Path) -> Path:
    document = docx.Document()
    for text in (
        "鄂州市人民政府办公室关于印发鄂州市教育数字化行动计划的通知",
        "鄂州政办发〔2023〕9号",
        "鄂州市人民政府办公室",
        "2023年2月1日",
        "鄂州市教育数字化行动计划",
        "一、重点任务",
        "(一)推进数字校园整治(市教育局负责)。开展校园网络安全检查,年底前完成。",
        "(二)建设教育专网。由市教育局承办,市财政局、大数据局配合。2024年6月底前建成全市教育专网。",
        "附件:重点任务清单",
        "附件",
    ):
        document.add_paragraph(text)
    header = ["序号", "类别", "主要任务", "牵头单位", "参与单位", "责任单位", "完成时限"]
    rows = [
        ["1", "基础设施", "建设市级智慧教育平台", "市教育局", "市大数据局、财政局", "各区政府", "2023年底前"],
        ["2", "基础设施", "推进校园网络提速", "市教育局", "市通信管理局", "各区政府", "2023年6月底前"],
        ["3", "数字资源", "组织数字教育资源评审", "市教育局", "", "各区政府", "每年"],
    ]
    table = document.add_table(rows=len(rows) + 1, cols=len(header))
    for row, values in zip(table.rows, [header, *rows]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    years = document.add_table(rows=3, cols=6)
    for row, values in zip(
        years.rows,
        [
            ["序号", "任务事项", "2023年度", "2024年度", "牵头责任部门", "主要参与部门"],
            ["1", "教师数字素养培训", "培训5000人", "当年6月底前全员轮训", "市教育局", "市人社局"],
            ["2", "智慧校园建设", "建成50所", "", "市教育局", "市财政局"],
        ],
    ):
        for cell, value in zip(row.cells, values):
            cell.text = value
    document.save(path)
    return path


def test_docx_with_responsibility_tables(tmp_path):
    doc = parse_file(make_docx(tmp_path / "plan.docx"))
    assert (doc.title, doc.doc_number, doc.issued_on, doc.jurisdiction) == (
        "鄂州市教育数字化行动计划", "鄂州政办发〔2023〕9号", date(2023, 2, 1), "鄂州市"
    )
    tasks = list(doc.tasks)
    assert [t.number for t in tasks] == ["一.(一)", "一.(二)", "1", "2", "3", "1", "2"]
    assert len({t.key for t in tasks}) == len(tasks)
    # R15: responsibility in the heading, and 由A承办,B配合 before the text
    assert (tasks[0].title, roles(tasks[0]), dates(tasks[0])) == ("推进数字校园整治", [("市教育局", R)], [("deadline", date(2023, 12, 31))])
    assert (tasks[1].title, roles(tasks[1])) == ("建设教育专网", [("市教育局", L), ("市财政局", S), ("市大数据局", S)])
    # R13: 牵头/参与/责任 columns give lead, support and the implementing governments
    assert roles(tasks[2]) == [("市教育局", L), ("市大数据局", S), ("市财政局", S), ("各区政府", R)]
    assert dates(tasks[2]) == [("deadline", date(2023, 12, 31))]
    assert dates(tasks[4]) == [("recurring", None)]
    # D12: year columns are milestones; 当年 takes the column's year
    assert roles(tasks[5]) == [("市教育局", L), ("市人社局", S)]
    assert dates(tasks[5]) == [("deadline", date(2023, 12, 31)), ("deadline", date(2024, 6, 30))]
    assert dates(tasks[6]) == [("deadline", date(2023, 12, 31))]


CARRY_AND_BARE = """某市推进工作方案
一、重点任务
各项任务均需各县(市、区)人民政府落实,不再一一列出。
(一)甲项。做好甲项工作。(市卫健委、财政局)
(二)乙项。建设社区医院(中心)
(三)丙项。做好丙项工作。(以下简称丙办)
"""


def test_carry_forward_in_an_intro_and_bare_agency_brackets():
    tasks = by_number(extract(CARRY_AND_BARE, "x.txt"))
    carried = ("各县(市、区)人民政府", R)
    assert roles(tasks["一.(一)"]) == [("市卫健委", R), ("市财政局", R), carried]
    # a bracket inside a sentence or an alias is no responsibility; the carried units are
    assert roles(tasks["一.(二)"]) == [carried] and tasks["一.(二)"].text.endswith("(中心)")
    assert roles(tasks["一.(三)"]) == [carried]


def test_template_plan_without_responsibility():
    doc = extract("某市工作方案\n一、主要任务\n(一)甲项。做好甲。\n(二)乙项。做好乙。\n", "x.txt")
    assert [(t.number, t.agencies) for t in doc.tasks] == [("一.(一)", ()), ("一.(二)", ())]
    assert any("R17" in w for w in doc.warnings)


def test_deadline_slot_lines_and_spam_prefix():
    text = (
        "澳门娱乐城-某市人民政府办公室关于印发某市安全生产工作方案的通知\n某市安全生产工作方案\n一、重点任务\n"
        "(一)排查隐患。全面排查。\n牵头单位:市应急局  完成时限:2021年6月底前\n"
        "(二)整治隐患。全面整治。(牵头单位:市应急局;配合单位:市公安局;完成时间:年底前)\n"
    )
    doc = extract(text, "x.txt")
    assert (doc.issuer, doc.title) == ("某市人民政府办公室", "某市安全生产工作方案")
    first, second = doc.tasks
    assert (roles(first), dates(first)) == ([("市应急局", L)], [("deadline", date(2021, 6, 30))])
    assert roles(second) == [("市应急局", L), ("市公安局", S)] and len(second.deadlines) == 1


STAGES = """某市安全生产专项整治三年行动实施方案
一、主要任务
(一)学习宣传
1.深入学习。各级党委和政府要深入学习。(市委宣传部、市应急管理局牵头,各区政府、市有关部门按职责分工负责)
2.加强宣传。2020年9月底前,开展宣传。牵头单位:市应急管理局;配合单位:市委宣传部、教育局。
二、实施步骤
(一)动员部署(2020年4月—2020年5月)。各区、各有关部门制定方案。
"""


def test_labels_ending_a_paragraph_and_stages_without_responsibility():
    doc = extract(STAGES, "x.txt")
    tasks = by_number(doc)
    assert list(tasks) == ["一.(一).1", "一.(一).2"]
    assert roles(tasks["一.(一).1"]) == [("市委宣传部", L), ("市应急管理局", L), ("各区政府", S), ("市有关部门", S)]
    assert roles(tasks["一.(一).2"]) == [("市应急管理局", L), ("市委宣传部", S), ("市教育局", S)]
    assert tasks["一.(一).2"].text == "加强宣传。2020年9月底前,开展宣传。"
    assert any(w.startswith("二.(一)") and "set aside" in w for w in doc.warnings)


SHARED = """某市方案
一、主要任务
(一)完善制度
1.建立甲制度。
2.建立乙制度,2021年底前完成。
责任单位:市司法局、财政局
(二)加强监管
1.加强丙监管。(市市场监管局负责)
2.加强丁监管。
"""


def test_a_responsibility_line_after_the_last_sub_point_belongs_to_the_parent():
    tasks = by_number(extract(SHARED, "x.txt"))
    assert list(tasks) == ["一.(一)", "一.(二).1"]
    assert roles(tasks["一.(一)"]) == [("市司法局", R), ("市财政局", R)]
    assert dates(tasks["一.(一)"]) == [("deadline", date(2021, 12, 31))]
    assert "1.建立甲制度。" in tasks["一.(一)"].text


def test_same_below_carries_the_units_forward():
    text = "某市方案\n一、任务\n(一)甲。做甲。(责任单位:各县(市、区)人民政府,下同)\n(二)乙。做乙。(市卫健委牵头)\n"
    tasks = by_number(extract(text, "x.txt"))
    assert roles(tasks["一.(一)"]) == [("各县(市、区)人民政府", R)]
    assert roles(tasks["一.(二)"]) == [("市卫健委", L), ("各县(市、区)人民政府", R)]


def test_time_limits_inside_a_responsibility_bracket():
    tasks = extract("某市方案\n一、任务\n(一)甲。做甲。(市卫健委牵头,2018年底前完成)\n", "x.txt").tasks
    assert (roles(tasks[0]), dates(tasks[0])) == ([("市卫健委", L)], [("deadline", date(2018, 12, 31))])


def test_sub_items_inherit_their_parents_responsibility():
    text = "某市方案\n一、任务\n(一)加强基层建设(市卫健委牵头)\n1.甲。做甲。\n2.乙。做乙。(市民政局负责)\n(二)其他\n3.丙。做丙,2021年底前完成。\n"
    tasks = by_number(extract(text, "x.txt"))
    assert roles(tasks["一.(一).1"]) == [("市卫健委", L)]
    assert roles(tasks["一.(一).2"]) == [("市民政局", R)]
    assert roles(tasks["一.(二).3"]) == []


def test_notice_title_wrapped_over_two_lines():
    doc = extract("某市人民政府办公室关于印发某市支持社会力量\n提供医疗服务实施方案的通知\n一、任务\n(一)甲。(市卫健委负责)\n", "x.txt")
    assert (doc.issuer, doc.title) == ("某市人民政府办公室", "某市支持社会力量提供医疗服务实施方案")


def test_carry_forward_variant_with_no_division_of_work():
    text = "某市方案\n一、任务\n(一)甲。做甲。(市卫健委牵头;具体任务均涉及各区政府,不再做分工,下同)\n(二)乙。做乙,年底前完成。\n"
    tasks = by_number(extract(text, "x.txt"))
    assert roles(tasks["一.(一)"]) == [("市卫健委", L), ("各区政府", R)]
    assert roles(tasks["一.(二)"]) == [("各区政府", R)]


def test_numbered_items_of_the_notice_are_not_tasks():
    text = (
        "某市人民政府关于印发某市工作方案的通知\n现就有关事项通知如下:\n一、高度重视。请于2020年3月1日前报送。\n二、加强领导。\n"
        "某市人民政府\n2020年2月1日\n某市工作方案\n一、重点任务\n(一)做甲。(市卫健委负责)\n"
    )
    doc = extract(text, "x.txt")
    assert [t.number for t in doc.tasks] == ["一.(一)"] and doc.issued_on == date(2020, 2, 1)
    assert "notice" in doc.warnings[0]


def test_notice_role_rule_applies_to_a_table_with_only_a_responsibility_column():
    text = "某市方案\n列第一位的责任单位为牵头单位。\n" + "\n".join(
        [CELL.join(["序号", "工作任务", "责任单位", "完成时限"]), CELL.join(["1", "建设平台", "市大数据局、财政局", "年底前"])]
    )
    assert roles(extract(text, "x.txt").tasks[0]) == [("市大数据局", L), ("市财政局", S)]


def test_responsibility_brackets_inside_the_text():
    text = "某市方案\n一、任务\n(一)甲。建立A制度(市卫健委负责);建立B机制(市医保局牵头,市财政局配合),2021年底前完成(含试点)。\n"
    task = extract(text, "x.txt").tasks[0]
    assert roles(task) == [("市卫健委", R), ("市医保局", L), ("市财政局", S)]
    assert task.text == "甲。建立A制度;建立B机制,2021年底前完成(含试点)。"


def test_a_report_date_of_a_task_with_its_own_agency_is_its_deadline():
    text = "某市方案\n一、任务\n(一)制定方案。于2021年6月底前报市政府审定。(市卫健委负责)\n二、组织实施\n(一)抓好落实。各地于2021年3月1日前将方案报市卫健委。\n"
    doc = extract(text, "x.txt")
    assert [(t.number, dates(t)) for t in doc.tasks] == [("一.(一)", [("deadline", date(2021, 6, 30))])]
    assert any(w.startswith("二.(一): notice-level") for w in doc.warnings)


def test_the_extract_module_keeps_its_interface():
    """Other modules and scripts import these from scheduler.extract."""
    from scheduler import extract as module, responsibility, task_deadlines

    assert module.parse_responsibility is responsibility.parse_responsibility
    assert module.task_deadlines is task_deadlines.task_deadlines
    assert set(module.__all__) == {"extract", "parse_file", "parse_responsibility", "task_deadlines"}
