"""Several replicas on one PostgreSQL: the replicas, their leases, the alert inbox, the global watch
order and the configuration counter; on PostgreSQL also the fencing function and the triggers that
tell every replica (NOTIFY) what changed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")

# Tables whose writes change what replicas run or how alerts are routed and muted. The rules table
# counts only for its definition columns: an evaluation's health write changes no replica's work.
CONFIG_TABLES = ("channels", "silences", "inhibit_rules", "routing", "escalation_policies")
RULE_COLUMNS = (
    "group_name, name, severity, type, query, duration, keep_firing_for, labels, annotations, "
    "interval, datasource, escalation_policy_id, position"
)

POSTGRESQL_UP = [
    """
    CREATE FUNCTION alerting_now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS
    $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$
    """,
    # A write made under leases raises (SQLSTATE AL001) unless the caller still holds each of them at
    # the epoch it was granted, unexpired by the database's clock. The rows stay share-locked until the
    # write commits: nobody takes a lease over while a write under it is on its way in.
    """
    CREATE FUNCTION alerting_fence(lease_names text[], lease_holder text, lease_epochs bigint[])
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        held integer;
    BEGIN
        SELECT count(*) INTO held FROM (
            SELECT 1 FROM cluster_leases AS l
            JOIN unnest(lease_names, lease_epochs) AS w(name, epoch)
              ON l.name = w.name AND l.epoch = w.epoch
            WHERE l.holder = lease_holder AND l.expires_at > alerting_now_ms()
            FOR SHARE OF l
        ) AS valid;
        IF held <> cardinality(lease_names) THEN
            RAISE EXCEPTION 'replica % no longer holds the lease of %', lease_holder, lease_names
                USING ERRCODE = 'AL001';
        END IF;
    END $$
    """,
    """
    CREATE FUNCTION alerting_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE cluster_counters SET value = value + 1 WHERE name = 'config';
        PERFORM pg_notify('alerting_config', TG_TABLE_NAME);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION alerting_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify(TG_ARGV[0], '');
        RETURN NULL;
    END $$
    """,
    *[
        f"CREATE TRIGGER alerting_config_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION alerting_config_changed()"
        for table in CONFIG_TABLES
    ],
    f"CREATE TRIGGER alerting_config_changed AFTER INSERT OR DELETE OR UPDATE OF {RULE_COLUMNS} ON rules "
    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_config_changed()",
    "CREATE TRIGGER alerting_inbox_added AFTER INSERT ON alert_inbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_notify('alerting_inbox')",
    "CREATE TRIGGER alerting_inbox_taken AFTER DELETE ON alert_inbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_notify('alerting_consumed')",
    "CREATE TRIGGER alerting_watch_added AFTER INSERT ON watch_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_notify('alerting_watch')",
    "CREATE TRIGGER alerting_outbox_added AFTER INSERT ON deliveries "
    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_notify('alerting_outbox')",
    "CREATE TRIGGER alerting_leases_changed AFTER INSERT OR UPDATE ON cluster_leases "
    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_notify('alerting_leases')",
]


def upgrade() -> None:
    op.create_table(
        "cluster_replicas",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("http_address", sa.String(255), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("last_heartbeat", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cluster_replicas"),
    )
    op.create_table(
        "cluster_leases",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("holder", sa.String(255), nullable=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_cluster_leases"),
    )
    op.create_table(
        "alert_inbox",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_inbox"),
    )
    op.create_table(
        "watch_events",
        sa.Column("revision", SERIAL, autoincrement=True, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("alert", JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("revision", name="pk_watch_events"),
    )
    op.create_table(
        "cluster_counters",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_cluster_counters"),
    )
    op.execute(sa.text("INSERT INTO cluster_counters (name, value) VALUES ('config', 0)"))
    if op.get_context().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in (*CONFIG_TABLES, "rules"):
            op.execute(sa.text(f"DROP TRIGGER alerting_config_changed ON {table}"))
        op.execute(sa.text("DROP TRIGGER alerting_outbox_added ON deliveries"))
    for table in ("cluster_counters", "watch_events", "alert_inbox", "cluster_leases", "cluster_replicas"):
        op.drop_table(table)
    if op.get_context().dialect.name == "postgresql":
        for function in (
            "alerting_notify()",
            "alerting_config_changed()",
            "alerting_fence(text[], text, bigint[])",
            "alerting_now_ms()",
        ):
            op.execute(sa.text(f"DROP FUNCTION {function}"))
