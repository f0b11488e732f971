"""The day a reminder's rule named before the workday calendar moved it.

``duban plan`` shows it, so a person can see why a reminder comes before the weekend
or after a holiday.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("shifted_from", sa.Date))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35), not a batch copy that would lose 0002's triggers.
    op.drop_column("notifications", "shifted_from")
