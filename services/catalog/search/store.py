"""Queries of search, listings and home sections: reads of `product_search` (one row per
listed product, see index.py), no rules.

A page is found in the search rows alone (filters, sort, OFFSET/LIMIT on their indexes),
and only then are the page's products read for their texts: a join before the sort could
make PostgreSQL read every matching product. Whether a campaign runs is decided from the
clock at query time (domain.campaign_running, here as SQL), since nothing fires when one
starts or ends.
"""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from services.catalog.models import Product, ProductCampaign, ProductDailySales
from services.catalog.search import rules
from services.catalog.search.index import FTS_TABLE, product_search

row = product_search.c  # the search row's columns
campaign = ProductCampaign.__table__.c
# What a page reads of a search row: not the terms, whose tsvector is most of the row.
SHOWN = (row.product_id, row.category_id, row.price, row.market_price, row.discount,
         row.sales_count, row.published_at, row.pinned_rank)
SORT_COLUMNS = ("sales_count", "price", "published_at", "discount", "product_id")


def running_campaign(now):
    """SQL twin of domain.campaign_running."""
    return sa.and_(campaign.invalidated.is_(False), campaign.starts_at <= now,
                   campaign.ends_at > now)


# --- listing ---------------------------------------------------------------------

def listing(session, plan, filters, now):
    """-> (query of the matching search rows, its relevance or None). `plan`:
    rules.query_plan(q), or None to list without a query."""
    query = sa.select(*SHOWN)
    rank = None
    if plan:
        query, rank = _matching(session, query, plan)
    return _filtered(query, filters, now), rank


def order(sort_keys, rank=None, sort_matches=False):
    """ORDER BY of rules.sort_keys() ("rank": the relevance listing() gave).

    sort_matches: sort every match rather than let PostgreSQL walk the sort's index until
    a page is full. The walk reads each row it passes over, tsvector and all, and matches
    may sit far down it (no dear product holds 奶, few are in group buy); sorting costs
    what the matches number, the better bet once they are known to be few
    (rules.sort_matches). The column is wrapped so that no index serves the ORDER BY."""
    columns = {"rank": rank, **{name: row[name] for name in SORT_COLUMNS}}
    if sort_matches:
        columns = {name: column if name == "rank" else sa.func.coalesce(column, column)
                   for name, column in columns.items()}
    return [columns[key].desc() if direction == "desc" else columns[key].asc()
            for key, direction in sort_keys]


def _matching(session, query, plan):
    """The query narrowed to products matching every term, and its relevance (higher is
    better): ts_rank over the GIN-indexed tsvector, or FTS5's bm25 on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        tsquery = sa.cast(sa.literal(rules.tsquery_text(plan)), postgresql.TSQUERY)
        return (query.where(row.terms.bool_op("@@")(tsquery)),
                sa.func.ts_rank(row.terms, tsquery))
    hits = (sa.text(f"SELECT rowid AS product_id, bm25({FTS_TABLE}, 4.0, 1.0) AS score "
                    f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match")
            .bindparams(match=rules.fts5_match(plan))
            .columns(product_id=sa.Integer, score=sa.Float).subquery("hits"))
    return query.join(hits, hits.c.product_id == row.product_id), -hits.c.score


def _filtered(query, filters, now):
    if filters["category_ids"] is not None:
        query = query.where(row.category_id.in_(filters["category_ids"]))
    if filters["min_price"] is not None:
        query = query.where(row.price >= filters["min_price"])
    if filters["max_price"] is not None:
        query = query.where(row.price <= filters["max_price"])
    if filters["has_discount"]:
        query = query.where(row.discount > 0)
    if filters["group_buy"]:
        query = query.where(sa.exists().where(campaign.product_id == row.product_id,
                                              running_campaign(now)))
    return query


def count(session, query):
    """How many rows the query finds, up to rules.MAX_RESULTS (the deepest a listing
    pages): a search matching half the shop need not count every match."""
    counted = query.with_only_columns(row.product_id).limit(rules.MAX_RESULTS).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(counted))


def page(session, query, order_by, page_number, page_size):
    return session.execute(query.order_by(*order_by).limit(page_size)
                           .offset((page_number - 1) * page_size)).all()


# --- home sections -------------------------------------------------------------------

def section(name):
    """-> (query, order) of the home sections listed in order of their own columns
    (热销 and 拼团专场 are rankings: hot_ranking, group_buy_ranking)."""
    listed = sa.select(*SHOWN)
    newest = (row.published_at.desc(), row.product_id.desc())
    if name == "recommended":
        return listed.where(row.pinned_rank.is_not(None)), (row.pinned_rank.asc(), *newest)
    if name == "specials":
        return listed.where(row.discount > 0), (row.discount.desc(), row.product_id.desc())
    if name == "new_arrivals":
        return listed, newest
    raise ValueError(name)


def rows(session, product_ids):
    """{product_id: search row} of those of these products still listed."""
    if not product_ids:
        return {}
    found = session.execute(sa.select(*SHOWN).where(row.product_id.in_(product_ids)))
    return {listed.product_id: listed for listed in found}


def group_buy_ranking(session, now, limit):
    """Ids of the listed products with a campaign running now, the one ending soonest
    first: from the (few) running campaigns, each looked up by id."""
    ending = (sa.select(campaign.product_id, sa.func.min(campaign.ends_at).label("ends_at"))
              .where(running_campaign(now)).group_by(campaign.product_id).subquery("ending"))
    return session.scalars(
        sa.select(ending.c.product_id)
        .where(sa.exists().where(row.product_id == ending.c.product_id))
        .order_by(ending.c.ends_at.asc(), ending.c.product_id.desc()).limit(limit)).all()


def hot_ranking(session, first_day, last_day, limit):
    """Ids of the listed products with units sold from first_day to last_day, most sold
    first (then more sold all time, then newer)."""
    sales = ProductDailySales.__table__.c
    recent = (sa.select(sales.product_id, sa.func.sum(sales.units).label("units"))
              .where(sales.day >= first_day, sales.day <= last_day).group_by(sales.product_id)
              .having(sa.func.sum(sales.units) > 0).subquery("recent"))
    return session.scalars(
        sa.select(row.product_id).join(recent, recent.c.product_id == row.product_id)
        .order_by(recent.c.units.desc(), row.sales_count.desc(), row.product_id.desc())
        .limit(limit)).all()


# --- what a page shows -------------------------------------------------------------------

def shown_products(session, product_ids):
    """{product_id: (id, title, subtitle, image_urls)} of these products."""
    if not product_ids:
        return {}
    found = session.execute(sa.select(Product.id, Product.title, Product.subtitle,
                                      Product.image_urls).where(Product.id.in_(product_ids)))
    return {shown.id: shown for shown in found}
