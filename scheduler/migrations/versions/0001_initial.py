"""The first schema: documents, tasks and their lifecycle, and the notification log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _task_fk() -> sa.Column:
    return sa.Column(
        "task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("doc_number", sa.Text),
        sa.Column("issuer", sa.Text),
        sa.Column("issued_on", sa.Date),
        sa.Column("jurisdiction", sa.Text),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("done_at", UTC_DATETIME),
        sa.Column("due", sa.Date),
        sa.Column("removed_at", UTC_DATETIME),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("status IN ('open', 'done')", name="ck_tasks_status"),
    )
    op.create_index("ix_tasks_document_id", "tasks", ["document_id"])
    op.create_table(
        "task_agencies",
        _task_fk(),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("canonical", sa.Text),
        sa.PrimaryKeyConstraint("task_id", "position"),
    )
    op.create_index("ix_task_agencies_canonical", "task_agencies", ["canonical"])
    op.create_table(
        "task_deadlines",
        _task_fk(),
        sa.Column("position", sa.Integer, nullable=False),
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
        sa.PrimaryKeyConstraint("task_id", "position"),
    )
    op.create_table(
        "task_events",
        sa.Column("id", sa.Integer, primary_key=True),
        _task_fk(),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_task_events_task_id", "task_events", ["task_id"])
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer, primary_key=True),
        _task_fk(),
        sa.Column("old_due", sa.Date),
        sa.Column("new_due", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("extended_by", sa.Text, nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_extensions_task_id", "extensions", ["task_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("agency", sa.Text, nullable=False),
        sa.Column("task_key", sa.Text),
        sa.Column("due", sa.Date),
        sa.Column("role", sa.Text),
        sa.Column("period", sa.Text),
        sa.Column("cc", sa.JSON, nullable=False),
        sa.Column("planned_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("lease_until", UTC_DATETIME),
        sa.Column("retry_at", UTC_DATETIME),
        sa.Column("sent_at", UTC_DATETIME),
        sa.Column("message_id", sa.Text),
        sa.Column("reply", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'claimed', 'sent', 'failed', 'dead', 'cancelled', 'skipped')",
            name="ck_notifications_status",
        ),
    )
    op.create_index("ix_notifications_agency", "notifications", ["agency"])
    op.create_index("ix_notifications_task_key", "notifications", ["task_key"])
    op.create_index(
        "ix_notifications_status_planned_at", "notifications", ["status", "planned_at"]
    )


def downgrade() -> None:
    for table in (
        "notifications",
        "extensions",
        "task_events",
        "task_deadlines",
        "task_agencies",
        "tasks",
        "documents",
    ):
        op.drop_table(table)
