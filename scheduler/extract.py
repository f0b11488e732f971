"""From a plan's text to a :class:`scheduler.model.Document`: metadata, tasks, agencies, deadlines.

The conventions are those of PATTERNS.md section 1. Extraction is a pipeline of pure
steps, each in its own module:

- :mod:`scheduler.cleaning` repairs the text (width variants, pinyin, web chrome);
- :mod:`scheduler.outline` finds the numbered items and table rows;
- :mod:`scheduler.metadata` reads title, 文号, issuer, issue date and jurisdiction;
- :mod:`scheduler.tasks` reads the tasks: a task is a numbered leaf item (or a table
  row) of the plan's task part that names who is responsible or by when, with its
  responsibility (:mod:`scheduler.clauses`, :mod:`scheduler.responsibility`) and its
  deadlines (:mod:`scheduler.task_deadlines`); rows that restate a body task are linked
  to it (:mod:`scheduler.restatement`).

Names are expanded by :mod:`scheduler.names` and resolved against the directory later
(``scheduler.agencies``), so ``AgencyRef.canonical`` stays ``None`` here. Every warning
goes to ``Document.warnings`` so a person sees what was left out and why. The words
of the genre that change with the world are data: rules/wording.toml.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from scheduler.cleaning import clean_lines
from scheduler.metadata import plan_start, plan_year, read_metadata
from scheduler.model import Document
from scheduler.outline import parse_outline
from scheduler.reader import read_text
from scheduler.responsibility import parse_responsibility, role_mode
from scheduler.task_deadlines import task_deadlines
from scheduler.tasks import collect_tasks

# parse_responsibility and task_deadlines are part of this module's interface too.
__all__ = ["extract", "parse_file", "parse_responsibility", "task_deadlines"]


def parse_file(path: Path) -> Document:
    """Read a document file and extract its plan."""
    return extract(read_text(path), str(path))


def extract(text: str, path: str) -> Document:
    """Extract metadata and tasks from a plan's text; pure, names left unresolved.

    Numbered items of the notice that wraps the plan (一、高度重视 …), before the plan's
    title is printed again, are not tasks; the metadata is then read again from the
    head that ends at the plan's first item.
    """
    lines = clean_lines(text)
    outline = parse_outline(lines)
    meta = read_metadata(lines, outline.items[0].line if outline.items else len(lines))
    start = plan_start(lines, meta.title)
    notice_items = [item for item in outline.items if start is not None and item.line < start]
    if notice_items:
        outline = replace(outline, items=outline.items[len(notice_items) :])
        meta = read_metadata(lines, outline.items[0].line if outline.items else len(lines))
    base = meta.issued_on or plan_year(meta.title, text)
    identity = meta.doc_number or meta.title or Path(path).stem
    tasks, task_warnings = collect_tasks(outline, identity, base, role_mode(text))
    warnings = list(outline.warnings) + task_warnings
    if notice_items:
        warnings.insert(0, f"{len(notice_items)} numbered items of the notice, before the plan's title, are not tasks.")
    if not tasks:
        warnings.append(f"No task found in {path}: no numbered item names a responsible agency or a deadline.")
    return Document(
        path=path,
        title=meta.title or "",
        doc_number=meta.doc_number,
        issuer=meta.issuer,
        issued_on=meta.issued_on,
        jurisdiction=meta.jurisdiction,
        tasks=tasks,
        warnings=tuple(warnings),
    )
