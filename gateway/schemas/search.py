"""Wire schemas of shopper search, listings and the home page."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import Fen, Flag, Paging, page_of

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
    min_price = Fen(validate=validate.Range(min=0), metadata={"description": "fen, shown price"})
    max_price = Fen(validate=validate.Range(min=0), metadata={"description": "fen, shown price"})
    group_buy = Flag("true: only products in a group-buy campaign running now")
    has_discount = Flag("true: only products below their market price")


class ListingItem(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    subtitle = fields.String(allow_none=True)
    cover_image = fields.String(allow_none=True)
    price = Fen(metadata={"description": "fen, the cheapest SKU's"})
    market_price = Fen(allow_none=True)
    group_buy = fields.Boolean()
    group_price = Fen(allow_none=True, metadata={
        "description": "fen, the lowest group price of a campaign running now"})
    sales = fields.Integer(metadata={"description": "units sold, all time"})


ListingPage = page_of(ListingItem, "ListingPage")


class HomeQuery(Schema):
    limit = fields.Integer(load_default=6, validate=validate.Range(min=1, max=20),
                           metadata={"description": "products per section"})


class HomeSection(Schema):
    key = fields.String(required=True, validate=validate.OneOf(SECTIONS))
    title = fields.String(required=True)
    items = fields.List(fields.Nested(ListingItem), required=True)


class Home(Schema):
    sections = fields.List(fields.Nested(HomeSection), required=True, metadata={
        "description": "推荐 (pinned by merchants), 热销 (units sold in the last 7 days), "
                       "特价 (deepest discount), 拼团专场 (group buy running now, ending "
                       "soonest first), 新品 (newest)"})
