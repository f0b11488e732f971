"""Sent notifications are final: the database refuses to change or delete them.

The store never touches a sent row (every UPDATE of the log is guarded by status), but
the log is the record of what went out, so the database itself enforces it too,
against any other code or hand-written SQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MESSAGE = "sent notifications are final"

SQLITE = [
    f"""CREATE TRIGGER notifications_sent_final_{event.lower()}
    BEFORE {event} ON notifications FOR EACH ROW WHEN OLD.status = 'sent'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
    for event in ("UPDATE", "DELETE")
]

POSTGRESQL = [
    f"""CREATE FUNCTION notifications_sent_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{MESSAGE} (%)', OLD.key USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER notifications_sent_final
    BEFORE UPDATE OR DELETE ON notifications FOR EACH ROW WHEN (OLD.status = 'sent')
    EXECUTE FUNCTION notifications_sent_final()""",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE if sqlite else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER notifications_sent_final_update")
        op.execute("DROP TRIGGER notifications_sent_final_delete")
    else:
        op.execute("DROP TRIGGER notifications_sent_final ON notifications")
        op.execute("DROP FUNCTION notifications_sent_final()")
