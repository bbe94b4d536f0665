"""Shopper search, listing and home-section entrypoints of the catalog service (mixed into
CatalogService, which provides `self.db`). Rules in rules.py, queries in store.py,
answers in views.py; the search rows themselves are kept by index.py."""
import time

from nameko.extensions import DependencyProvider

from plumbing import clock
from plumbing.entrypoints import rpc
from plumbing.validation import load
from services.catalog import domain, store, views
from services.catalog.search import rules, schemas
from services.catalog.search import store as search_store
from services.catalog.search import views as search_views


class Tokenizer(DependencyProvider):
    """Loads jieba's dictionary when the service starts, not in the first shopper's query."""

    def setup(self):
        rules.initialize()


class SharedRankings(DependencyProvider):
    """Rankings every shopper shares and that take a while to work out (热销), kept for
    rules.HOT_RANKING_SECONDS by every worker of this process."""

    def setup(self):
        self.kept = {}

    def get_dependency(self, worker_ctx):
        return self

    def get(self, key, work_out):
        kept_at, value = self.kept.get(key, (None, None))
        if kept_at is None or time.monotonic() - kept_at > rules.HOT_RANKING_SECONDS:
            value = work_out()
            self.kept = {key: (time.monotonic(), value)}  # older keys (days) are done with
        return value


class SearchEntrypoints:
    tokenizer = Tokenizer()
    rankings = SharedRankings()

    @rpc
    def list_products(self, q=None, category_id=None, min_price=None, max_price=None,
                      sort=None, group_buy=None, has_discount=None, page=1, page_size=20):
        """Listed products found by words and filters, a page at a time; the total counts
        up to rules.MAX_RESULTS."""
        args = load(schemas.ListingArgs, {
            "q": q, "category_id": category_id, "min_price": min_price, "max_price": max_price,
            "sort": sort, "group_buy": group_buy, "has_discount": has_discount, "page": page,
            "page_size": page_size})
        rules.check_listing(args.min_price, args.max_price, args.page,
                             args.page_size)
        plan = rules.query_plan(args.q) if args.q else None
        if args.q and not plan:  # only punctuation or emoji: nothing can match
            return search_views.page([], 0, args.page, args.page_size)
        session, now = self.db.session, clock.now()
        filters = {"min_price": args.min_price, "max_price": args.max_price,
                   "group_buy": args.group_buy, "has_discount": args.has_discount,
                   "category_ids": None if args.category_id is None else
                   store.category_with_children(session, args.category_id)}
        query, rank = search_store.listing(session, plan, filters, now)
        total = search_store.count(session, query)
        order = search_store.order(rules.sort_keys(args.sort, bool(plan), total), rank,
                                   rules.sort_matches(bool(plan), args.group_buy, total))
        rows = search_store.page(session, query, order, args.page, args.page_size)
        [items] = self._shown([rows], now)
        return search_views.page(items, total, args.page, args.page_size)

    @rpc
    def home(self, limit=6):
        """Every home section's first products, for the mini-program's first screen."""
        limit = load(schemas.HomeArgs, {"limit": limit}).limit
        now = clock.now()
        found = [self._section(key, now, 1, limit)[0] for key in rules.SECTIONS]
        return {"sections": [search_views.home_section(key, title, items) for (key, title), items
                             in zip(rules.SECTIONS.items(), self._shown(found, now))]}

    @rpc
    def list_section(self, section, page=1, page_size=20):
        """One home section in full ("see more"), a page at a time."""
        args = load(schemas.SectionArgs, {"section": section, "page": page,
                                                 "page_size": page_size})
        rules.check_section(args.section)
        rules.check_page(args.page, args.page_size)
        now = clock.now()
        rows, total = self._section(args.section, now, args.page, args.page_size,
                                    with_total=True)
        [items] = self._shown([rows], now)
        return search_views.page(items, total, args.page, args.page_size)

    def _section(self, name, now, page, page_size, with_total=False):
        """-> (search rows of a page of a home section, its total or None)."""
        session = self.db.session
        if name in ("hot", "group_buy"):
            ranking = self._hot_ranking(now) if name == "hot" else \
                search_store.group_buy_ranking(session, now, rules.MAX_RESULTS)
            on_page = ranking[(page - 1) * page_size:page * page_size]
            listed = search_store.rows(session, on_page)  # one may have left since
            return [listed[i] for i in on_page if i in listed], len(ranking)
        query, order = search_store.section(name)
        total = search_store.count(session, query) if with_total else None
        return search_store.page(session, query, order, page, page_size), total

    def _hot_ranking(self, now):
        days = rules.hot_days(now)
        return self.rankings.get(("hot", *days), lambda: search_store.hot_ranking(
            self.db.session, *days, limit=rules.MAX_RESULTS))

    def _shown(self, row_lists, now):
        """Listing items for lists of search rows, with one read of texts and campaigns."""
        product_ids = sorted({found.product_id for rows in row_lists for found in rows})
        shown = search_store.shown_products(self.db.session, product_ids)
        campaigns = [views.campaign(copy) for copy in
                     store.live_campaigns(self.db.session, product_ids, now)]
        group_buy = domain.group_buy_product_ids(campaigns, now)
        group_prices = rules.lowest_group_prices(campaigns, now, domain.campaign_running)
        return [[search_views.listing_item(found, shown[found.product_id],
                                           found.product_id in group_buy,
                                           group_prices.get(found.product_id))
                 for found in rows if found.product_id in shown] for rows in row_lists]
