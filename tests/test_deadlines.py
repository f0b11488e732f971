"""Deadline phrases → dates, as a table a supervision office can read and extend.

Each row is: the text, then what ``normalize`` must say about it. Unless a row names
another, the base (the document's issue date) is BASE; the seeds' rows use their own
documents' issue dates.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest
from dateutil.rrule import rrulestr

from scheduler import lexicon
from scheduler.deadlines import find_deadlines, normalize
from scheduler.errors import RuleError

BASE = date(2017, 3, 29)

# text, kind, date, precision
DATED = [
    # years and year ends
    ("到2025年", "deadline", "2025-12-31", "year"),
    ("2025年", "deadline", "2025-12-31", "year"),
    ("2017年底前", "deadline", "2017-12-31", "year"),
    ("到2018年底", "deadline", "2018-12-31", "year"),
    ("2018年底前完成", "deadline", "2018-12-31", "year"),
    ("2035年底前", "deadline", "2035-12-31", "year"),
    ("2022年末", "deadline", "2022-12-31", "year"),
    ("到2017年底前", "deadline", "2017-12-31", "year"),
    ("2018年前", "deadline", "2017-12-31", "year"),
    ("2021年11月前", "deadline", "2021-10-31", "month"),
    ("于2024年3月15日前", "deadline", "2024-03-15", "day"),
    ("2018年度", "deadline", "2018-12-31", "year"),
    # months and days
    ("2017年6月", "deadline", "2017-06-30", "month"),
    ("2017年6月底前", "deadline", "2017-06-30", "month"),
    ("6月底前", "deadline", "2017-06-30", "month"),
    ("2024年6月5日", "deadline", "2024-06-05", "day"),
    ("2017年6月上旬", "deadline", "2017-06-10", "day"),
    ("2017年6月中旬", "deadline", "2017-06-20", "day"),
    ("2017年2月下旬", "deadline", "2017-02-28", "day"),
    ("本月底前", "deadline", "2017-03-31", "month"),
    ("本季度末前", "deadline", "2017-03-31", "quarter"),
    ("下季度", "deadline", "2017-06-30", "quarter"),
    ("3月末", "deadline", "2017-03-31", "month"),
    ("于4月20日(星期五)前上报", "deadline", "2017-04-20", "day"),
    ("2018年12月31日17:00前", "deadline", "2018-12-31", "day"),
    # halves and quarters
    ("上半年", "deadline", "2017-06-30", "half"),
    ("下半年", "deadline", "2017-12-31", "half"),
    ("年中", "deadline", "2017-06-30", "half"),
    ("第三季度", "deadline", "2017-09-30", "quarter"),
    ("一季度末", "deadline", "2017-03-31", "quarter"),
    ("三季度前", "deadline", "2017-06-30", "quarter"),
    ("2018年第一季度", "deadline", "2018-03-31", "quarter"),
    # relative to the issue date
    ("年内", "deadline", "2017-12-31", "year"),
    ("当年", "deadline", "2017-12-31", "year"),
    ("今年底", "deadline", "2017-12-31", "year"),
    ("年底前", "deadline", "2017-12-31", "year"),
    ("明年", "deadline", "2018-12-31", "year"),
    ("来年", "deadline", "2018-12-31", "year"),
    ("今明两年内", "deadline", "2018-12-31", "year"),
    ("明年上半年", "deadline", "2018-06-30", "half"),
    ("两年内", "deadline", "2019-03-29", "day"),
    ("3个月内", "deadline", "2017-06-29", "day"),
    ("三个月内", "deadline", "2017-06-29", "day"),
    ("两周内", "deadline", "2017-04-12", "day"),
    ("印发之日起30日内", "deadline", "2017-04-28", "day"),
    ("自本方案印发之日起三个月内", "deadline", "2017-06-29", "day"),
    ("用3至5年时间", "deadline", "2022-03-29", "day"),
    ("10个工作日内", "deadline", "2017-04-13", "day"),  # 2017-04-01 was a make-up workday, 04-03 and 04-04 holidays
    # plan periods
    ("十二五", "deadline", "2015-12-31", "year"),
    ("十三五期间", "deadline", "2020-12-31", "year"),
    ("“十三五”末", "deadline", "2020-12-31", "year"),
    ("收官之年", "deadline", "2020-12-31", "year"),
    ("十四五", "deadline", "2025-12-31", "year"),
    ("十五五", "deadline", "2030-12-31", "year"),
    ("十三五开局之年", "deadline", "2016-12-31", "year"),
    ("十四五前两年", "deadline", "2022-12-31", "year"),
    # ranges: the end
    ("2016—2020年", "deadline", "2020-12-31", "year"),
    ("2018-2020年", "deadline", "2020-12-31", "year"),
    ("2018-2020", "deadline", "2020-12-31", "year"),
    ("2021年5月1日至2022年4月30日", "deadline", "2022-04-30", "day"),
    ("9月15日-25日", "deadline", "2017-09-25", "day"),
    ("自即日起到2018年6月底", "deadline", "2018-06-30", "month"),
    ("2017年6月-12月", "deadline", "2017-12-31", "month"),
    ("2017年初至年中", "deadline", "2017-06-30", "half"),
    ("2018年1-3季度", "deadline", "2018-09-30", "quarter"),
    ("2018年一至三季度", "deadline", "2018-09-30", "quarter"),
    # numerals and widths
    ("二〇二五年", "deadline", "2025-12-31", "year"),
    ("二○二五年底", "deadline", "2025-12-31", "year"),
    ("２０２５年", "deadline", "2025-12-31", "year"),
    ("二〇一八年十二月三十一日前", "deadline", "2018-12-31", "day"),
    ("二0一八年底前", "deadline", "2018-12-31", "year"),
    ("二O一八年", "deadline", "2018-12-31", "year"),
    ("十二月", "deadline", "2017-12-31", "month"),
    ("6月内完成", "deadline", "2017-06-30", "month"),
    ("半个月内", "deadline", "2017-04-13", "day"),
    ("一年半内", "deadline", "2018-09-29", "day"),
    ("一个半月内", "deadline", "2017-05-14", "day"),
    ("用一年半时间", "deadline", "2018-09-29", "day"),
    ("48小时内完成整改", "deadline", "2017-03-31", "day"),
    ("二十四小时内", "deadline", "2017-03-30", "day"),
    # scraped damage
    ("20176月", "deadline", "2017-06-30", "month"),
    ("20173月29", "deadline", "2017-03-29", "day"),
    ("2017 年 6 月底前", "deadline", "2017-06-30", "month"),
    # starts
    ("2017年起", "start", "2017-01-01", "year"),
    ("自2018年1月1日起", "start", "2018-01-01", "day"),
    ("从2019年开始", "start", "2019-01-01", "year"),
    ("2018年6月以后", "start", "2018-07-01", "month"),
    ("2018年7月1日零时起", "start", "2018-07-01", "day"),
    ("自印发之日起施行", "start", "2017-03-29", "day"),
    ("自即日起", "start", "2017-03-29", "day"),
    ("2012年起5年内", "deadline", "2016-12-31", "day"),
    # more of the genre
    ("2017年至2020年", "deadline", "2020-12-31", "year"),
    ("2017年年底前", "deadline", "2017-12-31", "year"),
    ("2018年1-6月", "deadline", "2018-06-30", "month"),
    ("6-9月", "deadline", "2017-09-30", "month"),
    ("方案印发后3个月内", "deadline", "2017-06-29", "day"),
    ("经过3-5年努力", "deadline", "2022-03-29", "day"),
    ("2至3年内", "deadline", "2020-03-29", "day"),
    ("2018.12", "deadline", "2018-12-31", "month"),
    ("2018年春季", "deadline", "2018-05-31", "quarter"),
    ("2019-2020年秋冬季", "deadline", "2020-03-31", "half"),
    ("今冬明春", "deadline", "2018-05-31", "quarter"),
    ("国庆节前", "deadline", "2017-09-30", "day"),
    ("2019年春节前", "deadline", "2019-02-04", "day"),
    ("十四五时期末", "deadline", "2025-12-31", "year"),
    ("截至2018年底", "deadline", "2018-12-31", "year"),
    ("2018年12月31日以前", "deadline", "2018-12-31", "day"),
    ("次年3月底前", "deadline", "2018-03-31", "month"),
    ("2018年年中", "deadline", "2018-06-30", "half"),
    ("2019年初", "deadline", "2019-01-31", "month"),
    ("2018年汛期前", "deadline", "2018-05-31", "quarter"),
    ("9月中下旬", "deadline", "2017-09-30", "day"),
    ("从2017年起,用3年时间", "deadline", "2019-12-31", "day"),
    ("2018年初步建成", "deadline", "2018-12-31", "year"),
    ("18年底前", "deadline", "2018-12-31", "year"),
    ("19年6月", "deadline", "2019-06-30", "month"),
    ("2018年暑期", "deadline", "2018-08-31", "month"),
    ("从2018年起连续3年", "deadline", "2020-12-31", "day"),
    ("2018年下半年至2019年上半年", "deadline", "2019-06-30", "half"),
    ("2018年10月10日至15日", "deadline", "2018-10-15", "day"),
    ("不晚于2018年9月30日", "deadline", "2018-09-30", "day"),
    # a deadline cell holding a bare duration
    ("两年", "deadline", "2019-03-29", "day"),
    ("3个月", "deadline", "2017-06-29", "day"),
    ("1年左右", "deadline", "2018-03-29", "day"),
    # traditional characters (documents republished in them)
    ("2022年10月底前編制並公布", "deadline", "2022-10-31", "month"),
    ("兩年內", "deadline", "2019-03-29", "day"),
    ("印發之日起30日內", "deadline", "2017-04-28", "day"),
    ("十三五期間", "deadline", "2020-12-31", "year"),
    ("從2019年開始", "start", "2019-01-01", "year"),
]


@pytest.mark.parametrize(("text", "kind", "due", "precision"), DATED, ids=[row[0] for row in DATED])
def test_dated(text: str, kind: str, due: str, precision: str) -> None:
    d = normalize(text, BASE)
    assert (d.kind, d.date, d.precision) == (kind, date.fromisoformat(due), precision)


RECURRING = [
    ("每年12月底前", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=-1"),
    ("每年", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=-1"),
    ("每季度末", "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1"),
    ("每个季度", "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1"),
    ("每半年", "FREQ=MONTHLY;BYMONTH=6,12;BYMONTHDAY=-1"),
    ("每月5日前", "FREQ=MONTHLY;BYMONTHDAY=5"),
    ("每月28日前", "FREQ=MONTHLY;BYMONTHDAY=28"),
    ("每季度最后一个月的30日前", "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=30"),
    ("每个季度第1个月的20日前", "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=20"),
    ("每季度末(分别在6月、9月和12月底)", "FREQ=MONTHLY;BYMONTH=6,9,12;BYMONTHDAY=-1"),
    ("每年6月30日前", "FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=30"),
    ("每两年", "FREQ=YEARLY;INTERVAL=2;BYMONTH=12;BYMONTHDAY=-1"),
    ("每年年底", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=-1"),
    ("每年一季度", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=-1"),
    ("每周五", "FREQ=WEEKLY;BYDAY=FR"),
    ("按季度", "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1"),
    ("每季度结束后10日内", "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=10"),
    ("每月", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("每年6月、12月底前", "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=-1"),
    ("每月上旬", "FREQ=MONTHLY;BYMONTHDAY=10"),
    ("每年6月底和12月底前", "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=-1"),
    ("一年一次", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=-1"),
    ("每3个月", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1"),
    ("三个月一次", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1"),
    ("每半个月", "FREQ=MONTHLY;BYMONTHDAY=15,-1"),
    ("每个年度", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=-1"),
    ("每季度首月10日前", "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=10"),
    ("每季度末月25日前", "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=25"),
    ("每个月的10号前", "FREQ=MONTHLY;BYMONTHDAY=10"),
    ("每年的12月底前", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=-1"),
    ("于每年12月10日前报送本年度工作总结", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=10"),
    ("半年一次", "FREQ=MONTHLY;BYMONTH=6,12;BYMONTHDAY=-1"),
    ("两年一次", "FREQ=YEARLY;INTERVAL=2;BYMONTH=12;BYMONTHDAY=-1"),
    ("每月月底前", "FREQ=MONTHLY;BYMONTHDAY=-1"),
]


@pytest.mark.parametrize(("text", "rule"), RECURRING, ids=[row[0] for row in RECURRING])
def test_recurring(text: str, rule: str) -> None:
    d = normalize(text, BASE)
    assert (d.kind, d.date, d.rrule) == ("recurring", None, rule)
    start = datetime(2017, 3, 29)
    assert rrulestr(d.rrule, dtstart=start).after(start) is not None


NO_DATE = ["長期堅持", "逐步", "长期坚持", "持续推进", "在规定时限内", "及时", "适时", "到本世纪中叶", "聘期内", "2000年以来", "2014年至今"]


@pytest.mark.parametrize("text", NO_DATE)
def test_explicitly_undated(text: str) -> None:
    d = normalize(text, BASE)
    assert (d.kind, d.date, d.text) == ("none", None, text)
    assert d.reason and d.reason != "no time phrase"


INVALID = [("19999年", "19999年"), ("2月30日", "2月30日"), ("2017年13月", "13月")]


@pytest.mark.parametrize(("text", "culprit"), INVALID)
def test_impossible_dates_are_none_with_a_reason(text: str, culprit: str) -> None:
    d = normalize(text, BASE)
    assert (d.kind, d.date) == ("none", None)
    assert culprit in d.reason


# Years that are not time limits produce no result at all, not even kind none.
NOT_LIMITS = [
    "闽政办〔2018〕38号",
    "浙政发〔201626号",
    "比2015年下降10%",
    "与2015年相比",
    "在2015年的基础上",
    "较2017-2018年秋冬季下降",
    "审批时限压缩至100个工作日内",
    "自受理之日起20个工作日内办结",
    "接报后2小时内赶赴现场",
    "截至2016年底,已完成投资20亿元",
    "2小时内到达现场",
    "分2年给予补助",
    "《深化医药卫生体制改革2016年重点工作任务》",
    "〈北京市2016年政务公开工作要点〉",
    "连续3年",
    "《国家基本药物目录(2018年版)》",
    "2018年版",
    "比上年增长",
    "2018.5万元",
    "2018年《政府工作报告》",
    "加盟电话:152-6623-5191",
    "将上年度工作总结报送市卫计委",
    "2018年工作总结",
    "2020年全市累计投入5亿元",
    "2017年,全区已建成家庭医生工作室20个",
]


@pytest.mark.parametrize("text", NOT_LIMITS)
def test_not_a_time_limit(text: str) -> None:
    assert find_deadlines(text, BASE) == []


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("2018、2019年", ["2018-12-31", "2019-12-31"]),
        ("2017、2018年上半年", ["2017-06-30", "2018-06-30"]),
        ("2019年3月底前完成,2019年6月底前全面推开", ["2019-03-31", "2019-06-30"]),
        ("到2025年,基本建成…;到2035年,全面建成…", ["2025-12-31", "2035-12-31"]),
        ("3月底、6月底、9月底、12月底前", ["2017-03-31", "2017-06-30", "2017-09-30", "2017-12-31"]),
        ("2018年3、6月底前", ["2018-03-31", "2018-06-30"]),
        ("2018年一、二季度", ["2018-03-31", "2018-06-30"]),
        ("第三、四季度", ["2017-09-30", "2017-12-31"]),
    ],
)
def test_multi(text: str, dates: list[str]) -> None:
    d = normalize(text, BASE)
    assert (d.kind, d.date, d.dates) == ("multi", None, tuple(date.fromisoformat(x) for x in dates))


def test_several_dates_of_one_clause_are_multi() -> None:
    text = "到2017年、2018年底全区户籍人口规范签约率分别达25%、35%"
    d = normalize(text, BASE)
    assert (d.kind, d.date, d.dates) == ("multi", None, (date(2017, 12, 31), date(2018, 12, 31)))
    parts = find_deadlines(text, BASE)
    assert [(p.text, p.date) for p in parts] == [("到2017年", date(2017, 12, 31)), ("2018年底", date(2018, 12, 31))]


@pytest.mark.parametrize(
    ("text", "hedged"),
    [
        ("力争到2017年底前", True),
        ("争取2018年前", True),
        ("2020年左右", True),
        ("到2018年底基本建成", True),
        ("到2018年力争实现", True),
        ("到2018年底", False),
        ("到2020年,基本医疗卫生制度全面建立", False),
        ("努力在2023年底前", True),
        ("原则上于2023年底前完成", True),
        ("确保2023年底前完成", False),
    ],
)
def test_hedges(text: str, hedged: bool) -> None:
    assert normalize(text, BASE).hedged is hedged


@pytest.mark.parametrize("text", ["年内", "明年", "6月底前", "三个月内", "自即日起", "收官之年"])
def test_relative_phrases_without_base_are_none(text: str) -> None:
    d = normalize(text)
    assert (d.kind, d.reason) == ("none", "no base date")


@pytest.mark.parametrize("text", ["", "   ", "你好", "加强组织领导"])
def test_text_without_a_phrase(text: str) -> None:
    assert find_deadlines(text, BASE) == []
    d = normalize(text, BASE)
    assert (d.kind, d.text, d.start, d.end, d.date) == ("none", text, 0, len(text), None)


def test_workdays_come_from_the_calendar_when_given() -> None:
    d = normalize("5个工作日内", date(2024, 9, 27), add_workdays=lambda day, n: date(2024, 10, 12))
    assert d.date == date(2024, 10, 12)


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("2018年3月底前完成方案,6月底前完成试点", ["2018-03-31", "2018-06-30"]),
        ("明年3月底前启动,6月底前完成", ["2018-03-31", "2018-06-30"]),
        ("务于2021年2月3日前…2月7日前", ["2021-02-03", "2021-02-07"]),
        ("2018年启动,年底前完成", ["2018-12-31", "2018-12-31"]),
        ("比2015年下降10%,6月底前完成", ["2017-06-30"]),
        ("2000年以来成效明显,6月底前完成", [None, "2017-06-30"]),
    ],
)
def test_year_less_phrases_take_the_year_of_the_phrase_before(text: str, dates: list[str | None]) -> None:
    assert [d.date for d in find_deadlines(text, BASE)] == [d and date.fromisoformat(d) for d in dates]


# A plan issued in June 2023: a period without a year that is over by then means the next one.
@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("3月底前", ["2024-03-31"]),
        ("一季度", ["2024-03-31"]),
        ("春节前", ["2024-02-09"]),
        ("元旦前", ["2023-12-31"]),
        ("7—9月", ["2023-09-30"]),
        ("6月底前", ["2023-06-30"]),
        ("3月底前完成方案,6月底前完成试点", ["2024-03-31", "2024-06-30"]),
        ("2023年3月底前", ["2023-03-31"]),
    ],
)
def test_year_less_periods_already_over_mean_the_next_year(text: str, dates: list[str]) -> None:
    found = find_deadlines(text, date(2023, 6, 15))
    assert [d.date for d in found] == [date.fromisoformat(d) for d in dates]


def test_spans_point_into_the_original_text() -> None:
    text = "一、 力争到二〇一八年 底前，全面完成。２０２０年 6 月起实施"
    found = find_deadlines(text, BASE)
    assert [d.text for d in found] == ["力争到二〇一八年 底前", "２０２０年 6 月起"]
    assert all(text[d.start : d.end] == d.text for d in found)


# Every distinct phrase of the four seed documents, with each document's issue date.
SEEDS = {
    "000_930c350588bb785b.txt": (
        date(2018, 7, 11),
        [
            ("2018年7月11日", "deadline", "2018-07-11"),
            ("到2020年", "deadline", "2020-12-31"),
            ("逐步", "none", None),
            ("2019年底前", "deadline", "2019-12-31"),
            ("在规定时限内", "none", None),
            ("及时", "none", None),
        ],
    ),
    "001_99ab3c35207bd607.txt": (
        date(2017, 3, 29),
        [
            ("20173月29", "deadline", "2017-03-29"),
            ("到2017年底", "deadline", "2017-12-31"),
            ("到2018年底", "deadline", "2018-12-31"),
            ("到2020年", "deadline", "2020-12-31"),
            ("2017年", "deadline", "2017-12-31"),
            ("2018年", "deadline", "2018-12-31"),
            ("逐步", "none", None),
            ("2018年底前", "deadline", "2018-12-31"),
            ("力争到2018年底前", "deadline", "2018-12-31"),
            ("2016年", "deadline", "2016-12-31"),
            ("2017年起", "start", "2017-01-01"),
            ("争取2018年", "deadline", "2018-12-31"),
            ("持续推进", "none", None),
            ("力争到2017年底", "deadline", "2017-12-31"),
            ("力争到2017年底前", "deadline", "2017-12-31"),
            ("到2018年底前", "deadline", "2018-12-31"),
            ("到2017年", "deadline", "2017-12-31"),
            ("2018年底", "deadline", "2018-12-31"),
            ("到2018年", "deadline", "2018-12-31"),
            ("争取2018年前", "deadline", "2017-12-31"),
            ("到2017年底前", "deadline", "2017-12-31"),
            ("及时", "none", None),
            ("20176月", "deadline", "2017-06-30"),
            ("2017年底前", "deadline", "2017-12-31"),
        ],
    ),
    "002_54f2aeee0e1916ab.txt": (
        date(2018, 12, 19),
        [
            ("2018-12-24", "deadline", "2018-12-24"),
            ("2018年12月19日", "deadline", "2018-12-19"),
            ("争取到2025年", "deadline", "2025-12-31"),
            ("逐步", "none", None),
            ("及时", "none", None),
        ],
    ),
    "003_2496aa1d8b28a480.txt": (
        date(2024, 6, 5),
        [
            ("2024-06-12", "deadline", "2024-06-12"),
            ("2024年6月5日", "deadline", "2024-06-05"),
            ("到2025年", "deadline", "2025-12-31"),
            ("到2035年", "deadline", "2035-12-31"),
            ("2025年", "deadline", "2025-12-31"),
            ("2035年底前", "deadline", "2035-12-31"),
            ("聘期内", "none", None),
            ("及时", "none", None),
        ],
    ),
}
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


@pytest.mark.parametrize("name", SEEDS)
def test_seed_documents(name: str) -> None:
    """The seeds' baselines, cited titles (《…(2016-2020年)》) and 〔201626号 give nothing."""
    base, expected = SEEDS[name]
    text = (SEEDS_DIR / name).read_text(encoding="utf-8")
    found = find_deadlines(text, base)
    distinct = list(dict.fromkeys((d.text, d.kind, d.date and d.date.isoformat()) for d in found))
    assert distinct == expected
    assert all(text[d.start : d.end] == d.text for d in found)


@pytest.mark.parametrize("name", SEEDS)
def test_seed_phrases_alone(name: str) -> None:
    """Each seed phrase, cut out of its document, normalizes the same way."""
    base, expected = SEEDS[name]
    for text, kind, due in expected:
        d = normalize(text, base)
        assert (d.text, d.kind, d.date and d.date.isoformat()) == (text, kind, due)


def test_the_benchmark_table_is_right() -> None:
    """benchmarks/phrases.toml, which scores duban against its peers, agrees with duban."""
    table = tomllib.loads((Path(__file__).resolve().parent.parent / "benchmarks" / "phrases.toml").read_text("utf-8"))
    wrong = []
    for row in table["phrases"]:
        d = normalize(row["text"], row.get("base", table["base"]))
        expected = (row["kind"], row.get("date"), tuple(row.get("dates", ())), row.get("rrule"))
        if (d.kind, d.date, d.dates, d.rrule) != expected:
            wrong.append((row["text"], d))
    assert wrong == []


@pytest.mark.parametrize(
    ("content", "culprit"),
    [("[numerals\n", "cannot be read"), ("[numerals]\ndigits = {}\n", "'units'")],
)
def test_a_broken_lexicon_is_a_rule_error_naming_it(tmp_path: Path, content: str, culprit: str) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RuleError, match=culprit) as error:
        lexicon.load(path)
    assert str(path) in str(error.value)


def test_a_word_added_to_the_lexicon_is_understood(tmp_path: Path) -> None:
    """An office adds 岁末 (year end) to its own copy of the lexicon, without touching Python."""
    text = lexicon.PATH.read_text(encoding="utf-8").replace(
        "[periods]\n", '[periods]\n"岁末" = { months = [12, 12], precision = "year", point = true }   # year end\n'
    )
    (tmp_path / "lexicon.toml").write_text(text, encoding="utf-8")
    assert normalize("2019年岁末前", BASE).text == "2019年"  # the shipped lexicon lacks the word
    d = normalize("2019年岁末前", BASE, lexicon_path=tmp_path / "lexicon.toml")
    assert (d.kind, d.date, d.text) == ("deadline", date(2019, 12, 31), "2019年岁末前")
