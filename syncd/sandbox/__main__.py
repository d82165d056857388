"""``python -m syncd.sandbox``: same as ``syncd sandbox``."""

from __future__ import annotations

from syncd.sandbox.cli import main

raise SystemExit(main())
