"""The three list formats show the same rows; tables align Chinese text by display width."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

from scheduler.output import emit, width

ROWS = [
    {"key": "a#一", "planned_at": datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=8))), "agency": "市卫健委", "n": 3},
    {"key": "b", "planned_at": None, "agency": "财政局", "n": None},
]


def test_json_is_an_array_of_objects_with_iso_dates() -> None:
    out = io.StringIO()
    emit(ROWS, "json", out)
    assert json.loads(out.getvalue())[0] == {"key": "a#一", "planned_at": "2026-01-05T09:00:00+08:00", "agency": "市卫健委", "n": 3}


def test_csv_has_a_header_and_the_chosen_columns() -> None:
    out = io.StringIO()
    emit(ROWS, "csv", out, columns=("agency", "key"))
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["agency", "key"], ["市卫健委", "a#一"], ["财政局", "b"]]


def test_table_columns_line_up_in_terminal_cells() -> None:
    out = io.StringIO()
    emit(ROWS, "table", out, columns=("agency", "key"))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("agency    key")
    offsets = [width(line[: line.index(key)]) for line, key in zip(lines[2:], ("a#一", "b"))]
    assert offsets == [10, 10]
    assert width("市卫健委") == 8 and width("ab") == 2


def test_empty_table_prints_only_the_header() -> None:
    out = io.StringIO()
    emit([], "table", out, columns=("key", "due"))
    assert out.getvalue().splitlines() == ["key  due", "---  ---"]
