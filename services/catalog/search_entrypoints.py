"""Shopper search and listing entrypoints of the catalog service (mixed into
CatalogService, which provides `self.db` and `self._group_buy_ids`)."""
from plumbing.entrypoints import rpc
from services.catalog import domain, schemas, store, views


class SearchEntrypoints:

    @rpc
    def list_products(self, q=None, category_id=None, min_price=None, max_price=None,
                      sort="newest", page=1, page_size=20):
        args = schemas.load(schemas.ShopperListArgs, {
            "q": q, "category_id": category_id, "min_price": min_price, "max_price": max_price,
            "sort": sort, "page": page, "page_size": page_size})
        domain.check_price_range(args["min_price"], args["max_price"])
        filters = {"q": args["q"], "min_price": args["min_price"], "max_price": args["max_price"],
                   "category_ids": None if args["category_id"] is None else
                   store.category_with_children(self.db.session, args["category_id"])}
        rows, total = store.published_listing(self.db.session, filters,
                                              domain.sort_keys(args["sort"]),
                                              args["page"], args["page_size"])
        group_buy = self._group_buy_ids([product.id for product, _, _ in rows])
        return views.page([views.listing_item(*row, group_buy=row[0].id in group_buy)
                           for row in rows], total, args["page"], args["page_size"])
