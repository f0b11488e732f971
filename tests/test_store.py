"""The store's documents and tasks, on SQLite and PostgreSQL through one suite."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from scheduler.errors import ConfigError, InputError
from scheduler.model import AgencyRef, Deadline, Document, Task
from scheduler.store import SaveResult, Store
from scheduler.store.documents import earliest_due
from scheduler.store.engine import BUSY_TIMEOUT_MS, alembic_config
from scheduler.store.schema import extensions, metadata

NOW = datetime(2019, 11, 1, 9, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=1)


def deadline(text: str, day: date, *, kind: str = "deadline", precision: str = "year") -> Deadline:
    return Deadline(text=text, start=0, end=len(text), kind=kind, date=day, precision=precision)


class OtherDialect(SQLiteDialect_pysqlite):
    name = "otherdb"


TASK_A = Task(
    key="zz2017:二.(三)",
    number="二.(三)",
    title="推进分级诊疗",
    text="2017年底前,推进分级诊疗。(市卫计委牵头;市发改委、财政局配合)",
    agencies=(
        AgencyRef("市卫计委", "lead", "漳州市卫生健康委员会"),
        AgencyRef("市发改委", "support", None),
        AgencyRef("市财政局", "support", "漳州市财政局"),
    ),
    deadlines=(
        Deadline(
            text="2017年底前",
            start=0,
            end=7,
            kind="deadline",
            date=date(2017, 12, 31),
            precision="year",
            hedged=True,
            reason="力争",
        ),
        Deadline(
            text="到2017年、2018年底",
            start=20,
            end=32,
            kind="multi",
            dates=(date(2017, 12, 31), date(2018, 12, 31)),
            precision="year",
        ),
        Deadline(text="每年", start=40, end=42, kind="recurring", rrule="FREQ=YEARLY"),
    ),
)
TASK_B = Task(
    key="zz2017:二.(四)",
    number="二.(四)",
    title="完善医保支付",
    text="完善医保支付。责任单位:市人社局",
    agencies=(AgencyRef("市人社局", "responsible", "漳州市人力资源和社会保障局"),),
    deadlines=(deadline("2018年6月", date(2018, 6, 30), precision="month"),),
)
TASK_C = Task(key="zz2017:十二.(三)", number="十二.(三)", title="加强督查", text="加强督查。")
DOC = Document(
    path="seeds/000_930c350588bb785b.txt",
    title="漳州市深化医药卫生体制改革实施方案",
    doc_number="漳政办〔2017〕26号",
    issuer="漳州市人民政府办公室",
    issued_on=date(2017, 3, 29),
    jurisdiction="漳州市",
    tasks=(TASK_A, TASK_B, TASK_C),
    warnings=("unresolved agency 市发改委",),
)


def keys(store: Store, **options) -> list[str]:
    return [state.task.key for state in store.task_states(**options)]


def test_migrate_is_idempotent_and_matches_the_tables(store: Store) -> None:
    store.migrate()
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        head = ScriptDirectory.from_config(alembic_config(connection)).get_current_head()
        assert version.scalar_one() == head


def test_sqlite_engine_is_tuned_for_a_daemon_and_a_cli(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    with store.engine.connect() as connection:
        pragmas = [
            connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        ]
    assert pragmas == ["wal", 2, 1, BUSY_TIMEOUT_MS]  # synchronous 2 is FULL: a power cut cannot undo a commit


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("duban.db", "database url 'duban.db' is not usable"),
        ("otherdb:///duban.db", "names otherdb; use sqlite:/// or postgresql"),
        ("sqlite://duban.db", r"is not usable: Invalid SQLite URL: sqlite://duban.db\.$"),
        ("sqlite:////nonexistent/dir/duban.db", "cannot open the database .*nonexistent"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/x", "cannot open the database .*127.0.0.1"),
    ],
)
def test_unusable_database_urls_are_config_errors(url: str, message: str) -> None:
    # Stands for a database SQLAlchemy knows and duban does not (no MySQL driver here).
    sa.dialects.registry.register("otherdb", __name__, "OtherDialect")
    with pytest.raises(ConfigError, match=message):
        Store(url).migrate()


def test_a_document_round_trips_with_its_tasks(store: Store) -> None:
    result = store.save_document(DOC, digest="d1", now=NOW)
    assert result == SaveResult(added=3)
    states = store.task_states()
    assert [s.task for s in states] == [TASK_A, TASK_B, TASK_C]
    assert states[0].document == replace(DOC, tasks=())
    assert {(s.status, s.done_at, s.due) for s in states} == {("open", None, None)}


def test_an_unchanged_digest_writes_nothing(store: Store) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    changed = replace(DOC, title="another title")
    assert store.save_document(changed, digest="d1", now=LATER) == SaveResult(
        unchanged=3, unchanged_document=True
    )
    assert store.task_states()[0].document.title == DOC.title


def test_reingest_counts_changes_and_keeps_done_and_extension(store: Store) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    store.mark_done(TASK_A.key, at=NOW, note="已完成")
    store.extend(TASK_B.key, date(2019, 6, 30), reason="资金未到位", by="督查室", at=NOW)
    edited_b = replace(TASK_B, agencies=(AgencyRef("市医保局", "responsible", None),))
    task_d = Task(key="zz2017:三.(一)", number="三.(一)", title="新任务", text="新任务。")
    second = replace(DOC, tasks=(TASK_A, edited_b, task_d))

    result = store.save_document(second, digest="d2", now=LATER)

    assert result == SaveResult(added=1, updated=1, removed=1, unchanged=1)
    states = {s.task.key: s for s in store.task_states()}
    assert list(states) == [TASK_A.key, TASK_B.key, task_d.key]
    assert (states[TASK_A.key].status, states[TASK_A.key].done_at) == ("done", NOW)
    assert states[TASK_B.key].due == date(2019, 6, 30)
    assert states[TASK_B.key].task == edited_b


def test_reingest_rewrites_moved_and_changed_tasks_together(store: Store) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    later_a = replace(TASK_A, deadlines=TASK_A.deadlines[:1], agencies=TASK_A.agencies[::-1])
    later_c = replace(TASK_C, deadlines=TASK_B.deadlines, agencies=TASK_B.agencies)
    reordered = replace(DOC, tasks=(later_c, TASK_B, later_a))

    result = store.save_document(reordered, digest="d2", now=LATER)

    assert result == SaveResult(updated=2, unchanged=1)
    assert [s.task for s in store.task_states()] == [later_c, TASK_B, later_a]


def test_removed_tasks_are_kept_and_come_back_with_their_state(store: Store) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    store.mark_done(TASK_C.key, at=NOW, note=None)
    store.save_document(replace(DOC, tasks=(TASK_A, TASK_B)), digest="d2", now=LATER)
    assert keys(store) == [TASK_A.key, TASK_B.key]
    assert keys(store, include_removed=True) == [TASK_A.key, TASK_B.key, TASK_C.key]

    assert store.save_document(DOC, digest="d3", now=LATER) == SaveResult(added=1, unchanged=2)
    assert store.find_task(TASK_C.key).status == "done"


def test_tasks_follow_their_key_to_a_moved_document(store: Store) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    store.mark_done(TASK_A.key, at=NOW, note=None)
    moved = replace(DOC, path="seeds/moved.txt")
    assert store.save_document(moved, digest="d1", now=LATER) == SaveResult(updated=3)
    states = store.task_states(include_removed=True)
    assert {s.document.path for s in states} == {"seeds/moved.txt"}
    assert store.find_task(TASK_A.key).status == "done"


def test_a_batch_stores_as_its_documents_one_after_another_would(store: Store) -> None:
    # Each document below depends on one before it (a path, a key or a stored document
    # in common), so no two may be written as if the other had not been.
    store.save_document(DOC, digest="d1", now=NOW)
    store.mark_done(TASK_C.key, at=NOW, note=None)
    task_d = Task(key="other:一", number="一", title="新任务", text="新任务。")
    moved = "seeds/moved.txt"
    batch = [
        (replace(DOC, tasks=(TASK_A, TASK_B)), "d2"),  # C removed
        (replace(DOC, path=moved, tasks=(TASK_C,)), "d1"),  # C back, under a new path
        (replace(DOC, path=moved, tasks=(TASK_C, TASK_B)), "d3"),  # B moves to it too
        (replace(DOC, tasks=(TASK_A, TASK_B)), "d2"),  # unchanged, left with A alone
        (replace(DOC, path="seeds/other.txt", tasks=(task_d,)), "d4"),
    ]

    assert store.save_documents(batch, now=LATER) == [
        SaveResult(removed=1, unchanged=2),
        SaveResult(added=1),
        SaveResult(updated=1, unchanged=1),
        SaveResult(unchanged=1, unchanged_document=True),
        SaveResult(added=1),
    ]
    states = store.task_states()
    assert [(s.document.path, s.task.key) for s in states] == [
        (DOC.path, TASK_A.key),
        (moved, TASK_C.key),
        (moved, TASK_B.key),
        ("seeds/other.txt", task_d.key),
    ]
    assert store.find_task(TASK_C.key).status == "done"


def copies(prefix: str, count: int, tasks: tuple[Task, ...], digest: str) -> list[tuple[Document, str]]:
    """``count`` documents like DOC with these tasks, each under its own path and keys."""
    return [
        (replace(DOC, path=f"{prefix}/{i}", tasks=tuple(replace(t, key=f"{prefix}/{i}:{t.key}") for t in tasks)), digest)
        for i in range(count)
    ]


def test_a_batch_costs_the_same_statements_whatever_its_size(store: Store) -> None:
    executed: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: executed.append(args[2]))
    edited = (TASK_C, replace(TASK_A, title="改"))  # moved, edited and removed tasks

    def statements(count: int) -> list[int]:
        counts = []
        for tasks, digest in [(DOC.tasks, "d1"), (edited, "d2"), (edited, "d2")]:
            executed.clear()
            store.save_documents(copies(f"x{count}", count, tasks, digest), now=NOW)
            counts.append(len(executed))
        return counts

    assert statements(2) == statements(50)


def test_duplicate_keys_in_a_document_are_refused(store: Store) -> None:
    with pytest.raises(InputError, match="more than one task with the key"):
        store.save_document(replace(DOC, tasks=(TASK_A, TASK_A)), digest="d", now=NOW)
    assert store.task_states() == []


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        ("zz2017:二.(三)", TASK_A.key),  # the whole key
        ("  zz2017:二.(四) ", TASK_B.key),  # stray spaces from a shell
        ("二.(三)", TASK_A.key),  # suffix after ":", not matching 十二.(三)
        ("十二.(三)", TASK_C.key),
        ("(四)", TASK_B.key),  # suffix after "."
    ],
)
def test_find_task_by_key_or_unambiguous_suffix(store: Store, ref: str, key: str) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    assert store.find_task(ref).task.key == key


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("(三)", r"'\(三\)' matches 2 tasks \(zz2017:二.\(三\), zz2017:十二.\(三\)\)"),
        ("zz2017", "matches 3 tasks"),
        ("三)", "no task matches '三\\)'"),
        ("九.(九)", "no task matches"),
        (" ", "name a task by its key"),
    ],
)
def test_find_task_explains_unknown_and_ambiguous_refs(
    store: Store, ref: str, message: str
) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    with pytest.raises(InputError, match=message):
        store.find_task(ref)


def test_done_and_reopen_record_events(store: Store) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    store.mark_done(TASK_A.key, at=NOW, note="报告已报送")
    store.mark_done(TASK_A.key, at=LATER, note="again")
    assert store.find_task(TASK_A.key).done_at == NOW
    store.reopen(TASK_A.key, at=LATER)
    state = store.find_task(TASK_A.key)
    assert (state.status, state.done_at) == ("open", None)
    with store.engine.connect() as connection:
        events = connection.exec_driver_sql("SELECT event, note FROM task_events ORDER BY id")
        assert events.all() == [("done", "报告已报送"), ("reopen", None)]


def test_extend_records_the_old_date_who_and_why(store: Store) -> None:
    store.save_document(DOC, digest="d1", now=NOW)
    store.extend(TASK_A.key, date(2018, 3, 31), reason="配套文件未出台", by="张三", at=NOW)
    store.extend(TASK_A.key, date(2018, 6, 30), reason="再延期", by="李四", at=LATER)
    assert store.find_task(TASK_A.key).due == date(2018, 6, 30)
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(extensions).order_by(extensions.c.id)).all()
    assert [(r.old_due, r.new_due, r.reason, r.extended_by, r.at) for r in rows] == [
        (date(2017, 12, 31), date(2018, 3, 31), "配套文件未出台", "张三", NOW),
        (date(2018, 3, 31), date(2018, 6, 30), "再延期", "李四", LATER),
    ]


@pytest.mark.parametrize(
    "action",
    [
        lambda s: s.mark_done("nope", at=NOW, note=None),
        lambda s: s.reopen("nope", at=NOW),
        lambda s: s.extend("nope", date(2020, 1, 1), reason="r", by="b", at=NOW),
    ],
)
def test_lifecycle_of_an_unknown_task_is_an_input_error(store: Store, action) -> None:
    with pytest.raises(InputError, match="no task has the key 'nope'"):
        action(store)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        store.save_document(DOC, digest="d1", now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("deadlines", "due"),
    [
        ((), None),
        ((deadline("2018年6月", date(2018, 6, 30)),), date(2018, 6, 30)),
        ((TASK_A.deadlines[1],), date(2017, 12, 31)),  # the first date of a multi
        ((TASK_A.deadlines[2],), None),  # recurring: no single date
        ((TASK_A.deadlines[0]._replace(kind="start"),), None),  # 2017年起 starts, not ends
        ((deadline("2019年底", date(2019, 12, 31)), TASK_A.deadlines[1]), date(2017, 12, 31)),
    ],
)
def test_earliest_due(deadlines: tuple[Deadline, ...], due: date | None) -> None:
    assert earliest_due(deadlines) == due


texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
agency_refs = st.builds(
    AgencyRef,
    name=texts,
    role=st.sampled_from(["lead", "support", "responsible"]),
    canonical=st.none() | texts,
)
deadline_values = st.builds(
    Deadline,
    text=texts,
    start=st.integers(0, 10_000),
    end=st.integers(0, 10_000),
    kind=st.sampled_from(["deadline", "start", "recurring", "none", "multi"]),
    date=st.none() | st.dates(),
    dates=st.lists(st.dates(), max_size=3).map(tuple),
    precision=st.none() | st.sampled_from(["day", "month", "quarter", "half", "year"]),
    rrule=st.none() | texts,
    hedged=st.booleans(),
    reason=st.none() | texts,
)
task_lists = st.lists(
    st.builds(
        Task,
        key=texts,
        number=texts,
        title=texts,
        text=texts,
        agencies=st.lists(agency_refs, max_size=3).map(tuple),
        deadlines=st.lists(deadline_values, max_size=3).map(tuple),
    ),
    max_size=4,
    unique_by=lambda task: task.key,
)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tasks=task_lists, title=texts)
def test_any_tasks_round_trip(store: Store, tasks: list[Task], title: str) -> None:
    path = f"docs/{uuid.uuid4()}.txt"
    prefixed = [replace(task, key=f"{path}:{task.key}") for task in tasks]
    document = Document(path=path, title=title, tasks=tuple(prefixed))
    store.save_document(document, digest="d", now=NOW)
    stored = [s for s in store.task_states() if s.document.path == path]
    assert [s.task for s in stored] == prefixed
    assert all(s.document.title == title for s in stored)


def test_the_migration_downgrades_to_nothing_and_back(store: Store) -> None:
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
        assert set(sa.inspect(connection).get_table_names()) == {"alembic_version"}
    store.migrate()
    assert store.counts()["sent"] == 0
