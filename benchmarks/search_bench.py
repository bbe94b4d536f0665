"""How fast is product search on PostgreSQL with 100,000 listed products?

Loads a catalogue of realistic Chinese products into a scratch database migrated like the
catalog's own (origin + variety + product + pack + selling point, e.g. "烟台红富士苹果 5斤装
当季新鲜", in 30 sub-categories), builds their search rows with the service's own tokenizer
(search_index.search_row: jieba + pypinyin), then runs a mix of shopper queries through the
service's own store function (search_store.listing: the page and its total) and reports the
latency per kind of query: Chinese words, two words, pinyin, initials, type-ahead prefixes,
single characters, searches with filters, browsing a category without words, misses; every
sort, pages 1-5. The home sections are timed too. Then the same mix once more through the
real CatalogService over RabbitMQ (the RPC path a gateway request takes), and EXPLAIN
ANALYZE of a typical search.

Run:  ./dev bench-search   (or .venv/bin/python benchmarks/search_bench.py [--write FILE])
Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and, for the RPC part,
RabbitMQ (skip it with --no-rpc). Creates and drops the database searchbench_pintuan and the
RabbitMQ vhost of the same name. --write replaces only the "## Search" section of the file;
its hand-written findings must be re-read after a re-run.
"""
import sys

if "--rpc-child" in sys.argv:  # the RPC part runs a Nameko container: green from the start
    import eventlet
    eventlet.monkey_patch()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2.extensions  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from pypinyin import lazy_pinyin  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from plumbing import migrate  # noqa: E402
from services.catalog.search import index as search_index
from services.catalog.search import rules as search
from services.catalog.search import store as search_store  # noqa: E402

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
BENCH_DB = "searchbench_pintuan"  # outside every test namespace, which ./dev test drops
SECTION = "## Search"
SEED = 20261121

# Kept in the section on every re-run: what the figures come from (written 2026-11-22).
FINDINGS = """**How it got under the target.** The first full run (one tsvector per product with each
character's pinyin, two-letter prefixes, an exact total, ts_rank over every match) gave
p50 7.2 ms, p95 55 ms, p99 165 ms. EXPLAIN ANALYZE showed where the time went: a
search reads each matching row (visibility is in the heap, and GIN offers no index-only
scan) and the rows are wide (the tsvector, about 1.1 kB; the table is as large as
shared_buffers), so the cost follows the number of matches, and ts_rank adds to it.
What changed:

- No lexeme for a lone syllable (li is 梨, 荔, 栗, 李 ...), and a latin prefix only from
  three letters: `pi:*` or `li` matched a third of the shop. Word pinyin, initials and
  whole-run pinyin stay (pingguo, pg, pingg:*).
- The total counts up to 5,000, the deepest a listing pages (`count` with a LIMIT).
- Relevance (ts_rank) ranks the matches of a search when they are fewer than 5,000; a
  broader one (one character, a short prefix) lists its best sellers first.
- With fewer than 5,000 matches of words or of group buy, the matches are sorted rather
  than looked for along the sort's index: PostgreSQL walked `ix_product_search_price`
  backwards through 17,000 rows for 奶 by price (42 ms; sorted: 17 ms), because dear
  products are furniture, not milk.
- The sort indexes INCLUDE the other shown columns: a listing without words reads its
  index alone (browsing a category: p99 71 ms to 11 ms).
- 热销 sums a week of daily sales for every product sold in it (a covering index helps,
  but 70,000 rows stay 50-80 ms): the ranking is kept a minute per process. 拼团专场 is
  worked out from the running campaigns (1,500 id lookups) rather than joined to every
  listed product (27 ms to 13 ms).
- Tried and dropped: the terms in a table of their own, so listings read narrow rows.
  Searches then joined the two tables and counting alone took 40 ms: p50 15 ms, p99 80 ms.

What is left: the slowest searches are one character or a short prefix matching 5,000+
products sorted by price; PostgreSQL walks the price index for them (40-50 ms). The RPC
path adds 10-15 ms to the store's time (RabbitMQ both ways, a new session and its
pre-ping, the texts and campaigns of the page, JSON). shared_buffers is PostgreSQL's
default 128 MB here, smaller than the table and its indexes: pages come from the OS cache.
"""

# (top category, sub-category, origins or brands, products, packs)
CATALOGUE = [
    ("生鲜水果", "苹果", ["烟台", "栖霞", "洛川", "阿克苏", "静宁", "威海", "延安"],
     ["红富士苹果", "冰糖心苹果", "嘎啦苹果", "蛇果", "黄元帅苹果", "丑苹果"],
     ["5斤装", "10斤装", "3斤", "单果80mm", "礼盒装"]),
    ("生鲜水果", "梨", ["砀山", "库尔勒", "莱阳", "赵县", "辛集"],
     ["酥梨", "香梨", "雪梨", "鸭梨", "秋月梨", "皇冠梨"], ["5斤装", "10斤装", "整箱"]),
    ("生鲜水果", "柑橘", ["赣南", "广西", "四川", "湖南", "浙江"],
     ["脐橙", "沃柑", "砂糖橘", "丑橘", "耙耙柑", "春见"], ["5斤装", "10斤装", "9斤"]),
    ("生鲜水果", "进口水果", ["智利", "新西兰", "泰国", "越南", "秘鲁", "澳洲"],
     ["车厘子", "奇异果", "金枕头榴莲", "山竹", "牛油果", "蓝莓"], ["2斤", "JJ级", "礼盒装", "6个装"]),
    ("生鲜水果", "热带水果", ["海南", "广东", "云南", "广西"],
     ["妃子笑荔枝", "贵妃芒果", "菠萝", "香蕉", "红心火龙果", "百香果"], ["3斤", "5斤装", "整箱"]),
    ("生鲜水果", "浆果", ["丹东", "云南", "山东", "大连"],
     ["红颜草莓", "蓝莓", "大樱桃", "树莓", "桑葚"], ["2斤", "4盒", "礼盒装"]),
    ("粮油副食", "大米", ["五常", "盘锦", "东北", "泰国", "响水", "射阳"],
     ["稻花香大米", "珍珠米", "茉莉香米", "长粒香", "蟹田大米"], ["5kg", "10kg", "2.5kg"]),
    ("粮油副食", "食用油", ["金龙鱼", "鲁花", "福临门", "多力", "胡姬花"],
     ["花生油", "菜籽油", "玉米油", "橄榄油", "葵花籽油"], ["5L", "1.8L", "4L"]),
    ("粮油副食", "面食", ["陈克明", "金沙河", "想念", "河套"],
     ["挂面", "龙须面", "刀削面", "饺子粉", "高筋面粉"], ["1kg", "5kg", "整箱"]),
    ("粮油副食", "调味品", ["海天", "李锦记", "千禾", "老干妈", "太太乐"],
     ["生抽酱油", "蚝油", "香醋", "辣椒酱", "鸡精"], ["500ml", "1.28L", "3瓶装"]),
    ("粮油副食", "干货", ["东北", "福建", "云南", "浙江"],
     ["黑木耳", "香菇", "红枣", "枸杞", "银耳"], ["250g", "500g", "1斤"]),
    ("肉禽蛋品", "猪肉", ["黑猪", "土猪", "跑山猪"], ["五花肉", "排骨", "猪蹄", "里脊肉"],
     ["2斤", "5斤装", "整箱"]),
    ("肉禽蛋品", "牛羊肉", ["内蒙古", "宁夏", "新疆", "澳洲"], ["羊肉卷", "牛腩", "羊排", "牛排"],
     ["1kg", "2斤", "礼盒装"]),
    ("肉禽蛋品", "禽蛋", ["散养", "农家", "山林"], ["土鸡蛋", "鸭蛋", "鹌鹑蛋", "乌鸡蛋"],
     ["30枚", "60枚", "整箱"]),
    ("肉禽蛋品", "水产", ["舟山", "阳澄湖", "大连", "湛江"], ["大闸蟹", "带鱼", "海虾", "鲍鱼"],
     ["2斤", "礼盒装", "6只装"]),
    ("乳品饮料", "牛奶", ["伊利", "蒙牛", "光明", "三元", "特仑苏"],
     ["纯牛奶", "低脂牛奶", "有机奶", "早餐奶"], ["24盒", "12盒", "整箱"]),
    ("乳品饮料", "酸奶", ["安慕希", "君乐宝", "简爱", "卡士"], ["原味酸奶", "希腊酸奶", "酸奶"],
     ["10瓶", "12盒", "整箱"]),
    ("乳品饮料", "饮料", ["农夫山泉", "元气森林", "可口可乐", "康师傅"],
     ["矿泉水", "气泡水", "可乐", "冰红茶", "苹果醋饮料"], ["24瓶", "12瓶", "整箱"]),
    ("乳品饮料", "茶叶", ["西湖", "安溪", "云南", "武夷山"], ["龙井", "铁观音", "普洱茶", "大红袍"],
     ["250g", "礼盒装", "罐装"]),
    ("数码配件", "手机壳", ["iPhone 15", "iPhone 14 Pro", "华为Mate60", "小米14", "OPPO Reno11",
                         "vivo X100", "荣耀Magic6"],
     ["手机壳", "防摔手机壳", "液态硅胶手机壳", "磁吸手机壳"], ["透明", "磨砂", "卡通"]),
    ("数码配件", "贴膜", ["iPhone 15", "华为Mate60", "小米14", "iPad"], ["钢化膜", "防窥膜", "水凝膜"],
     ["2片装", "全屏", "高清"]),
    ("数码配件", "充电", ["Anker", "倍思", "绿联", "小米"], ["充电器", "数据线", "充电宝", "无线充"],
     ["20W", "65W", "1米", "10000mAh"]),
    ("日用百货", "纸品", ["维达", "清风", "心相印", "洁柔", "得宝"],
     ["抽纸", "卷纸", "湿巾", "厨房纸", "手帕纸"], ["24包", "27卷", "80抽", "整箱"]),
    ("日用百货", "清洁", ["蓝月亮", "立白", "奥妙", "超能", "威猛先生"],
     ["洗衣液", "洗洁精", "洗衣凝珠", "消毒液", "油污净"], ["3kg", "2瓶装", "52颗"]),
    ("日用百货", "个护", ["舒肤佳", "海飞丝", "高露洁", "云南白药", "六神"],
     ["沐浴露", "洗发水", "牙膏", "花露水", "香皂"], ["1L", "3支装", "家庭装"]),
    ("家居服饰", "毛巾", ["洁丽雅", "金号", "三利"], ["纯棉毛巾", "浴巾", "方巾"],
     ["3条装", "加厚", "礼盒装"]),
    ("家居服饰", "床品", ["罗莱", "富安娜", "水星"], ["四件套", "蚕丝被", "乳胶枕", "凉席"],
     ["1.8米", "1.5米", "单人"]),
    ("家居服饰", "袜子", ["南极人", "浪莎", "恒源祥"], ["棉袜", "船袜", "丝袜", "运动袜"],
     ["5双装", "10双装", "男女款"]),
    ("母婴玩具", "纸尿裤", ["帮宝适", "花王", "好奇", "尤妮佳"], ["纸尿裤", "拉拉裤"],
     ["L码", "XL码", "整箱"]),
    ("母婴玩具", "玩具", ["乐高", "贝恩施", "费雪"], ["积木", "拼图", "遥控车", "毛绒玩具"],
     ["儿童", "益智", "礼盒装"]),
]
SELLING_POINTS = ["当季新鲜", "产地直发", "坏果包赔", "顺丰包邮", "现摘现发", "整箱装", "限时特惠",
                  "新品上市", "爆款", "好评如潮", "源头直供", "买一送一", "家庭装", "正品保证"]
SUBTITLES = ["脆甜多汁", "皮薄肉厚", "香甜软糯", "品质保证", "次日达", "冷链配送", "假一赔十",
             "工厂直销", "口感细腻", "营养丰富", "老少皆宜", "无添加", "精选好货", "团长推荐"]
PRICE_RANGES = {"生鲜水果": (990, 19900), "粮油副食": (590, 12900), "肉禽蛋品": (1990, 29900),
                "乳品饮料": (990, 15900), "数码配件": (990, 19900), "日用百货": (590, 9900),
                "家居服饰": (990, 39900), "母婴玩具": (1990, 49900)}


# --- data ------------------------------------------------------------------------------

def categories():
    """[(id, name, parent_id)] and {sub-category: (id, its top-level name)}."""
    rows, ids = [], {}
    for top, child, *_ in CATALOGUE:
        if top not in ids:
            ids[top] = len(rows) + 1
            rows.append((ids[top], top, None))
        ids[child] = len(rows) + 1
        rows.append((ids[child], child, ids[top]))
    return rows, ids


def generate(count, rng, now):
    """Products (dicts with their SKUs), reproducible from the seed."""
    _, ids = categories()
    products, sku_id = [], 0
    pinned = set(rng.sample(range(1, count + 1), 40))
    for product_id in range(1, count + 1):
        top, child, origins, items, packs = rng.choice(CATALOGUE)
        title = f"{rng.choice(origins)}{rng.choice(items)} {rng.choice(packs)} " \
                f"{rng.choice(SELLING_POINTS)}"
        low, high = PRICE_RANGES[top]
        skus = []
        for index in range(rng.choice((1, 1, 2, 3))):
            sku_id += 1
            price = rng.randrange(low, high, 10)
            market = int(price * rng.uniform(1.1, 2.0)) if rng.random() < 0.4 else None
            skus.append({"id": sku_id, "price": price, "market_price": market,
                         "spec": f"{rng.choice(packs)} / 规格{index + 1}"})
        products.append({
            "id": product_id, "category_id": ids[child], "title": title[:100],
            "subtitle": " ".join(rng.sample(SUBTITLES, 2)),
            "published_at": now - dt.timedelta(seconds=rng.randrange(365 * 86400)),
            "sales_count": min(int(rng.paretovariate(1.2) * 5) - 5, 100_000),
            "pinned_rank": rng.randrange(100) if product_id in pinned else None, "skus": skus})
    return products


def copy_rows(conn, table, columns, rows):
    """COPY text format: tab-separated, \\N for NULL (none of our values hold a tab)."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if value is None else str(value) for value in row) + "\n")
    buffer.seek(0)
    green = psycopg2.extensions.get_wait_callback()  # COPY refuses psycogreen's wait callback
    psycopg2.extensions.set_wait_callback(None)
    try:
        with conn.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
    finally:
        psycopg2.extensions.set_wait_callback(green)


def _search_row_text(args):
    """Worker process: one product's product_search row, as COPY values."""
    product, names = args
    row = search_index.search_row(
        product_id=product["id"], title=product["title"], subtitle=product["subtitle"],
        category_id=product["category_id"], published_at=product["published_at"],
        pinned_rank=product["pinned_rank"], sales_count=product["sales_count"],
        skus=product["skus"], category_names=names)
    return (row["product_id"], row["category_id"], row["price"], row["market_price"],
            repr(row["discount"]), row["sales_count"], row["published_at"].isoformat(),
            row["pinned_rank"], search.tsvector_literal(row["fields"]))


def _init_worker():
    search.initialize()


def load(url, count, now):
    """Fill the scratch database; -> {step: seconds}."""
    rng = random.Random(SEED)
    timings = {}
    started = time.perf_counter()
    products = generate(count, rng, now)
    category_rows, _ = categories()
    names = {cid: name for cid, name, _ in category_rows}
    parents = {cid: parent for cid, _, parent in category_rows}
    timings["generate"] = time.perf_counter() - started

    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        copy_rows(raw, "categories", ["id", "name", "parent_id", "sort_order"],
                  [(cid, name, parent, 0) for cid, name, parent in category_rows])
        copy_rows(raw, "products", [
            "id", "merchant_id", "category_id", "title", "subtitle", "description", "image_urls",
            "status", "version", "created_at", "updated_at", "published_at", "sales_count",
            "pinned_rank"], [
            (p["id"], 1 + p["id"] % 50, p["category_id"], p["title"], p["subtitle"], "详情见图",
             json.dumps([f"https://img.pintuan.example/p/{p['id']}.jpg"]), "published", 1,
             p["published_at"].isoformat(), p["published_at"].isoformat(),
             p["published_at"].isoformat(), p["sales_count"], p["pinned_rank"])
            for p in products])
        copy_rows(raw, "skus", ["id", "product_id", "spec", "price", "market_price", "stock"],
                  [(s["id"], p["id"], s["spec"], s["price"], s["market_price"], 100)
                   for p in products for s in p["skus"]])
        _campaigns_and_sales(raw, products, rng, now)
        raw.commit()
        timings["products, SKUs, campaigns, daily sales (COPY)"] = time.perf_counter() - started

        started = time.perf_counter()
        jobs = [(p, [names[p["category_id"]], names[parents[p["category_id"]]]])
                for p in products]
        with multiprocessing.get_context("fork").Pool(os.cpu_count(), _init_worker) as pool:
            rows = pool.map(_search_row_text, jobs, chunksize=500)
        timings[f"search rows: tokenize ({os.cpu_count()} processes)"] = \
            time.perf_counter() - started

        with raw.cursor() as cursor:  # load first, index after: one GIN build, not 100k inserts
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = "
                           "'ix_product_search_terms'")
            gin_definition = cursor.fetchone()[0]
            cursor.execute("DROP INDEX ix_product_search_terms")
        started = time.perf_counter()
        copy_rows(raw, "product_search", ["product_id", "category_id", "price", "market_price",
                                          "discount", "sales_count", "published_at",
                                          "pinned_rank", "terms"], rows)
        raw.commit()
        timings["search rows: COPY"] = time.perf_counter() - started
        started = time.perf_counter()
        with raw.cursor() as cursor:
            cursor.execute(gin_definition)
        raw.commit()
        timings["GIN index build"] = time.perf_counter() - started
        raw.driver_connection.autocommit = True  # VACUUM runs outside a transaction
        with raw.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute("VACUUM ANALYZE")
            timings["VACUUM ANALYZE"] = time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()
    return timings


def _campaigns_and_sales(raw, products, rng, now):
    """2,000 campaigns (three in four running now) and 7+7 days of sales for 10% of products."""
    campaigns = []
    for campaign_id, product in enumerate(rng.sample(products, 2000), start=1):
        running = campaign_id % 4 != 0
        starts = now - dt.timedelta(hours=rng.randrange(1, 72)) if running else \
            now + dt.timedelta(hours=rng.randrange(1, 72))
        ends = now + dt.timedelta(hours=rng.randrange(1, 240))
        prices = [{"sku_id": s["id"], "group_price": max(1, int(s["price"] * 0.8))}
                  for s in product["skus"]]
        campaigns.append((campaign_id, product["id"], starts.isoformat(),
                          max(ends, starts + dt.timedelta(hours=1)).isoformat(), "f",
                          json.dumps(prices), now.isoformat()))
    copy_rows(raw, "product_campaigns", ["id", "product_id", "starts_at", "ends_at", "invalidated",
                                         "group_prices", "changed_at"], campaigns)
    sales = [(product["id"], (now - dt.timedelta(days=day)).date().isoformat(),
              rng.randrange(1, 50))
             for product in rng.sample(products, len(products) // 10) for day in range(14)]
    copy_rows(raw, "product_daily_sales", ["product_id", "day", "units"], sales)


# --- the query mix ---------------------------------------------------------------------------

GENERIC_WORDS = ["苹果", "梨", "大米", "手机壳", "抽纸", "牛奶", "洗衣液", "车厘子", "脐橙", "鸡蛋",
                 "酸奶", "充电器", "毛巾", "榴莲", "草莓", "猪肉", "茶叶", "纸尿裤", "玩具", "食用油"]


def _words():
    """What shoppers type: product words (苹果, 车厘子) and whole product names of the
    catalogue (红富士苹果)."""
    items = {item for *_, items, _ in CATALOGUE for item in items
             if re.fullmatch(r"[\u4e00-\u9fff]{2,6}", item)}
    return sorted(items | set(GENERIC_WORDS))


def _origin_and_product(rng):
    """An origin or brand and one of its products, as a shopper types them (烟台 红富士苹果)."""
    _, _, origins, items, _ = rng.choice(CATALOGUE)
    return f"{rng.choice(origins)} {rng.choice(items)}"


def _pinyin(word):
    return "".join(lazy_pinyin(word))


def _initials(word):
    return "".join(s[0] for s in lazy_pinyin(word))


def query_mix(rng, per_kind):
    """[(kind, listing arguments)]: per_kind of each kind, shuffled."""
    words = _words()
    _, ids = categories()
    top_ids = sorted({ids[top] for top, *_ in CATALOGUE})
    leaf_ids = sorted({ids[child] for _, child, *_ in CATALOGUE})
    kinds = {
        "Chinese word": lambda: {"q": rng.choice(words)},
        "two words": lambda: {"q": _origin_and_product(rng)},
        "pinyin": lambda: {"q": _pinyin(rng.choice(words))},
        "initials": lambda: {"q": _initials(rng.choice(words))},
        "type-ahead prefix": lambda: {"q": _pinyin(rng.choice(words))[:rng.randrange(2, 6)]},
        "single character": lambda: {"q": rng.choice("梨橙米油茶奶蛋虾瓜枣")},
        "latin + Chinese": lambda: {"q": rng.choice(["iPhone 手机壳", "iphone15", "mate60 手机壳",
                                                     "小米14", "20W 充电器"])},
        "word + filters": lambda: {"q": rng.choice(words), "category_id": rng.choice(top_ids),
                                   "min_price": 1000, "max_price": 10000,
                                   "has_discount": rng.random() < 0.5,
                                   "group_buy": rng.random() < 0.2},
        "browse a category": lambda: {"category_id": rng.choice(top_ids + leaf_ids)},
        "browse everything": lambda: {"has_discount": rng.random() < 0.3,
                                      "group_buy": rng.random() < 0.1},
        "no match": lambda: {"q": rng.choice(["火星土豆", "zzqx", "量子冰箱", "xyzzy"])},
    }
    mix = []
    for kind, make in kinds.items():
        for _ in range(per_kind):
            args = make()
            sorts = search.SORTS if "q" in args else [s for s in search.SORTS if s != "relevance"]
            args["sort"] = "relevance" if "q" in args and rng.random() < 0.4 else rng.choice(sorts)
            args["page"] = rng.randint(1, 5)
            mix.append((kind, args))
    rng.shuffle(mix)
    return mix


def store_listing(session, args, category_tree, now):
    """What list_products asks of the store: the plan, the filters, the total, one page."""
    plan = search.query_plan(args["q"]) if args.get("q") else None
    if args.get("q") and not plan:
        return [], 0
    category_id = args.get("category_id")
    filters = {"min_price": args.get("min_price"), "max_price": args.get("max_price"),
               "has_discount": args.get("has_discount"), "group_buy": args.get("group_buy"),
               "category_ids": None if category_id is None else category_tree[category_id]}
    query, rank = search_store.listing(session, plan, filters, now)
    total = search_store.count(session, query)
    order = search_store.order(search.sort_keys(args["sort"], bool(plan), total), rank,
                               search.sort_matches(bool(plan), args.get("group_buy"), total))
    return search_store.page(session, query, order, args["page"], 20), total


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(latencies):
    return {"n": len(latencies), "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95), "p99": percentile(latencies, 0.99),
            "max": max(latencies)}


def run_store(url, mix, now):
    """Times each query of the mix through search_store; -> ({kind: [ms]}, {sort: [ms]},
    {kind: mean total})."""
    rows, _ = categories()
    tree = {cid: [cid] + [child for child, _, parent in rows if parent == cid]
            for cid, _, _ in rows}
    engine = sa.create_engine(url, pool_size=1)
    by_kind, by_sort, totals = {}, {}, {}
    with Session(engine) as session:
        for _, args in mix[:300]:  # warm-up: caches, plans, jieba
            store_listing(session, args, tree, now)
            session.rollback()
        for kind, args in mix:
            started = time.perf_counter()
            _, total = store_listing(session, args, tree, now)
            elapsed = 1000 * (time.perf_counter() - started)
            session.rollback()  # each request is its own transaction in the service
            by_kind.setdefault(kind, []).append(elapsed)
            by_sort.setdefault(args["sort"], []).append(elapsed)
            totals.setdefault(kind, []).append(total)
    engine.dispose()
    return by_kind, by_sort, {kind: sum(t) / len(t) for kind, t in totals.items()}


def run_home(url, now, repeat):
    """Each home section's first six products (the home RPC's queries) and a "see more"
    page with its total; the rankings of 热销 (without its one-minute cache) and 拼团专场;
    -> {name: [ms]}."""
    engine = sa.create_engine(url, pool_size=1)
    timings = {}

    def timed(label, work):
        started = time.perf_counter()
        work()
        timings.setdefault(label, []).append(1000 * (time.perf_counter() - started))
        session.rollback()

    with Session(engine) as session:
        for _ in range(repeat):
            for name in search.SECTIONS:
                if name == "hot":
                    timed("hot: the ranking (kept a minute)", lambda: search_store.hot_ranking(
                        session, *search.hot_days(now), limit=search.MAX_RESULTS))
                    continue
                if name == "group_buy":
                    timed("group_buy: the ranking, then a page", lambda: search_store.rows(
                        session, search_store.group_buy_ranking(
                            session, now, search.MAX_RESULTS)[40:60]))
                    continue
                query, order = search_store.section(name)
                timed(f"{name}: first 6", lambda: search_store.page(session, query, order, 1, 6))
                timed(f"{name}: page 3 + total", lambda: (
                    search_store.count(session, query),
                    search_store.page(session, query, order, 3, 20)))
    engine.dispose()
    return {label: values[20:] for label, values in timings.items()}  # 20 rounds of warm-up


def run_rpc(url, per_kind):
    """The RPC part in a child process (eventlet must patch before anything is imported)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, os.path.abspath(__file__), "--rpc-child", out.name,
                        "--per-kind", str(per_kind)], check=True,
                       env={**os.environ, "PYTHONWARNINGS": "ignore"})
        return json.loads(Path(out.name).read_text())


def rpc_child(url, mix, per_kind, out):
    """The same kinds through the real CatalogService over RabbitMQ (own vhost); writes
    {kind: [ms]} to `out`."""
    from nameko.containers import ServiceContainer
    from nameko.standalone.rpc import ClusterRpcProxy

    from plumbing import settings
    vhost = BENCH_DB
    for command in (["add_vhost", vhost], ["set_permissions", "-p", vhost, "guest", ".*", ".*",
                                           ".*"]):
        subprocess.run(["rabbitmqctl", "-q", *command], check=True, capture_output=True)
    os.environ.update({"CATALOG_DATABASE_URL": url, "CATALOG_PORT": "0",
                       "PINTUAN_AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
                       "PINTUAN_LOG_LEVEL": "WARNING"})
    from services.catalog.service import CatalogService
    config = settings.nameko_config("catalog")
    container = ServiceContainer(CatalogService, config)
    container.start()
    timings = {}
    try:
        with ClusterRpcProxy(config, timeout=30) as proxy:
            seen = {}
            for kind, args in mix[:100]:  # warm-up
                proxy.catalog.list_products(**{**args, "page_size": 20})
            for kind, args in mix:
                if seen.get(kind, 0) >= per_kind:
                    continue
                seen[kind] = seen.get(kind, 0) + 1
                started = time.perf_counter()
                proxy.catalog.list_products(**{**args, "page_size": 20})
                timings.setdefault(kind, []).append(1000 * (time.perf_counter() - started))
            for _ in range(per_kind):
                started = time.perf_counter()
                proxy.catalog.home(limit=6)
                timings.setdefault("home (all five sections)", []).append(
                    1000 * (time.perf_counter() - started))
    finally:
        container.stop()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
    Path(out).write_text(json.dumps(timings))


def explain(url, args, now):
    """EXPLAIN (ANALYZE, BUFFERS) of the statements one search runs (page first, then total)."""
    rows, _ = categories()
    tree = {cid: [cid] for cid, _, _ in rows}
    engine = sa.create_engine(url)
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    with Session(engine) as session:
        store_listing(session, args, tree, now)
    event.remove(engine, "before_cursor_execute", capture)
    plans = []
    with engine.connect() as conn:
        for statement, parameters in reversed(statements):
            sql = conn.connection.cursor().mogrify(statement, parameters).decode()
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plans.append((sql, "\n".join(plan.scalars())))
    engine.dispose()
    return plans


# --- report -------------------------------------------------------------------------------

def table(title, timings, extra=None):
    lines = [f"| {title} | n | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |"
             + (" mean total |" if extra else ""),
             "|---|---:|---:|---:|---:|---:|" + ("---:|" if extra else "")]
    for name, values in timings.items():
        s = summary(values)
        lines.append(f"| {name} | {s['n']} | {s['p50']:.1f} | {s['p95']:.1f} | {s['p99']:.1f} | "
                     f"{s['max']:.1f} |" + (f" {extra[name]:,.0f} |" if extra else ""))
    return "\n".join(lines)


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    engine = sa.create_engine(f"{PG}/postgres")
    with engine.connect() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar_one().split()[0]
        buffers = conn.execute(sa.text("SHOW shared_buffers")).scalar_one()
    engine.dispose()
    return f"{os.cpu_count()} cores ({cpu}), PostgreSQL {version} on the same machine " \
           f"(shared_buffers {buffers}), Python {platform.python_version()}"


def report(count, timings, by_kind, by_sort, totals, home, rpc, plans, sizes, date, busy):
    overall = [ms for values in by_kind.values() for ms in values]
    s = summary(overall)
    verdict = "met" if s["p99"] < 50 else "MISSED"
    parts = [
        f"{SECTION}\n",
        f"Measured {date} on {machine()} by `benchmarks/search_bench.py` (`./dev bench-search`); "
        f"load average {busy[0]:.1f} before the searches, {busy[1]:.1f} after (1.0 = one busy "
        f"core; anything above what the benchmark itself adds is other work on the machine).\n",
        f"**Data set:** {count:,} published products in {len(CATALOGUE)} sub-categories of 8 "
        f"top-level ones, titles generated from word lists (origin or brand + product + pack "
        f"+ selling point, e.g. \"烟台红富士苹果 5斤装 当季新鲜\"), 1-3 SKUs each (40% with a market "
        f"price), 2,000 group-buy campaigns (three in four running), 14 days of sales for 10% "
        f"of the products. Sizes: {sizes}.\n",
        "**Loading** (seconds):\n",
        "| step | s |\n|---|---:|\n" + "\n".join(f"| {k} | {v:.1f} |" for k, v in timings.items())
        + "\n",
        f"**Query mix:** {len(overall):,} searches after 300 of warm-up, one connection, one "
        f"after another, each through `search_store.listing` (the page of 20 and the total, "
        f"as `list_products` runs them), a random page 1-5; sorts drawn from all six "
        f"(relevance for 40% of those with words). `mean total` is the average number of "
        f"matching products.\n",
        f"**Overall: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms, p99 {s['p99']:.1f} ms "
        f"(target p99 < 50 ms: {verdict}).**\n",
        table("kind of query", by_kind, totals) + "\n",
        table("sort", by_sort) + "\n",
        "Home sections through `search_store` (`home` asks each for 6 products without a "
        "total; \"see more\" is `list_section`; 热销 pages through a ranking each process "
        "works out at most once a minute, 拼团专场 through one worked out at each request "
        "from the running campaigns):\n",
        table("section query", home) + "\n",
    ]
    if rpc:
        parts += ["The RPC path: the real `CatalogService` in a Nameko container, called with "
                  "`ClusterRpcProxy` over RabbitMQ on this machine (`list_products`: "
                  "validation, tokenizing, the two queries, texts and campaigns of the page, "
                  "JSON both ways), one call at a time:\n", table("RPC", rpc) + "\n"]
    parts.append(FINDINGS)
    for sql, plan in plans:
        parts.append(f"EXPLAIN (ANALYZE, BUFFERS) of\n\n```sql\n{sql}\n```\n\n```\n{plan}\n```\n")
    return "\n".join(parts)


def write_section(path, text_):
    """Replace (or append) our section in the Markdown file; other sections stay intact."""
    p = Path(path)
    doc = p.read_text() if p.exists() else "# Performance\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(doc):
        doc = pattern.sub(lambda _: text_.rstrip() + "\n\n", doc, count=1)
    else:
        doc = doc.rstrip() + "\n\n" + text_
    p.write_text(doc.rstrip() + "\n")


def sizes(url):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text(
            "SELECT pg_size_pretty(pg_table_size('product_search')), "
            "pg_size_pretty(pg_relation_size('ix_product_search_terms')), "
            "pg_size_pretty(pg_indexes_size('product_search')), "
            "(SELECT avg(pg_column_size(terms))::int FROM product_search), "
            "(SELECT avg(length(terms))::int FROM product_search)")).one()
    engine.dispose()
    return (f"product_search {found[0]}, its GIN index {found[1]} (all its indexes "
            f"{found[2]}), a product's tsvector {found[3]} bytes and {found[4]} lexemes on "
            f"average")


def admin(sql):
    engine = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--per-kind", type=int, default=300, help="searches of each kind")
    parser.add_argument("--no-rpc", action="store_true", help="skip the RPC path")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--write", metavar="MARKDOWN_FILE")
    parser.add_argument("--date", default=dt.date.today().isoformat())
    parser.add_argument("--rpc-child", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args()

    url = f"{PG}/{BENCH_DB}"
    if args.rpc_child:
        rpc_child(url, query_mix(random.Random(SEED), args.per_kind), args.per_kind,
                  args.rpc_child)
        return
    now = dt.datetime.now(dt.timezone.utc)
    admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{BENCH_DB}"')
    try:
        migrate.upgrade("catalog", url)
        search.initialize()
        print(f"loading {args.products:,} products ...", flush=True)
        timings = load(url, args.products, now)
        print(timings, flush=True)
        mix = query_mix(random.Random(SEED), args.per_kind)
        print(f"running {len(mix):,} searches ...", flush=True)
        load_before = os.getloadavg()[0]
        by_kind, by_sort, totals = run_store(url, mix, now)
        home = run_home(url, now, 120)
        rpc = None if args.no_rpc else run_rpc(url, min(args.per_kind, 100))
        plans = explain(url, {"q": "苹果", "sort": "relevance", "page": 1}, now)
        busy = (load_before, os.getloadavg()[0])
        text_ = report(args.products, timings, by_kind, by_sort, totals, home, rpc, plans,
                       sizes(url), args.date, busy)
    finally:
        if not args.keep:
            admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    print(text_)
    if args.write:
        write_section(args.write, text_)


if __name__ == "__main__":
    main()
