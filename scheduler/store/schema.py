"""The tables, as SQLAlchemy Core sees them when it builds queries.

The schema itself is created by the Alembic migrations in ``scheduler/migrations``,
never by ``metadata.create_all``; a test compares the two so they cannot drift.
Every timestamp goes through :class:`UTCDateTime`, so SQLite (which forgets the zone)
and PostgreSQL (which keeps it) both hand back aware UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware datetime, stored as UTC and read back as UTC.

    Naive datetimes are refused: a wall-clock time without a zone is a bug at the
    caller, and guessing its zone here would hide it.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the store")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


metadata = sa.MetaData()

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("path", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("doc_number", sa.Text),
    sa.Column("issuer", sa.Text),
    sa.Column("issued_on", sa.Date),
    sa.Column("jurisdiction", sa.Text),
    sa.Column("warnings", sa.JSON, nullable=False),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("done_at", UTCDateTime),
    sa.Column("due", sa.Date),
    sa.Column("removed_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('open', 'done')", name="ck_tasks_status"),
)

task_agencies = sa.Table(
    "task_agencies",
    metadata,
    sa.Column(
        "task_id",
        sa.Integer,
        sa.ForeignKey("tasks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("canonical", sa.Text, index=True),
)

task_deadlines = sa.Table(
    "task_deadlines",
    metadata,
    sa.Column(
        "task_id",
        sa.Integer,
        sa.ForeignKey("tasks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("date", sa.Date),
    sa.Column("dates", sa.JSON, nullable=False),
    sa.Column("precision", sa.Text),
    sa.Column("rrule", sa.Text),
    sa.Column("hedged", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
)

task_events = sa.Table(
    "task_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "task_id",
        sa.Integer,
        sa.ForeignKey("tasks.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("note", sa.Text),
)

extensions = sa.Table(
    "extensions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "task_id",
        sa.Integer,
        sa.ForeignKey("tasks.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("old_due", sa.Date),
    sa.Column("new_due", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("extended_by", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("agency", sa.Text, nullable=False, index=True),
    sa.Column("task_key", sa.Text, index=True),
    sa.Column("due", sa.Date),
    sa.Column("role", sa.Text),
    sa.Column("period", sa.Text),
    sa.Column("cc", sa.JSON, nullable=False),
    sa.Column("planned_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime),
    sa.Column("shifted_from", sa.Date),
    sa.Column("plan_hash", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("retry_at", UTCDateTime),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("message_id", sa.Text),
    sa.Column("reply", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_notifications_status_planned_at", "status", "planned_at"),
    sa.CheckConstraint(
        "status IN ('planned', 'claimed', 'sent', 'failed', 'dead', 'cancelled', 'skipped')",
        name="ck_notifications_status",
    ),
)
