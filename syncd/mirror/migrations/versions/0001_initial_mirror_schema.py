"""initial mirror schema

Revision ID: 0001
Revises:
Create Date: 2025-01-01

The whole mirror: company state, tokens, cursors, quarantine, dirty items, and the eight mirrored entities
with their lines. Types are spelled out per dialect here (not taken from syncd.mirror.types) so this revision
stays what it was when later revisions change the models: decimals are NUMERIC(28, 8) on PostgreSQL and
scaled BIGINT (1e-8 units) on SQLite, times are timestamptz / UTC text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

#: see syncd.mirror.types.DecimalType
DECIMAL = sa.Numeric(28, 8).with_variant(sa.BigInteger(), "sqlite")


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=32), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('mirrored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('account_type', sa.String(length=64), nullable=True),
    sa.Column('account_sub_type', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('company', 'id')
    )
    op.create_table('bill',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=32), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('mirrored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('doc_number', sa.String(length=64), nullable=True),
    sa.Column('txn_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('vendor_id', sa.String(length=32), nullable=True),
    sa.Column('private_note', sa.Text(), nullable=True),
    sa.Column('total_amt', DECIMAL, nullable=True),
    sa.PrimaryKeyConstraint('company', 'id')
    )
    op.create_table('company',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('realm_id', sa.String(length=32), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('needs_reconnect', sa.Boolean(), nullable=False),
    sa.Column('reconnect_reason', sa.Text(), nullable=True),
    sa.Column('last_drift_check_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('customer',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=32), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('mirrored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('company', 'id')
    )
    op.create_table('dirty_item',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('company', 'item_id')
    )
    op.create_table('entity_cursor',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('backfill_done', sa.Boolean(), nullable=False),
    sa.Column('backfill_next_start', sa.Integer(), nullable=False),
    sa.Column('backfill_last_id', sa.String(length=32), nullable=True),
    sa.Column('backfill_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('company', 'entity')
    )
    op.create_table('invoice',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=32), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('mirrored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('doc_number', sa.String(length=64), nullable=True),
    sa.Column('txn_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('customer_id', sa.String(length=32), nullable=True),
    sa.Column('bill_email', sa.Text(), nullable=True),
    sa.Column('private_note', sa.Text(), nullable=True),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.Column('total_amt', DECIMAL, nullable=True),
    sa.PrimaryKeyConstraint('company', 'id')
    )
    op.create_table('item',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=32), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('mirrored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('sku', sa.String(length=100), nullable=True),
    sa.Column('type', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('track_qty_on_hand', sa.Boolean(), nullable=False),
    sa.Column('qty_on_hand', DECIMAL, nullable=True),
    sa.Column('reorder_point', DECIMAL, nullable=True),
    sa.Column('unit_price', DECIMAL, nullable=True),
    sa.Column('purchase_cost', DECIMAL, nullable=True),
    sa.Column('pref_vendor_id', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('company', 'id')
    )
    op.create_table('oauth_token',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=True),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('refresh_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('company')
    )
    op.create_table('purchase_order',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=32), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('mirrored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('doc_number', sa.String(length=64), nullable=True),
    sa.Column('txn_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('expected_date', sa.Date(), nullable=True),
    sa.Column('vendor_id', sa.String(length=32), nullable=True),
    sa.Column('po_status', sa.String(length=16), nullable=True),
    sa.Column('manually_closed', sa.Boolean(), nullable=False),
    sa.Column('private_note', sa.Text(), nullable=True),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('total_amt', DECIMAL, nullable=True),
    sa.PrimaryKeyConstraint('company', 'id')
    )
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_order_status', ['company', 'po_status'], unique=False)

    op.create_table('quarantine',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('qbo_id', sa.String(length=80), nullable=False),
    sa.Column('sync_token', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('company', 'entity', 'qbo_id')
    )
    op.create_table('sales_receipt',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=32), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('mirrored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('doc_number', sa.String(length=64), nullable=True),
    sa.Column('txn_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('customer_id', sa.String(length=32), nullable=True),
    sa.Column('bill_email', sa.Text(), nullable=True),
    sa.Column('private_note', sa.Text(), nullable=True),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.Column('total_amt', DECIMAL, nullable=True),
    sa.PrimaryKeyConstraint('company', 'id')
    )
    op.create_table('vendor',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=32), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('mirrored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('company_name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('company', 'id')
    )
    op.create_table('bill_line',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.String(length=32), nullable=True),
    sa.Column('line_num', sa.Integer(), nullable=True),
    sa.Column('detail_type', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=True),
    sa.Column('qty', DECIMAL, nullable=True),
    sa.Column('unit_price', DECIMAL, nullable=True),
    sa.Column('amount', DECIMAL, nullable=True),
    sa.Column('bill_id', sa.String(length=32), nullable=False),
    sa.Column('po_id', sa.String(length=32), nullable=True),
    sa.Column('po_line_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['company', 'bill_id'], ['bill.company', 'bill.id'], name='fk_bill_line_bill', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('company', 'bill_id', 'seq', name='pk_bill_line')
    )
    with op.batch_alter_table('bill_line', schema=None) as batch_op:
        batch_op.create_index('ix_bill_line_item', ['company', 'item_id'], unique=False)
        batch_op.create_index('ix_bill_line_po', ['company', 'po_id'], unique=False)

    op.create_table('invoice_line',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.String(length=32), nullable=True),
    sa.Column('line_num', sa.Integer(), nullable=True),
    sa.Column('detail_type', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=True),
    sa.Column('qty', DECIMAL, nullable=True),
    sa.Column('unit_price', DECIMAL, nullable=True),
    sa.Column('amount', DECIMAL, nullable=True),
    sa.Column('invoice_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['company', 'invoice_id'], ['invoice.company', 'invoice.id'], name='fk_invoice_line_invoice', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('company', 'invoice_id', 'seq', name='pk_invoice_line')
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_line_item', ['company', 'item_id'], unique=False)

    op.create_table('purchase_order_line',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.String(length=32), nullable=True),
    sa.Column('line_num', sa.Integer(), nullable=True),
    sa.Column('detail_type', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=True),
    sa.Column('qty', DECIMAL, nullable=True),
    sa.Column('unit_price', DECIMAL, nullable=True),
    sa.Column('amount', DECIMAL, nullable=True),
    sa.Column('purchase_order_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['company', 'purchase_order_id'], ['purchase_order.company', 'purchase_order.id'], name='fk_purchase_order_line_purchase_order', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('company', 'purchase_order_id', 'seq', name='pk_purchase_order_line')
    )
    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_order_line_item', ['company', 'item_id'], unique=False)

    op.create_table('sales_receipt_line',
    sa.Column('company', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.String(length=32), nullable=True),
    sa.Column('line_num', sa.Integer(), nullable=True),
    sa.Column('detail_type', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=True),
    sa.Column('qty', DECIMAL, nullable=True),
    sa.Column('unit_price', DECIMAL, nullable=True),
    sa.Column('amount', DECIMAL, nullable=True),
    sa.Column('sales_receipt_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['company', 'sales_receipt_id'], ['sales_receipt.company', 'sales_receipt.id'], name='fk_sales_receipt_line_sales_receipt', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('company', 'sales_receipt_id', 'seq', name='pk_sales_receipt_line')
    )
    with op.batch_alter_table('sales_receipt_line', schema=None) as batch_op:
        batch_op.create_index('ix_sales_receipt_line_item', ['company', 'item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sales_receipt_line', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_receipt_line_item')

    op.drop_table('sales_receipt_line')
    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_order_line_item')

    op.drop_table('purchase_order_line')
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_line_item')

    op.drop_table('invoice_line')
    with op.batch_alter_table('bill_line', schema=None) as batch_op:
        batch_op.drop_index('ix_bill_line_po')
        batch_op.drop_index('ix_bill_line_item')

    op.drop_table('bill_line')
    op.drop_table('vendor')
    op.drop_table('sales_receipt')
    op.drop_table('quarantine')
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_order_status')

    op.drop_table('purchase_order')
    op.drop_table('oauth_token')
    op.drop_table('item')
    op.drop_table('invoice')
    op.drop_table('entity_cursor')
    op.drop_table('dirty_item')
    op.drop_table('customer')
    op.drop_table('company')
    op.drop_table('bill')
    op.drop_table('account')
