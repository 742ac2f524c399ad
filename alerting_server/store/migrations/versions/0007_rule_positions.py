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


def upgrade() -> None:
    # Numbered in the order rules had: each group keeps its order, and the groups theirs. One statement,
    # so that the offline (SQL script) mode renders it too.
    op.execute(
        sa.text(
            "UPDATE rules SET position = (SELECT numbered.n FROM (SELECT id, ROW_NUMBER() OVER "
            "(ORDER BY created_at, position, id) - 1 AS n FROM rules) AS numbered "
            "WHERE numbered.id = rules.id)"
        )
    )


def downgrade() -> None:
    # The new positions order the rules of one created_at as the old ones did: nothing to undo.
    pass
