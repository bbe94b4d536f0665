"""Wire schemas of the gateway: they validate requests, shape responses, and are
the OpenAPI document (apispec reads them). Services validate again: a service
never trusts its caller."""
from marshmallow import Schema, fields, validate

PHONE = validate.Regexp(r"^1[3-9][0-9]{9}$", error="Must be an 11-digit mainland mobile number.")
URL = validate.URL(schemes={"http", "https"})
SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest", "discount")
Fen = fields.Integer  # money is whole fen (分)


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


class Error(Schema):
    error = fields.Nested(ErrorBody, required=True)


# --- accounts --------------------------------------------------------------
class WechatLogin(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 128))
    invite_code = fields.String(validate=validate.Length(1, 32), allow_none=True)


class UserSummary(Schema):
    id = fields.Integer(required=True)
    nickname = fields.String()


class User(UserSummary):
    avatar_url = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    invite_code = fields.String(allow_none=True)


class LoginResult(Schema):
    token = fields.String(required=True)
    user = fields.Nested(UserSummary, required=True)


class StaffLogin(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 128))


class StaffLoginResult(Schema):
    token = fields.String(required=True)
    user = fields.Nested(User)


class ProfileChange(Schema):
    nickname = fields.String(validate=validate.Length(1, 32))
    avatar_url = fields.String(validate=[validate.Length(max=500), URL])
    phone = fields.String(validate=PHONE)


class AddressInput(Schema):
    recipient = fields.String(required=True, validate=validate.Length(1, 32))
    phone = fields.String(required=True, validate=PHONE)
    province = fields.String(required=True, validate=validate.Length(1, 32))
    city = fields.String(required=True, validate=validate.Length(1, 32))
    district = fields.String(required=True, validate=validate.Length(1, 32))
    detail = fields.String(required=True, validate=validate.Length(1, 200))
    is_default = fields.Boolean()


class Address(AddressInput):
    id = fields.Integer(required=True)


class AddressList(Schema):
    items = fields.List(fields.Nested(Address), required=True)


# --- catalog ---------------------------------------------------------------
class CategoryInput(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 32))
    parent_id = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    sort_order = fields.Integer(validate=validate.Range(min=0, max=100000))
    icon_url = fields.String(allow_none=True, validate=[validate.Length(max=500), URL])


class Category(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    parent_id = fields.Integer(allow_none=True)
    sort_order = fields.Integer()
    icon_url = fields.String(allow_none=True)
    children = fields.List(fields.Nested(lambda: Category()))


class CategoryList(Schema):
    items = fields.List(fields.Nested(Category), required=True)


class SkuInput(Schema):
    id = fields.Integer(validate=validate.Range(min=1))
    spec = fields.String(required=True, validate=validate.Length(1, 64))
    price = Fen(required=True, strict=True, validate=validate.Range(min=1, max=100_000_000))
    market_price = Fen(allow_none=True, strict=True, validate=validate.Range(min=1, max=100_000_000))
    stock = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10_000_000))


class ProductInput(Schema):
    title = fields.String(required=True, validate=validate.Length(1, 100))
    subtitle = fields.String(validate=validate.Length(max=200))
    description = fields.String(validate=validate.Length(max=20000))
    category_id = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    image_urls = fields.List(fields.String(validate=[validate.Length(max=500), URL]),
                             validate=validate.Length(max=20))
    skus = fields.List(fields.Nested(SkuInput), required=True, validate=validate.Length(1, 50))


class ProductChange(ProductInput):
    title = fields.String(validate=validate.Length(1, 100))
    skus = fields.List(fields.Nested(SkuInput), validate=validate.Length(1, 50))


class Sku(Schema):
    id = fields.Integer(required=True)
    spec = fields.String(required=True)
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
    status = fields.String()
    group_buy = fields.Boolean()
    version = fields.Integer()
    skus = fields.List(fields.Nested(Sku), required=True)
    created_at = fields.String()
    updated_at = fields.String()
    published_at = fields.String(allow_none=True)


class ProductDetail(Product):
    campaign = fields.Dict(allow_none=True)
    joinable_teams = fields.List(fields.Dict())


class ProductSummary(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    subtitle = fields.String(allow_none=True)
    cover_image = fields.String(allow_none=True)
    price = Fen()
    market_price = Fen(allow_none=True)
    group_buy = fields.Boolean()
    sales = fields.Integer()
    status = fields.String()


class ProductPage(Schema):
    items = fields.List(fields.Nested(ProductSummary), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer()
    page_size = fields.Integer()


class Paging(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class ProductQuery(Paging):
    q = fields.String(validate=validate.Length(max=50))
    category_id = fields.Integer(validate=validate.Range(min=1))
    sort = fields.String(load_default="newest", validate=validate.OneOf(SORTS))
    min_price = Fen(validate=validate.Range(min=0))
    max_price = Fen(validate=validate.Range(min=0))


class AdminProductQuery(Paging):
    status = fields.String(validate=validate.OneOf(("draft", "published", "unpublished")))


# --- ops -------------------------------------------------------------------
class ServiceHealth(Schema):
    service = fields.String(required=True)
    status = fields.String(required=True)
    checks = fields.Dict()


class OpsHealth(Schema):
    status = fields.String(required=True)
    services = fields.List(fields.Nested(ServiceHealth), required=True)
