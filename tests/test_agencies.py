"""The agency directory: loading and checking config tables, resolving names, reporting.

Most tests are tables: a name as a plan writes it, the jurisdiction of the plan, and the
canonical agency or group it must reach (or ``None``). The last part loads the sample
config.toml and checks that it covers every agency the four seed plans name.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.agencies import Agency, Directory, Unresolved, resolve_document, unresolved
from scheduler.errors import ConfigError, InputError
from scheduler.model import AgencyRef, Document, Task

ROOT = Path(__file__).resolve().parent.parent


def address(value: str) -> str:
    """A stand-in for scheduler.mail.validate_address: one @, no spaces, lower case."""
    if value.count("@") != 1 or " " in value:
        raise ValueError("an address has one @ and no spaces")
    return value.lower()


def agency(jurisdiction: str, name: str, *aliases: str, **extra: object) -> dict[str, object]:
    return {"jurisdiction": jurisdiction, "name": name, "aliases": list(aliases), "email": ["x@a.example"], **extra}


def group(jurisdiction: str, name: str, aliases: list[str], members: list[str]) -> dict[str, object]:
    return {"jurisdiction": jurisdiction, "name": name, "aliases": aliases, "members": members}


AGENCIES = [
    agency("漳州市", "督查室", "市政府督查室", email=["DCS@zhangzhou.example"], contact="值班员"),
    agency("漳州市", "漳州市卫生健康委员会", "市卫健委", "市卫计委"),
    agency("漳州市", "漳州市市场监督管理局", "市市场监管局", "市食品药品监管局", "市工商局"),
    agency("漳州市", "芗城区人民政府", "芗城区政府"),
    agency("漳州市", "龙海区人民政府", "龙海市人民政府"),
    agency("漳州市", "漳州市保险行业协会", "漳州保险行业协会"),
    agency("保山市", "保山市卫生健康委员会", "市卫生计生委", "市卫计委"),
    agency("保山市", "隆阳区人民政府"),
    agency("鹿城区", "鹿城区卫生健康局", "区卫计局"),
    agency("温州市", "温州市卫生健康委员会", "市卫健委"),
]
GROUPS = [
    group("漳州市", "漳州市各县(市、区)人民政府", ["各县(市、区)人民政府"], ["芗城区人民政府", "龙海市人民政府"]),
    group("保山市", "保山市各县(市、区)人民政府", ["各县(市、区)人民政府"], ["隆阳区人民政府"]),
]


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.from_config(AGENCIES, GROUPS, validate_email=address)


@pytest.mark.parametrize(
    ("name", "jurisdiction", "expected"),
    [
        ("市卫健委", "漳州市", "漳州市卫生健康委员会"),  # 简称
        ("市卫计委", "漳州市", "漳州市卫生健康委员会"),  # old name, 2019 reform
        ("市卫计委", "保山市", "保山市卫生健康委员会"),  # names are local
        ("市卫生计生委", "漳州市", None),  # an alias of Baoshan only
        ("市卫健委", None, None),  # an alias needs its jurisdiction
        ("漳州市卫生健康委员会", None, "漳州市卫生健康委员会"),  # canonical names are global
        ("漳州市卫生健康委员会", "保山市", "漳州市卫生健康委员会"),
        ("漳州市卫计委", None, "漳州市卫生健康委员会"),  # a jurisdiction in front
        ("漳州市卫计委", "保山市", "漳州市卫生健康委员会"),
        ("鹿城区卫计局", None, "鹿城区卫生健康局"),
        ("市食品药品监管局", "漳州市", "漳州市市场监督管理局"),  # merged into 市场监管局
        ("市工商局", "漳州市", "漳州市市场监督管理局"),
        ("龙海市人民政府", "漳州市", "龙海区人民政府"),  # 2021: city became district
        ("各县(市、区)人民政府", "漳州市", "漳州市各县(市、区)人民政府"),  # a group
        ("各县（市、区）人民政府", "漳州市", "漳州市各县(市、区)人民政府"),  # full-width
        ("各县市区人民政府", "保山市", "保山市各县(市、区)人民政府"),  # brackets dropped
        ("各县(市,区)人民政府", "保山市", "保山市各县(市、区)人民政府"),
        ("市 卫 健 委", "漳州市", "漳州市卫生健康委员会"),  # stray spaces of scraped text
        ("区卫计局", "温州市鹿城区", "鹿城区卫生健康局"),  # the parser's longer jurisdiction
        ("区卫计局", "鹿城区", "鹿城区卫生健康局"),
        ("市卫健委", "温州市", "温州市卫生健康委员会"),
        ("区卫计局", "温州市", None),  # 温州市 is not 鹿城区
        ("区卫计局", "城区", None),  # too short to stand for 鹿城区
        ("市卫健委", "福州市", None),  # a jurisdiction the directory lacks
        ("市卫生委", "漳州市", None),  # a near miss is not taken
        ("市直有关部门", "漳州市", None),  # a meta name
        ("各县(市、区)人民政府", None, None),  # a group name needs its jurisdiction
        ("", "漳州市", None),
    ],
)
def test_resolve(directory: Directory, name: str, jurisdiction: str | None, expected: str | None) -> None:
    assert directory.resolve(name, jurisdiction) == expected


@pytest.mark.parametrize(
    ("canonical", "expected"),
    [
        ("漳州市各县(市、区)人民政府", ("芗城区人民政府", "龙海区人民政府")),  # members by alias, stored canonical
        ("保山市各县(市、区)人民政府", ("隆阳区人民政府",)),
        ("漳州市卫生健康委员会", ("漳州市卫生健康委员会",)),
    ],
)
def test_expand(directory: Directory, canonical: str, expected: tuple[str, ...]) -> None:
    assert directory.expand(canonical) == expected


@pytest.mark.parametrize("unknown", ["市卫健委", "漳州市各县(市、区)人民政府", "福州市卫生健康委员会"])
def test_agency_is_looked_up_by_canonical_name_only(directory: Directory, unknown: str) -> None:
    with pytest.raises(KeyError):
        directory.agency(unknown)


def test_expand_of_an_unknown_name_is_a_key_error(directory: Directory) -> None:
    with pytest.raises(KeyError):
        directory.expand("市卫健委")


def test_agency_carries_normalized_addresses_and_contact(directory: Directory) -> None:
    assert directory.agency("督查室") == Agency("漳州市", "督查室", ("市政府督查室",), ("dcs@zhangzhou.example",), "值班员")


def test_contact_finds_an_agency_by_canonical_name(directory: Directory) -> None:
    assert directory.contact("督查室").email == ("dcs@zhangzhou.example",)


@pytest.mark.parametrize("name", ["督办室", "市政府督查室", "漳州市各县(市、区)人民政府"])
def test_contact_that_is_no_agency_is_a_config_error(directory: Directory, name: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f'no entry named "{name}"')):
        directory.contact(name)


def test_listing_keeps_config_order(directory: Directory) -> None:
    assert [a.name for a in directory.agencies] == [entry["name"] for entry in AGENCIES]
    assert [g.name for g in directory.groups] == [entry["name"] for entry in GROUPS]


@pytest.mark.parametrize(
    ("agencies", "groups", "message"),
    [
        (
            [agency("漳州市", "A委员会", "市A委"), agency("漳州市", "B局", "市A委")],
            [],
            '[[agencies]] "B局" (漳州市): alias "市A委" is already used by "A委员会".',
        ),
        (  # spelling variants are one name
            [agency("漳州市", "A委员会", "各县(市、区)A"), agency("漳州市", "B局", "各县（市、区）A")],
            [],
            'alias "各县（市、区）A" is already used by "A委员会"',
        ),
        (
            [agency("漳州市", "A委员会", "市A委"), agency("漳州市", "市A委")],
            [],
            '[[agencies]] "市A委" (漳州市): the name is already used by "A委员会".',
        ),
        (  # canonical names are unique across jurisdictions
            [agency("漳州市", "督查室"), agency("保山市", "督查室")],
            [],
            '[[agencies]] "督查室" (保山市): the name is already used by "督查室" (漳州市); canonical names are'
            " unique across jurisdictions, so write 保山市 in front and keep the short name as an alias.",
        ),
        (
            [agency("漳州市", "A局"), agency("漳州市", "A局", "市A局")],
            [],
            '[[agencies]] "A局" (漳州市): the name is already used by "A局" (漳州市).',
        ),
        (
            [agency("漳州市", "A局", "市A局", "市A局")],
            [],
            'alias "市A局" is already used by "A局"',
        ),
        (
            [agency("漳州市", "A局", "各县")],
            [group("漳州市", "G", ["各县"], ["A局"])],
            '[[groups]] "G" (漳州市): alias "各县" is already used by "A局".',
        ),
        (
            [agency("漳州市", "A局")],
            [group("漳州市", "G", [], ["A局", "B局"])],
            '[[groups]] "G" (漳州市): member "B局" names no agency of 漳州市.',
        ),
        (  # members are local too
            [agency("漳州市", "A局"), agency("保山市", "B局")],
            [group("漳州市", "G", [], ["B局"])],
            'member "B局" names no agency of 漳州市',
        ),
        (  # groups do not nest
            [agency("漳州市", "A局")],
            [group("漳州市", "G", [], ["A局"]), group("漳州市", "H", [], ["G"])],
            '[[groups]] "H" (漳州市): member "G" names no agency of 漳州市.',
        ),
        (
            [agency("漳州市", "A局", email=["a@b.example", "not an address"])],
            [],
            '[[agencies]] "A局" (漳州市): e-mail address "not an address" is malformed (an address has one @',
        ),
        (
            [agency("漳州市", "A局", mail=["a@b.example"])],
            [],
            '[[agencies]] "A局" (漳州市): unknown key "mail" (known: jurisdiction, name, aliases, email, contact).',
        ),
        (
            [{"jurisdiction": "漳州市", "name": "A局"}],
            [],
            '[[agencies]] "A局" (漳州市): the required key "email" is missing.',
        ),
        (
            [agency("漳州市", "A局"), {"jurisdiction": "漳州市", "email": ["a@b.example"]}],
            [],
            '[[agencies]] entry 2: the required key "name" is missing.',
        ),
        (
            [agency("漳州市", "A局", email="a@b.example")],
            [],
            '[[agencies]] "A局" (漳州市): "email" must be a non-empty list of non-empty strings.',
        ),
        (
            [agency("漳州市", "A局", email=[])],
            [],
            '"email" must be a non-empty list of non-empty strings.',
        ),
        (
            [agency("漳州市", "A局", "市A局", "")],
            [],
            '"aliases" must be a list of non-empty strings.',
        ),
        (
            [agency("  ", "A局")],
            [],
            '[[agencies]] entry 1: "jurisdiction" must be a non-empty string.',
        ),
        (
            [agency("漳州市", "A局", contact=3)],
            [],
            '"contact" must be a non-empty string.',
        ),
        (
            [agency("漳州市", "A局")],
            [group("漳州市", "G", [], [])],
            '[[groups]] "G" (漳州市): "members" must be a non-empty list of non-empty strings.',
        ),
        (
            [agency("漳州市", "A局")],
            [{"jurisdiction": "漳州市", "name": "G", "member": ["A局"]}],
            '[[groups]] "G" (漳州市): unknown key "member" (known: jurisdiction, name, aliases, members).',
        ),
        ([agency("漳州市", "A局"), "B局"], [], "[[agencies]] entry 2 must be a table."),
        ({"name": "A局"}, [], "[[agencies]] must be an array of tables."),
    ],
)
def test_config_errors_name_the_entry(agencies: object, groups: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Directory.from_config(agencies, groups, validate_email=address)  # type: ignore[arg-type]
    assert message in str(caught.value)
    assert isinstance(caught.value, InputError)


@pytest.mark.parametrize(
    ("jurisdiction", "expected"),
    [
        ("温州市鹿城区", "温州市鹿城区卫生健康局"),
        ("鹿城区", "鹿城区卫健局"),
        ("浙江省温州市鹿城区", None),  # ends with both: ambiguous, so neither
    ],
)
def test_a_jurisdiction_matching_two_entries_by_suffix_matches_neither(jurisdiction: str, expected: str | None) -> None:
    both = Directory.from_config(
        [agency("鹿城区", "鹿城区卫健局", "区卫健局"), agency("温州市鹿城区", "温州市鹿城区卫生健康局", "区卫健局")],
        [],
        validate_email=address,
    )
    assert both.resolve("区卫健局", jurisdiction) == expected


WRITTEN = [(e["jurisdiction"], e["name"], written) for e in AGENCIES + GROUPS for written in (e["name"], *e["aliases"])]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(entry=st.sampled_from(WRITTEN), data=st.data())
def test_spaces_and_width_never_change_a_resolution(
    directory: Directory, entry: tuple[str, str, str], data: st.DataObject
) -> None:
    jurisdiction, canonical, written = entry
    noisy = "".join(
        data.draw(st.sampled_from(["", " ", "\u3000", "\t"])) + char.translate(str.maketrans("(),", "（），"))
        for char in written
    )
    assert directory.resolve(noisy, jurisdiction) == canonical


def test_an_empty_directory_resolves_nothing() -> None:
    empty = Directory.from_config([], [], validate_email=address)
    assert empty.resolve("市卫健委", "漳州市") is None
    assert empty.closest("市卫健委", "漳州市") is None


def task(number: str, *names: str) -> Task:
    refs = tuple(AgencyRef(name, "responsible") for name in names)
    return Task(key=f"k{number}", number=number, title="t", text="t", agencies=refs)


def test_resolve_document_fills_every_canonical_and_leaves_the_rest(directory: Directory) -> None:
    doc = Document(
        path="seeds/000.txt",
        title="方案",
        issued_on=date(2018, 7, 11),
        jurisdiction="漳州市",
        tasks=(task("二.(三)", "市卫计委", "各县(市、区)人民政府"), task("二.(四)", "市直有关部门")),
    )
    resolved = resolve_document(doc, directory)
    assert [[ref.canonical for ref in t.agencies] for t in resolved.tasks] == [
        ["漳州市卫生健康委员会", "漳州市各县(市、区)人民政府"],
        [None],
    ]
    assert [ref.name for ref in resolved.tasks[0].agencies] == ["市卫计委", "各县(市、区)人民政府"]
    assert resolved.tasks[0].key == "k二.(三)" and resolved.title == doc.title
    assert doc.tasks[0].agencies[0].canonical is None  # the input is untouched


def test_a_resolved_reference_keeps_name_and_role_and_is_built_once(directory: Directory) -> None:
    first = directory.resolve_ref(AgencyRef("市卫计委", "lead"), "漳州市")
    assert first == AgencyRef("市卫计委", "lead", "漳州市卫生健康委员会")
    assert directory.resolve_ref(AgencyRef("市卫计委", "lead", "stale"), "漳州市") is first
    assert directory.resolve_ref(AgencyRef("市卫计委", "support"), "漳州市").role == "support"
    assert directory.resolve_ref(AgencyRef("市卫计委", "lead"), "保山市").canonical == "保山市卫生健康委员会"


def test_unresolved_counts_places_and_offers_the_closest_name(directory: Directory) -> None:
    zhangzhou = Document(
        path="a.txt",
        title="a",
        jurisdiction="漳州市",
        tasks=(
            task("1", "漳州市卫健委员会", "市直有关部门", "市卫健委"),
            task("2", "市直有关部门", "市直有关部门"),
            task("3", "市直有关部门"),
        ),
    )
    baoshan = Document(path="b.txt", title="b", jurisdiction="保山市", tasks=(task("1", "市卫生计生委", "市卫生委", "市卫生委"),))
    nowhere = Document(path="c.txt", title="c", tasks=(task("1", "市卫健委"),))
    assert unresolved([zhangzhou, baoshan, nowhere], directory) == [
        Unresolved("市直有关部门", "漳州市", 4, ("a.txt#1", "a.txt#2", "a.txt#3"), None),
        Unresolved("市卫生委", "保山市", 2, ("b.txt#1",), "市卫生计生委"),
        Unresolved("市卫健委", None, 1, ("c.txt#1",), None),
        Unresolved("漳州市卫健委员会", "漳州市", 1, ("a.txt#1",), "漳州市卫生健康委员会"),
    ]


def test_unresolved_counts_spelling_variants_together(directory: Directory) -> None:
    doc = Document(path="a.txt", title="a", jurisdiction="漳州市", tasks=(task("1", "各区(县)政府"), task("2", "各区（县）政府")))
    [found] = unresolved([doc], directory)
    assert (found.name, found.count, found.where) == ("各区(县)政府", 2, ("a.txt#1", "a.txt#2"))


def test_nothing_unresolved_when_every_name_is_known(directory: Directory) -> None:
    doc = Document(path="a.txt", title="a", jurisdiction="漳州市", tasks=(task("1", "市卫计委", "漳州保险行业协会"),))
    assert unresolved([doc], directory) == []


def test_closest_without_jurisdiction_offers_canonical_names(directory: Directory) -> None:
    assert directory.closest("漳州市卫生健康委", None) == "漳州市卫生健康委员会"


# The sample config.toml must cover every agency the four seed plans name, written as
# the parser expands them (prefixes and shared suffixes distributed, 等 tails and
# bracketed aliases such as 经信委(数字办) reduced to the name).
SEEDS = {
    "漳州市": {
        "市卫计委": "漳州市卫生健康委员会",
        "市医改办": "漳州市卫生健康委员会",
        "市医保局": "漳州市医疗保障局",
        "漳州保险行业协会": "漳州市保险行业协会",
        "各县(市、区)人民政府": "漳州市各县(市、区)人民政府",
        "漳州开发区管委会": "漳州招商局经济技术开发区管委会",
        "常山开发区管委会": "漳州常山华侨经济开发区管委会",
        "古雷开发区管委会": "古雷港经济开发区管委会",
        "漳州台商投资区管委会": "漳州台商投资区管委会",
        "漳州高新区管委会": "漳州高新技术产业开发区管委会",
        "市食品药品监管局": "漳州市市场监督管理局",
        "市民政局": "漳州市民政局",
        "市旅发委": "漳州市文化和旅游局",
        "市发改委": "漳州市发展和改革委员会",
        "市财政局": "漳州市财政局",
        "市人社局": "漳州市人力资源和社会保障局",
        "市农业局": "漳州市农业农村局",
        "市林业局": "漳州市林业局",
        "市体育局": "漳州市体育局",
        "市经信委": "漳州市工业和信息化局",
        "市经信委(数字办)": "漳州市工业和信息化局",
        "市规划局": "漳州市自然资源局",
        "市住建局": "漳州市住房和城乡建设局",
        "市编办": "中共漳州市委机构编制委员会办公室",
        "市编办(审改办)": "中共漳州市委机构编制委员会办公室",
        "市工商局": "漳州市市场监督管理局",
        "市商务局": "漳州市商务局",
        "市台办": "漳州市人民政府台湾事务办公室",
        "市人才办": "中共漳州市委人才工作领导小组办公室",
    },
    "温州市鹿城区": {
        "区卫计局": "鹿城区卫生健康局",
        "区编委办": "中共温州市鹿城区委机构编制委员会办公室",
        "区发改局": "鹿城区发展和改革局",
        "区财政局": "鹿城区财政局",
        "区人力社保局": "鹿城区人力资源和社会保障局",
        "区民政局": "鹿城区民政局",
        "区残联": "鹿城区残疾人联合会",
        "区政府办公室": "鹿城区人民政府办公室",
        "区经信局": "鹿城区经济和信息化局",
        "区委宣传部": "中共温州市鹿城区委宣传部",
        "区教育局": "鹿城区教育局",
        "区商务局": "鹿城区商务局",
        "区市场监管局": "鹿城区市场监督管理局",
        "区医改办": "鹿城区卫生健康局",
    },
    "保山市": {
        "市卫生计生委": "保山市卫生健康委员会",
        "市科技局": "保山市科学技术局",
        "市人力资源社会保障局": "保山市人力资源和社会保障局",
        "市食品药品监管局": "保山市市场监督管理局",
        "市教育局": "保山市教育体育局",
        "市旅游发展委": "保山市文化和旅游局",
        "市保险行业协会": "保山市保险行业协会",
        "市工业信息化委": "保山市工业和信息化局",
        "市民政局": "保山市民政局",
        "市财政局": "保山市财政局",
        "市税务局": "国家税务总局保山市税务局",
        "各县市区人民政府": "保山市各县(市、区)人民政府",
        "市金融办": "保山市地方金融监督管理局",
        "市国土资源局": "保山市自然资源和规划局",
        "市工商局": "保山市市场监督管理局",
    },
    "泉州市": {
        "市卫健委": "泉州市卫生健康委员会",
        "市发改委": "泉州市发展和改革委员会",
        "市财政局": "泉州市财政局",
        "福建医科大学附属第二医院": "福建医科大学附属第二医院",
        "各县(市、区)人民政府": "泉州市各县(市、区)人民政府",
        "泉州开发区管委会": "泉州经济技术开发区管委会",
        "泉州台商投资区管委会": "泉州台商投资区管委会",
        "市科技局": "泉州市科学技术局",
        "市人社局": "泉州市人力资源和社会保障局",
        "市医保局": "泉州市医疗保障局",
        "市教育局": "泉州市教育局",
        "市委编办": "中共泉州市委机构编制委员会办公室",
        "泉州医学高等专科学校": "泉州医学高等专科学校",
        "市民政局": "泉州市民政局",
        "市残联": "泉州市残疾人联合会",
        "国家金融监督管理总局泉州监管分局": "国家金融监督管理总局泉州监管分局",
        "市数字办": "泉州市数字泉州建设领导小组办公室",
        "市市场监管局": "泉州市市场监督管理局",
    },
}


@pytest.fixture(scope="module")
def sample() -> Directory:
    config = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    return Directory.from_config(config["agencies"], config["groups"], validate_email=address)


@pytest.mark.parametrize(
    ("jurisdiction", "name", "canonical"),
    [(place, name, canonical) for place, names in SEEDS.items() for name, canonical in names.items()],
)
def test_sample_config_covers_the_seeds(sample: Directory, jurisdiction: str, name: str, canonical: str) -> None:
    assert sample.resolve(name, jurisdiction) == canonical


@pytest.mark.parametrize(("jurisdiction", "name"), [("保山市", "市直有关部门"), ("漳州市", "市直各单位"), ("泉州市", "有关部门")])
def test_sample_config_leaves_meta_names_unresolved(sample: Directory, jurisdiction: str, name: str) -> None:
    assert sample.resolve(name, jurisdiction) is None


@pytest.mark.parametrize(
    ("group", "count", "renamed"),
    [
        ("漳州市各县(市、区)人民政府", 11, "龙海区人民政府"),
        ("保山市各县(市、区)人民政府", 5, "腾冲市人民政府"),
        ("泉州市各县(市、区)人民政府", 11, "晋江市人民政府"),
    ],
)
def test_sample_groups_reach_every_county(sample: Directory, group: str, count: int, renamed: str) -> None:
    members = sample.expand(group)
    assert len(members) == count and renamed in members
    assert all(sample.agency(member).email for member in members)


def test_sample_config_has_the_escalation_contact(sample: Directory) -> None:
    assert sample.contact("督查室").email == ("dcs@zhangzhou.example",)


def test_sample_addresses_are_placeholders(sample: Directory) -> None:
    assert all(address.endswith(".example") for entry in sample.agencies for address in entry.email)


def test_every_sample_name_resolves_to_its_own_entry_in_any_width(sample: Directory) -> None:
    entries = [*sample.agencies, *sample.groups]
    wide = str.maketrans("(),", "（），")
    wrong = [
        (entry.jurisdiction, written)
        for entry in entries
        for written in (entry.name, *entry.aliases)
        for spelling in (written, written.translate(wide))
        if sample.resolve(spelling, entry.jurisdiction) != entry.name
    ]
    assert wrong == []
    assert len(entries) > 90
