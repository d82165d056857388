"""QBO connectors: the protocol in base.py, the python-quickbooks implementation in quickbooks.py."""
