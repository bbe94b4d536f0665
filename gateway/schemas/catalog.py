"""Wire schemas of categories and products: the back office's and the shopper's."""
import functools

from marshmallow import Schema, fields, validate

from gateway.schemas.common import URL, Boolean, Enum, Fen, Integer, Paging, String, Strings, Time, page_of
from gateway.schemas.group_buy import JoinableTeam, ShopperCampaign
from gateway.schemas.media import ImageRef
from gateway.schemas.reviews import ReviewSummary
from plumbing.validation import QueryFlag, StrictInteger, Text

SpecValue = functools.partial(Text, validate=validate.Length(1, 20))


class CategoryInput(Schema):
    name = Text(required=True, validate=validate.Length(1, 32))
    parent_id = StrictInteger(allow_none=True, validate=validate.Range(min=1))
    sort_order = StrictInteger(validate=validate.Range(min=0, max=100000))
    icon_url = ImageRef(allow_none=True)


class CategoryChange(CategoryInput):
    """Any of the fields; `parent_id: null` moves it to the top level."""
    name = Text(validate=validate.Length(1, 32))


class Category(Schema):
    id = Integer(3, required=True)
    name = String("水果", required=True)
    parent_id = Integer(1, "null: a top-level category", allow_none=True, required=True)
    sort_order = Integer(10, "lower first", required=True)
    icon_url = String("/media/" + "3f" * 32 + ".png", allow_none=True, required=True)
    children = fields.List(fields.Nested(lambda: Category()), metadata={
        "description": "a top-level category's sub-categories (in the tree only)"})


class CategoryList(Schema):
    items = fields.List(fields.Nested(Category), required=True)


class Deleted(Schema):
    deleted = Integer(3, "the id of what was deleted", required=True)


class SpecGroup(Schema):
    name = Text(required=True, validate=validate.Length(1, 20), metadata={"example": "颜色"})
    values = fields.List(SpecValue(), required=True, validate=validate.Length(1, 20),
                         metadata={"example": ["红色", "黄色"]})


class SkuInput(Schema):
    """A new SKU: `spec_values` (one per spec group, in order) when the product has
    spec groups, else a free-text `spec`."""
    spec = Text(validate=validate.Length(1, 64))
    spec_values = fields.List(SpecValue(), validate=validate.Length(max=3))
    code = Text(allow_none=True, validate=validate.Length(1, 64),
                         metadata={"description": "the merchant's own SKU code"})
    image_url = ImageRef(allow_none=True)
    price = StrictInteger(required=True, validate=validate.Range(min=1, max=100_000_000))
    market_price = StrictInteger(allow_none=True, validate=validate.Range(min=1, max=100_000_000))
    stock = StrictInteger(required=True, validate=validate.Range(min=0, max=10_000_000))


class SkuChange(SkuInput):
    """With an id: the fields to change of that SKU; without: a new SKU. SKUs left out
    of the list are removed (refused while they hold stock of open orders)."""
    id = StrictInteger(validate=validate.Range(min=1))
    price = StrictInteger(validate=validate.Range(min=1, max=100_000_000))
    stock = StrictInteger(validate=validate.Range(min=0, max=10_000_000))


class ProductInput(Schema):
    title = Text(required=True, validate=validate.Length(1, 100))
    subtitle = Text(validate=validate.Length(max=200))
    description = fields.String(validate=validate.Length(max=20000),
                                metadata={"description": "rich text (HTML), stored as given"})
    category_id = StrictInteger(allow_none=True, validate=validate.Range(min=1))
    image_urls = fields.List(ImageRef(), validate=validate.Length(max=20))
    video_url = fields.String(allow_none=True, validate=[validate.Length(max=500), URL])
    spec_groups = fields.List(fields.Nested(SpecGroup), validate=validate.Length(max=3))
    low_stock_threshold = StrictInteger(validate=validate.Range(min=0, max=10_000_000))
    skus = fields.List(fields.Nested(SkuInput), required=True, validate=validate.Length(1, 50))


class ProductChange(ProductInput):
    title = Text(validate=validate.Length(1, 100))
    skus = fields.List(fields.Nested(SkuChange), validate=validate.Length(1, 50))


class Pin(Schema):
    rank = StrictInteger(required=True, validate=validate.Range(min=0, max=9999),
                         metadata={"description": "lower shows first"})


PRODUCT_STATUSES = ("draft", "published", "unpublished")
COVER = "/media/" + "3f" * 32 + ".jpg"


class Sku(Schema):
    id = Integer(101, required=True)
    spec = String("红色 / 大", "its spec values joined, or the free-text spec", required=True)
    spec_values = Strings(["红色", "大"], "one per spec group, in order", required=True)
    code = String("APPLE-5KG", "the merchant's own SKU code", allow_none=True, required=True)
    image_url = String(COVER, allow_none=True, required=True)
    price = Fen(5990, required=True)
    market_price = Fen(7990, "fen, the crossed-out price", allow_none=True, required=True)
    stock = Integer(120, required=True)


class ProductBase(Schema):
    """What the back office and the shopper's product page both show."""
    id = Integer(12, required=True)
    title = String("赣南脐橙 10斤装", required=True)
    subtitle = String("现摘现发", allow_none=True, required=True)
    description = String("<p>果园直发</p>", "rich text (HTML), as the merchant wrote it",
                         allow_none=True, required=True)
    category_id = Integer(3, allow_none=True, required=True)
    image_urls = Strings([COVER], required=True)
    cover_image = String(COVER, "the first image", allow_none=True, required=True)
    video_url = String("https://video.example/orange.mp4", allow_none=True, required=True)
    spec_groups = fields.List(fields.Nested(SpecGroup), required=True)
    price = Fen(3990, "fen, the cheapest SKU's", allow_none=True, required=True)
    market_price = Fen(5990, "fen, the cheapest SKU's market price", allow_none=True,
                       required=True)
    group_buy = Boolean(True, "a group-buy campaign runs now", required=True)
    sales = Integer(1520, "units sold, all time", required=True)
    sales_7d = Integer(86, "units sold in the last 7 days", required=True)
    published_at = Time(allow_none=True, required=True)
    skus = fields.List(fields.Nested(Sku), required=True)


class Product(ProductBase):
    """A product as its merchant sees it."""
    status = Enum(PRODUCT_STATUSES, "published", required=True)
    pinned_rank = Integer(1, "recommended (推荐) on the home page, lower first; null: not pinned",
                          allow_none=True, required=True)
    low_stock_threshold = Integer(10, required=True)
    low_stock = Boolean(False, "some SKU is at or below the threshold", required=True)
    version = Integer(3, "grows with every change", required=True)
    created_at = Time(required=True)
    updated_at = Time(required=True)


class ProductDetail(ProductBase):
    """The shopper's product page in one call."""
    campaign = fields.Nested(ShopperCampaign, allow_none=True, required=True, metadata={
        "description": "the group-buy campaign running now (or to start); null: none"})
    joinable_teams = fields.List(fields.Nested(JoinableTeam), required=True, metadata={
        "description": "open teams one can join, which outlive their campaign until their "
                       "own deadline"})
    reviews = fields.Nested(ReviewSummary, required=True, metadata={
        "description": "average stars, count, share with pictures, 好评率 and the newest reviews"})


AdminProductPage = page_of(Product, "AdminProductPage")


class AdminProductQuery(Paging):
    status = fields.String(validate=validate.OneOf(PRODUCT_STATUSES))
    category_id = fields.Integer(validate=validate.Range(min=1))
    low_stock = QueryFlag(metadata={"description": "true: a SKU at or below the threshold"})
    q = fields.String(validate=validate.Length(max=50), metadata={"description": "title contains"})
