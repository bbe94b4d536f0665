"""The catalog's search index: one row per product, kept current on every change."""


def refresh(session, product):
    """Called in the transaction of every product change (after flush)."""


def refresh_category(session, category_id):
    """Called after a category is renamed or moved: its products are found by its name."""
