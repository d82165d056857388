"""``syncd run``: the long-running daemon (SPEC §6) — scheduling, worker locks and systemd integration."""
