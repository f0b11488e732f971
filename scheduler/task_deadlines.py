"""Which time phrases of a task's text bind the task (PATTERNS.md D17, D18).

:func:`scheduler.deadlines.find_deadlines` reads every time phrase of a text; not all of
them are the task's deadlines. Years in cited titles and 文号 (《…2016—2020年规划》,
〔2016〕26号) are citations; a year after 比 is a baseline; 2017年起 is a start; and
于…前报… is the date a report is due to the issuer, which binds the task only when
the item names its own agency (6月底前报市政府审定), else it is a notice-level
obligation of everyone, set aside with a warning.
"""

from __future__ import annotations

import re
from datetime import date

from scheduler.deadlines import find_deadlines
from scheduler.model import Deadline

# Notice-level obligations (D18): 于…前将…报, 每季度…报送.
_NOTICE_LEVEL = re.compile(r"于.{0,20}?前.{0,30}?(?:报|送|备案)|(?:每季度|每月|每半年).{0,20}?(?:报送|上报)")

# Citations whose years are not deadlines (D17): 《…》 titles and document numbers.
_CITATION = re.compile(r"《[^》]*》|[\u4e00-\u9fff]{1,10}[〔\[(]\s*\d{4}\s*[〕\])]?\s*\d{1,4}\s*[号號]")

# What every citation has (a 《, or a bracket before a year), found before _CITATION
# itself is tried, which starts at every character of a sentence.
_CITED = re.compile(r"[《〔\[(](?:(?<=《)|\s*\d{4})")  # one class first: the engine skips to it at C speed

# A baseline year (D17): 比2015年, 较2017-2018年.
_BASELINE = re.compile(r"(?:比|较|與|与|相比|同比)\s*$")

# Kinds of time phrase that bind a task; starts (2017年起) and no-date words do not.
_DEADLINE_KINDS = ("deadline", "multi", "recurring")

# The sentences a task's deadlines are read from, one by one.
_SENTENCE = re.compile(r"[^。;!?\n]+[。;!?]?")


def task_deadlines(text: str, base: date | None, *, notices: bool = False) -> tuple[Deadline, ...]:
    """The deadlines binding a task, sentence by sentence, with spans into ``text``.

    Notice-level sentences (于…前报…) are skipped unless ``notices`` (an item that names
    its own responsible agency may well be due by such a report: 6月底前报市政府审定);
    citations are masked so that their years are not read, and baselines (比2015年) and
    starts (2017年起) are dropped.
    """
    found: list[Deadline] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group()
        if not notices and _NOTICE_LEVEL.search(sentence):
            continue
        masked = _CITATION.sub(_masked, sentence) if _CITED.search(sentence) else sentence
        for deadline in find_deadlines(masked, base=base):
            if deadline.kind not in _DEADLINE_KINDS or _BASELINE.search(masked[: deadline.start]):
                continue
            start, end = match.start() + deadline.start, match.start() + deadline.end
            found.append(deadline._replace(text=text[start:end], start=start, end=end))
    return tuple(found)


def _masked(citation: re.Match[str]) -> str:
    return "□" * len(citation.group())


def notice_obligations(text: str) -> list[str]:
    """The notice-level obligations of a text (于…前报…, 每季度…报送), as written."""
    return [match.group() for match in _NOTICE_LEVEL.finditer(text)]
