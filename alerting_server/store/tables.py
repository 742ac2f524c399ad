"""The schema as SQLAlchemy Core tables; migrations/versions/ creates exactly this (a test compares them).

Timestamps are BigInteger epoch milliseconds, durations BigInteger milliseconds. Enums are
stored as their string values so that the database stays readable without the code.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL: binary, comparable, indexable; plain JSON text on SQLite.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

ID = 64
NAME = 255
FINGERPRINT = 128
ZONE = 64

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

rules = sa.Table(
    "rules",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("group_name", sa.String(NAME), nullable=False),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("severity", sa.String(NAME), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("query", sa.Text(), nullable=False),
    sa.Column("duration", sa.BigInteger(), nullable=False),
    sa.Column("keep_firing_for", sa.BigInteger(), nullable=False),
    sa.Column("labels", JSON, nullable=False),
    sa.Column("annotations", JSON, nullable=False),
    sa.Column("interval", sa.BigInteger(), nullable=True),
    sa.Column("datasource", sa.String(NAME), nullable=False),
    sa.Column("escalation_policy_id", sa.String(ID), nullable=False),
    sa.Column("health", sa.String(16), nullable=False),
    sa.Column("last_evaluation", sa.BigInteger(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=False),
    sa.Column("last_evaluation_duration", sa.BigInteger(), nullable=True),
    # Order within one import, so that a group keeps the order of its rule file.
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    sa.UniqueConstraint("group_name", "name", "severity"),
)

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False, unique=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("config", JSON, nullable=False),
    # The Alertmanager receiver this channel is one integration of ("": a receiver of its own).
    sa.Column("receiver", sa.String(NAME), nullable=False, server_default=""),
    # What owns it: "" the API, else the configuration file it was loaded from.
    sa.Column("source", sa.String(NAME), nullable=False, server_default=""),
    # The user whose contact method it is ("": nobody's).
    sa.Column("owner", sa.String(ID), nullable=False, server_default=""),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
)

silences = sa.Table(
    "silences",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("matchers", JSON, nullable=False),
    sa.Column("starts_at", sa.BigInteger(), nullable=False),
    sa.Column("ends_at", sa.BigInteger(), nullable=False, index=True),
    sa.Column("created_by", sa.String(NAME), nullable=False),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
)

inhibit_rules = sa.Table(
    "inhibit_rules",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("source_matchers", JSON, nullable=False),
    sa.Column("target_matchers", JSON, nullable=False),
    sa.Column("equal", JSON, nullable=False),
    sa.Column("source", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
)

# One row (id 1): the route tree is read and written whole.
routing = sa.Table(
    "routing",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("tree", JSON, nullable=False),
    sa.Column("source", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
)

# Alertmanager's time_intervals: `intervals` is the list of its TimeInterval documents.
time_intervals = sa.Table(
    "time_intervals",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False, unique=True),
    sa.Column("intervals", JSON, nullable=False),
    sa.Column("source", sa.String(NAME), nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
)

# Template files ({{ define }} blocks) every channel's texts can call, in the order they are read.
notification_templates = sa.Table(
    "notification_templates",
    metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("source", sa.String(NAME), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
)

# A configuration file the server loads (kind "alertmanager"): the last attempt and what it gave.
config_files = sa.Table(
    "config_files",
    metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("path", sa.Text(), nullable=False),
    # The file as loaded, secrets redacted (Alertmanager's /api/v2/status config.original).
    sa.Column("original", sa.Text(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    # Its `global` settings that are no object of their own (resolve_timeout, ...).
    sa.Column("settings", JSON, nullable=False),
    sa.Column("loaded_at", sa.BigInteger(), nullable=True),
    sa.Column("attempted_at", sa.BigInteger(), nullable=False),
    sa.Column("error", sa.Text(), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False, unique=True),
    sa.Column("email", sa.String(NAME), nullable=False),
    sa.Column("time_zone", sa.String(ZONE), nullable=False),
    # The ids of the channels that are the user's contact methods, in the user's order.
    sa.Column("contact_methods", JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
)

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False, unique=True),
    sa.Column("time_zone", sa.String(ZONE), nullable=False),
    sa.Column("layers", JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    # Bumped when the schedule's calendar link is reset: a link signed under an older one is refused.
    sa.Column("calendar_link_epoch", sa.Integer(), nullable=False, server_default="0"),
)

schedule_overrides = sa.Table(
    "schedule_overrides",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("schedule_id", sa.String(ID), nullable=False),
    sa.Column("user_id", sa.String(ID), nullable=False),
    sa.Column("starts_at", sa.BigInteger(), nullable=False),
    sa.Column("ends_at", sa.BigInteger(), nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Index(None, "schedule_id", "ends_at"),
)

escalation_policies = sa.Table(
    "escalation_policies",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False, unique=True),
    sa.Column("levels", JSON, nullable=False),
    sa.Column("repeat", sa.Integer(), nullable=False),
    sa.Column("ack_timeout", sa.BigInteger(), nullable=True),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("fingerprint", sa.String(FINGERPRINT), primary_key=True),
    sa.Column("rule_id", sa.String(ID), nullable=False, index=True),
    sa.Column("rule", sa.String(NAME), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("labels", JSON, nullable=False),
    sa.Column("annotations", JSON, nullable=False),
    # Nullable because SQLite stores NaN, a legitimate sample value, as NULL.
    sa.Column("value", sa.Double(), nullable=True),
    sa.Column("started_at", sa.BigInteger(), nullable=False),
    sa.Column("fired_at", sa.BigInteger(), nullable=True),
    sa.Column("resolved_at", sa.BigInteger(), nullable=True),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    sa.Column("ack_by", sa.String(NAME), nullable=True),
    sa.Column("ack_comment", sa.Text(), nullable=True),
    sa.Column("ack_at", sa.BigInteger(), nullable=True),
    sa.Column("silenced_by", JSON, nullable=False),
    sa.Column("inhibited_by", JSON, nullable=False),
    sa.Column("escalation_level", sa.Integer(), nullable=False),
    sa.Column("generator_url", sa.Text(), nullable=False),
    sa.Column("keep_firing_since", sa.BigInteger(), nullable=True),
    # The time intervals that mute the alert's notifications now (Alertmanager's mutedBy).
    sa.Column("muted_by", JSON, nullable=False, server_default=sa.text("'[]'")),
)

alert_history = sa.Table(
    "alert_history",
    metadata,
    # Insertion order breaks ties between events of the same millisecond.
    sa.Column("seq", SERIAL, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(ID), nullable=False, unique=True),
    sa.Column("fingerprint", sa.String(FINGERPRINT), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("at", sa.BigInteger(), nullable=False),
    sa.Column("state", sa.String(16), nullable=True),
    sa.Column("value", sa.Double(), nullable=True),
    sa.Column("channel", sa.String(NAME), nullable=False),
    sa.Column("outcome", sa.Text(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("by", sa.String(NAME), nullable=False),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Index(None, "fingerprint", "at", "seq"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("channel_id", sa.String(ID), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("group_key", sa.Text(), nullable=False),
    sa.Column("fingerprints", JSON, nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=False),
    sa.Column("idempotency_key", sa.String(NAME), nullable=False),
    sa.Column("next_attempt_at", sa.BigInteger(), nullable=True),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    sa.Column("delivered_at", sa.BigInteger(), nullable=True),
    # The lease of the worker sending the row: until then nobody else claims it; after it, a
    # crashed worker's row is due again. The token makes a late worker's outcome a no-op.
    sa.Column("claimed_until", sa.BigInteger(), nullable=True),
    sa.Column("claim_token", sa.String(ID), nullable=True),
    # Workers claim the due rows of a status: pending/retrying ordered by next_attempt_at.
    sa.Index(None, "status", "next_attempt_at"),
)

# The fingerprints of a delivery again, one row each, so that "deliveries of this alert" is an
# indexed lookup on both databases instead of a dialect-specific JSON containment test.
delivery_alerts = sa.Table(
    "delivery_alerts",
    metadata,
    sa.Column(
        "delivery_id",
        sa.String(ID),
        sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("fingerprint", sa.String(FINGERPRINT), primary_key=True, index=True),
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("seq", SERIAL, primary_key=True, autoincrement=True),
    sa.Column(
        "delivery_id",
        sa.String(ID),
        sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("at", sa.BigInteger(), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=True),
    sa.Column("error", sa.Text(), nullable=False),
    sa.Column("duration", sa.BigInteger(), nullable=True),
)

# What the alert dispatcher last sent per aggregation group and receiver (Alertmanager's nflog):
# a restart regroups the alerts and this log keeps it from sending anything twice.
notification_log = sa.Table(
    "notification_log",
    metadata,
    sa.Column("group_id", sa.Text(), primary_key=True),
    sa.Column("receiver", sa.String(NAME), primary_key=True),
    sa.Column("firing", JSON, nullable=False),
    sa.Column("resolved", JSON, nullable=False),
    sa.Column("sent_at", sa.BigInteger(), nullable=False),
)

# Where each escalating alert stands, written in the same transaction as the outbox rows of its
# steps: a restart neither skips a level nor sends one twice. The policy is a snapshot taken when
# the alert fired, so that editing the policy later does not change an escalation under way.
escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column("fingerprint", sa.String(FINGERPRINT), primary_key=True),
    sa.Column("policy", JSON, nullable=False),
    sa.Column("fired_at", sa.BigInteger(), nullable=False),
    sa.Column("base", sa.BigInteger(), nullable=False),
    sa.Column("next_step", sa.Integer(), nullable=False),
    sa.Column("paused_at", sa.BigInteger(), nullable=True),
    sa.Column("run", sa.Integer(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    sa.Column("paged", JSON, nullable=False, server_default=sa.text("'[]'")),
)

# Secrets the server generates for itself (the key of acknowledgement links), kept so that what
# was signed before a restart still verifies after it.
server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
)

# --- several replicas on one PostgreSQL (alerting_server/cluster/) ---------------------------------

# The replicas that said they are alive: each renews its heartbeat (the database's clock, epoch ms).
cluster_replicas = sa.Table(
    "cluster_replicas",
    metadata,
    sa.Column("id", sa.String(NAME), primary_key=True),
    sa.Column("address", sa.String(NAME), nullable=False),
    sa.Column("http_address", sa.String(NAME), nullable=False),
    sa.Column("started_at", sa.BigInteger(), nullable=False),
    sa.Column("last_heartbeat", sa.BigInteger(), nullable=False),
)

# Leases on the work that one replica at a time does (a share of the rule groups, the alert pipeline).
# `epoch` grows by one at every change of holder: the fencing token a holder's writes carry.
cluster_leases = sa.Table(
    "cluster_leases",
    metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("holder", sa.String(NAME), nullable=True),
    sa.Column("epoch", sa.BigInteger(), nullable=False),
    sa.Column("expires_at", sa.BigInteger(), nullable=False),
    sa.Column("acquired_at", sa.BigInteger(), nullable=True),
)

# What any replica took for the alert pipeline (posted alerts, rule alerts, acknowledgements), stored
# at once and consumed by the pipeline's owner in the transaction of the step that applies it.
alert_inbox = sa.Table(
    "alert_inbox",
    metadata,
    sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    # The alert pipeline partition whose owner applies the item.
    sa.Column("partition", sa.Integer(), nullable=False, server_default=sa.text("0"), index=True),
)

# Every alert change in one global order: the revision WatchAlerts resumes from on any replica.
watch_events = sa.Table(
    "watch_events",
    metadata,
    sa.Column("revision", SERIAL, primary_key=True, autoincrement=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("alert", JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
)

# Counters the replicas poll: `config` grows with every write of the configuration (a trigger on
# PostgreSQL), so that a missed notification is found by the next poll.
cluster_counters = sa.Table(
    "cluster_counters",
    metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("value", sa.BigInteger(), nullable=False),
)
