"""The generated corpus is deterministic, in the genre, and resolves completely.

Not part of the test suite (testpaths is tests/): run it with
``python -m pytest benchmarks/test_generate.py -q`` after changing the generator.
"""

from __future__ import annotations

from collections import Counter

import pytest

from scheduler import config as configuration
from scheduler.app import App

from benchmarks.generate import document, vocabulary, write_config, write_corpus


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    directory = tmp_path_factory.mktemp("corpus")
    corpus = write_corpus(directory, 60)
    app = App(configuration.load(write_config(directory, f"sqlite:///{directory / 'x.db'}")))
    return app.parse(list(corpus.documents))


def test_same_seed_same_bytes_whatever_the_size(tmp_path):
    small = write_corpus(tmp_path / "a", 3)
    large = write_corpus(tmp_path / "b", 5)
    assert [p.read_bytes() for p in small.documents] == [p.read_bytes() for p in large.documents[:3]]
    assert document(0, 7, vocabulary()) != document(0, 8, vocabulary())


def test_every_document_has_its_own_number(parsed):
    numbers = [d.doc_number for d in parsed]
    assert None not in numbers and len(set(numbers)) == len(numbers)


def test_every_task_name_resolves(parsed):
    refs = [ref for d in parsed for t in d.tasks for ref in t.agencies]
    assert refs and all(ref.canonical for ref in refs), [ref.name for ref in refs if not ref.canonical][:5]


def test_every_role_and_deadline_form_appears(parsed):
    tasks = [t for d in parsed for t in d.tasks]
    assert 6 <= len(tasks) / len(parsed) <= 14
    assert set(Counter(ref.role for t in tasks for ref in t.agencies)) == {"lead", "support", "responsible"}
    kinds = Counter(d.kind for t in tasks for d in t.deadlines)
    precisions = Counter(d.precision for t in tasks for d in t.deadlines)
    assert {"deadline", "recurring"} <= set(kinds)
    assert {"day", "month", "quarter", "half", "year"} <= set(precisions)
    assert any(t.number.isdigit() for t in tasks), "no task came from a 任务分解表"
    assert any(ref.name == "各县(市、区)人民政府" for t in tasks for ref in t.agencies)
