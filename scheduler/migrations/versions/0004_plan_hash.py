"""A fingerprint of each row's plan columns, so a replan compares one short column.

Rows written before it have none; the first replan rewrites those still planned, which
gives them one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("plan_hash", sa.Text))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35), not a batch copy that would lose 0002's triggers.
    op.drop_column("notifications", "plan_hash")
