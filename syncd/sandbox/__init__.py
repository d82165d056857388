"""A local QuickBooks Online v3 stand-in ("the sandbox").

It is deliberately independent of the rest of syncd: nothing here imports from ``syncd`` outside
``syncd.sandbox``, so the daemon and the sandbox cannot share a misunderstanding of the protocol.
Its behaviour follows ../shared/QBO_FACTS.md; each deviation or UNCONFIRMED choice is commented where made.
"""
