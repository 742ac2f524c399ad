"""Alertmanager's configuration as ours: time intervals, notification templates, the configuration files
loaded, which object a file owns (`source`), the receiver a channel is one integration of, and the
time intervals muting an alert.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
NEW_CONFIG_TABLES = ("time_intervals", "notification_templates", "config_files")
SOURCED = ("channels", "inhibit_rules", "routing")


def upgrade() -> None:
    op.create_table(
        "time_intervals",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("intervals", JSON, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_time_intervals"),
        sa.UniqueConstraint("name", name="uq_time_intervals_name"),
    )
    op.create_table(
        "notification_templates",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_notification_templates"),
    )
    op.create_table(
        "config_files",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("loaded_at", sa.BigInteger(), nullable=True),
        sa.Column("attempted_at", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name="pk_config_files"),
    )
    for table in SOURCED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("source", sa.String(255), nullable=False, server_default=""))
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("receiver", sa.String(255), nullable=False, server_default=""))
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("muted_by", JSON, nullable=False, server_default=sa.text("'[]'")))
    if op.get_bind().dialect.name == "postgresql":
        for table in NEW_CONFIG_TABLES:
            op.execute(
                sa.text(
                    f"CREATE TRIGGER alerting_config_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_config_changed()"
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("muted_by")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("receiver")
    for table in SOURCED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("source")
    for table in reversed(NEW_CONFIG_TABLES):
        op.drop_table(table)
