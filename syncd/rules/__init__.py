"""Reorder rules: pure computation of reorder quantities and purchase-order plans."""
