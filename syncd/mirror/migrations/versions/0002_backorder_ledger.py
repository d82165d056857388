"""backorder ledger tables

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02

``backorder_line`` (current state per short line), ``backorder_event`` (append-only history) and
``backorder_meta`` (review day, policy fingerprint); see :mod:`syncd.backorders.models`. Branch ``ledger``:
it depends only on the mirror schema, so it can be applied beside other branches from ``0001``. Types are
spelled out per dialect, as in ``0001``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

#: see syncd.mirror.types.DecimalType
DECIMAL = sa.Numeric(28, 8).with_variant(sa.BigInteger(), "sqlite")

revision = "0002"
down_revision = "0001"
branch_labels = ("ledger",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backorder_line",
        sa.Column("company", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("doc_id", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("item_name", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("customer_name", sa.Text(), nullable=False),
        sa.Column("doc_number", sa.String(length=64), nullable=True),
        sa.Column("txn_date", sa.Date(), nullable=False),
        sa.Column("ordered", DECIMAL, nullable=False),
        sa.Column("backordered", DECIMAL, nullable=False),
        sa.Column("fill_rank", sa.Integer(), nullable=False),
        sa.Column("short_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("eta", sa.Date(), nullable=True),
        sa.Column("eta_kind", sa.String(length=16), nullable=False),
        sa.Column("estimate_basis", sa.Date(), nullable=True),
        sa.Column("overdue_eta", sa.Date(), nullable=True),
        sa.Column("oversold", sa.Boolean(), nullable=False),
        sa.Column("pegged", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("company", "doc_type", "doc_id", "line_id"),
    )
    op.create_index("ix_backorder_line_item", "backorder_line", ["company", "item_id"])
    op.create_table(
        "backorder_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("doc_id", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("doc_number", sa.String(length=64), nullable=True),
        sa.Column("qty_before", DECIMAL, nullable=False),
        sa.Column("qty_after", DECIMAL, nullable=False),
        sa.Column("eta_before", sa.Date(), nullable=True),
        sa.Column("eta_after", sa.Date(), nullable=True),
        sa.Column("eta_kind_before", sa.String(length=16), nullable=True),
        sa.Column("eta_kind_after", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_backorder_event_at", "backorder_event", ["company", "at"])
    op.create_index("ix_backorder_event_item", "backorder_event", ["company", "item_id"])
    op.create_table(
        "backorder_meta",
        sa.Column("company", sa.String(length=64), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("policy_hash", sa.String(length=64), nullable=True),
        sa.Column("rebuilt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("company"),
    )


def downgrade() -> None:
    op.drop_table("backorder_meta")
    op.drop_index("ix_backorder_event_item", table_name="backorder_event")
    op.drop_index("ix_backorder_event_at", table_name="backorder_event")
    op.drop_table("backorder_event")
    op.drop_index("ix_backorder_line_item", table_name="backorder_line")
    op.drop_table("backorder_line")
