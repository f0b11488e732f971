"""The daemon: fixed jobs in the SQLAlchemy job store, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from scheduler import config as configuration
from scheduler import daemon
from scheduler.app import App

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path


def stored_job_ids(app: App) -> list[str]:
    scheduler = daemon.build_scheduler(app, BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        return sorted(job.id for job in scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=False)


def test_jobs_have_fixed_ids_and_restarts_do_not_pile_them_up(workspace: Path) -> None:
    app = App(configuration.load(workspace / "config.toml"))
    app.store.migrate()
    for _ in range(2):
        scheduler = daemon.build_scheduler(app, BackgroundScheduler)
        scheduler.start(paused=True)
        daemon.register_jobs(scheduler, app)
        scheduler.shutdown(wait=False)
    expected = sorted(["dispatch", "replan"] + [f"digest:{rule.name}" for rule in app.rules.digests])
    assert stored_job_ids(app) == expected


def test_jobs_of_removed_digest_rules_are_pruned(workspace: Path) -> None:
    app = App(configuration.load(workspace / "config.toml"))
    app.store.migrate()
    scheduler = daemon.build_scheduler(app, BackgroundScheduler)
    scheduler.start(paused=True)
    scheduler.add_job(daemon.cycle_job, "interval", days=7, id="digest:retired", replace_existing=True)
    try:
        daemon.prune_jobs(scheduler, daemon.register_jobs(scheduler, app))
    finally:
        scheduler.shutdown(wait=False)
    assert "digest:retired" not in stored_job_ids(app)


class Daemon:
    """A ``duban run`` subprocess whose log lines can be awaited (with a deadline)."""

    def __init__(self, workspace: Path) -> None:
        env = {**os.environ, "DUBAN_CONFIG": str(workspace / "config.toml")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scheduler", "run"], cwd=workspace, env=env, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put("")

    def wait_for(self, *words: str, timeout: float = 60) -> str:
        """The first log line holding every word; fails on exit or after ``timeout``."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no log line with {words} within {timeout}s")
            if not line:
                pytest.fail(f"the daemon exited with {self.process.wait()} before logging {words}")
            if all(word in line for word in words):
                return line

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        self.wait_for("daemon", "stopped")
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_sigterm_stops_the_daemon_cleanly(workspace: Path) -> None:
    daemon_process = Daemon(workspace)
    try:
        daemon_process.wait_for("daemon", "started")
        assert daemon_process.stop() == 0
    finally:
        daemon_process.kill()
    app = App(configuration.load(workspace / "config.toml"))
    counts = app.store.counts()
    assert counts.get("claimed", 0) == 0
    assert counts.get("sent", 0) > 0


def test_sighup_reloads_the_config_and_keeps_it_when_broken(workspace: Path) -> None:
    config = workspace / "config.toml"
    daemon_process = Daemon(workspace)
    try:
        daemon_process.wait_for("daemon", "started")
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"\ndispatch_interval = 5'), encoding="utf-8")
        daemon_process.process.send_signal(signal.SIGHUP)
        daemon_process.wait_for("reloaded", str(config))
        daemon_process.wait_for("replan:")
        config.write_text(text + "\n[mail\n", encoding="utf-8")
        daemon_process.process.send_signal(signal.SIGHUP)
        daemon_process.wait_for("reload refused", "not valid TOML")
        assert daemon_process.stop() == 0
    finally:
        daemon_process.kill()
