"""Splitting and expanding the agency lists of implementation plans.

Plans save ink: ``市卫健委、发改委、财政局`` means 市卫健委, 市发改委 and 市财政局 (the
prefix distributes), ``漳州、常山、古雷开发区管委会`` means three 管委会 (the suffix
distributes), ``各市、县人民政府`` means 各市人民政府 and 各县人民政府, and ``工商局等
相关部门`` names only 工商局. This module turns such a list into the names a person would
write out in full, so the directory (``scheduler.agencies``) can resolve each one.

Names stay as written otherwise: no alias is resolved here and traditional characters
are kept. Group names such as ``各县(市、区)人民政府`` or ``市直有关部门`` are kept whole:
the ``、`` inside their parentheses is not a separator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

# Endings of a government department's name: a bare member with one of these inherits
# the prefix (市, 区, 漳州市 …) of the member before it.
_DEPARTMENT = re.compile(r"(?:委员会|委|局|办公室|办|辦|厅|廳|部门|部門|部|中心|署|处)$")

# Words that make a name an institution or vertical body rather than a local department:
# it never inherits a local prefix (福建医科大学附属第二医院, 国家金融监督管理总局泉州监管分局).
_INSTITUTION = re.compile(r"医院|醫院|大学|大學|学院|学校|公司|银行|集团|协会|協會|商会|国家|中国|分局")

# Words whose 市/区 is not a jurisdiction: 市场监管局 still needs its prefix (市市场监管局).
_NOT_PLACE = re.compile(r"市场|市場|城市|超市|区域|區域|县域|縣域")

# A jurisdiction inside a name: 市卫健委, 区编委办, 团市委, 漳州市卫计委, 四川省发改委.
_PLACE = re.compile(r"[省市区區县縣州旗镇鎮乡鄉]")

# The jurisdiction a name starts with: 市, 区, 漳州市, 温州市鹿城区 (not 团市 of 团市委).
_OWN_PREFIX = re.compile(r"^(?:[省市区區县縣州]|[\u4e00-\u9fff]{2,5}?(?:自治区|自治州|省|市|区|區|县|縣|州))+")

# Collective names start with these; they neither give nor take a prefix.
_GROUP = re.compile(r"^(?:各|相关|相關|有关|有關|全[市区县省])")

# Governing bodies that a list of places shares (N4): 漳州、常山、古雷开发区管委会.
_BODY_SUFFIXES = (
    "党工委和管委会",
    "党委和人民政府",
    "党委和政府",
    "管理委员会",
    "管委会",
    "管委會",
    "人民政府",
    "政府",
    "党工委",
    "办事处",
)

# Endings of a zone that takes a shared body suffix: 泉州台商投资区 + 管委会.
_ZONES = ("经济技术开发区", "台商投资区", "开发区", "高新区", "示范区", "投资区", "园区", "新区")

# Open-list tails that add no agency (N5): A、B等, 等部门, 等相关部门, 等有关单位.
_OPEN_TAIL = re.compile(r"等(?:(?:相关|相關|有关|有關|其他)?(?:部门|部門|单位|單位|机构|機構))?$")

# Persons or posts named instead of agencies (N12): 常务副区长, 县政府分线领导.
_PERSON = re.compile(r"(?:领导|領導|副?市长|副?区长|副?县长|副?省长|局长|主任|书记|同志|负责人)$")

# Parenthesized aliases or inclusions after a name (N6): 经信委(数字办), (以下简称区医改办),
# 各区政府(含…管委会). Group parentheses such as 各县(市、区) or 政府(管委会) stay.
_ALIAS = re.compile(r"[(（](?:[^()（）]*(?:办|委|局|部门|厅|中心)|(?:含|以下简称|以下簡稱)[^()（）]*)[)）]$")

_SEPARATORS = "、,;，；及/"

# Brackets, inside which separators do not split: the 、 of 各县(市、区)人民政府.
_OPENING = "(（〔["
_CLOSING = ")）〕]"

# A trailing bracket of a cell (an alias or a note), and what never stands in a name.
_TRAILING_BRACKET = re.compile(r"[(（][^()（）]*[)）]$")
_NOT_IN_NAME = re.compile(r"[。;；:：%\d]")

# Endings of anything a plan names as responsible: departments, governments, institutions.
_AGENCY_END = re.compile(
    r"(?:委员会|委|局|办公室|办|辦|厅|廳|部门|部門|部|中心|署|处|政府|管委会|管委會|党工委|办事处|协会|協會|"
    r"商会|联|院|学校|校|银行|公司|集团|单位|單位|街道|乡镇|镇|乡|所|站|分局)$"
)



@dataclass(frozen=True, slots=True)
class NameList:
    """The names of one list, expanded, and what was dropped from it (open tails such as
    等部门, persons such as 分管副市长), for warnings."""

    names: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    prefix: str | None = None


def looks_like_agency(text: str) -> bool:
    """Whether a short text reads as one agency name (a table cell, a bracket's list member)."""
    name = _TRAILING_BRACKET.sub("", text.strip())
    return 3 <= len(name) <= 30 and not _NOT_IN_NAME.search(name) and bool(_AGENCY_END.search(name))


def split_top(text: str, separators: str = _SEPARATORS) -> list[str]:
    """Split ``text`` at separators outside parentheses, so group names stay whole.

    Only the brackets and separators are visited (one search for them all), not every
    character: lists are split several times over while a plan is read.
    """
    splitter = _splitter(separators)
    if splitter.search(text) is None:  # one part, as most names and many lists are
        text = text.strip()
        return [text] if text else []
    parts, depth, start = [], 0, 0
    for match in splitter.finditer(text):
        char = match.group()
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth = max(0, depth - 1)
        if depth == 0 and char in separators:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return [part for part in map(str.strip, parts) if part]


@cache
def _splitter(separators: str) -> re.Pattern[str]:
    """The characters :func:`split_top` acts on: brackets, and the given separators."""
    return re.compile("[" + re.escape(_OPENING + _CLOSING + separators) + "]")


def own_prefix(name: str) -> str | None:
    """The jurisdiction a name carries itself (市 of 市卫健委, 漳州市 of 漳州市卫计委), if any."""
    if _GROUP.match(name):
        return None
    match = _OWN_PREFIX.match(_NOT_PLACE.sub("□□", name))
    return name[: match.end()] if match else None


def _takes_prefix(name: str) -> bool:
    """True for a bare department name (发改委, 市场监管局) that lacks its own jurisdiction."""
    if _GROUP.match(name) or _INSTITUTION.search(name) or not _DEPARTMENT.search(name):
        return False
    return not _PLACE.search(_NOT_PLACE.sub("□□", name))


def _body_suffix(name: str) -> tuple[str, str] | None:
    """Split a name into its place and its governing-body suffix, if it ends with one."""
    for suffix in _BODY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    return None


def _zone(place: str) -> str:
    return next((zone for zone in _ZONES if place.endswith(zone)), "")


def _distribute_suffix(run: list[str]) -> list[str]:
    """漳州、常山、古雷开发区管委会 → 漳州开发区管委会 …; 各市、縣人民政府 → 各市人民政府 …."""
    split = _body_suffix(run[-1]) if run else None
    if split is None:
        return run
    place, suffix = split
    expanded = []
    for name in run[:-1]:
        if _body_suffix(name) or _DEPARTMENT.search(name):
            expanded.append(name)
        elif _zone(name):
            expanded.append(name + suffix)
        elif len(name) >= 3 and _PLACE.search(name[-1]):
            expanded.append(name + suffix)
        elif len(name) <= 4:
            expanded.append(name + _zone(place) + suffix)
        else:
            expanded.append(name)
    return expanded + [run[-1]]


# Levels of local government that 各 distributes over: 各市、县 → 各市, 各县.
_LEVELS = ("县级市", "街道", "乡镇", "区", "區", "县", "縣", "市", "镇", "鎮", "乡", "鄉")


def _distribute_each(run: list[str]) -> list[str]:
    """各区、县级市 → 各区, 各县级市; 各市、縣人民政府 → …, 各縣人民政府."""
    if not run or not run[0].startswith("各"):
        return run
    return [run[0]] + [
        "各" + name if ((_body_suffix(name) or (name, ""))[0] in _LEVELS) else name for name in run[1:]
    ]


def _clean(name: str) -> tuple[str, str | None]:
    """Drop an open tail (等相关部门) and a trailing alias in parentheses from one name."""
    name = name.strip(" 。.:：")
    dropped = None
    tail = _OPEN_TAIL.search(name)
    if tail and tail.start() > 0:
        dropped, name = name[tail.start() :], name[: tail.start()]
    while alias := _ALIAS.search(name):
        name = name[: alias.start()].strip()
    return name, dropped


@lru_cache(maxsize=4096)
def split_names(text: str, prefix: str | None = None) -> NameList:
    """Expand one list of agencies as written into full names.

    ``prefix`` is the jurisdiction inherited from a list before this one (the lead list
    before a support list: 市A、B牵头,C、D配合 → 市C); the returned ``prefix`` is the one in
    force at the end, to pass on.

    Remembered (the result is immutable): a plan repeats its lists, the 责任单位 of one
    task being that of the next, and the plans of one office share them.
    """
    names: list[str] = []
    dropped: list[str] = []
    for group in split_top(text, ",;，；"):
        run = []
        for raw in split_top(group, "、及/"):
            parts, lost = _member(raw)
            dropped.extend(lost)
            run.extend(parts)
        run = _distribute_each(_distribute_suffix([name for name in run if name]))
        for name in run:
            gives, takes = _prefix_rule(name)
            if gives:
                prefix = gives
            elif prefix and takes:
                name = prefix + name
            if name not in names:
                names.append(name)
    return NameList(tuple(names), tuple(dropped), prefix)


# How many distinct names the two helpers below remember. A directory's plans write the
# same few hundred agency names over and over, and each name is read by a dozen patterns.
_REMEMBERED = 8192


@lru_cache(maxsize=_REMEMBERED)
def _member(raw: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One member of a list as written: (the names it stands for, what was dropped from
    it: an open tail such as 等部门, a person such as 分管副市长)."""
    name, tail = _clean(raw)
    dropped = (tail,) if tail else ()
    if _PERSON.search(name):
        return (), (*dropped, name)
    return tuple(_split_and(name)), dropped


@lru_cache(maxsize=_REMEMBERED)
def _prefix_rule(name: str) -> tuple[str | None, bool]:
    """How a name takes part in prefix distribution: (the jurisdiction it passes on to the
    bare names after it, if it is a department with one; whether it takes one itself)."""
    own = own_prefix(name)
    if own and _DEPARTMENT.search(name) and not _INSTITUTION.search(name):
        return own, False
    return None, _takes_prefix(name)


def _split_and(name: str) -> list[str]:
    """市卫健委和市财政局 → two names; 党工委和管委会 or 人力资源和社会保障局 stay one."""
    if "和" not in name:
        return [name]
    parts = split_top(name, "和")
    if len(parts) < 2:
        return [name]
    if all(_DEPARTMENT.search(part) or _body_suffix(part) for part in parts[:-1]) and all(
        len(part) > 3 and part not in _BODY_SUFFIXES for part in parts[1:]
    ):
        return parts
    return [name]
