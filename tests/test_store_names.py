"""Tasks found by the agency names they are written with, within a jurisdiction: how a
digest reads one agency's tasks without reading every task."""

from __future__ import annotations

from dataclasses import replace

from scheduler.model import AgencyRef
from scheduler.store import Store
from tests.test_store import DOC, NOW, TASK_A, TASK_B, TASK_C, keys

# The same two names, in a document of no known jurisdiction.
UNPLACED = replace(
    DOC,
    path="seeds/unplaced.txt",
    jurisdiction=None,
    tasks=(
        replace(TASK_A, key="x:1", agencies=(AgencyRef("市财政局", "lead", None),)),
        replace(TASK_B, key="x:2"),
    ),
)


def test_tasks_naming_an_agency_are_found_by_name_and_jurisdiction(store: Store) -> None:
    store.save_documents([(DOC, "d1"), (UNPLACED, "d2")], now=NOW)
    assert sorted(store.agency_names(), key=str) == sorted(
        [
            ("市卫计委", "漳州市"),
            ("市发改委", "漳州市"),
            ("市财政局", "漳州市"),
            ("市人社局", "漳州市"),
            ("市财政局", None),
            ("市人社局", None),
        ],
        key=str,
    )
    assert keys(store, names=[("市财政局", "漳州市")]) == [TASK_A.key]
    assert keys(store, names=[("市财政局", None)]) == ["x:1"]
    assert keys(store, names=[("市人社局", "漳州市"), ("市财政局", None)]) == [TASK_B.key, "x:1"]
    assert keys(store, names=[("市财政局", "泉州市")]) == []
    assert keys(store, names=[]) == []
    assert TASK_C.key not in keys(store, names=store.agency_names())  # it names no agency


def test_removed_tasks_are_neither_found_nor_named(store: Store) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    store.save_document(replace(DOC, tasks=(TASK_B, TASK_C)), digest="d2", now=NOW)
    assert ("市财政局", "漳州市") not in store.agency_names()
    assert keys(store, names=[("市财政局", "漳州市"), ("市人社局", "漳州市")]) == [TASK_B.key]
