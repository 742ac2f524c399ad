"""People and on-call schedules: users (their contact methods are channels they own), schedules with
their layers, overrides, and the people's channels an escalation paged.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
NEW_CONFIG_TABLES = ("users", "schedules", "schedule_overrides")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("contact_methods", JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("layers", JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
        sa.UniqueConstraint("name", name="uq_schedules_name"),
    )
    op.create_table(
        "schedule_overrides",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("schedule_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_overrides"),
    )
    op.create_index(
        "ix_schedule_overrides_schedule_id_ends_at", "schedule_overrides", ["schedule_id", "ends_at"]
    )
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("owner", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("paged", JSON, nullable=False, server_default=sa.text("'[]'")))
    if op.get_bind().dialect.name == "postgresql":
        for table in NEW_CONFIG_TABLES:
            op.execute(
                sa.text(
                    f"CREATE TRIGGER alerting_config_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_config_changed()"
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("paged")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("owner")
    op.drop_index("ix_schedule_overrides_schedule_id_ends_at", table_name="schedule_overrides")
    for table in reversed(NEW_CONFIG_TABLES):
        op.drop_table(table)
