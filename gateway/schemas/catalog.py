"""Wire schemas of categories and products: the back office's and the shopper's."""
import functools

from marshmallow import Schema, fields, validate

from gateway.schemas.common import URL, Fen, Paging, page_of
from gateway.schemas.group_buy import JoinableTeam
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
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    parent_id = fields.Integer(allow_none=True)
    sort_order = fields.Integer()
    icon_url = fields.String(allow_none=True)
    children = fields.List(fields.Nested(lambda: Category()))


class CategoryList(Schema):
    items = fields.List(fields.Nested(Category), required=True)


class Deleted(Schema):
    deleted = fields.Integer(required=True)


class SpecGroup(Schema):
    name = Text(required=True, validate=validate.Length(1, 20))
    values = fields.List(SpecValue(), required=True, validate=validate.Length(1, 20))


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


class Sku(Schema):
    id = fields.Integer(required=True)
    spec = fields.String(required=True)
    spec_values = fields.List(fields.String())
    code = fields.String(allow_none=True)
    image_url = fields.String(allow_none=True)
    price = Fen(required=True)
    market_price = Fen(allow_none=True)
    stock = fields.Integer()


class Product(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    subtitle = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    category_id = fields.Integer(allow_none=True)
    image_urls = fields.List(fields.String())
    cover_image = fields.String(allow_none=True)
    video_url = fields.String(allow_none=True)
    spec_groups = fields.List(fields.Nested(SpecGroup))
    price = Fen(allow_none=True)
    market_price = Fen(allow_none=True)
    status = fields.String()
    group_buy = fields.Boolean()
    sales = fields.Integer(metadata={"description": "units sold, all time"})
    sales_7d = fields.Integer(metadata={"description": "units sold in the last 7 days"})
    pinned_rank = fields.Integer(allow_none=True)
    low_stock_threshold = fields.Integer()
    low_stock = fields.Boolean(metadata={"description": "some SKU is at or below the threshold"})
    version = fields.Integer()
    skus = fields.List(fields.Nested(Sku), required=True)
    created_at = fields.String()
    updated_at = fields.String()
    published_at = fields.String(allow_none=True)


class ProductDetail(Product):
    campaign = fields.Dict(allow_none=True)
    joinable_teams = fields.List(fields.Nested(JoinableTeam))
    reviews = fields.Nested(ReviewSummary, metadata={
        "description": "average stars, count, share with pictures, 好评率 and the newest reviews"})


AdminProductPage = page_of(Product, "AdminProductPage")


class AdminProductQuery(Paging):
    status = fields.String(validate=validate.OneOf(("draft", "published", "unpublished")))
    category_id = fields.Integer(validate=validate.Range(min=1))
    low_stock = QueryFlag(metadata={"description": "true: a SKU at or below the threshold"})
    q = fields.String(validate=validate.Length(max=50), metadata={"description": "title contains"})
