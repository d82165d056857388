"""sales lines carry their document's date and void flag

Revision ID: 0005
Revises: 0002, 0004
Create Date: 2025-01-05

``invoice_line`` and ``sales_receipt_line`` get ``txn_date`` and ``voided``, copies of their header's columns
(see :class:`syncd.mirror.models.SalesLine`), and their (company, item_id) index becomes
``ix_<table>_line_demand`` on (company, item_id, txn_date, qty, detail_type, voided): the backorder ledger reads
an item's newest demand lines by a range scan of that index, and counts its live lines before a date from the
index alone, without joining each line to its header. Existing lines are backfilled from their headers with one
UPDATE per table (correlated subqueries on the header's primary key; plain SQL both backends run).

It also merges the two branches (``ledger`` 0002 and ``purchasing`` 0003 → 0004), so the schema has one head again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = ("0002", "0004")
branch_labels = None
depends_on = None

#: (header table, line table, the line's header-id column)
SALES = (("invoice", "invoice_line", "invoice_id"), ("sales_receipt", "sales_receipt_line", "sales_receipt_id"))
DEMAND = ["company", "item_id", "txn_date", "qty", "detail_type", "voided"]


def _backfill(header: str, line: str, fk: str) -> None:
    head = sa.table(header, sa.column("company"), sa.column("id"), sa.column("txn_date", sa.Date()),
                    sa.column("voided", sa.Boolean()))
    lines = sa.table(line, sa.column("company"), sa.column(fk), sa.column("txn_date", sa.Date()),
                     sa.column("voided", sa.Boolean()))
    of_line = (head.c.company == lines.c.company) & (head.c.id == lines.c[fk])
    op.execute(
        lines.update().values(
            txn_date=sa.select(head.c.txn_date).where(of_line).scalar_subquery(),
            # a line without a header cannot exist (ON DELETE CASCADE); keep the column NOT NULL regardless
            voided=sa.func.coalesce(sa.select(head.c.voided).where(of_line).scalar_subquery(), sa.false()),
        )
    )


def upgrade() -> None:
    for header, line, fk in SALES:
        with op.batch_alter_table(line, schema=None) as batch_op:
            batch_op.add_column(sa.Column("txn_date", sa.Date(), nullable=True))
            # a plain-string default ("0" reads as false on both backends) lets SQLite add the column in
            # place; an SQL expression such as sa.false() would make batch mode copy the whole table
            batch_op.add_column(sa.Column("voided", sa.Boolean(), server_default="0", nullable=False))
        _backfill(header, line, fk)
        with op.batch_alter_table(line, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{line}_item")
            batch_op.create_index(f"ix_{line}_demand", DEMAND, unique=False)


def downgrade() -> None:
    for _header, line, _fk in reversed(SALES):
        with op.batch_alter_table(line, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{line}_demand")
            batch_op.create_index(f"ix_{line}_item", ["company", "item_id"], unique=False)
            batch_op.drop_column("voided")
            batch_op.drop_column("txn_date")
