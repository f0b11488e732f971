"""The numbered outline of a plan: items under 一、/(一)/1./(1)/① markers, and table rows.

Plans number their parts with a few marker kinds, and the order in which a plan first
uses them gives their depth (``一、`` then ``(一)`` then ``1.``, or ``一、`` then ``1.``).
An item runs from its marker line up to the next marker; its path is the list of markers
above it as written (``二.(一).2``), which is what a person quotes when they talk about it.

A marker is trusted only when it continues its sequence (1 after nothing, n+1 after n,
or 1 again under a new parent), so ``2017年`` or ``1.5张床位`` at a line start is text.

Tables come in three shapes, and all yield :class:`Row` values keyed by column: one row
per line with tab-separated cells (HTML, DOCX), one row per line with cells separated by
spaces (scraped text), or one cell per line (seed 001's 分解表), whose rows are found by
the 序号 digits. Cells that do not fill the columns one to one (merged, or one agency per
line) are assigned by what they hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from typing import Sequence

from scheduler.names import looks_like_agency, split_top
from scheduler.reader import CELL
from scheduler.wording import column_headers

_CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "一二三四五六七八九十零〇○"

# Marker kinds, outermost usual first; each regex captures the numeral and leaves the rest.
_MARKERS = (
    ("cn", re.compile(rf"^([{_CN}]{{1,4}})[、,.]\s*")),
    ("pcn", re.compile(rf"^[(]([{_CN}]{{1,4}})[)]\s*")),
    ("num", re.compile(r"^(\d{1,3})(?:[、,.]|\s+(?=[^\d\s年月日%]))\s*")),
    ("pnum", re.compile(r"^[(](\d{1,3})[)]\s*")),
    ("circ", re.compile(r"^([①-⑳])\s*")),
)

# The characters a marker starts with (\d aside): most lines of a plan start otherwise
# and are text, known without trying every kind.
_MARKER_STARTS = frozenset(_CN + "(" + "".join(map(chr, range(ord("①"), ord("⑳") + 1))))

# How each kind is written in a number path: 二, (一), 1, (1), ①.
_SHOWN = {"cn": "{}", "pcn": "({})", "num": "{}", "pnum": "({})", "circ": "{}"}

# A line that lists attachments ends the body text of the item before it.
_ATTACHMENT_LIST = re.compile(r"^附件\s*\d*\s*[:]")

# A line that starts the attachments themselves.
_ATTACHMENT = re.compile(r"^附件\s*\d*$")

_YEAR_COLUMN = re.compile(r"^(\d{4})年度?$")

# What a header may carry beside its name: spaces, and a note in brackets at the end.
_HEADER_NOISE = re.compile(r"\s+|\([^()]*\)$")


@dataclass(frozen=True, slots=True)
class Item:
    """A numbered item: ``head`` is the text after its marker, ``lines`` the lines below."""

    path: tuple[str, ...]
    head: str
    lines: tuple[str, ...]
    line: int

    @property
    def number(self) -> str:
        return ".".join(self.path)

    @property
    def text(self) -> str:
        return "\n".join((self.head, *self.lines)).strip()


@dataclass(frozen=True, slots=True)
class Row:
    """A table row: cells by column name (``task``, ``lead``, ``deadline`` …, or a year);
    every column of the table is a key, an empty cell an empty tuple.

    ``table`` is the line of its table's header, which tells the tables of a plan apart.
    """

    number: str
    cells: dict[str, tuple[str, ...]]
    line: int
    boundary_lost: bool = False
    table: int = 0


@dataclass(frozen=True, slots=True)
class Outline:
    items: tuple[Item, ...]
    rows: tuple[Row, ...] = ()
    warnings: tuple[str, ...] = ()

    def leaves(self) -> list[bool]:
        """For each item, whether it is a leaf: no later item sits under it."""
        following = [item.path for item in self.items[1:]] + [()]
        return [after[: len(item.path)] != item.path for item, after in zip(self.items, following)]


def numeral(text: str) -> int:
    """Value of a numeral: 3, 十七, ⑤, and 二○一一 read digit by digit as years are."""
    if "①" <= text <= "⑳":
        return ord(text) - ord("①") + 1
    if text.isdecimal():
        return int(text)
    if "十" not in text:
        return int("".join(str(_CN_DIGITS.get(c, 0)) for c in text))
    tens, _, ones = text.partition("十")
    return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0)


def parse_outline(lines: Sequence[str]) -> Outline:
    """Find the numbered items and table rows of a plan's lines (already cleaned)."""
    table_lines, rows, table_warnings = _tables(lines)
    found: list[tuple[tuple[str, ...], str, int, list[str]]] = []
    stack: list[tuple[str, str]] = []  # (kind, shown) of the open markers
    last: dict[str, int] = {}
    body: list[str] | None = None
    prefix: tuple[str, ...] = ()
    for index, line in enumerate(lines):
        if index in table_lines or _ATTACHMENT_LIST.match(line):
            body = None
            continue
        if _ATTACHMENT.match(line) and found:
            prefix, stack, body = (line.replace(" ", ""),), [], None
            continue
        marker = _marker(line, last, stack[-1][0] if stack else None)
        if marker is None:
            if body is not None:
                body.append(line)
            continue
        kind, value, shown, head = marker
        kinds = [entry[0] for entry in stack]
        stack = stack[: kinds.index(kind)] if kind in kinds else stack
        stack.append((kind, shown))
        last[kind] = value
        body = []
        found.append((prefix + tuple(entry[1] for entry in stack), head, index, body))
    items = tuple(Item(path, head, tuple(body), index) for path, head, index, body in found)
    return Outline(items, tuple(rows), tuple(table_warnings))


def _marker(line: str, last: dict[str, int], innermost: str | None) -> tuple[str, int, str, str] | None:
    """The marker a line starts with as (kind, value, shown, rest), or None.

    Arabic numerals must continue their sequence (the last one plus one, or 1 under a new
    parent), since a line may start with a figure; the other kinds are unambiguous at a
    line start.
    """
    first = line[:1]
    if first not in _MARKER_STARTS and not first.isdecimal():
        return None
    for kind, pattern in _MARKERS:
        match = pattern.match(line)
        if match is None:
            continue
        value = numeral(match.group(1))
        restart = value == 1 and innermost != kind
        if kind == "num" and not (restart or value == last.get(kind, 0) + 1):
            return None
        return kind, value, _SHOWN[kind].format(match.group(1)), line[match.end() :]
    return None


def column_of(header: str) -> str | None:
    """The column a table header names (``牵头部门`` → lead, ``2019年度`` → 2019).

    Every line of a plan is asked whether it heads a table, so a line is first told
    by its first written character: what is left of a header once spaces and a note at
    its end are dropped starts with that character, a header word's first or a digit.
    """
    first = header.lstrip()[:1]
    if first not in _header_starts() and not first.isdecimal():
        return None
    header = _HEADER_NOISE.sub("", header)
    year = _YEAR_COLUMN.match(header)
    if year:
        return year.group(1)
    return column_headers().get(header)


@cache
def _header_starts() -> frozenset[str]:
    return frozenset(header[:1] for header in column_headers())


@cache
def _first_header_starts() -> frozenset[str]:
    """What a table's header line starts with: 序号, 编号, or a header spanning columns."""
    return frozenset(header[:1] for header, column in column_headers().items() if column in ("number", "span"))


def _tables(lines: Sequence[str]) -> tuple[set[int], list[Row], list[str]]:
    """Rows of every task table, and the indexes of the lines they use."""
    used: set[int] = set()
    rows: list[Row] = []
    warnings: list[str] = []
    index = 0
    while index < len(lines):
        header = _header_at(lines, index)
        if header is None:
            index += 1
            continue
        columns, width, shape = header
        parse = _cell_rows if shape == "cell" else _line_rows
        end, found = parse(lines, index + width, columns, shape)
        if not found and shape != "cell":
            end, found = _cell_rows(lines, index + width, columns, shape)
            found = [replace(row, boundary_lost=True) for row in found]
            if found:
                warnings.append(f"The task table at line {index + 1} is interleaved (cells spread over lines): its rows are read with low confidence.")
        if not found:
            warnings.append(f"A task table header at line {index + 1} was found but no row under it could be read (low confidence).")
        used.update(range(index, end))
        rows.extend(replace(row, table=index) for row in found)
        index = max(end, index + 1)
    return used, rows, warnings


def _header_at(lines: Sequence[str], index: int) -> tuple[list[str], int, str] | None:
    """A table header at ``index``: its columns, its line count, and the table's shape.

    ``tab``: one row per line, cells tab-separated; ``space``: one row per line, cells
    separated by spaces; ``cell``: one cell per line. A header names 序号 and an agency column.

    Its first column is 序号 or a header spanning columns (年度目标), so a line that
    starts otherwise, as almost every line does, is passed over before it is split.
    """
    line = lines[index]
    if line.lstrip()[:1] not in _first_header_starts():
        return None
    shape = "tab" if CELL in line else "space"
    cells = line.split(CELL if shape == "tab" else None)
    columns = [column_of(cell) for cell in cells] if len(cells) >= 3 else []
    if len(cells) < 3 or (shape == "space" and None in columns):
        columns, shape = [], "cell"
        for candidate in range(index, min(index + 16, len(lines))):
            column = column_of(lines[candidate])
            if column is None:
                break
            columns.append(column)
    named = [column or "" for column in columns if column != "span"]
    if "number" in named[:1] and sum(1 for column in named if column) >= 3 and set(named) & set(AGENCY_COLUMNS):
        return named, (len(columns) if shape == "cell" else 1), shape
    return None


AGENCY_COLUMNS = ("lead", "support", "responsible")

# A category row of a table: 一, 二、扬尘治理 (S7); in a cell-per-line table, its numeral alone.
_CATEGORY = re.compile(rf"^([{_CN}]+)(?:[、.]|$)")
_NUMERAL_LINE = re.compile(rf"[{_CN}]+[、.]?")

# A cell that holds a time limit rather than text: 2017年底前, 20176月, 年底前, 每季度.
_TIME_CELL = re.compile(r"^[^。,;]{0,6}(?:\d{4}|年|月|季度|每|当年|长期|持续)[^。,;]{0,14}$")


def _line_rows(lines: Sequence[str], start: int, columns: list[str], shape: str) -> tuple[int, list[Row]]:
    """Rows of a table one row per line; a category row (一、扬尘治理) numbers the rows below it."""
    rows, category = [], ""
    index = start
    while index < len(lines) and not _header_at(lines, index):
        line = lines[index]
        cells = [cell.strip() for cell in (line.split(CELL) if shape == "tab" else line.split())]
        category_match = _CATEGORY.match(cells[0])
        serial = _SERIAL.fullmatch(cells[0])
        if category_match and (len(set(filter(None, cells))) <= 2 or CELL not in line):
            if shape == "space" and len(cells) > 2:
                break
            category = category_match.group(1)
        elif serial and len(cells) > 1:
            number = f"{category}.{serial.group(1)}" if category else serial.group(1)
            rows.append(_row(number, cells[1:], columns[1:], index))
        elif shape == "tab" and rows and not cells[0]:
            rows[-1] = _continued(rows[-1], cells[1:], columns[1:])
        else:
            break
        index += 1
    return index, rows


# The 序号 cell of a row: 3, 3., 3、, (3).
_SERIAL = re.compile(r"\(?(\d{1,3})[).、]?")


def _continued(row: Row, cells: list[str], columns: list[str]) -> Row:
    """A row whose 序号 cell is empty continues the row above (a wrapped or split row)."""
    merged = dict(row.cells)
    for column, cell in zip(columns, cells):
        if column and cell:
            merged[column] = merged.get(column, ()) + (cell,)
    return replace(row, cells=merged)


def _cell_rows(lines: Sequence[str], start: int, columns: list[str], shape: str) -> tuple[int, list[Row]]:
    """Rows of a table flattened one cell per line; a row starts at its 序号, a category
    row is a numeral alone (一) followed by its name."""
    rows, category = [], ""
    index, expected = start, 1
    while index < len(lines):
        line = lines[index].strip()
        if _NUMERAL_LINE.fullmatch(line):
            category, expected = line.rstrip("、."), 1
            index += 2 if index + 1 < len(lines) and lines[index + 1].strip() != "1" else 1
            continue
        if line != str(expected):
            break
        end = index + 1
        while end < len(lines) and not _row_start(lines, end, expected):
            end += 1
        number = f"{category}.{expected}" if category else str(expected)
        cells = [cell.strip() for cell in lines[index + 1 : end] if cell.strip(" ()〔〕[]")]
        rows.append(_row(number, cells, columns[1:], index))
        index, expected = end, expected + 1
    return index, rows


def _row_start(lines: Sequence[str], index: int, current: int) -> bool:
    """Whether the next row (or a category row) of a cell-per-line table starts at ``index``."""
    line = lines[index].strip()
    if line == str(current + 1):
        return True
    return bool(_NUMERAL_LINE.fullmatch(line)) and any(lines[i].strip() == "1" for i in range(index + 1, min(index + 3, len(lines))))


def _row(number: str, cells: list[str], columns: list[str], line: int) -> Row:
    """One row: cells by position when they fill the columns, else by what each cell holds."""
    by_column: dict[str, tuple[str, ...]] = {column: () for column in columns if column}
    if len(cells) == len(columns):
        for column, cell in zip(columns, cells):
            if column and cell:
                by_column[column] += (cell,)
        return Row(number, by_column, line)
    return _assigned(number, cells, columns, by_column, line)


def _assigned(number: str, cells: list[str], columns: list[str], by_column: dict, line: int) -> Row:
    """A row whose cells do not match the columns one to one (merged or multi-line cells).

    Agencies are the run of agency-like cells ending the row (before a final time cell);
    texts come before them, in column order (a merged category cell is the first to go
    missing, a merged year cell spans all years); when more agencies than agency columns
    are listed one per line, the first is taken as lead (low confidence).
    """
    cells = [cell for cell in cells if cell]
    agency_columns = [column for column in columns if column in AGENCY_COLUMNS]
    time = []
    if "deadline" in columns and cells and _TIME_CELL.match(cells[-1]) and not looks_like_agency(cells[-1]):
        time = [cells.pop()]
    first_agency = len(cells)
    while first_agency > 1 and _agency_cell(cells[first_agency - 1]):
        first_agency -= 1
    texts, agencies = cells[:first_agency], list(dict.fromkeys(cells[first_agency:]))
    by_column["deadline"] = tuple(time) if "deadline" in by_column else ()
    _assign_texts(texts, [column for column in columns if column and column not in (*AGENCY_COLUMNS, "deadline")], by_column)
    lost = len(agencies) > len(agency_columns) > 1
    if len(agency_columns) == 1:
        by_column[agency_columns[0]] = tuple(agencies)
    elif agency_columns and agencies:
        local = [name for name in agencies[1:] if _LOCAL.search(name)] if "responsible" in agency_columns[2:] else []
        by_column[agency_columns[0]] = (agencies[0],)
        by_column[agency_columns[1]] = tuple(name for name in agencies[1:] if name not in local and name != agencies[0])
        if local:
            by_column["responsible"] = tuple(local)
    return Row(number, by_column, line, boundary_lost=lost)


# Local governments, the usual content of a third 责任单位 column (R13).
_LOCAL = re.compile(r"^各|人民政府$|政府$|管委会$")


def _agency_cell(cell: str) -> bool:
    return all(looks_like_agency(part) for part in split_top(cell))


def _assign_texts(texts: list[str], columns: list[str], by_column: dict) -> None:
    years = [column for column in columns if column.isdigit()]
    others = [column for column in columns if not column.isdigit()]
    if len(texts) < len(columns) and "category" in others:
        others.remove("category")
    for column, text in zip(others, texts):
        by_column[column] += (text,)
    rest = texts[len(others) :]
    if years and len(rest) == 1:
        for year in years:
            by_column[year] = (rest[0],)
    elif years:
        for year, text in zip(years, rest):
            by_column[year] = (text,)
    elif rest and "task" in by_column:
        by_column["task"] += tuple(rest)
