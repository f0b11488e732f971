"""Loading and validating config.toml.

The file is the one place a supervision office describes its world: the database,
the mail server, the documents to watch, the rules, the calendar and the agency
directory. Everything is checked on load, so a daemon never starts half-configured:
an unknown key, a wrong type, a malformed address or a TOML syntax error is a
:class:`~scheduler.errors.ConfigError` whose one sentence names the key (and, for
syntax errors, the line). Relative paths are relative to the config file, not to the
working directory, so cron jobs and daemons behave the same from anywhere.

Secrets never sit in the file: ``[mail.smtp] password_env`` names an environment
variable, read only when the SMTP backend is built.
"""

from __future__ import annotations

import glob
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from scheduler.agencies import Directory
from scheduler.errors import ConfigError
from scheduler.mail import validate_address

DEFAULT_CONFIG = "config.toml"
CONFIG_ENV = "DUBAN_CONFIG"
BACKENDS = ("smtp", "file", "console")
SECURITIES = ("ssl", "starttls", "none")
TEMPLATE_NAMES = ("reminder", "due", "overdue", "escalation", "digest")
DEFAULT_LEASE = 300  # seconds

# Every section and key the file may hold, with its type; anything else is a typo
# that would otherwise be silently ignored.
SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "database": {"url": str},
    "mail": {"backend": str, "outbox": str, "from": str, "rate_limit": int, "smtp": dict},
    "mail.smtp": {
        "host": str,
        "port": int,
        "security": str,
        "username": str,
        "password_env": str,
        "timeout": (int, float),
    },
    "documents": {"paths": list},
    "schedule": {
        "timezone": str,
        "rules": list,
        "dispatch_interval": int,
        "replan_interval": int,
        "lease": int,
        "batch": int,
        "max_attempts": int,
        "retry_base": int,
    },
    "calendar": {"extra_workdays": list, "extra_holidays": list},
    "templates": {name: str for name in TEMPLATE_NAMES},
}
TOP_LEVEL = {"database", "mail", "documents", "schedule", "calendar", "templates", "agencies", "groups"}


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server; the password is named, never held."""

    host: str
    port: int = 465
    security: str = "ssl"
    username: str | None = None
    password_env: str | None = None
    timeout: float = 30.0

    def password(self) -> str | None:
        """The password from the environment; a missing variable is a config error."""
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(
                f"[mail.smtp] password_env names the environment variable {self.password_env}, which is not set."
            )
        return value


@dataclass(frozen=True)
class Config:
    """A validated config.toml with every path made absolute."""

    path: Path
    database_url: str
    mail_backend: str
    outbox: Path
    sender: str
    smtp: SmtpSettings | None
    rate_limit: int
    documents: tuple[str, ...]
    timezone: ZoneInfo
    rules: tuple[str, ...]
    dispatch_interval: int
    replan_interval: int
    lease: int
    batch: int
    max_attempts: int
    retry_base: int
    extra_workdays: tuple[date, ...]
    extra_holidays: tuple[date, ...]
    templates: Mapping[str, Path]
    directory: Directory = field(repr=False)

    @property
    def root(self) -> Path:
        return self.path.parent

    def document_paths(self) -> list[Path]:
        """The watched documents, sorted."""
        return self._expand(self.documents)

    def rule_paths(self) -> list[Path]:
        """The rule files, sorted."""
        return self._expand(self.rules)

    def _expand(self, patterns: tuple[str, ...]) -> list[Path]:
        """Files matching glob patterns, relative to the config file unless absolute."""
        found = {Path(p) for pattern in patterns for p in glob.glob(str(self.root / pattern), recursive=True)}
        return sorted(p for p in found if p.is_file())


def locate(explicit: str | None) -> Path:
    """The config file to use: ``--config``, then ``$DUBAN_CONFIG``, then ./config.toml."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load(path: Path) -> Config:
    """Read and validate ``path``; every problem is one ConfigError sentence."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist (use --config or DUBAN_CONFIG).") from None
    except OSError as exc:
        raise ConfigError(f"Config file {path} cannot be read: {exc.strerror}.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {path} is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}.") from None
    return _build(path.resolve(), data)


def _build(path: Path, data: dict[str, Any]) -> Config:
    _check_keys(path, data)
    root = path.parent
    database = data.get("database", {})
    mail = data.get("mail", {})
    smtp = mail.get("smtp")
    schedule = data.get("schedule", {})
    calendar = data.get("calendar", {})

    backend = mail.get("backend", "file")
    _choice(path, "mail", "backend", backend, BACKENDS)
    sender = mail.get("from", "duban <duban@localhost.example>")
    _address(path, "[mail] from", sender)
    smtp_settings = _smtp(path, smtp) if smtp is not None else None
    if backend == "smtp":
        if smtp_settings is None:
            raise ConfigError(f"{path}: [mail] backend is smtp but there is no [mail.smtp] section.")
        smtp_settings.password()
        lease = schedule.get("lease", DEFAULT_LEASE)
        if lease <= smtp_settings.timeout:
            raise ConfigError(
                f"{path}: [schedule] lease ({lease} s) must exceed [mail.smtp] timeout "
                f"({smtp_settings.timeout:g} s), or a slow send could be claimed and sent again by another daemon."
            )

    return Config(
        path=path,
        database_url=_database_url(path, database.get("url", "sqlite:///duban.db")),
        mail_backend=backend,
        outbox=root / mail.get("outbox", "outbox"),
        sender=sender,
        smtp=smtp_settings,
        rate_limit=_non_negative(path, "mail", "rate_limit", mail.get("rate_limit", 0)),
        documents=_strings(path, "documents", "paths", data.get("documents", {}).get("paths", [])),
        timezone=_timezone(path, schedule.get("timezone", "Asia/Shanghai")),
        rules=_strings(path, "schedule", "rules", schedule.get("rules", ["rules/reminders.toml"])),
        dispatch_interval=_positive(path, "schedule", "dispatch_interval", schedule.get("dispatch_interval", 60)),
        replan_interval=_positive(path, "schedule", "replan_interval", schedule.get("replan_interval", 3600)),
        lease=_positive(path, "schedule", "lease", schedule.get("lease", DEFAULT_LEASE)),
        batch=_positive(path, "schedule", "batch", schedule.get("batch", 200)),
        max_attempts=_positive(path, "schedule", "max_attempts", schedule.get("max_attempts", 8)),
        retry_base=_positive(path, "schedule", "retry_base", schedule.get("retry_base", 60)),
        extra_workdays=_dates(path, "extra_workdays", calendar.get("extra_workdays", [])),
        extra_holidays=_dates(path, "extra_holidays", calendar.get("extra_holidays", [])),
        templates={name: root / value for name, value in data.get("templates", {}).items()},
        directory=_directory(path, data),
    )


def _check_keys(path: Path, data: Mapping[str, Any]) -> None:
    for key in data:
        if key not in TOP_LEVEL:
            raise ConfigError(f"{path}: unknown section or key [{key}].")
    for section, keys in SCHEMA.items():
        table: Any = data
        for part in section.split("."):
            table = table.get(part, {}) if isinstance(table, Mapping) else None
        if not isinstance(table, Mapping):
            raise ConfigError(f"{path}: [{section}] must be a table.")
        for key, value in table.items():
            if key not in keys:
                raise ConfigError(f"{path}: unknown key {key!r} in [{section}].")
            expected = keys[key]
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
                raise ConfigError(f"{path}: [{section}] {key} must be of type {names}, not {type(value).__name__}.")
    for array in ("agencies", "groups"):
        if not isinstance(data.get(array, []), list):
            raise ConfigError(f"{path}: {array} must be an array of tables ([[{array}]]).")


def _database_url(path: Path, url: str) -> str:
    """Make a relative SQLite file path relative to the config file."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{path}: [database] url {url!r} is not a database URL.") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise ConfigError(f"{path}: [database] url must name a SQLite file, not an in-memory database.")
        if not Path(database).is_absolute():
            parsed = parsed.set(database=str(path.parent / database))
    elif parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"{path}: [database] url must be sqlite:/// or postgresql+psycopg://, not {parsed.drivername}.")
    return parsed.render_as_string(hide_password=False)


def _smtp(path: Path, table: Mapping[str, Any]) -> SmtpSettings:
    if "host" not in table:
        raise ConfigError(f"{path}: [mail.smtp] host is required.")
    security = table.get("security", "ssl")
    _choice(path, "mail.smtp", "security", security, SECURITIES)
    return SmtpSettings(
        host=table["host"],
        port=table.get("port", {"ssl": 465, "starttls": 587, "none": 25}[security]),
        security=security,
        username=table.get("username"),
        password_env=table.get("password_env"),
        timeout=float(table.get("timeout", 30)),
    )


def _directory(path: Path, data: Mapping[str, Any]) -> Directory:
    def address(value: str) -> str:
        return validate_address(value)

    try:
        return Directory.from_config(data.get("agencies", []), data.get("groups", []), validate_email=address)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _choice(path: Path, section: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{path}: [{section}] {key} must be one of {', '.join(allowed)}, not {value!r}.")


def _address(path: Path, where: str, value: str) -> None:
    try:
        validate_address(value)
    except ValueError as exc:
        raise ConfigError(f"{path}: {where} {value!r} is not a valid address: {exc}.") from None


def _positive(path: Path, section: str, key: str, value: int) -> int:
    if value <= 0:
        raise ConfigError(f"{path}: [{section}] {key} must be positive, not {value}.")
    return value


def _non_negative(path: Path, section: str, key: str, value: int) -> int:
    if value < 0:
        raise ConfigError(f"{path}: [{section}] {key} must not be negative, not {value}.")
    return value


def _strings(path: Path, section: str, key: str, values: list[Any]) -> tuple[str, ...]:
    if not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{path}: [{section}] {key} must be a list of strings.")
    return tuple(values)


def _timezone(path: Path, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path}: [schedule] timezone {name!r} is not a known IANA time zone.") from None


def _dates(path: Path, key: str, values: list[Any]) -> tuple[date, ...]:
    for value in values:
        if not isinstance(value, date):
            raise ConfigError(f"{path}: [calendar] {key} must hold TOML dates such as 2026-02-14, not {value!r}.")
    return tuple(values)
