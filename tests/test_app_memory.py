"""What bounds the daemon's memory keeps behaviour: ingest stores a batch at a time,
digests read a few agencies' tasks at a time, and both store and say what they did
before, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler import app as application
from scheduler import config as configuration
from scheduler.app import App
from scheduler.digest import build_digest, by_agency
from scheduler.errors import InputError, ReadError
from scheduler.model import Document

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2019, 11, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SAMPLE_URL = 'url = "sqlite:///duban.db"'


def make_app(directory: Path, url: str) -> App:
    """The sample installation (seeds, rules, directory) in ``directory``, on ``url``."""
    directory.mkdir()
    config = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert SAMPLE_URL in config
    (directory / "config.toml").write_text(config.replace(SAMPLE_URL, f'url = "{url}"'), encoding="utf-8")
    shutil.copytree(ROOT / "seeds", directory / "seeds")
    shutil.copytree(ROOT / "rules", directory / "rules")
    app = App(configuration.load(directory / "config.toml"))
    app.store.migrate()
    return app


@pytest.fixture
def app(tmp_path: Path, store_url: str) -> App:
    return make_app(tmp_path / "one", store_url)


def test_ingest_a_document_at_a_time_stores_what_one_batch_stores(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = app.ingest(None, now=NOW)
    monkeypatch.setattr(application, "DOCUMENTS_PER_SAVE", 1)
    single = make_app(tmp_path / "single", f"sqlite:///{tmp_path / 'single.db'}")
    assert single.ingest(None, now=NOW) == whole
    assert whole.documents == len(whole.changed) == 4 and whole.tasks > 0
    assert single.task_states() == app.task_states()
    assert single.ingest(None, now=NOW).changed == ()


def test_a_bad_file_after_good_ones_stores_nothing(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(application, "DOCUMENTS_PER_SAVE", 1)
    bad = app.config.root / "seeds" / "zzz_empty.txt"
    bad.write_bytes(b"")
    with pytest.raises(ReadError, match="is empty"):
        app.ingest(None, now=NOW)
    assert app.store.task_states(include_removed=True) == []
    bad.unlink()
    assert len(app.ingest(None, now=NOW).changed) == 4  # nothing was taken as stored


def test_a_document_that_storing_would_refuse_stops_the_ingest_before_anything_is_stored(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(application, "DOCUMENTS_PER_SAVE", 1)
    parse_file = application.parse_file

    def repeating(path: Path) -> Document:
        document = parse_file(path)
        return replace(document, tasks=document.tasks + document.tasks[:1]) if path.name.startswith("003") else document

    monkeypatch.setattr(application, "parse_file", repeating)
    with pytest.raises(InputError, match="more than one task with the key"):
        app.ingest(None, now=NOW)
    assert app.store.task_states(include_removed=True) == []


def test_each_agencys_tasks_are_those_a_read_of_every_task_gives_it(app: App) -> None:
    app.ingest(None, now=NOW)
    states = app.task_states()
    groups = {group.name for group in app.directory.groups}
    assert any(ref.canonical in groups for state in states for ref in state.task.agencies)  # members through a group
    places: dict[str, set[str | None]] = {}
    for name, jurisdiction in app.store.agency_names():
        places.setdefault(name, set()).add(jurisdiction)
    assert len(places["市财政局"]) > 1  # one name, an agency of each city
    every = by_agency(states, app.directory.expand)
    assert len(every) > 10
    assert app.agency_task_states(sorted(every)) == every
    assert app.agency_task_states(["nobody"]) == {"nobody": []}


def test_digests_read_a_few_agencies_at_a_time_and_say_what_they_said(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.ingest(None, now=NOW)
    as_of = date(2019, 11, 1)
    monkeypatch.setattr(application, "AGENCIES_PER_READ", 3)
    notices = app.digest_notices(as_of=as_of, agency=None, rule=None, now=NOW)
    states = app.task_states()
    rule = app.digest_rule(None)
    period = notices[0][0].period
    expected = {
        agency: build_digest(
            tasks,
            agency,
            as_of=as_of,
            period=period,
            window_days=rule.window_days,
            include_empty=rule.include_empty,
            expand=app.directory.expand,
        )
        for agency, tasks in by_agency(states, app.directory.expand).items()
    }
    assert [note.agency for note, _ in notices] == sorted(a for a, digest in expected.items() if digest is not None)
    assert all(digest == expected[note.agency] for note, digest in notices)
    assert app.digest(notices[0][0].agency, as_of=as_of, period=period) == notices[0][1]
