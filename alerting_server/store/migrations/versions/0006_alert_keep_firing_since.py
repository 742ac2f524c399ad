"""Rule alerts keep the start of their keep_firing_for period, so that a restart does not start it over.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # batch_alter_table: SQLite can add columns in place, but this keeps downgrade possible there.
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("keep_firing_since", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("keep_firing_since")
