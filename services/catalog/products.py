"""A merchant's products: creating and editing them (spec groups and SKUs checked together,
SKUs holding open orders' stock kept, a price cut checked against teams' group prices),
publishing, recommended pins, and the announcement of each change (`product_changed` and
the product's search row, in the change's transaction); the views of a product, with its
group-buy flag and its sales of the last seven days."""
from plumbing import clock
from services.catalog import domain, store, uploads, views
from services.catalog.models import Product, Sku
from services.catalog.search import index as search_index

SKU_FIELDS = ("spec", "spec_values", "price", "market_price", "stock", "code", "image_url")


def create(db, merchant_id, data):
    domain.check_spec_groups(data["spec_groups"])
    skus = domain.check_skus(data.pop("skus"), data["spec_groups"])
    _check_images(db, data, skus)
    _check_category(db, data["category_id"])
    now = clock.now()
    return announce(db, Product(merchant_id=merchant_id, status=domain.DRAFT, version=1,
                                created_at=now, updated_at=now, sales_count=0,
                                skus=new_skus(skus), **data))


class Editor:
    """A merchant's edit of a product (built per call with the service's unit and the
    teams proxy, which knows the group prices a price cut must stay above)."""

    def __init__(self, db, teams):
        self.db, self.teams = db, teams

    def update(self, merchant_id, product_id, change):
        """Any subset of the fields. Spec groups and SKUs are checked together, as the
        product will be; SKUs holding stock of open orders cannot be removed; a lowered
        price must stay above the group price of a campaign running or to start."""
        group_prices = self._group_prices_if_lowered(merchant_id, product_id, change)
        product = owned(self.db, merchant_id, product_id, lock=True)
        if "spec_groups" in change:
            domain.check_spec_groups(change["spec_groups"])
        _check_images(self.db, change, change.get("skus", []))
        if "category_id" in change:
            _check_category(self.db, change["category_id"])
        skus = change.pop("skus", None)
        if skus is not None or "spec_groups" in change:
            _replace_skus(self.db, product, skus, change.get("spec_groups", product.spec_groups),
                          group_prices)
        for field, value in change.items():
            setattr(product, field, value)
        for row in product.skus:  # a restock (or a lower threshold) re-arms the notice
            row.low_stock_notified = domain.still_told_of_low_stock(
                row.low_stock_notified, row.stock, product.low_stock_threshold)
        return announce(self.db, touched(product))

    def _group_prices_if_lowered(self, merchant_id, product_id, change):
        """Teams' group prices of the product when the edit lowers a SKU's price, else [].
        Teams owns them (catalog's copy of campaigns can lag one just created), and is
        asked with no transaction of ours open: on SQLite a worker waiting on another
        service must not hold catalog's write lock."""
        if "skus" not in change:
            return []
        product_id = owned(self.db, merchant_id, product_id).id
        lowered = domain.lowers_a_price(store.sku_prices(self.db.session, product_id),
                                        change["skus"])
        self.db.session.rollback()  # the read is over before teams is asked
        return self.teams.live_group_prices(product_id) if lowered else []


def pin(db, merchant_id, product_id, rank):
    """Recommended (推荐) on the home page, lower ranks first; pinning again moves it."""
    product = owned(db, merchant_id, product_id, lock=True)
    if product.pinned_rank == rank:
        return admin_view(db, product)
    product.pinned_rank = rank
    return announce(db, touched(product))


def unpin(db, merchant_id, product_id):
    product = owned(db, merchant_id, product_id, lock=True)
    if product.pinned_rank is None:
        return admin_view(db, product)
    product.pinned_rank = None
    return announce(db, touched(product))


def publish(db, merchant_id, product_id):
    product = owned(db, merchant_id, product_id, lock=True)
    if not domain.publish(product.status, len(product.skus)):
        return admin_view(db, product)
    product.status = domain.PUBLISHED
    product.published_at = clock.now()
    return announce(db, touched(product))


def unpublish(db, merchant_id, product_id):
    product = owned(db, merchant_id, product_id, lock=True)
    if not domain.unpublish(product.status):
        return admin_view(db, product)
    product.status = domain.UNPUBLISHED
    return announce(db, touched(product))


def admin_page(db, args):
    """A page of the merchant's products. Choosing a top-level category (水果's parent)
    shows its sub-categories' products too, as for shoppers."""
    filters = args.as_kwargs()
    category_id = filters.pop("category_id")
    if category_id is not None:
        filters["category_ids"] = store.category_with_children(db.session, category_id)
    rows, total = store.merchant_products(db.session, **filters)
    ids = [product.id for product in rows]
    group_buy, sales_7d = group_buy_ids(db, ids), sales_7d_of(db, ids)
    return views.page([views.admin_product(p, p.id in group_buy, sales_7d.get(p.id, 0))
                       for p in rows], total, args.page, args.page_size)


def shopper_view(db, product_id):
    product = store.published_product(db.session, product_id)
    return views.shopper_product(product, product.id in group_buy_ids(db, [product.id]),
                                 sales_7d_of(db, [product.id]).get(product.id, 0))


def admin_view(db, product):
    return views.admin_product(product, product.id in group_buy_ids(db, [product.id]),
                               sales_7d_of(db, [product.id]).get(product.id, 0))


def snapshot_or_none(db, product_id):
    """Any product (any merchant, any status) as `product_changed` carries it, or None."""
    product = db.session.get(Product, product_id)
    return None if product is None else views.snapshot(product).to_data()


def owned(db, merchant_id, product_id, lock=False):
    return store.owned_product(db.session, merchant_id=merchant_id, product_id=product_id,
                               lock=lock)


def announce(db, product):
    """Saves the product and writes its snapshot to the outbox, in one transaction."""
    db.session.add(product)
    db.session.flush()
    search_index.refresh(db.session, product)
    db.emit(views.snapshot(product))
    return admin_view(db, product)


def touched(product):
    product.version += 1
    product.updated_at = clock.now()
    return product


def new_skus(entries):
    return [_apply(Sku(), entry) for entry in entries]


def sales_7d_of(db, product_ids):
    first_day = domain.sales_window_start(clock.now().date())
    return store.sales_since(db.session, product_ids, first_day)


def group_buy_ids(db, product_ids):
    """Those of the products with a campaign running at this moment."""
    now = clock.now()
    campaigns = store.live_campaigns(db.session, product_ids, now)
    return domain.group_buy_product_ids([views.campaign(row) for row in campaigns], now)


def _replace_skus(db, product, incoming, spec_groups, group_prices=()):
    """`incoming` None: the SKUs stay as they are, checked against new spec groups."""
    current = store.lock_skus(db.session, product.id)
    if incoming is None:
        incoming = [{"id": row.id} for row in current]
    final, removed = domain.plan_sku_changes([views.sku(row) for row in current], incoming,
                                             spec_groups)
    domain.check_above_group_prices(final, group_prices)
    # The SKU rows are locked, so no reservation can slip in between check and delete.
    domain.check_removable(removed, store.reserved_sku_ids(db.session, removed))
    by_id = {row.id: row for row in current}
    product.skus = [_apply(by_id.get(entry["id"]) or Sku(), entry) for entry in final]


def _check_category(db, category_id):
    if category_id is not None:
        store.category(db.session, category_id, key_share=True)


def _check_images(db, data, skus):
    refs = {f"image_urls.{index}": url for index, url in enumerate(data.get("image_urls", []))}
    refs.update({f"skus.{index}.image_url": sku.get("image_url")
                 for index, sku in enumerate(skus)})
    uploads.check(db, refs)


def _apply(sku, entry):
    for field in SKU_FIELDS:
        setattr(sku, field, entry.get(field))
    return sku
