"""Metadata: title, 文号, issuer, issue date and jurisdiction from the head of a plan."""

from datetime import date

import pytest

from scheduler.metadata import Metadata, jurisdiction, parse_date_line, plan_start, plan_year, read_metadata


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


NOTICE = [
    "某市人民政府办公室关于印发某市卫生工作实施方案的通知",
    "某政办〔2020〕7号",
    "各县(市、区)人民政府:",
    "某市人民政府办公室",
    "2020年3月5日",
    "某市卫生工作实施方案",
    "一、主要任务",
]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # the notice line gives issuer and title; the signature the date
        (NOTICE, Metadata("某市卫生工作实施方案", "某政办〔2020〕7号", "某市人民政府办公室", date(2020, 3, 5), "某市")),
        # no notice: the plan's heading, the issuer above the signature date
        (["某县工作方案", "某县人民政府", "2019年1月2日", "一、任务"], Metadata("某县工作方案", None, "某县人民政府", date(2019, 1, 2), "某县")),
        # a heading split over two lines, a damaged 文号, metadata rows of a site
        (
            ["某区推进工作实施", "方案", "文号:某政〔201626号", "发布机构:某区人民政府", "成文日期:2016-05-06", "一、任务"],
            Metadata("某区推进工作实施方案", "某政〔2016〕26号", "某区人民政府", date(2016, 5, 6), "某区"),
        ),
        # a cited 文号 inside a sentence is not the plan's own
        (["根据《某方案》(某政〔2018〕3号)制定本方案。", "一、任务"], Metadata(None, None, None, None, None)),
    ],
)
def test_read_metadata(lines, expected):
    assert read_metadata(lines, len(lines) - 1) == expected


def test_plan_start_is_the_title_printed_again():
    lines = ["某市关于印发某市工作方案的通知", "一、高度重视", "某市工作方案", "一、任务"]
    assert plan_start(lines, "某市工作方案") == 2
    assert plan_start(lines, None) is None


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [("某市2018—2020年行动计划", "2019年完成", date(2018, 1, 1)), ("某市行动计划", "到2019年完成", date(2019, 1, 1)), (None, "无年份", None)],
)
def test_plan_year_is_the_base_without_an_issue_date(title, text, expected):
    assert plan_year(title, text) == expected
