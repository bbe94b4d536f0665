"""Search on SQLite, the local `./dev up` run: migration 0004 (FTS5 table, backfill of the
products already listed), the index kept by search_index, and the listing queries. No
broker: the store functions are called with a session, as the entrypoints call them."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from plumbing import migrate
from plumbing.db import make_engine
from services.catalog.models import Category, Product, ProductCampaign, Sku
from services.catalog.search import index as search_index
from services.catalog.search import rules as search
from services.catalog.search import store as search_store

NOW = datetime.now(timezone.utc)


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture
def session(url):
    search.initialize()
    migrate.upgrade("catalog", url)
    engine = make_engine(url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def add_product(session, title, price, market_price=None, category=None, age=0,
                status="published"):
    product = Product(merchant_id=1, title=title, subtitle="", description="", image_urls=[],
                      category_id=category.id if category else None, status=status, version=1,
                      created_at=NOW, updated_at=NOW, published_at=NOW - timedelta(minutes=age),
                      sales_count=0,
                      skus=[Sku(spec="标准", price=price, market_price=market_price, stock=5)])
    session.add(product)
    session.flush()
    search_index.refresh(session, product)
    return product


def listing(session, q=None, sort=None, **filters):
    """Product ids found, as list_products runs the store."""
    plan = search.query_plan(q) if q else None
    query, rank = search_store.listing(session, plan, {
        "category_ids": None, "min_price": None, "max_price": None, "group_buy": None,
        "has_discount": None, **filters}, NOW)
    total = search_store.count(session, query)
    order = search_store.order(search.sort_keys(sort, bool(plan), total), rank,
                               search.sort_matches(bool(plan), filters.get("group_buy"), total))
    rows = search_store.page(session, query, order, 1, 20)
    assert total == len(rows)
    return [row.product_id for row in rows]


def test_fts5_finds_chinese_pinyin_initials_and_prefixes(session):
    fruit = Category(name="水果", sort_order=0)
    session.add(fruit)
    session.flush()
    apple = add_product(session, "烟台红富士苹果 5斤装", 2990, 3990, fruit, age=3)
    pear = add_product(session, "库尔勒香梨", 3590, category=fruit, age=2)
    case = add_product(session, "苹果手机壳 iPhone15", 1990, age=1)
    add_product(session, "草稿 苹果", 100, status="draft")
    for q in ("苹果", "pingguo", "pg", "pingg"):
        assert sorted(listing(session, q)) == [apple.id, case.id], q
    assert listing(session, "梨") == [pear.id]
    assert listing(session, "水果", sort="price_asc") == [apple.id, pear.id]
    assert listing(session, "iphone15 手机壳") == [case.id]
    assert listing(session) == [case.id, pear.id, apple.id]  # newest first
    assert listing(session, sort="discount")[0] == apple.id
    assert listing(session, has_discount=True) == [apple.id]
    assert listing(session, min_price=2000, max_price=3000) == [apple.id]
    assert listing(session, category_ids=[fruit.id], sort="price_desc") == [pear.id, apple.id]


def test_fts5_ranks_title_matches_first(session):
    in_subtitle = add_product(session, "洛川红富士 礼盒", 6990)
    in_subtitle.subtitle = "苹果中的贵族"
    search_index.refresh(session, in_subtitle)
    in_title = add_product(session, "烟台苹果", 2990)
    assert listing(session, "苹果") == [in_title.id, in_subtitle.id]


def test_a_product_leaving_the_shop_leaves_the_index(session):
    apple = add_product(session, "烟台红富士苹果", 2990)
    apple.status = "unpublished"
    search_index.refresh(session, apple)
    assert listing(session, "苹果") == [] and listing(session) == []
    fts_rows = session.execute(sa.text("SELECT count(*) FROM product_search_fts")).scalar_one()
    assert fts_rows == 0


def test_group_buy_filter_reads_the_clock_on_sqlite(session):
    apple = add_product(session, "烟台红富士苹果", 2990)
    add_product(session, "库尔勒香梨", 3590)
    session.add(ProductCampaign(id=1, product_id=apple.id, starts_at=NOW - timedelta(hours=1),
                                ends_at=NOW + timedelta(hours=1), invalidated=False,
                                group_prices=[]))
    session.flush()
    assert listing(session, group_buy=True) == [apple.id]
    assert search_store.group_buy_ranking(session, NOW, 10) == [apple.id]
    assert search_store.group_buy_ranking(session, NOW + timedelta(hours=2), 10) == []


def test_the_migration_indexes_products_listed_before_it(url):
    migrate.upgrade("catalog", url, "0003")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO categories (id, name, sort_order) VALUES (1, '大米', 0)"))
        for product_id, status in ((1, "published"), (2, "draft")):
            conn.execute(sa.text(
                "INSERT INTO products (id, merchant_id, category_id, title, subtitle, description, "
                "image_urls, status, version, created_at, updated_at, published_at) VALUES "
                "(:id, 1, 1, '五常稻花香', '', '', '[]', :status, 1, :now, :now, :now)"),
                {"id": product_id, "status": status, "now": NOW})
            conn.execute(sa.text("INSERT INTO skus (product_id, spec, price, stock) "
                                 "VALUES (:id, '5kg', 6990, 3)"), {"id": product_id})
    engine.dispose()
    migrate.upgrade("catalog", url)
    engine = make_engine(url)
    with Session(engine) as session:
        assert listing(session, "dami") == [1]  # by its category's name, in pinyin
        assert listing(session, "稻花香") == [1]
    engine.dispose()
