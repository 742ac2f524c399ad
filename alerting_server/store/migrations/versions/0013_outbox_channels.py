"""The outbox's NOTIFY names the channels of the rows added, so that a replica wakes its claimer only
for a channel that can take rows (notify/service.py DeliveryService.wake), as its own pipeline does.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

# A NOTIFY payload is at most 8,000 bytes: a longer list of channels is sent as '' (wake for all).
PAYLOAD_LIMIT = 7_900

UP = [
    f"""
    CREATE FUNCTION alerting_outbox_added() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        channels text;
    BEGIN
        SELECT string_agg(DISTINCT channel_id, ',') INTO channels FROM added;
        IF channels IS NULL OR length(channels) > {PAYLOAD_LIMIT} THEN
            channels := '';
        END IF;
        PERFORM pg_notify('alerting_outbox', channels);
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER alerting_outbox_added ON deliveries",
    "CREATE TRIGGER alerting_outbox_added AFTER INSERT ON deliveries REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_outbox_added()",
]

DOWN = [
    "DROP TRIGGER alerting_outbox_added ON deliveries",
    "CREATE TRIGGER alerting_outbox_added AFTER INSERT ON deliveries "
    "FOR EACH STATEMENT EXECUTE FUNCTION alerting_notify('alerting_outbox')",
    "DROP FUNCTION alerting_outbox_added()",
]


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in UP:
            op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in DOWN:
            op.execute(sa.text(statement))
