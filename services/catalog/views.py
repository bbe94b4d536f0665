"""What the catalog answers and announces: rows turned into plain JSON-able dicts."""
from contract import events
from plumbing.clock import aware, isoformat
from plumbing.paging import page  # noqa: F401  (views.page: a listing's page)
from services.catalog import domain, images


def sku(row, with_stock=True):
    view = {"id": row.id, "spec": row.spec, "spec_values": list(row.spec_values or []),
            "code": row.code, "image_url": row.image_url, "price": row.price,
            "market_price": row.market_price}
    if with_stock:
        view["stock"] = row.stock
    return view


def _skus(product, with_stock=True):
    return [sku(row, with_stock) for row in sorted(product.skus, key=lambda row: row.id)]


def _cover(product):
    return product.image_urls[0] if product.image_urls else None


def _shown_price(skus):
    """A product is shown at its cheapest SKU's price and market price."""
    shown = domain.cheapest(skus) or {"price": None, "market_price": None}
    return {"price": shown["price"], "market_price": shown["market_price"]}


def _spec_groups(product):
    return [{"name": group["name"], "values": list(group["values"])}
            for group in product.spec_groups or []]


def _common(product):
    return {
        "id": product.id,
        "merchant_id": product.merchant_id,
        "category_id": product.category_id,
        "title": product.title,
        "subtitle": product.subtitle,
        "description": product.description,
        "image_urls": list(product.image_urls),
        "cover_image": _cover(product),
        "video_url": product.video_url,
        "spec_groups": _spec_groups(product),
        "published_at": isoformat(product.published_at),
    }


def _admin_fields(product):
    skus = _skus(product)
    return {**_common(product), **_shown_price(skus), "status": product.status,
            "version": product.version, "pinned_rank": product.pinned_rank,
            "low_stock_threshold": product.low_stock_threshold,
            "created_at": isoformat(product.created_at),
            "updated_at": isoformat(product.updated_at), "skus": skus}


def admin_product(product, group_buy, sales_7d):
    """`group_buy`: whether one of its campaigns runs now (domain.group_buy_product_ids);
    `sales_7d`: units sold in the last seven days. `low_stock`: some SKU is at or below
    the product's threshold."""
    return {**_admin_fields(product), "group_buy": group_buy, "sales": product.sales_count,
            "sales_7d": sales_7d,
            "low_stock": any(row.stock <= product.low_stock_threshold for row in product.skus)}


def snapshot(product):
    """The whole product at this version. Stock and sales are left out: they move with
    every order and no event follows them, so a copy would go stale. So is group_buy: it
    changes with the clock, and the campaigns are teams'."""
    fields = {**_admin_fields(product), "skus": _skus(product, with_stock=False)}
    for moment in ("published_at", "created_at", "updated_at"):
        fields[moment] = aware(getattr(product, moment))
    return events.ProductChanged(**fields)


def shopper_product(product, group_buy, sales_7d):
    """Detail page. Campaign and joinable teams are the teams service's to fill."""
    skus = _skus(product)
    return {**_common(product), **_shown_price(skus), "group_buy": group_buy,
            "sales": product.sales_count, "sales_7d": sales_7d,
            "skus": skus, "campaign": None, "joinable_teams": []}


def campaign(row):
    """A campaign copy as the rules see it (not an answer: nothing sends it out)."""
    return {"product_id": row.product_id, "starts_at": aware(row.starts_at),
            "ends_at": aware(row.ends_at), "invalidated": row.invalidated,
            "group_prices": row.group_prices, "changed_at": aware(row.changed_at)}


def category(row):
    return {"id": row.id, "name": row.name, "parent_id": row.parent_id,
            "sort_order": row.sort_order, "icon_url": row.icon_url}


def image(row):
    return {"id": row.id, "url": images.media_url(row.name), "content_type": row.content_type,
            "size": row.size, "width": row.width, "height": row.height}


def stock_low(product, sku_row, stock):
    """The `stock_low` payload: notify turns it into the merchant's inbox message."""
    return events.StockLow(merchant_id=product.merchant_id, product_id=product.id,
                           sku_id=sku_row.id, title=product.title, spec=sku_row.spec,
                           stock=stock, threshold=product.low_stock_threshold)


def reservation(reservation_id, state, items):
    return {"reservation_id": reservation_id, "state": state,
            "items": [{"sku_id": sku_id, "quantity": quantity}
                      for sku_id, quantity in items.items()]}
