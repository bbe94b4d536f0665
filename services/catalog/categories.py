"""Categories, two levels deep: creating, changing (a rename or a move takes its products'
search entries along), deleting an empty one, and the tree shoppers browse."""
from services.catalog import domain, store, uploads, views
from services.catalog.models import Category
from services.catalog.search import index as search_index


def create(db, data):
    uploads.check(db, {"icon_url": data["icon_url"]})
    if data["parent_id"] is not None:
        domain.check_parent(store.category(db.session, data["parent_id"],
                                           key_share=True).parent_id)
    category = Category(**data)
    db.session.add(category)
    db.session.flush()
    return views.category(category)


def update(db, category_id, change):
    """Rename, re-order, change the icon, or move it (two levels kept)."""
    uploads.check(db, {"icon_url": change.get("icon_url")})
    session = db.session
    category = store.category_for_update(session, category_id)
    if "parent_id" in change:
        _check_move(db, category, change["parent_id"])
    moved_or_renamed = any(field in change and change[field] != getattr(category, field)
                           for field in ("name", "parent_id"))
    for field, value in change.items():
        setattr(category, field, value)
    session.flush()
    if moved_or_renamed:
        search_index.refresh_category(session, category.id)
    return views.category(category)


def delete(db, category_id):
    """Only an empty one: 409 while it has sub-categories or products (any status)."""
    category = store.category_for_update(db.session, category_id)
    domain.check_deletable(*store.category_usage(db.session, category.id))
    db.session.delete(category)
    return {"deleted": category_id}


def tree(db):
    return domain.category_tree([views.category(row) for row in store.all_categories(db.session)])


def _check_move(db, category, parent_id):
    session = db.session
    parent = store.category(session, parent_id, key_share=True) if parent_id is not None else None
    domain.check_move(category.id, parent_id, parent.parent_id if parent else None,
                      store.category_usage(session, category.id)[0] > 0)
