"""What search, listings and home sections answer: rows turned into plain dicts."""
from plumbing.paging import page  # noqa: F401  (views.page: a listing's page)


def listing_item(found, shown, group_buy, group_price):
    """A product in a listing, shown at its cheapest SKU. `found`: its search row; `shown`:
    its texts; `group_price`: the lowest group price of a campaign running now, or None."""
    return {"id": found.product_id, "title": shown.title, "subtitle": shown.subtitle,
            "cover_image": shown.image_urls[0] if shown.image_urls else None,
            "price": found.price, "market_price": found.market_price,
            "group_buy": group_buy, "group_price": group_price, "sales": found.sales_count}


def home_section(key, title, items):
    return {"key": key, "title": title, "items": items}
