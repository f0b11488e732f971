"""The daemon: fixed jobs in the SQLAlchemy job store, and a clean stop on SIGTERM."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from scheduler import config as configuration
from scheduler import daemon
from scheduler.app import App
from tests.daemons import Daemon

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
