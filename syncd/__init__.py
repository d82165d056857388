"""syncd: keeps a QuickBooks Online company's inventory honest.

Mirror (SQL) <- connector (QBO v3) ; ledger, reorder plan and alerts are derived from the mirror by pure cores.
"""

from __future__ import annotations

__version__ = "0.1.0"
