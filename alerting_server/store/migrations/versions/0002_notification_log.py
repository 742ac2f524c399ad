"""The notification log keyed as the dispatcher keys it: (group id, receiver) -> what was last sent.

Alertmanager persists its nflog and rebuilds aggregation groups from the alerts after a restart;
so do we: the group table goes, and the log takes the dispatcher's keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NAME = sa.String(255)
ID = sa.String(64)


def upgrade() -> None:
    op.drop_table("aggregation_groups")
    op.drop_table("notification_log")
    op.create_table(
        "notification_log",
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("receiver", NAME, nullable=False),
        sa.Column("firing", JSON, nullable=False),
        sa.Column("resolved", JSON, nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "receiver", name="pk_notification_log"),
    )


def downgrade() -> None:
    op.drop_table("notification_log")
    op.create_table(
        "notification_log",
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("receiver", NAME, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("firing", JSON, nullable=False),
        sa.Column("resolved", JSON, nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("group_key", "receiver", "channel_id", name="pk_notification_log"),
    )
    op.create_table(
        "aggregation_groups",
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("receiver", NAME, nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("fingerprints", JSON, nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("next_flush_at", sa.BigInteger(), nullable=True),
        sa.Column("last_flush_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("group_key", name="pk_aggregation_groups"),
    )
