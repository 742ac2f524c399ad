"""Initial schema: configuration, alert state and history, the notification outbox.

Revision ID: 0001
Revises:
Create Date: 2024-10-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types of alerting_server.store.tables as they were at this revision.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.String(64)
NAME = sa.String(255)
FINGERPRINT = sa.String(128)


def _ms(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("id", ID, nullable=False),
        sa.Column("group_name", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("severity", NAME, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        _ms("duration"),
        _ms("keep_firing_for"),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("annotations", JSON, nullable=False),
        _ms("interval", nullable=True),
        sa.Column("datasource", NAME, nullable=False),
        sa.Column("escalation_policy_id", ID, nullable=False),
        sa.Column("health", sa.String(16), nullable=False),
        _ms("last_evaluation", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        _ms("last_evaluation_duration", nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        _ms("created_at"),
        _ms("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_rules"),
        sa.UniqueConstraint("group_name", "name", "severity", name="uq_rules_group_name_name_severity"),
    )
    op.create_table(
        "channels",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("config", JSON, nullable=False),
        _ms("created_at"),
        _ms("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_channels"),
        sa.UniqueConstraint("name", name="uq_channels_name"),
    )
    op.create_table(
        "silences",
        sa.Column("id", ID, nullable=False),
        sa.Column("matchers", JSON, nullable=False),
        _ms("starts_at"),
        _ms("ends_at"),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _ms("created_at"),
        _ms("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    op.create_table(
        "inhibit_rules",
        sa.Column("id", ID, nullable=False),
        sa.Column("source_matchers", JSON, nullable=False),
        sa.Column("target_matchers", JSON, nullable=False),
        sa.Column("equal", JSON, nullable=False),
        _ms("created_at"),
        _ms("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_inhibit_rules"),
    )
    op.create_table(
        "routing",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree", JSON, nullable=False),
        _ms("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_routing"),
    )
    op.create_table(
        "escalation_policies",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("levels", JSON, nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        _ms("ack_timeout", nullable=True),
        _ms("created_at"),
        _ms("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_escalation_policies"),
        sa.UniqueConstraint("name", name="uq_escalation_policies_name"),
    )
    op.create_table(
        "alerts",
        sa.Column("fingerprint", FINGERPRINT, nullable=False),
        sa.Column("rule_id", ID, nullable=False),
        sa.Column("rule", NAME, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("annotations", JSON, nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        _ms("started_at"),
        _ms("fired_at", nullable=True),
        _ms("resolved_at", nullable=True),
        _ms("updated_at"),
        sa.Column("ack_by", NAME, nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        _ms("ack_at", nullable=True),
        sa.Column("silenced_by", JSON, nullable=False),
        sa.Column("inhibited_by", JSON, nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("generator_url", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_alerts"),
    )
    op.create_index("ix_alerts_rule_id", "alerts", ["rule_id"])
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_table(
        "alert_history",
        sa.Column("seq", SERIAL, autoincrement=True, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("fingerprint", FINGERPRINT, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        _ms("at"),
        sa.Column("state", sa.String(16), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("channel", NAME, nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("by", NAME, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_alert_history"),
        sa.UniqueConstraint("id", name="uq_alert_history_id"),
    )
    op.create_index("ix_alert_history_fingerprint_at_seq", "alert_history", ["fingerprint", "at", "seq"])
    op.create_table(
        "deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("fingerprints", JSON, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("idempotency_key", NAME, nullable=False),
        _ms("next_attempt_at", nullable=True),
        _ms("created_at"),
        _ms("updated_at"),
        _ms("delivered_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
    )
    op.create_index("ix_deliveries_channel_id", "deliveries", ["channel_id"])
    op.create_index("ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "delivery_alerts",
        sa.Column("delivery_id", ID, nullable=False),
        sa.Column("fingerprint", FINGERPRINT, nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name="fk_delivery_alerts_delivery_id_deliveries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "fingerprint", name="pk_delivery_alerts"),
    )
    op.create_index("ix_delivery_alerts_fingerprint", "delivery_alerts", ["fingerprint"])
    op.create_table(
        "delivery_attempts",
        sa.Column("seq", SERIAL, autoincrement=True, nullable=False),
        sa.Column("delivery_id", ID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _ms("at"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        _ms("duration", nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name="fk_delivery_attempts_delivery_id_deliveries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_delivery_attempts"),
    )
    op.create_index("ix_delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])
    op.create_table(
        "notification_log",
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("receiver", NAME, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("firing", JSON, nullable=False),
        sa.Column("resolved", JSON, nullable=False),
        _ms("sent_at"),
        _ms("expires_at", nullable=True),
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
        _ms("created_at"),
        _ms("updated_at"),
        _ms("next_flush_at", nullable=True),
        _ms("last_flush_at", nullable=True),
        sa.PrimaryKeyConstraint("group_key", name="pk_aggregation_groups"),
    )


def downgrade() -> None:
    for table in (
        "aggregation_groups",
        "notification_log",
        "delivery_attempts",
        "delivery_alerts",
        "deliveries",
        "alert_history",
        "alerts",
        "escalation_policies",
        "routing",
        "inhibit_rules",
        "silences",
        "channels",
        "rules",
    ):
        op.drop_table(table)
