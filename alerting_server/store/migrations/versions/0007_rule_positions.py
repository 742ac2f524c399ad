"""A rule's position orders it within its group, before created_at (position ordered the rules of one
import): a rule file applied again keeps its rules, and their created_at, which then no longer tells a
group's order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_RULES = sa.table(
    "rules",
    sa.column("id", sa.String()),
    sa.column("position", sa.Integer()),
    sa.column("created_at", sa.BigInteger()),
)


def upgrade() -> None:
    connection = op.get_bind()
    ids = connection.execute(
        sa.select(_RULES.c.id).order_by(_RULES.c.created_at, _RULES.c.position, _RULES.c.id)
    ).scalars()
    # Numbered in the order rules had: each group keeps its order, and the groups theirs.
    params = [{"rule_id": rule_id, "new_position": position} for position, rule_id in enumerate(ids)]
    if params:
        connection.execute(
            _RULES.update()
            .where(_RULES.c.id == sa.bindparam("rule_id"))
            .values(position=sa.bindparam("new_position")),
            params,
        )


def downgrade() -> None:
    # The new positions order the rules of one created_at as the old ones did: nothing to undo.
    pass
