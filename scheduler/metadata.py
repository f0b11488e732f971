"""A plan's metadata: title, 文号, issuer, issue date and the jurisdiction it governs.

Plans are published inside a notice (某市人民政府办公室关于印发某某方案的通知), with the
文号 on a line of its own, the issuer and the date under the signature, and the plan's
own title printed again where the plan starts. Scraped copies lose some of these and
damage others (X2, X12), so each is looked for in every place the genre puts it, in the
order of trust: the notice line before the heading, the signature before a metadata
field. The issue date is the base of every relative deadline, so it matters most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from scheduler.outline import numeral
from scheduler.wording import fold

# The notice line: 某市人民政府办公室关于印发某某方案的通知 (issuer, then the plan's title).
_NOTICE = re.compile(r"^(?P<issuer>\S{2,40}?)(?:关于)?(?:印发|转发|下发)(?P<title>.+?)的通知$")
# How a plan's own heading ends, when no notice line names it.
_PLAN_TITLE = re.compile(r"(?:方案|计划|规划|意见|办法|要点|措施|细则|清单|分解表|通知|决定)$")
# A 文号, 许政〔2020〕20号, and one whose closing 〕 was lost in scraping (〔201626号).
_DOC_NUMBER = re.compile(r"([\u4e00-\u9fff]{1,12})\s*[〔\[(]\s*(\d{4})\s*[〕\])]\s*(\d{1,4})\s*[号號]")
_DAMAGED_NUMBER = re.compile(r"^([\u4e00-\u9fff]{1,12})\s*[〔\[(]\s*(\d{4})\s*(\d{1,4})\s*[号號]$")
# A metadata row of a government site that gives the 文号.
_DOC_NUMBER_FIELD = re.compile(r"(?:文\s*号|发文字号)\s*[:|]?\s*")
# A line that is only a date, as under a signature: written, in Chinese numerals, or digits
# run together (X2).
_SIGNATURE_DATE = re.compile(r"^[{ ]*(\d{4})\s*年?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
_CN_DATE = re.compile(r"^([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日$")
_DIGIT_DATE = re.compile(r"^[{ ]*(\d{4})\s*(\d{1,2})\s*(\d{1,2})$|^(\d{4})(\d{2,4})$")
# A metadata row of a government site that gives a date.
_DATE_FIELD = re.compile(
    r"(成文日期|发文日期|印发日期|发布日期|公文生成日期|发布时间)\s*[:|]?\s*(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)
# What separates a spam site's name from the government text it prefixes (X12).
_SPAM = re.compile(r"[^\u4e00-\u9fff()（）〔〕]+")
# A metadata row that gives the issuer.
_ISSUER_FIELD = re.compile(r"(?:发布机构|发文机关)\s*[:|]?\s*([\u4e00-\u9fff]+)")
# An administrative area in an issuer's name, and the body that follows it.
_ADMIN_UNIT = re.compile(r".+?(?:自治区|自治州|特别行政区|省|市|区|區|县|縣|旗|州(?![市]))")
_ISSUER_BODY = re.compile(r"(?:人民政府|政府|党委|委员会|办公室|办公厅|管委会).*$")
# What two printings of one title may differ by: spaces, 《》 and 的.
_TITLE_NOISE = re.compile(r"[\s《》的]")
# The characters a date line may start with (see parse_date_line).
_DATE_START = frozenset("{〇○零一二三四五六七八九")
# A plan period in a title: 2018—2020年.
_PLAN_YEAR = re.compile(r"((?:19|20)\d{2})\s*[-—–~至]\s*(?:19|20)\d{2}\s*年")
_YEAR = re.compile(r"((?:19|20)\d{2})年")


@dataclass(frozen=True, slots=True)
class Metadata:
    """What the head of a plan says about it; ``None`` where the text does not say."""

    title: str | None
    doc_number: str | None
    issuer: str | None
    issued_on: date | None
    jurisdiction: str | None


def read_metadata(lines: list[str], head_end: int) -> Metadata:
    """Metadata from the head of the text (before the first item), and the signature date,
    which may also stand after the body."""
    head = lines[:head_end]
    issuer = title = None
    for index, line in enumerate(head):
        compact = line.replace(" ", "")
        if "关于" in fold(compact) and index + 1 < len(head) and not fold(compact).endswith("通知"):
            compact += head[index + 1].replace(" ", "")  # a title wrapped over two lines
        notice = _NOTICE.match(fold(compact))
        if notice:
            issuer = _SPAM.split(compact[: notice.end("issuer")])[-1]
            title = compact[notice.start("title") : notice.end("title")].strip("《》")
            break
    title = title or _plan_title(head)
    signature = _signature(lines, head_end)
    issued_on = signature[0] if signature else _date_field(head)
    if issuer is None and signature and signature[1] > 0:
        issuer = lines[signature[1] - 1] if _ISSUER_BODY.search(lines[signature[1] - 1]) else None
    if issuer is None:
        field = next((m for m in map(_ISSUER_FIELD.search, head) if m), None)
        issuer = field.group(1) if field else None
    return Metadata(title, _doc_number(head), issuer, issued_on, jurisdiction(issuer or title or ""))


def plan_start(lines: list[str], title: str | None) -> int | None:
    """The line where the plan itself starts: its title printed again after the notice."""
    if not title:
        return None
    wanted = _comparable(title)
    first, last = wanted[:1], wanted[-1:]  # in any line that prints it; most lines lack them
    found = [index for index, line in enumerate(lines) if first in line and last in line and _comparable(line) == wanted]
    return found[-1] if found else None


def _comparable(title: str) -> str:
    return _TITLE_NOISE.sub("", title)


def _plan_title(head: list[str]) -> str | None:
    """The plan's own heading: a line ending with 方案/计划 …, joined to a split 实 施 方 案."""
    for index, line in enumerate(head):
        compact = line.replace(" ", "")
        following = head[index + 1].replace(" ", "") if index + 1 < len(head) else ""
        if _PLAN_TITLE.search(following) and len(following) <= 6 and not _PLAN_TITLE.search(compact):
            return compact + following
        if _PLAN_TITLE.search(compact) and 6 <= len(compact) <= 60 and "《" not in compact:
            return compact
    return None


def _doc_number(head: list[str]) -> str | None:
    """The plan's own number: a 文号 field or a line of its own, never a cited number."""
    candidates = []
    for line in head:
        field = _DOC_NUMBER_FIELD.search(line)
        if field:
            candidates.insert(0, line[field.end() :])
        elif _DOC_NUMBER.fullmatch(line.replace(" ", "")) or _DAMAGED_NUMBER.match(line.replace(" ", "")):
            candidates.append(line.replace(" ", ""))
    for candidate in candidates:
        match = _DOC_NUMBER.match(candidate) or _DAMAGED_NUMBER.match(candidate.replace(" ", ""))
        if match:
            return f"{match.group(1)}〔{match.group(2)}〕{int(match.group(3))}号"
    return None


def _signature(lines: list[str], head_end: int) -> tuple[date, int] | None:
    """The date under the signature: a line that is only a date, in the head, else the last one."""
    found = [(day, index) for index, line in enumerate(lines) if (day := parse_date_line(line))]
    in_head = [entry for entry in found if entry[1] < head_end]
    return in_head[0] if in_head else (found[-1] if found else None)


def parse_date_line(line: str) -> date | None:
    """A line that is only a date, as signatures are written, damage included (X2).

    2018年7月11日, 20173月29 (repaired to 2017年3月29 by cleaning), 二○一一年四月十四日,
    201999, 20171116, { 2017 6 23.
    """
    line = line.strip()
    if not line or not _may_be_date(line):
        return None
    for pattern in (_SIGNATURE_DATE, _CN_DATE):
        match = pattern.match(line)
        if match:
            parts = [numeral(part) for part in match.groups()]
            return _date(*parts)
    match = _DIGIT_DATE.match(line)
    if not match:
        return None
    if match.group(1):
        return _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    year, rest = int(match.group(4)), match.group(5)
    splits = [(rest[:1], rest[1:]), (rest[:2], rest[2:])]
    return next((day for m, d in splits if d and (day := _date(year, int(m), int(d)))), None)


def _may_be_date(line: str) -> bool:
    """What every date line has: a digit, {, or a Chinese numeral first, and its day (a
    digit or 日) last. Every line of a plan is asked; most are passed over here, before
    any pattern is tried."""
    return (line[0].isdecimal() or line[0] in _DATE_START) and (line[-1].isdecimal() or line[-1] == "日")


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day) if 1949 <= year <= 2100 else None
    except ValueError:
        return None


def _date_field(head: list[str]) -> date | None:
    """A date from a metadata row; 成文日期 is the signature's date, so it ranks first."""
    fields = sorted((m for line in head for m in _DATE_FIELD.finditer(line)), key=lambda m: m.group(1) != "成文日期")
    for match in fields:
        day = _date(int(match.group(2)), int(match.group(3)), int(match.group(4)))
        if day:
            return day
    return None


def jurisdiction(issuer: str) -> str | None:
    """The area an issuer governs: 温州市鹿城区人民政府 → 鹿城区, 漳州市人民政府办公室 → 漳州市."""
    place = _ISSUER_BODY.sub("", issuer.replace(" ", "")).removeprefix("中共")
    units = _ADMIN_UNIT.findall(place)
    return units[-1] if units else None


def plan_year(title: str | None, text: str) -> date | None:
    """The base of year-less deadlines when the issue date is missing: the plan period's start."""
    match = _PLAN_YEAR.search(title or "") or _YEAR.search(text)
    return date(int(match.group(1)), 1, 1) if match else None
