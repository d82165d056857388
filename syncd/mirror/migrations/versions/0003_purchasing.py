"""purchasing: reorder plans and the PO outbox

Revision ID: 0003
Revises: 0001
Create Date: 2025-01-03

Its own branch (``purchasing``) from the mirror schema, so it applies independently of the ledger branch;
:func:`syncd.mirror.db.upgrade` goes to ``heads``. Types spelled out per dialect as in 0001 (decimals NUMERIC(28, 8)
on PostgreSQL, scaled BIGINT on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

DECIMAL = sa.Numeric(28, 8).with_variant(sa.BigInteger(), "sqlite")

revision = "0003"
down_revision = "0001"
branch_labels = ("purchasing",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reorder_plan",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("company", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("pos", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reorder_plan"),
    )
    op.create_index("ix_reorder_plan_company", "reorder_plan", ["company"])
    op.create_table(
        "po_intent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=32), nullable=False),
        sa.Column("vendor_name", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("approval", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("total", DECIMAL, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("qbo_po_id", sa.String(length=32), nullable=True),
        sa.Column("qbo_doc_number", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_po_intent"),
        sa.ForeignKeyConstraint(["plan_id"], ["reorder_plan.id"], name="fk_po_intent_plan"),
        sa.UniqueConstraint("request_id", name="uq_po_intent_request_id"),
    )
    op.create_index("ix_po_intent_company_status", "po_intent", ["company", "status"])


def downgrade() -> None:
    op.drop_index("ix_po_intent_company_status", table_name="po_intent")
    op.drop_table("po_intent")
    op.drop_index("ix_reorder_plan_company", table_name="reorder_plan")
    op.drop_table("reorder_plan")
