"""The alert inbox keyed by alert pipeline partition: each partition's owner takes only its items.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Items stored before partitions existed are partition 0's (its owner applies them).
    op.add_column(
        "alert_inbox", sa.Column("partition", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.create_index("ix_alert_inbox_partition", "alert_inbox", ["partition"])


def downgrade() -> None:
    op.drop_index("ix_alert_inbox_partition", table_name="alert_inbox")
    op.drop_column("alert_inbox", "partition")
