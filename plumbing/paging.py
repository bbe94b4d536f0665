"""A page of a listing, as every service answers one: `{items, total, page, page_size}`
and whatever else the listing adds (an inbox's unread count, a product's review summary)."""


def page(items, total, page_number, page_size, **extra):
    return {"items": items, "total": total, "page": page_number, "page_size": page_size,
            **extra}
