"""A plan's raw text made into clean lines, the damage of scraping repaired.

Plans reach duban from web pages, PDFs and office files, and every route leaves marks
(PATTERNS.md X1–X6): full-width digits, pinyin after characters, a year run into its
month, GBK text decoded one byte off, page headers spliced into sentences, and the web
page around the text. Everything later reads the lines this module returns, so each
repair is made once, here. The web chrome words are data (rules/wording.toml).
"""

from __future__ import annotations

import re
from functools import cache

from scheduler.reader import CELL
from scheduler.wording import load

# Full-width ASCII to half-width, ideographic and no-break spaces to spaces, and the
# one-character item markers to the written ones: ⑴ → (1), ⒈ → 1., ㈠ → (一).
_WIDTH = (
    {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
    | {0x3000: " ", 0xA0: " "}
    | {0x2474 + n: f"({n + 1})" for n in range(20)}
    | {0x2488 + n: f"{n + 1}." for n in range(20)}
    | {0x3220 + n: f"({digit})" for n, digit in enumerate("一二三四五六七八九十")}
)

# Runs of the characters _WIDTH changes. str.translate looks every character of a text
# up in the table, which costs more than the rest of cleaning together; only these runs
# need it.
_WIDE = re.compile("[" + "".join(map(re.escape, map(chr, _WIDTH))) + "]+")

# Pinyin injected after characters by some sites (X4): 責(zé)任單位, 城鄉(xiāng).
_PINYIN = re.compile(r"\((?=[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹ])[a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹ]{1,7}\)")

# A year run into its month (X2): 20176月 → 2017年6月, 20173月29 → 2017年3月29. No digit
# stands before the year; that is asked after its 19 or 20 (?<!\d..), since a pattern
# that starts with a lookbehind is tried at every character of the text.
_YEAR_MONTH = re.compile(r"((?:19|20)(?<!\d..)\d{2})(?=(?:0?[1-9]|1[0-2])月)")

# Bopomofo and box-drawing characters, never written in a plan: the mark of GBK text
# decoded one byte off (X5), and the item marker it hides.
_MOJIBAKE = re.compile(r"[\u3100-\u312f\u2500-\u257f]")
_MARKER_START = re.compile(r"^(?:[(][一二三四五六七八九十]+[)]|[一二三四五六七八九十]+、|\d{1,2}[.、])")

# Lines that carry nothing: table rules (|, ---) and PDF page numbers (— 3 —, -3-); such
# a line is empty or starts with one of _RULE_START.
_RULE = re.compile(r"[|｜\s]*|[-—_=\s]+|[-—]\s*\d{1,3}\s*[-—]")
_RULE_START = frozenset("|｜-—_=")

# A PDF page header spliced into the text (X6): 许昌市人民政府文件许政〔2020〕21号.
_PAGE_HEADER = re.compile(
    r"[\u4e00-\u9fff]{2}[省市县区州旗](?:人民政府|政府)(?:办公室|办公厅)?文件\s*[\u4e00-\u9fff]{1,10}[〔\[]\d{4}[〕\]]\s*\d{1,4}\s*号"
)


def clean_lines(text: str) -> list[str]:
    """The plan's lines, cleaned of width variants, pinyin, run-together dates and web chrome."""
    text = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\t", " ").replace('\\"', '"')
    text = _WIDE.sub(_narrow, text)
    if "文件" in text:  # every page header has it
        text = _PAGE_HEADER.sub("", text)
    text = _YEAR_MONTH.sub(_with_year_mark, _PINYIN.sub("", text))
    chrome, footer = _web_page()
    damaged = _MOJIBAKE.search(text) is not None
    lines = []
    for raw in text.split("\n"):
        raw = _realigned(raw) if damaged and _MOJIBAKE.search(raw[:6]) else raw
        line = CELL.join(" ".join(cell.split()) for cell in raw.split(CELL)).strip() if CELL in raw else " ".join(raw.split())
        if ((not line or line[0] in _RULE_START) and _RULE.fullmatch(line)) or chrome.match(line):
            continue
        if footer.match(line):
            break
        lines.append(line)
    return lines


def _with_year_mark(year: re.Match[str]) -> str:
    """The year with its 年; a function, since re expands a template replacement in
    Python at every call."""
    return year.group(1) + "年"


def _narrow(run: re.Match[str]) -> str:
    return run.group().translate(_WIDTH)


def _realigned(line: str) -> str:
    """A line of GBK text decoded one byte off (X5: ?。ㄒ唬┚o扣 for (一)緊扣), decoded again in
    step if that yields an item marker; otherwise the line as it was."""
    data = line.encode("gbk", errors="replace")
    for shift in (1, 2, 3):
        try:
            repaired = data[shift:].decode("gbk").translate(_WIDTH)
        except UnicodeDecodeError:
            continue
        if _MARKER_START.match(repaired):
            return repaired
    return line


@cache
def _web_page() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Web chrome lines (X1), dropped wherever they appear, and the page footer, after
    which only web chrome follows; built on first use, as rules/wording.toml is read."""
    chrome = re.compile(r"^[【\[]?(?:" + "|".join(load().chrome) + ")")
    footer = re.compile(r"^(?:" + "|".join(load().footer) + ")")
    return chrome, footer
