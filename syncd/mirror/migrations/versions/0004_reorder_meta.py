"""purchasing: reorder bookkeeping (``reorder_meta``)

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04

One row per company recording what the last full planning pass depended on (settings hash, company day, a mark
of the outbox), so an idle cycle can skip planning (SPEC §8). See :class:`syncd.purchasing.models.ReorderMeta`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reorder_meta",
        sa.Column("company", sa.String(length=64), nullable=False),
        sa.Column("settings_hash", sa.String(length=64), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("intents_mark", sa.Text(), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("company", name="pk_reorder_meta"),
    )


def downgrade() -> None:
    op.drop_table("reorder_meta")
