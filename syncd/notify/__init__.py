"""Alerts and email."""
