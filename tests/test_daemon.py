"""The daemon: fixed jobs in the SQLAlchemy job store, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
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


def test_sigterm_stops_the_daemon_cleanly(workspace: Path) -> None:
    env = {**os.environ, "DUBAN_CONFIG": str(workspace / "config.toml")}
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "run"],
        cwd=workspace,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if "daemon" in line and "started" in line:
                break
        else:
            pytest.fail(f"the daemon exited early with {process.wait()}")
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert "stopped" in rest
    app = App(configuration.load(workspace / "config.toml"))
    counts = app.store.counts()
    assert counts.get("claimed", 0) == 0
    assert counts.get("sent", 0) > 0
