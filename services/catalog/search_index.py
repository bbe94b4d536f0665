"""The catalog's search index: one row per product, kept current on every change."""


def refresh(session, product):
    """Called in the transaction of every product change (after flush)."""
