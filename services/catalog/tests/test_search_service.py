"""Search, listings and home sections of the catalog in a real container (real RabbitMQ and
PostgreSQL), on a fixed Chinese shop published through the catalog's own RPCs."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy import event
from sqlalchemy.orm import Session

from contract import events
from contract.examples import example
from plumbing import settings
from plumbing.clock import isoformat
from plumbing.errors import BadRequest, NotFound
from plumbing.testing import event_envelope, publish_envelope
from services.catalog.search import index as search_index
from services.catalog.search import rules as search
from services.catalog.search import store as search_store

MERCHANT = 1
HOUR = timedelta(hours=1)

CATEGORIES = {"生鲜水果": ["水果", "进口水果"], "粮油副食": ["大米"], "数码配件": ["手机壳"],
              "日用百货": ["纸品"]}
# key: (title, subtitle, sub-category, price, market price), published in this order
SHOP = {
    "fuji": ("烟台红富士苹果 5斤装 当季新鲜", "脆甜多汁 产地直发", "水果", 2990, 3990),
    "aksu": ("新疆阿克苏冰糖心苹果 10斤", "糖心足 果园现摘", "水果", 5990, 7990),
    "luochuan": ("洛川红富士 12枚礼盒", "苹果中的贵族 送礼佳品", "水果", 6990, None),
    "dangshan": ("砀山酥梨 5斤", "汁多化渣", "水果", 1990, 2590),
    "korla": ("库尔勒香梨 新疆特产", "皮薄肉细", "水果", 3590, None),
    "cherry": ("智利车厘子 JJ级 2斤", "空运直达 顺丰冷链", "进口水果", 12900, 15900),
    "yingtao": ("山东大樱桃 美早", "个大味甜", "水果", 8990, None),
    "navel": ("赣南脐橙 10斤装", "现摘现发", "水果", 4590, 5990),
    "lychee": ("海南妃子笑荔枝 3斤", "新鲜采摘", "水果", 5990, None),
    "kiwi": ("四川红心猕猴桃 24枚", "酸甜可口", "水果", 3990, 4990),
    "durian": ("泰国金枕头榴莲", "整果 3-4斤", "进口水果", 19900, 25900),
    "zespri": ("新西兰佳沛金果 奇异果", "进口 6个装", "进口水果", 9900, None),
    "wuchang": ("五常大米 稻花香 5kg", "东北新米", "大米", 6990, 8990),
    "zhenzhu": ("东北珍珠米 10kg", "圆粒 软糯", "大米", 3990, None),
    "thai": ("泰国茉莉香米 5kg", "长粒 清香", "大米", 4990, 5490),
    "panjin": ("盘锦蟹田大米 2.5kg", "稻蟹共生", "大米", 5990, 9990),
    "iphone15": ("iPhone 15 手机壳 防摔 透明", "全包边", "手机壳", 1990, 3990),
    "iphone14": ("苹果手机壳 iPhone14 磨砂", "超薄 不发黄", "手机壳", 1590, None),
    "mate60": ("华为Mate60 手机壳 液态硅胶", "亲肤手感", "手机壳", 2590, 2990),
    "xiaomi": ("小米14 手机壳 卡通", "可爱 创意", "手机壳", 1290, None),
    "oppo": ("OPPO Find X7 手机壳", "镜头全包", "手机壳", 1890, None),
    "vinda": ("维达抽纸 3层120抽 24包", "整箱装", "纸品", 4990, 6990),
    "qingfeng": ("清风卷纸 4层 27卷", "家用实惠", "纸品", 3290, None),
    "wipes": ("心相印湿巾 80抽 5包", "温和无刺激", "纸品", 2490, 2990),
    "pomegranate": ("蒙自软籽石榴 5斤", "籽软可嚼", "水果", 4990, None),
    "blueberry": ("云南蓝莓 大果 4盒", "蓝莓鲜果", "水果", 5990, 6990),
    "strawberry": ("丹东红颜草莓 3斤", "奶油草莓", "水果", 6990, None),
    "banana": ("海南香蕉 9斤", "自然熟", "水果", 2990, None),
    "orange": ("广西沃柑 5斤", "皮薄多汁", "水果", 2590, 2990),
    "vinegar": ("苹果醋饮料 12瓶", "酸甜开胃", None, 3990, None),
    "candy": ("梨膏糖 老字号", "手工熬制", None, 1590, None),
}
FRUIT = {key for key, (*_, category, _price, _market) in SHOP.items()
         if category in ("水果", "进口水果")}
APPLES = {"fuji", "aksu", "luochuan", "iphone14", "vinegar"}


@pytest.fixture
def catalog(start_service):
    return start_service("catalog")


@pytest.fixture
def shop(catalog, rpc):
    """Categories and every product of SHOP, published; -> {"ids": {key: id}, ...}."""
    categories = {}
    for top, children in CATEGORIES.items():
        categories[top] = rpc.catalog.create_category({"name": top})["id"]
        for child in children:
            categories[child] = rpc.catalog.create_category(
                {"name": child, "parent_id": categories[top]})["id"]
    ids, skus = {}, {}
    for key, (title, subtitle, category, price, market_price) in SHOP.items():
        product = rpc.catalog.create_product(MERCHANT, {
            "title": title, "subtitle": subtitle, "category_id": categories.get(category),
            "image_urls": [f"https://img.pintuan.example/{key}.jpg"],
            "skus": [{"spec": "标准装", "price": price, "market_price": market_price,
                      "stock": 100},
                     {"spec": "加大装", "price": price + 1000, "stock": 100}]})
        rpc.catalog.publish_product(MERCHANT, product["id"])
        ids[key], skus[key] = product["id"], product["skus"][0]["id"]
    return {"ids": ids, "skus": skus, "categories": categories}


def keys(shop, answer):
    by_id = {product_id: key for key, product_id in shop["ids"].items()}
    return [by_id[item["id"]] for item in answer["items"]]


def found(rpc, shop, **query):
    return keys(shop, rpc.catalog.list_products(page_size=50, **query))


def sell(rpc, shop, key, units):
    """An order of `units` goes to ship: its stock is committed, its units count as sold."""
    reservation = f"sale-{key}-{units}-{datetime.now(timezone.utc).timestamp()}"
    rpc.catalog.reserve_stock(reservation, [{"sku_id": shop["skus"][key], "quantity": units}])
    rpc.catalog.commit_reservation(reservation)


# --- finding products ------------------------------------------------------------------

def test_chinese_words_pinyin_and_initials_find_the_same_products(shop, rpc):
    assert set(found(rpc, shop, q="苹果")) == APPLES
    assert set(found(rpc, shop, q="pingguo")) == APPLES
    assert set(found(rpc, shop, q="pg")) == APPLES
    assert set(found(rpc, shop, q="pingg")) == APPLES  # type-ahead
    assert set(found(rpc, shop, q="PingGuo")) == APPLES


SEARCHES = [
    ("红富士", {"fuji", "luochuan"}),
    ("梨", {"dangshan", "korla", "candy"}),  # a single character finds the words it is in
    ("香梨", {"korla"}),
    ("车厘子", {"cherry"}),
    ("chelizi", {"cherry"}),
    ("clz", {"cherry"}),
    ("糖心", {"aksu"}),  # jieba cut 冰糖/心, the characters still find it
    ("冰糖心苹果", {"aksu"}),
    ("手机壳", {"iphone15", "iphone14", "mate60", "xiaomi", "oppo"}),
    ("iPhone 手机壳", {"iphone15", "iphone14"}),
    ("iphone15", {"iphone15"}),
    ("mate", {"mate60"}),
    ("新鲜的苹果", {"fuji"}),  # 的 is dropped, 新鲜 and 苹果 must both match
    ("xinjiang", {"aksu", "korla"}),
    ("大米", {"wuchang", "zhenzhu", "thai", "panjin"}),  # two by title, two by category
    ("dami", {"wuchang", "zhenzhu", "thai", "panjin"}),
    ("水果", FRUIT),  # the category names, parent included
    ("香蕉 苹果", set()),
    ("!!!", set()), ("🍎", set()), ("，。？", set()), ("%", set()),  # nothing searchable
]


def test_segmentation_single_characters_and_mixed_queries(shop, rpc):
    results = {q: set(found(rpc, shop, q=q)) for q, _ in SEARCHES}
    assert results == dict(SEARCHES)


def test_a_blank_query_lists_everything_and_an_unsearchable_one_nothing(shop, rpc):
    assert rpc.catalog.list_products(q="   ")["total"] == len(SHOP)
    assert rpc.catalog.list_products(q="🍎!") == {"items": [], "total": 0, "page": 1,
                                                 "page_size": 20}


def test_a_title_match_ranks_above_a_subtitle_or_category_match(shop, rpc):
    apples = found(rpc, shop, q="苹果")
    assert apples[-1] == "luochuan"  # 苹果 only in its subtitle
    rice = found(rpc, shop, q="大米")
    assert set(rice[:2]) == {"wuchang", "panjin"}  # 大米 in the title, not only the category


def test_a_listing_item_shows_the_cheapest_sku(shop, rpc):
    [item] = rpc.catalog.list_products(q="车厘子")["items"]
    assert item == {"id": shop["ids"]["cherry"], "title": "智利车厘子 JJ级 2斤",
                    "subtitle": "空运直达 顺丰冷链",
                    "cover_image": "https://img.pintuan.example/cherry.jpg", "price": 12900,
                    "market_price": 15900, "group_buy": False, "group_price": None, "sales": 0}


# --- filters, sorts, pages ------------------------------------------------------------------

def test_filters_by_category_price_and_discount(shop, rpc):
    categories = shop["categories"]
    assert set(found(rpc, shop, category_id=categories["生鲜水果"])) == FRUIT
    assert set(found(rpc, shop, category_id=categories["进口水果"])) == \
        {"cherry", "durian", "zespri"}
    assert set(found(rpc, shop, category_id=categories["大米"], min_price=5000,
                     max_price=7000)) == {"wuchang", "panjin"}
    assert set(found(rpc, shop, min_price=12900)) == {"cherry", "durian"}  # bounds included
    assert set(found(rpc, shop, max_price=1290)) == {"xiaomi"}
    assert set(found(rpc, shop, category_id=categories["手机壳"], has_discount=True)) == \
        {"iphone15", "mate60"}
    assert set(found(rpc, shop, q="苹果", category_id=categories["手机壳"])) == {"iphone14"}
    assert found(rpc, shop, category_id=999_999) == []


def test_each_sort_orders_the_rice(shop, rpc):
    for key, units in (("thai", 5), ("wuchang", 3), ("zhenzhu", 1)):
        sell(rpc, shop, key, units)
    rice = shop["categories"]["大米"]

    def ordered(sort, **query):
        return found(rpc, shop, category_id=rice, sort=sort, **query)

    assert ordered(None) == ordered("newest") == ["panjin", "thai", "zhenzhu", "wuchang"]
    assert ordered("relevance") == ordered("newest")  # no query: newest
    assert ordered("price_asc") == ["zhenzhu", "thai", "panjin", "wuchang"]
    assert ordered("price_desc") == ["wuchang", "panjin", "thai", "zhenzhu"]
    assert ordered("discount") == ["panjin", "wuchang", "thai", "zhenzhu"]  # 40%, 22%, 9%, 0
    assert ordered("sales") == ["thai", "wuchang", "zhenzhu", "panjin"]
    # relevance: title matches first, then the more sold
    assert ordered("relevance", q="大米") == ["wuchang", "panjin", "thai", "zhenzhu"]
    assert ordered(None, q="dami") == ordered("relevance", q="大米")
    assert [item["sales"] for item in rpc.catalog.list_products(
        category_id=rice, sort="sales")["items"]] == [5, 3, 1, 0]


def test_pages_cover_every_result_once_with_the_total(shop, rpc):
    pages = [rpc.catalog.list_products(q="水果", sort="price_asc", page=page, page_size=5)
             for page in range(1, 6)]
    assert [page["total"] for page in pages] == [len(FRUIT)] * 5
    assert [len(page["items"]) for page in pages] == [5, 5, 5, 2, 0]
    seen = [key for page in pages for key in keys(shop, page)]
    assert sorted(seen) == sorted(FRUIT)
    prices = [item["price"] for page in pages for item in page["items"]]
    assert prices == sorted(prices)


@pytest.mark.parametrize("query, field", [
    ({"sort": "cheapest"}, "sort"),
    ({"min_price": 500, "max_price": 100}, "min_price"),
    ({"page": search.MAX_RESULTS // 20 + 1}, "page"),
    ({"page": 0}, "page"),
    ({"page_size": 51}, "page_size"),
    ({"q": "苹" * 51}, "q"),
    ({"group_buy": "yes"}, "group_buy"),
    ({"has_discount": 1}, "has_discount"),
    ({"min_price": -1}, "min_price"),
    ({"category_id": "3"}, "category_id"),
])
def test_bad_listing_input_is_refused_with_details(catalog, rpc, query, field):
    with pytest.raises(BadRequest) as raised:
        rpc.catalog.list_products(**query)
    assert raised.value.code == "validation_failed" and field in raised.value.details


# --- the index follows the products ---------------------------------------------------------

def test_changes_reach_search_in_the_same_transaction(shop, rpc):
    ids, categories = shop["ids"], shop["categories"]
    rpc.catalog.unpublish_product(MERCHANT, ids["candy"])
    assert set(found(rpc, shop, q="梨")) == {"dangshan", "korla"}
    rpc.catalog.update_product(MERCHANT, ids["banana"], {"title": "海南香蕉 芭蕉 9斤"})
    assert found(rpc, shop, q="bajiao") == ["banana"]
    rpc.catalog.update_product(MERCHANT, ids["xiaomi"], {"skus": [
        {"spec": "标准装", "price": 990, "stock": 5}]})
    assert found(rpc, shop, sort="price_asc")[0] == "xiaomi"
    assert found(rpc, shop, q="纸巾") == []
    rpc.catalog.update_category(categories["纸品"], {"name": "纸巾湿巾"})
    assert set(found(rpc, shop, q="纸巾")) == {"vinda", "qingfeng", "wipes"}
    rpc.catalog.update_category(categories["日用百货"], {"name": "家庭清洁"})
    assert set(found(rpc, shop, q="家庭清洁")) == {"vinda", "qingfeng", "wipes"}
    rpc.catalog.publish_product(MERCHANT, ids["candy"])
    assert found(rpc, shop)[0] == "candy"  # published again: newest


# --- group buy and the clock -------------------------------------------------------------

def campaign_changed(shop, key, starts_at, ends_at, group_prices, campaign_id):
    return event_envelope(example(events.CampaignChanged, **{
        "id": campaign_id, "product_id": shop["ids"][key], "starts_at": isoformat(starts_at),
        "ends_at": isoformat(ends_at), "invalidated": False,
        "skus": [{"sku_id": shop["skus"][key], "group_price": price} for price in group_prices]}))


def start_campaigns(amqp_uri, db, shop, now):
    """navel runs until +2h, kiwi until +5h (two group prices), lychee from +1h to +3h."""
    messages = [campaign_changed(shop, "navel", now - HOUR, now + 2 * HOUR, [3990], 1),
                campaign_changed(shop, "kiwi", now - HOUR, now + 5 * HOUR, [3490, 3290], 2),
                campaign_changed(shop, "lychee", now + HOUR, now + 3 * HOUR, [4990], 3)]
    for message in messages:
        publish_envelope(amqp_uri, "teams", message)
    ids = [m["event_id"] for m in messages]
    deadline = datetime.now(timezone.utc) + timedelta(seconds=10)
    while datetime.now(timezone.utc) < deadline:
        with db.connect() as conn:
            if conn.execute(sa.text("SELECT count(*) FROM inbox WHERE event_id = ANY(:ids)"),
                            {"ids": ids}).scalar_one() == len(ids):
                return
    raise AssertionError("the campaign events were not handled")


@pytest.fixture
def db(engine_of):
    return engine_of("catalog")


def test_group_buy_turns_on_and_off_with_the_clock(shop, rpc, amqp_uri, db):
    now = datetime.now(timezone.utc)
    start_campaigns(amqp_uri, db, shop, now)

    def group_buy():
        return found(rpc, shop, group_buy=True, sort="price_asc")

    assert group_buy() == ["kiwi", "navel"]
    kiwi = rpc.catalog.list_products(q="猕猴桃")["items"][0]
    assert (kiwi["group_buy"], kiwi["group_price"]) == (True, 3290)
    assert rpc.catalog.list_products(q="荔枝")["items"][0]["group_price"] is None
    with time_machine.travel(now + 1.5 * HOUR, tick=False):
        assert group_buy() == ["kiwi", "navel", "lychee"]
        assert found(rpc, shop, group_buy=True, q="荔枝") == ["lychee"]
    with time_machine.travel(now + 2 * HOUR, tick=False):
        assert group_buy() == ["kiwi", "lychee"]  # navel ended at +2h: nothing had to fire
    with time_machine.travel(now + 6 * HOUR, tick=False):
        assert group_buy() == []
        assert rpc.catalog.list_products(q="猕猴桃")["items"][0]["group_price"] is None
    assert found(rpc, shop, group_buy=False, q="猕猴桃") == ["kiwi"]  # false: no filter


# --- home sections -------------------------------------------------------------------------

def section_keys(shop, home, key):
    [section] = [s for s in home["sections"] if s["key"] == key]
    return keys(shop, section)


def test_home_sections(shop, rpc, amqp_uri, db):
    ids, now = shop["ids"], datetime.now(timezone.utc)
    for key, rank in (("kiwi", 3), ("cherry", 1), ("fuji", 2), ("zespri", 0)):
        rpc.catalog.pin_product(MERCHANT, ids[key], {"rank": rank})
    rpc.catalog.unpublish_product(MERCHANT, ids["zespri"])  # pinned, but not on sale
    with time_machine.travel(now - 10 * 24 * HOUR, tick=True):
        sell(rpc, shop, "cherry", 20)  # long ago: counts for all-time sales, not for hot
    with time_machine.travel(now - 3 * 24 * HOUR, tick=True):
        sell(rpc, shop, "durian", 2)
    for key, units in (("thai", 5), ("wuchang", 3), ("zhenzhu", 1)):
        sell(rpc, shop, key, units)
    start_campaigns(amqp_uri, db, shop, now)

    home = rpc.catalog.home(limit=3)
    assert [(s["key"], s["title"]) for s in home["sections"]] == [
        ("recommended", "推荐"), ("hot", "热销"), ("specials", "特价"), ("group_buy", "拼团专场"),
        ("new_arrivals", "新品")]
    assert section_keys(shop, home, "recommended") == ["cherry", "fuji", "kiwi"]
    assert section_keys(shop, home, "hot") == ["thai", "wuchang", "durian"]
    assert section_keys(shop, home, "specials") == ["iphone15", "panjin", "vinda"]
    assert section_keys(shop, home, "group_buy") == ["navel", "kiwi"]  # ending soonest first
    assert section_keys(shop, home, "new_arrivals") == ["candy", "vinegar", "orange"]
    [kiwi] = [item for s in home["sections"] for item in s["items"]
              if s["key"] == "group_buy" and item["id"] == ids["kiwi"]]
    assert kiwi["group_price"] == 3290 and kiwi["group_buy"] is True

    hot = rpc.catalog.list_section("hot", page=1, page_size=3)
    assert (hot["total"], keys(shop, hot)) == (4, ["thai", "wuchang", "durian"])
    assert keys(shop, rpc.catalog.list_section("hot", page=2, page_size=3)) == ["zhenzhu"]
    assert found(rpc, shop, sort="sales")[:2] == ["cherry", "thai"]
    with time_machine.travel(now + 1.5 * HOUR, tick=False):
        assert keys(shop, rpc.catalog.list_section("group_buy")) == ["navel", "lychee", "kiwi"]
    with time_machine.travel(now + 5 * 24 * HOUR, tick=False):  # thai & co. sold 5 days before
        assert keys(shop, rpc.catalog.list_section("hot")) == ["thai", "wuchang", "zhenzhu"]
    specials = rpc.catalog.list_section("specials", page=1, page_size=50)
    assert specials["total"] == sum(1 for *_, price, market in SHOP.values()
                                    if market and market > price)
    assert rpc.catalog.list_section("new_arrivals", page_size=50)["total"] == len(SHOP) - 1


def test_home_refuses_bad_input(catalog, rpc):
    assert [s["items"] for s in rpc.catalog.home()["sections"]] == [[]] * 5  # an empty shop
    with pytest.raises(NotFound) as raised:
        rpc.catalog.list_section("cheapest")
    assert raised.value.code == "section_not_found"
    for call in (lambda: rpc.catalog.home(limit=21), lambda: rpc.catalog.home(limit="3"),
                 lambda: rpc.catalog.list_section("hot", page_size=51),
                 lambda: rpc.catalog.list_section("hot", page=search.MAX_RESULTS)):
        with pytest.raises(BadRequest):
            call()


# --- PostgreSQL uses the indexes -------------------------------------------------------------

TITLE_WORDS = ["烟台", "红富士", "苹果", "砀山", "酥梨", "智利", "车厘子", "五常", "大米", "手机壳",
               "抽纸", "榴莲", "脐橙", "猕猴桃", "荔枝", "草莓", "蓝莓", "香蕉", "石榴", "沃柑"]


@pytest.fixture
def many_products(databases):
    """3,000 listed products written straight to the tables (what the planner needs to
    prefer an index to reading the whole table)."""
    engine = sa.create_engine(settings.database_url("catalog"))
    search.initialize()
    now = datetime.now(timezone.utc)
    with Session(engine) as session:
        session.execute(sa.text(
            "INSERT INTO products (id, merchant_id, title, subtitle, description, image_urls, "
            "status, version, created_at, updated_at, published_at) SELECT i, 1, 'p' || i, '', "
            "'', '[]', 'published', 1, :now, :now, :now FROM generate_series(1, 3000) i"),
            {"now": now})
        search_index.write_all(session, [search_index.search_row(
            product_id=i, title=" ".join(TITLE_WORDS[(i * k) % len(TITLE_WORDS)] for k in (1, 3, 7)),
            subtitle="", category_id=None, published_at=now - timedelta(seconds=i),
            pinned_rank=None, sales_count=i % 97,
            skus=[{"id": i, "price": 100 + i, "market_price": None, "spec": "默认"}],
            category_names=[]) for i in range(1, 3001)])
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE product_search"))
    yield engine
    engine.dispose()


def search_page(session, q, sort, **filters):
    """(ids of the first page, total) as list_products runs the store."""
    plan = search.query_plan(q) if q else None
    query, rank = search_store.listing(session, plan, {
        "category_ids": None, "min_price": None, "max_price": None, "group_buy": None,
        "has_discount": None, **filters}, datetime.now(timezone.utc))
    total = search_store.count(session, query)
    order = search_store.order(search.sort_keys(sort, bool(plan), total), rank,
                               search.sort_matches(bool(plan), filters.get("group_buy"), total))
    return [found.product_id for found in search_store.page(session, query, order, 1, 20)], total


def plans(engine, q, sort, **filters):
    """EXPLAIN of the statements search_store.listing runs for this search."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            search_page(session, q, sort, **filters)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        return ["\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
                for statement, parameters in statements]


def test_postgresql_searches_through_the_gin_index(many_products):
    count, page = plans(many_products, "苹果", "relevance")
    for plan in (count, page):
        assert "Bitmap Index Scan on ix_product_search_terms" in plan, plan
        assert "Seq Scan" not in plan, plan
    for q in ("pingg", "车厘子 pg"):
        count, _ = plans(many_products, q, "sales")
        assert "Bitmap Index Scan on ix_product_search_terms" in count, count
    # whatever the sort, matches fewer than a listing's window are found through the GIN
    # index and sorted, not looked for along the sort's own index
    for q, sort in (("车厘子 pg", "sales"), ("苹果", "price_desc"), ("pingg", "newest")):
        _, page = plans(many_products, q, sort)
        assert "Bitmap Index Scan on ix_product_search_terms" in page, page


def test_postgresql_lists_without_a_query_from_its_covering_indexes_alone(many_products):
    _, newest = plans(many_products, None, "newest")
    assert "Index Only Scan Backward using ix_product_search_published_at" in newest, newest
    _, cheapest = plans(many_products, None, "price_asc")
    assert "Index Only Scan using ix_product_search_price" in cheapest, cheapest


# --- the migration indexes what was listed before it ----------------------------------------

@pytest.fixture
def scratch_url(migrated):
    url = sa.engine.make_url(settings.database_url("catalog"))
    scratch = url.set(database=f"{url.database}_backfill")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{scratch.database}"'))
    yield scratch.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    admin.dispose()


def test_the_migration_indexes_products_listed_before_it(scratch_url):
    from plumbing import migrate
    migrate.upgrade("catalog", scratch_url, "0003")
    engine = sa.create_engine(scratch_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO categories (id, name, sort_order) VALUES (1, '大米', 0)"))
        for product_id, status in ((1, "published"), (2, "draft")):
            conn.execute(sa.text(
                "INSERT INTO products (id, merchant_id, category_id, title, subtitle, description, "
                "image_urls, status, version, created_at, updated_at, published_at) VALUES "
                "(:id, 1, 1, '五常稻花香', '', '', '[]', :status, 1, now(), now(), now())"),
                {"id": product_id, "status": status})
            conn.execute(sa.text("INSERT INTO skus (product_id, spec, price, market_price, stock) "
                                 "VALUES (:id, '5kg', 6990, 8990, 3)"), {"id": product_id})
    migrate.upgrade("catalog", scratch_url)
    with Session(engine) as session:
        assert search_page(session, "dami", None, has_discount=True) == ([1], 1)
        assert session.execute(sa.text("SELECT price, market_price FROM product_search")).all() \
            == [(6990, 8990)]
    engine.dispose()


def test_totals_stop_at_the_deepest_page_and_broad_searches_are_not_ranked(many_products,
                                                                           monkeypatch):
    monkeypatch.setattr(search, "MAX_RESULTS", 400)
    with Session(many_products) as session:
        assert search_page(session, None, None)[1] == 400  # 3,000 listed, counted to 400
        ids, total = search_page(session, "苹果", "relevance")  # 450 match: by sales
        assert total == 400
        sales = dict(session.execute(sa.text("SELECT product_id, sales_count FROM product_search")
                                     ).all())
        assert [sales[i] for i in ids] == sorted((sales[i] for i in ids), reverse=True)
        assert ids[0] == max(search_page(session, "苹果", "sales")[0], key=sales.get)
