"""config.toml loading: the sample works, and every mistake is one sentence naming the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scheduler import config as configuration
from scheduler.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """
[database]
url = "sqlite:///state/duban.db"
[mail]
backend = "file"
outbox = "mail"
from = "督查室 <duban@example.org>"
[documents]
paths = ["docs/*.txt"]
[schedule]
rules = ["rules/*.toml"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_config_loads_with_paths_beside_it() -> None:
    config = configuration.load(ROOT / "config.toml")
    assert config.database_url == f"sqlite:///{ROOT / 'duban.db'}"
    assert config.outbox == ROOT / "outbox"
    assert config.mail_backend == "file"
    assert str(config.timezone) == "Asia/Shanghai"
    assert [p.name for p in config.document_paths()] == sorted(p.name for p in (ROOT / "seeds").glob("*.txt"))
    assert config.rule_paths(), "the sample config must find its rule files"


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    config = configuration.load(write(tmp_path, MINIMAL))
    assert config.database_url == f"sqlite:///{tmp_path / 'state' / 'duban.db'}"
    assert config.outbox == tmp_path / "mail"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x", encoding="utf-8")
    assert config.document_paths() == [tmp_path / "docs" / "a.txt"]


def test_absolute_patterns_are_taken_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.txt").write_text("x", encoding="utf-8")
    text = MINIMAL.replace('paths = ["docs/*.txt"]', f'paths = ["{tmp_path}/elsewhere/*.txt"]')
    assert configuration.load(write(tmp_path, text)).document_paths() == [tmp_path / "elsewhere" / "b.txt"]


def test_locate_prefers_option_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_CONFIG", "/etc/duban.toml")
    assert configuration.locate("mine.toml") == Path("mine.toml")
    assert configuration.locate(None) == Path("/etc/duban.toml")
    monkeypatch.delenv("DUBAN_CONFIG")
    assert configuration.locate(None) == Path("config.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + "[mail.smpt]\nhost = 'x'\n", "unknown key 'smpt' in [mail]"),
        (MINIMAL + "[surprise]\n", "unknown section or key [surprise]"),
        (MINIMAL.replace('backend = "file"', 'backend = "pigeon"'), "[mail] backend must be one of smtp, file, console"),
        (MINIMAL.replace('backend = "file"', "backend = 3"), "[mail] backend must be of type str, not int"),
        (MINIMAL + "[schedule.x]\n", "unknown key 'x' in [schedule]"),
        (MINIMAL.replace("[schedule]", "[schedule]\ntimezone = 'Mars/Olympus'"), "timezone 'Mars/Olympus' is not a known"),
        (MINIMAL.replace("[schedule]", "[schedule]\nlease = -5"), "[schedule] lease must be positive"),
        (MINIMAL.replace('from = "督查室 <duban@example.org>"', 'from = "not an address"'), "[mail] from 'not an address'"),
        (MINIMAL.replace("sqlite:///state/duban.db", "mysql://x/y"), "must be sqlite:/// or postgresql+psycopg://"),
        (MINIMAL + "[calendar]\nextra_workdays = ['2026-02-14']\n", "must hold TOML dates"),
        (MINIMAL.replace('backend = "file"', 'backend = "smtp"'), "no [mail.smtp] section"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        configuration.load(write(tmp_path, text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 4"):
        configuration.load(write(tmp_path, "[database]\nurl = 'sqlite:///x.db'\n\n[mail\n"))


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        configuration.load(tmp_path / "nope.toml")


def test_smtp_password_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MINIMAL.replace('backend = "file"', 'backend = "smtp"') + (
        "[mail.smtp]\nhost = 'localhost'\nsecurity = 'starttls'\nusername = 'u'\npassword_env = 'TEST_DUBAN_PW'\n"
    )
    monkeypatch.delenv("TEST_DUBAN_PW", raising=False)
    with pytest.raises(ConfigError, match="TEST_DUBAN_PW, which is not set"):
        configuration.load(write(tmp_path, text))
    monkeypatch.setenv("TEST_DUBAN_PW", "s3cret")
    config = configuration.load(write(tmp_path, text))
    assert config.smtp is not None and config.smtp.port == 587
    assert config.smtp.password() == "s3cret"
    assert "s3cret" not in repr(config)


def test_lease_must_outlast_smtp_sends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_DUBAN_PW", "s3cret")
    text = MINIMAL.replace('backend = "file"', 'backend = "smtp"').replace("[schedule]", "[schedule]\nlease = 30") + (
        "[mail.smtp]\nhost = 'localhost'\npassword_env = 'TEST_DUBAN_PW'\ntimeout = 30\n"
    )
    with pytest.raises(ConfigError, match=r"lease \(30 s\) must exceed \[mail.smtp\] timeout \(30 s\)"):
        configuration.load(write(tmp_path, text))
    assert configuration.load(write(tmp_path, text.replace("lease = 30", "lease = 31"))).lease == 31


def test_calendar_overrides_are_dates(tmp_path: Path) -> None:
    text = MINIMAL + "[calendar]\nextra_workdays = [2031-02-08]\nextra_holidays = [2031-05-05]\n"
    config = configuration.load(write(tmp_path, text))
    assert config.extra_workdays == (date(2031, 2, 8),)
    assert config.extra_holidays == (date(2031, 5, 5),)
