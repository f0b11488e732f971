"""The command line end to end on the sample configuration, in a scratch copy.

Each test copies config.toml, the seeds and the rules into its own directory, so the
SQLite file and the outbox are its own. The clock is frozen in-process (``run --once``
starts no scheduler thread), so digest periods and catch-up decisions are fixed.
"""

from __future__ import annotations

import json
import shutil
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from freezegun import freeze_time

from scheduler.cli import STATUSES, main
from scheduler.store import Store

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23 02:00:00"  # a Monday, 10:00 in Asia/Shanghai, after the weekly digest time


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DUBAN_CONFIG", raising=False)
    return tmp_path


def duban(capsys: pytest.CaptureFixture[str], *argv: str, at: str = NOW) -> tuple[int, str, str]:
    with freeze_time(at):
        code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str, at: str = NOW) -> list | dict:
    code, out, err = duban(capsys, *argv, "--format", "json", at=at)
    assert code == 0, err
    return json.loads(out)


def test_run_once_twice_sends_digests_once(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = duban(capsys, "run", "--once")
    assert code == 0, err
    first = sorted((workspace / "outbox").glob("*.eml"))
    sent = as_json(capsys, "sent")
    assert first and len(first) == len(sent)
    assert {row["kind"] for row in sent} == {"digest"}, "stale reminders of old plans must be skipped, not sent"
    assert len({row["agency"] for row in sent}) == len(sent), "one digest per agency"
    skipped = as_json(capsys, "sent", "--status", "skipped")
    assert not [row for row in skipped if row["kind"] != "digest"], "stale reminders are not even planned"

    code, _, err = duban(capsys, "run", "--once")
    assert code == 0, err
    assert sorted((workspace / "outbox").glob("*.eml")) == first
    assert as_json(capsys, "sent") == sent

    message = message_from_bytes(first[0].read_bytes(), policy=policy.default)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] in {row["message_id"] for row in sent}


def test_tasks_lists_the_seed_tasks_with_agencies_and_dates(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = duban(capsys, "ingest")
    assert code == 0, err
    assert out.startswith("ingested 4 documents")
    tasks = as_json(capsys, "tasks")
    parsed = as_json(capsys, "parse", *sorted(str(p) for p in (workspace / "seeds").glob("*.txt")))
    assert len(tasks) == sum(len(d["tasks"]) for d in parsed["documents"])  # type: ignore[index]
    keys = {t["key"]: t for t in tasks}
    row = keys["温鹿政发〔2017〕18号#二.(一).4"]
    assert "鹿城区发展和改革局[牵头]" in row["agencies"]
    assert "到2017年底(2017-12-31)" in row["deadlines"]
    assert all(t["agencies"] for t in tasks)


def test_lifecycle_done_cancels_planned_reminders(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    at = "2025-08-01 02:00:00"  # the notice a quarter before the task's 2025 goal is ahead
    assert duban(capsys, "ingest", at=at)[0] == 0
    key = "泉政办〔2024〕15号#二.(一).1"
    planned = [row for row in as_json(capsys, "plan", at=at) if row["task"] == key]
    assert planned, "a task due 2025-12-31 has reminders ahead"
    code, out, err = duban(capsys, "done", key, "--note", "已完成", at=at)
    assert code == 0, err
    assert not [row for row in as_json(capsys, "plan", at=at) if row["task"] == key]
    cancelled = as_json(capsys, "sent", "--status", "cancelled", at=at)
    assert {row["key"] for row in cancelled} >= {row["key"] for row in planned}
    assert as_json(capsys, "tasks", "--status", "done", at=at)[0]["key"] == key

    assert duban(capsys, "reopen", key, at=at)[0] == 0
    assert [row for row in as_json(capsys, "plan", at=at) if row["task"] == key]


def test_ingest_of_a_changed_document_replans_only_its_rows(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    at = "2025-08-01 02:00:00"  # the 2025 goals of 泉州's plan have notices ahead
    assert duban(capsys, "ingest", at=at)[0] == 0
    every = [f"--status={status}" for status in STATUSES]
    before = {row["key"]: row for row in as_json(capsys, "sent", *every, at=at)}
    plan = workspace / "seeds" / "003_2496aa1d8b28a480.txt"
    plan.write_text(plan.read_text(encoding="utf-8").replace("到2025年", "到2026年"), encoding="utf-8")

    code, out, err = duban(capsys, "ingest", str(plan), at="2025-08-01 03:00:00")
    assert code == 0, err
    after = {row["key"]: row for row in as_json(capsys, "sent", *every, at=at)}
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed, "its 2025 goals' notices are cancelled"
    assert all(key.startswith("reminder:") and ":泉政办〔2024〕15号#" in key for key in changed)
    assert {after[key]["status"] for key in changed} == {"cancelled"}


def test_extend_moves_reminders_to_the_new_date(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert duban(capsys, "ingest")[0] == 0
    key = "温鹿政发〔2017〕18号#二.(一).4"
    code, _, err = duban(capsys, "extend", key, "2027-01-29", "--reason", "上级文件调整")
    assert code == 0, err
    dues = {row["due"] for row in as_json(capsys, "plan") if row["task"] == key}
    assert dues == {"2027-01-29"}
    assert as_json(capsys, "tasks", "--status", "open")


def test_normalize_prints_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = duban(capsys, "normalize", "力争到2018年底前实现全覆盖", "--base", "2017-03-29")
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"text", "kind", "date", "dates", "precision", "rrule"}
    assert (result["kind"], result["date"], result["precision"]) == ("deadline", "2018-12-31", "year")

    code, out, _ = duban(capsys, "normalize", "加强组织领导")
    assert code == 0 and json.loads(out)["kind"] == "none"


def test_digest_preview_sends_nothing(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert duban(capsys, "ingest")[0] == 0
    code, out, err = duban(capsys, "digest", "--agency", "鹿城区卫生健康局", "--as-of", "2017-12-20")
    assert code == 0, err
    assert "鹿城区卫生健康局" in out and "2017年底前" in out
    assert not (workspace / "outbox").exists() or not list((workspace / "outbox").iterdir())
    assert as_json(capsys, "sent") == []


def test_digest_send_goes_through_the_log_once(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert duban(capsys, "ingest")[0] == 0
    code, _, err = duban(capsys, "digest", "--agency", "鹿城区卫生健康局", "--send")
    assert code == 0, err
    sent = as_json(capsys, "sent")
    assert [row["agency"] for row in sent] == ["鹿城区卫生健康局"]
    assert duban(capsys, "digest", "--agency", "鹿城区卫生健康局", "--send")[0] == 0
    assert duban(capsys, "run", "--once")[0] == 0
    mine = [row for row in as_json(capsys, "sent") if row["agency"] == "鹿城区卫生健康局"]
    assert [row["key"] for row in mine] == [sent[0]["key"]], "the daemon must not send the same period again"
    assert len(list((workspace / "outbox").glob("*.eml"))) == len(as_json(capsys, "sent"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--config", "missing.toml", "tasks"), "missing.toml does not exist"),
        (("ingest", "seeds/nope.txt"), "seeds/nope.txt does not exist"),
        (("tasks", "--frobnicate"), "unrecognized arguments: --frobnicate"),
        (("normalize", "2018年底前", "--base", "2018-13-01"), "'2018-13-01' is not a date"),
        (("extend", "二.(一).4", "2027-02-30", "--reason", "x"), "'2027-02-30' is not a date"),
        (("done", "no-such-task"), "no-such-task"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    workspace: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert duban(capsys, "ingest")[0] == 0
    before = Store(f"sqlite:///{workspace / 'duban.db'}").task_states()
    code, out, err = duban(capsys, *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert Store(f"sqlite:///{workspace / 'duban.db'}").task_states() == before


def test_malformed_config_names_the_line(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "config.toml").write_text("[database]\nurl = 'sqlite:///x.db'\n[mail\n", encoding="utf-8")
    code, _, err = duban(capsys, "run", "--once")
    assert code == 2 and "line 3" in err and len(err.strip().splitlines()) == 1
    assert not (workspace / "x.db").exists()


def test_second_daemon_refuses_to_start(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(f"sqlite:///{workspace / 'duban.db'}")
    store.migrate()
    with store.daemon_lock("someone-else") as held:
        assert held
        code, _, err = duban(capsys, "run", "--once")
    assert code == 1
    assert "already running" in err and len(err.strip().splitlines()) == 1
