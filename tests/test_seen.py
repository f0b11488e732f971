"""Unchanged document files are neither parsed nor stored again by the same App."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler import app as application
from scheduler import config as configuration
from scheduler.app import App
from scheduler.seen import SeenFiles

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_file_is_changed_until_stored_and_then_only_when_its_bytes_change(tmp_path: Path) -> None:
    seen = SeenFiles()
    plan = tmp_path / "plan.txt"
    plan.write_text("一、任务", encoding="utf-8")
    first = seen.changed(plan)
    assert first is not None and seen.changed(plan) == first  # not stored yet
    seen.stored(plan, first, tasks=3, deadlines=2)
    assert seen.changed(plan) is None and (seen.tasks(plan), seen.deadlines(plan)) == (3, 2)

    os.utime(plan, ns=(first.mtime_ns + 10**9, first.mtime_ns + 10**9))  # touched: same bytes
    assert seen.changed(plan) is None
    plan.write_text("一、任务(改)", encoding="utf-8")
    assert seen.changed(plan) is not None
    assert seen.changed(tmp_path / "missing.txt") is not None  # parsing it will say why


@pytest.fixture
def app(tmp_path: Path) -> App:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    app = App(configuration.load(tmp_path / "config.toml"))
    app.store.migrate()
    return app


def test_the_daemons_hourly_ingest_parses_only_changed_files(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    parse_file = application.parse_file
    monkeypatch.setattr(application, "parse_file", lambda path: parsed.append(path.name) or parse_file(path))
    first = app.ingest(None, now=NOW)
    assert len(parsed) == first.documents == 4 and len(first.changed) == 4

    again = app.ingest(None, now=NOW)
    assert len(parsed) == 4
    assert (again.documents, again.tasks, again.unchanged_documents, again.changed) == (4, first.tasks, 4, ())

    seed = sorted(app.config.document_paths())[0]
    seed.write_text(seed.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # parses to the same document
    third = app.ingest(None, now=NOW)
    assert parsed[4:] == [seed.name] and third.changed == ()
    assert App(app.config).ingest(None, now=NOW).unchanged_documents == 4  # a new App reads them all again
    assert len(parsed) == 9
