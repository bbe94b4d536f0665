"""The demo shop's catalogue (local runs and tests only; never in production).

Prices and stock are fen and units. Each product names its sub-category; the
categories are (top level, sub-category, sort order). Products with spec groups
(颜色, 尺码 …) give each SKU its values; the others a free-text spec. Three products
are recommended (pinned_rank) for the home page's 推荐 section. `seed` fills an empty
demo shop with them, published and announced like a merchant's own.
"""
from itertools import product as combinations

from plumbing import clock, settings
from plumbing.errors import Forbidden
from services.catalog import domain, products, store
from services.catalog.models import Product

CATEGORIES = [
    ("生鲜水果", "水果", 10),
    ("粮油副食", "大米", 20),
    ("日用百货", "纸品", 30),
    ("家居服饰", "毛巾", 40),
    ("家居服饰", "T恤", 41),
]


def _image(slug):
    return [f"https://img.pintuan.example/demo/{slug}-1.jpg",
            f"https://img.pintuan.example/demo/{slug}-2.jpg"]


def _sku(spec, price, market_price, stock):
    return {"spec": spec, "price": price, "market_price": market_price, "stock": stock}


def _variant(values, price, market_price, stock, code):
    return {"spec_values": list(values), "price": price, "market_price": market_price,
            "stock": stock, "code": code}


TEE_COLOURS = {"白色": "WHT", "黑色": "BLK", "藏青": "NVY"}
TEE_SIZES = ("M", "L", "XL", "XXL")


PRODUCTS = [
    {"category": "水果", "title": "烟台红富士苹果 5斤装", "subtitle": "脆甜多汁 产地直发",
     "description": "山东烟台栖霞果园现摘现发，果面自然有斑点，坏果包赔。", "pinned_rank": 2,
     "image_urls": _image("fuji-apple"),
     "skus": [_sku("5斤 / 单果70-75mm", 2990, 3990, 500),
              _sku("5斤 / 单果80-85mm", 3990, 4990, 300),
              _sku("10斤 / 单果80-85mm", 6990, 8990, 200)]},
    {"category": "水果", "title": "海南贵妃芒果 3斤装", "subtitle": "香甜软糯 树上熟",
     "description": "海南三亚产区，七八成熟采摘，到货后常温放置两三天更甜。",
     "image_urls": _image("mango"),
     "skus": [_sku("3斤 / 中果", 1990, 2990, 400), _sku("5斤 / 大果", 3290, 4590, 250)]},
    {"category": "水果", "title": "赣南脐橙 10斤装", "subtitle": "果园直发 酸甜爆汁",
     "description": "江西赣州原产地直发，皮薄易剥，适合榨汁。",
     "image_urls": _image("navel-orange"),
     "skus": [_sku("10斤 / 单果65-70mm", 3990, 5990, 300),
              _sku("10斤 / 单果75-80mm", 4990, 6990, 150)]},
    {"category": "大米", "title": "五常稻花香大米 5kg", "subtitle": "当季新米 软糯香甜",
     "description": "黑龙江五常产区稻花香2号，一年一季，真空包装。", "pinned_rank": 3,
     "image_urls": _image("wuchang-rice"),
     "skus": [_sku("5kg", 5990, 7990, 800)]},
    {"category": "大米", "title": "东北珍珠米 10kg", "subtitle": "颗粒饱满 蒸煮香软",
     "description": "东北黑土地种植，圆粒粳米，适合家庭日常煮饭熬粥。",
     "image_urls": _image("pearl-rice"),
     "skus": [_sku("10kg", 4990, 6590, 600), _sku("25kg", 11990, 14990, 120)]},
    {"category": "大米", "title": "泰国茉莉香米 5kg", "subtitle": "原装进口 粒粒分明",
     "description": "泰国原装进口长粒香米，米香浓郁，适合炒饭。",
     "image_urls": _image("jasmine-rice"),
     "skus": [_sku("5kg", 4590, 5990, 500)]},
    {"category": "纸品", "title": "原木抽纸 3层100抽", "subtitle": "母婴可用 柔韧亲肤",
     "description": "100%原生木浆，无荧光剂，湿水不易破。",
     "image_urls": _image("facial-tissue"),
     "skus": [_sku("12包", 2490, 3990, 1000), _sku("24包", 4490, 6990, 600)]},
    {"category": "纸品", "title": "加厚卷纸 4层140克", "subtitle": "家用实惠 无芯卷纸",
     "description": "四层加厚，吸水性好，整提发货。",
     "image_urls": _image("toilet-roll"),
     "skus": [_sku("10卷", 1990, 2990, 1000), _sku("27卷", 4590, 6990, 500),
              _sku("40卷", 6290, 8990, 300)]},
    {"category": "纸品", "title": "婴儿手口湿巾 80抽", "subtitle": "无酒精 带盖设计",
     "description": "EDI纯水配方，不含酒精和香精，婴儿手口可用。",
     "image_urls": _image("baby-wipes"),
     "skus": [_sku("80抽 x 5包", 2290, 3590, 800), _sku("80抽 x 10包", 3990, 6590, 400)]},
    {"category": "毛巾", "title": "新疆长绒棉毛巾", "subtitle": "A类标准 吸水不掉毛",
     "description": "新疆长绒棉，A类婴幼儿标准，34x74cm。",
     "image_urls": _image("cotton-towel"),
     "spec_groups": [{"name": "颜色", "values": ["米白", "浅灰"]},
                     {"name": "规格", "values": ["单条", "两条装"]}],
     "skus": [_variant(("米白", "单条"), 1990, 3990, 600, "TW-IVR-1"),
              _variant(("浅灰", "单条"), 1990, 3990, 600, "TW-GRY-1"),
              _variant(("米白", "两条装"), 3490, 6990, 300, "TW-IVR-2")]},
    {"category": "毛巾", "title": "纯棉加厚浴巾 70x140cm", "subtitle": "柔软厚实 速干不发硬",
     "description": "全棉毛圈，克重500g，成人家用。",
     "image_urls": _image("bath-towel"),
     "spec_groups": [{"name": "颜色", "values": ["灰色", "粉色"]}],
     "skus": [_variant(("灰色",), 4990, 8990, 300, "BT-GRY"),
              _variant(("粉色",), 4990, 8990, 300, "BT-PNK")]},
    {"category": "T恤", "title": "纯棉圆领短袖T恤 男女同款", "subtitle": "200g精梳棉 不透不变形",
     "description": "<p>200克精梳纯棉，领口罗纹加固，洗后不变形。</p>"
                    "<p>尺码：M 165/88，L 170/92，XL 175/96，XXL 180/100。</p>",
     "image_urls": _image("cotton-tee"),
     "spec_groups": [{"name": "颜色", "values": list(TEE_COLOURS)},
                     {"name": "尺码", "values": list(TEE_SIZES)}],
     "low_stock_threshold": 20, "pinned_rank": 1,
     "skus": [_variant((colour, size), 3990 if size != "XXL" else 4290, 6990,
                       15 if (colour, size) == ("黑色", "XXL") else 200,
                       f"TS-{code}-{size}")
              for (colour, code), size in combinations(TEE_COLOURS.items(), TEE_SIZES)]},
    {"category": "毛巾", "title": "儿童纱布方巾 5条装", "subtitle": "六层纱布 柔软透气",
     "description": "六层纯棉纱布，25x25cm，洗脸擦手两用。",
     "image_urls": _image("gauze-towel"),
     "skus": [_sku("5条装", 2590, 3990, 500)]},
]


def refuse_in_production():
    if settings.is_production():
        raise Forbidden("demo_data_forbidden", "Demo data is never created in production.")


def seed(db, merchant_id):
    """The demo products, published, for a merchant who has none yet; how many it made."""
    if store.merchant_has_products(db.session, merchant_id):
        return 0
    category_ids = _categories(db)
    now = clock.now()
    for item in PRODUCTS:
        fields = {key: value for key, value in item.items() if key not in ("category", "skus")}
        skus = domain.check_skus(item["skus"], item.get("spec_groups", []))
        products.announce(db, Product(
            merchant_id=merchant_id, category_id=category_ids[item["category"]],
            status=domain.PUBLISHED, version=1, created_at=now, updated_at=now,
            published_at=now, sales_count=0, skus=products.new_skus(skus), **fields))
    return len(PRODUCTS)


def _categories(db):
    """{sub-category name: id}, creating the demo categories that are missing."""
    ids = {}
    for top_name, child_name, sort_order in CATEGORIES:
        top = store.ensure_category(db.session, top_name, None, sort_order)
        ids[child_name] = store.ensure_category(db.session, child_name, top.id, sort_order).id
    return ids
