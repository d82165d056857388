"""Backorder ledger: pure allocation, ETA pegging and event derivation."""
