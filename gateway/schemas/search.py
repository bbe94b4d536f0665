"""Wire schemas of shopper search, listings and the home page."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import Boolean, Enum, Fen, Flag, Integer, Paging, String, page_of

SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest", "discount")
SECTIONS = ("recommended", "hot", "specials", "group_buy", "new_arrivals")


class ProductSearchQuery(Paging):
    q = fields.String(validate=validate.Length(max=50), metadata={
        "description": "keywords: Chinese, pinyin (pingguo) or initials (pg); every word must "
                       "match, the last may be the start of one"})
    category_id = fields.Integer(validate=validate.Range(min=1),
                                 metadata={"description": "a top category includes its children"})
    sort = fields.String(validate=validate.OneOf(SORTS), metadata={
        "description": "default: relevance with q, newest without"})
    min_price = fields.Integer(validate=validate.Range(min=0),
                               metadata={"description": "fen, shown price"})
    max_price = fields.Integer(validate=validate.Range(min=0),
                               metadata={"description": "fen, shown price"})
    group_buy = Flag("true: only products in a group-buy campaign running now")
    has_discount = Flag("true: only products below their market price")


class ListingItem(Schema):
    id = Integer(12, required=True)
    title = String("赣南脐橙 10斤装", required=True)
    subtitle = String("现摘现发", allow_none=True, required=True)
    cover_image = String("/media/" + "3f" * 32 + ".jpg", allow_none=True, required=True)
    price = Fen(5990, "fen, the cheapest SKU's", required=True)
    market_price = Fen(7990, allow_none=True, required=True)
    group_buy = Boolean(True, "a group-buy campaign runs now", required=True)
    group_price = Fen(3990, "fen, the lowest group price of a campaign running now",
                      allow_none=True, required=True)
    sales = Integer(1520, "units sold, all time", required=True)


ListingPage = page_of(ListingItem, "ListingPage")


class HomeQuery(Schema):
    limit = fields.Integer(load_default=6, validate=validate.Range(min=1, max=20),
                           metadata={"description": "products per section"})


class HomeSection(Schema):
    key = Enum(SECTIONS, "hot", required=True)
    title = String("热销", required=True)
    items = fields.List(fields.Nested(ListingItem), required=True)


class Home(Schema):
    sections = fields.List(fields.Nested(HomeSection), required=True, metadata={
        "description": "推荐 (pinned by merchants), 热销 (units sold in the last 7 days), "
                       "特价 (deepest discount), 拼团专场 (group buy running now, ending "
                       "soonest first), 新品 (newest)"})
