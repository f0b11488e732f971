"""Printing lists of rows as JSON, CSV or an aligned table.

Every list command prints plain dicts through :func:`emit`, so the three formats
show the same columns in the same order. Table columns are aligned by display
width: a Chinese character takes two terminal cells.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, TextIO

FORMATS = ("table", "json", "csv")


def plain(value: Any) -> Any:
    """A JSON-ready value: dates in ISO 8601, tuples as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return value


def emit(rows: Sequence[Mapping[str, Any]], fmt: str, out: TextIO, *, columns: Sequence[str] | None = None) -> None:
    """Write rows in the format; ``columns`` picks and orders the table/CSV columns."""
    if fmt == "json":
        json.dump([plain(dict(row)) for row in rows], out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    names = list(columns or (rows[0].keys() if rows else ()))
    cells = [[_cell(row.get(name)) for name in names] for row in rows]
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(names)
        writer.writerows(cells)
        return
    widths = [max([width(name)] + [width(row[i]) for row in cells]) for i, name in enumerate(names)]
    for line in [names, ["-" * w for w in widths], *cells]:
        out.write("  ".join(pad(text, w) for text, w in zip(line, widths)).rstrip() + "\n")


def _cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(_cell(v) for v in value)
    return str(value).replace("\n", " ")


def width(text: str) -> int:
    """Terminal cells taken by ``text``: wide and full-width characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cells: int) -> str:
    return text + " " * (cells - width(text))
