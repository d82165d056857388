"""Alembic environment of the mirror schema; run with :func:`syncd.mirror.db.upgrade`."""
