"""Splitting and expanding agency lists (PATTERNS.md N1–N13), one row per form."""

import pytest

from scheduler.names import own_prefix, split_names

EXPANSIONS = [
    # N1: a prefix distributes over the list
    ("市卫健委、发改委、财政局", None, ["市卫健委", "市发改委", "市财政局"]),
    ("省住建厅、省交通厅、商务厅", None, ["省住建厅", "省交通厅", "省商务厅"]),
    ("漳州市卫计委、医改办", None, ["漳州市卫计委", "漳州市医改办"]),
    # N1 across the lead/support boundary: the caller passes the lead list's prefix
    ("科技局、人力资源社会保障局", "市", ["市科技局", "市人力资源社会保障局"]),
    # N2: every member prefixed keeps its own
    ("区编委办、区发改局", None, ["区编委办", "区发改局"]),
    # N3: prefix traps
    ("市卫健委、数字办、医保局、市场监管局", None, ["市卫健委", "市数字办", "市医保局", "市市场监管局"]),
    ("市委编办,市卫健委、人社局", None, ["市委编办", "市卫健委", "市人社局"]),
    ("团市委、市科协", None, ["团市委", "市科协"]),
    ("市直有关部门、各县市区人民政府", None, ["市直有关部门", "各县市区人民政府"]),
    # N4: a shared suffix distributes
    ("漳州、常山、古雷开发区管委会", None, ["漳州开发区管委会", "常山开发区管委会", "古雷开发区管委会"]),
    ("泉州开发区、泉州台商投资区管委会", None, ["泉州开发区管委会", "泉州台商投资区管委会"]),
    ("城乡一体化示范区、高新区党工委和管委会", None, ["城乡一体化示范区党工委和管委会", "高新区党工委和管委会"]),
    ("各市、縣人民政府", None, ["各市人民政府", "各縣人民政府"]),
    ("各区、县级市", None, ["各区", "各县级市"]),
    # N5: open tails dropped
    ("市卫计委、编办、工商局等相关部门", None, ["市卫计委", "市编办", "市工商局"]),
    # N6: aliases and inclusions in parentheses
    ("市卫计委、经信委(数字办)、编办(审改办)", None, ["市卫计委", "市经信委", "市编办"]),
    ("各区政府(含北京经济技术开发区管委会)", None, ["各区政府"]),
    # N7: separators, 和/及 only between whole names
    ("市卫健委和市财政局", None, ["市卫健委", "市财政局"]),
    ("区人力资源和社会保障局", None, ["区人力资源和社会保障局"]),
    ("区卫计局及区民政局", None, ["区卫计局", "区民政局"]),
    # N8: local-government groups stay whole
    ("各县(市、区)人民政府", None, ["各县(市、区)人民政府"]),
    ("各县(市、区)政府(管委会)", None, ["各县(市、区)政府(管委会)"]),
    ("各乡镇(园区)", None, ["各乡镇(园区)"]),
    # N10: institutions and vertical bodies take no local prefix
    ("市卫健委、发改委,福建医科大学附属第二医院", None, ["市卫健委", "市发改委", "福建医科大学附属第二医院"]),
    ("市医保局,国家金融监督管理总局泉州监管分局", None, ["市医保局", "国家金融监督管理总局泉州监管分局"]),
    ("市医保局,漳州保险行业协会", None, ["市医保局", "漳州保险行业协会"]),
    # N13: traditional characters kept
    ("市政府辦公室、各縣(市、區)政府", None, ["市政府辦公室", "各縣(市、區)政府"]),
]


@pytest.mark.parametrize(("text", "prefix", "expected"), EXPANSIONS)
def test_split_names(text, prefix, expected):
    assert list(split_names(text, prefix).names) == expected


def test_open_tail_is_reported():
    assert split_names("工商局等相关部门").dropped == ("等相关部门",)


def test_prefix_passes_on():
    assert split_names("市卫生计生委").prefix == "市"


@pytest.mark.parametrize(
    ("name", "prefix"),
    [("市卫健委", "市"), ("温州市鹿城区卫计局", "温州市鹿城区"), ("市场监管局", None), ("团市委", None), ("各县(市、区)人民政府", None)],
)
def test_own_prefix(name, prefix):
    assert own_prefix(name) == prefix


def test_persons_are_dropped_and_reported():
    listed = split_names("市教育局、县政府分线领导")
    assert (listed.names, listed.dropped) == (("市教育局",), ("县政府分线领导",))
