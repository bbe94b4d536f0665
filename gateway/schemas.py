"""Wire schemas of the gateway: they validate requests, shape responses, and are
the OpenAPI document (apispec reads them). Services validate again: a service
never trusts its caller."""
import functools
import re

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from gateway.routing import MULTIPART
from plumbing.clock import isoformat
from plumbing.validation import QueryFlag, StrictBoolean, StrictInteger, Text
from plumbing.validation import UtcDateTime as _UtcDateTime

PHONE = validate.Regexp(r"^1[3-9][0-9]{9}$", error="Must be an 11-digit mainland mobile number.")
URL = validate.URL(schemes={"http", "https"})
Fen = fields.Integer  # money is whole fen (分)


class UtcDateTime(_UtcDateTime):
    """ISO 8601 with an offset in, the same instant as a UTC ISO string out (for RPC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return isoformat(super()._deserialize(value, attr, data, **kwargs))


def page_of(item_schema, name):
    """A page of a listing: `{items, total, page, page_size}`."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema), required=True),
                             "total": fields.Integer(required=True),
                             "page": fields.Integer(), "page_size": fields.Integer()}, name=name)


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


class Staff(User):
    shop_name = fields.String(allow_none=True, metadata={"description": "a merchant's shop"})


class StaffLoginResult(Schema):
    token = fields.String(required=True)
    user = fields.Nested(Staff)


class ProfileChange(Schema):
    nickname = Text(validate=validate.Length(1, 32))
    avatar_url = fields.String(allow_none=True, validate=[validate.Length(max=500), URL],
                               metadata={"description": "null removes it"})
    phone = fields.String(allow_none=True, validate=PHONE,
                          metadata={"description": "null removes it"})


class AddressInput(Schema):
    recipient = Text(required=True, validate=validate.Length(1, 32))
    phone = fields.String(required=True, validate=PHONE)
    province = Text(required=True, validate=validate.Length(1, 32))
    city = Text(required=True, validate=validate.Length(1, 32))
    district = Text(required=True, validate=validate.Length(1, 32))
    detail = Text(required=True, validate=validate.Length(1, 200))
    is_default = StrictBoolean()


class Address(AddressInput):
    id = fields.Integer(required=True)


class AddressList(Schema):
    items = fields.List(fields.Nested(Address), required=True)


# --- catalog ---------------------------------------------------------------
MEDIA_PATH = re.compile(r"^/media/[0-9a-f]{64}\.(?:jpg|png|webp|gif)$")


def image_ref(value):
    """An http(s) URL, or the `/media/...` path an upload answered."""
    if MEDIA_PATH.fullmatch(value) is None:
        URL(value)


ImageRef = functools.partial(fields.String, validate=[validate.Length(max=500), image_ref],
                             metadata={"description": "an http(s) URL or an uploaded image's "
                                                      "/media/ path"})
def upload_ref(value):
    if MEDIA_PATH.fullmatch(value) is None:
        raise ValidationError("Must be the /media/ path of an uploaded image.")


UploadRef = functools.partial(fields.String, validate=upload_ref, metadata={
    "description": "the /media/ path that POST /api/v1/images answered"})
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


class JoinableTeam(Schema):
    """A team on the product page: how full it is, not who is in it."""
    id = fields.Integer(required=True)
    member_count = fields.Integer()
    seats_left = fields.Integer()
    expires_at = fields.String(allow_none=True)


class ProductDetail(Product):
    campaign = fields.Dict(allow_none=True)
    joinable_teams = fields.List(fields.Nested(JoinableTeam))
    reviews = fields.Nested(lambda: _review_summary(), metadata={
        "description": "average stars, count, share with pictures, 好评率 and the newest reviews"})


def _review_summary():
    from gateway.review_schemas import ReviewSummary  # it builds on this module's schemas
    return ReviewSummary()


AdminProductPage = page_of(Product, "AdminProductPage")


class UploadedFile(fields.Field):
    """A multipart file part, read into bytes (its size and type are catalog's to judge)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("Must be a file part.")
        return value.read()


class ImageUpload(Schema):
    content_type = MULTIPART
    file = UploadedFile(required=True, metadata={"type": "string", "format": "binary",
                                                 "description": "JPEG, PNG, WEBP or GIF"})


class Image(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True, metadata={"description": "/media/<sha256>.<ext>"})
    content_type = fields.String()
    size = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()


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


ProductPage = page_of(ProductSummary, "ProductPage")


class Paging(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class AdminProductQuery(Paging):
    status = fields.String(validate=validate.OneOf(("draft", "published", "unpublished")))
    category_id = fields.Integer(validate=validate.Range(min=1))
    low_stock = QueryFlag(metadata={"description": "true: a SKU at or below the threshold"})
    q = fields.String(validate=validate.Length(max=50), metadata={"description": "title contains"})


# --- ops -------------------------------------------------------------------
class ServiceHealth(Schema):
    service = fields.String(required=True)
    status = fields.String(required=True)
    checks = fields.Dict()
    database = fields.String(allow_none=True, metadata={
        "description": "the database it uses, without credentials"})
    broker = fields.String(allow_none=True, metadata={"description": "RabbitMQ host:port"})
    vhost = fields.String(allow_none=True, metadata={"description": "its RabbitMQ vhost"})


class OpsHealth(Schema):
    status = fields.String(required=True)
    services = fields.List(fields.Nested(ServiceHealth), required=True)


# --- group buying ----------------------------------------------------------
ORDER_STATUSES = ("pending_payment", "paid", "awaiting_team", "to_ship", "shipped", "completed",
                  "cancelled", "refunding", "refunded")
TEAM_STATUSES = ("pending", "open", "succeeded", "failed", "cancelled")
CAMPAIGN_STATUSES = ("not_started", "active", "ended", "invalidated")
Quantity = StrictInteger(required=True, validate=validate.Range(min=1, max=99))


class CampaignSkuInput(Schema):
    sku_id = StrictInteger(required=True, validate=validate.Range(min=1))
    group_price = StrictInteger(required=True, validate=validate.Range(min=1, max=100_000_000))


class CampaignInput(Schema):
    product_id = StrictInteger(required=True, validate=validate.Range(min=1))
    starts_at = UtcDateTime(required=True, format="iso")
    ends_at = UtcDateTime(required=True, format="iso")
    team_size = StrictInteger(required=True, validate=validate.Range(min=2, max=100))
    validity_seconds = StrictInteger(required=True,
                                      validate=validate.Range(min=1, max=30 * 24 * 3600))
    per_user_limit = StrictInteger(required=True, validate=validate.Range(min=1, max=999))
    skus = fields.List(fields.Nested(CampaignSkuInput), required=True, validate=validate.Length(1, 50))


def CampaignChange():  # noqa: N802 - reads as a schema
    """The fields of a campaign, each optional: the teams service judges which may change."""
    return CampaignInput(partial=True)


class CampaignSku(Schema):
    sku_id = fields.Integer(required=True)
    group_price = Fen(required=True)
    price = Fen()
    spec = fields.String()


class Campaign(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    product_id = fields.Integer()
    title = fields.String()
    starts_at = fields.String()
    ends_at = fields.String()
    team_size = fields.Integer()
    validity_seconds = fields.Integer()
    per_user_limit = fields.Integer()
    invalidated_at = fields.String(allow_none=True)
    skus = fields.List(fields.Nested(CampaignSku))


CampaignPage = page_of(Campaign, "CampaignPage")


class CampaignQuery(Paging):
    status = fields.String(validate=validate.OneOf(CAMPAIGN_STATUSES))


class OpenTeam(Schema):
    campaign_id = StrictInteger(required=True, validate=validate.Range(min=1))
    sku_id = StrictInteger(required=True, validate=validate.Range(min=1))
    quantity = Quantity
    address_id = StrictInteger(validate=validate.Range(min=1))


class JoinTeam(Schema):
    sku_id = StrictInteger(required=True, validate=validate.Range(min=1))
    quantity = Quantity
    address_id = StrictInteger(validate=validate.Range(min=1))


class TeamMember(Schema):
    """A member as anyone may see them: no user id (the team page is public)."""
    is_leader = fields.Boolean()
    joined_at = fields.String(allow_none=True)


class Team(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    campaign_id = fields.Integer()
    product_id = fields.Integer()
    team_size = fields.Integer()
    member_count = fields.Integer()
    seats_left = fields.Integer()
    opened_at = fields.String(allow_none=True)
    expires_at = fields.String(allow_none=True)
    share_token = fields.String(allow_none=True)
    members = fields.List(fields.Nested(TeamMember))


class AdminTeamMember(TeamMember):
    user_id = fields.Integer(required=True)


class AdminTeam(Team):
    members = fields.List(fields.Nested(AdminTeamMember))
    order_ids = fields.List(fields.Integer())
    leader_id = fields.Integer()


AdminTeamPage = page_of(AdminTeam, "AdminTeamPage")


class AdminTeamQuery(Paging):
    campaign_id = fields.Integer(validate=validate.Range(min=1))
    status = fields.String(validate=validate.OneOf(TEAM_STATUSES))


class TeamRef(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)


class TeamOrderRef(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)


class Order(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    status = fields.String(required=True)
    team_id = fields.Integer(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    product_id = fields.Integer()
    merchant_id = fields.Integer(allow_none=True, metadata={"description": "the shop"})
    sku_id = fields.Integer()
    quantity = fields.Integer()
    unit_price = Fen()
    amount = Fen(required=True)
    title = fields.String()
    spec = fields.String()
    address = fields.Dict(allow_none=True)
    pay_deadline = fields.String(allow_none=True)
    paid_at = fields.String(allow_none=True)
    carrier = fields.String(allow_none=True, metadata={"description": "set when shipped"})
    tracking_no = fields.String(allow_none=True)
    shipped_at = fields.String(allow_none=True)
    completed_at = fields.String(allow_none=True, metadata={
        "description": "when the shopper confirmed receipt, or it was confirmed automatically"})
    created_at = fields.String()
    team_order_ids = fields.List(fields.Nested(TeamOrderRef))


class TeamOrderPlaced(Schema):
    team = fields.Nested(TeamRef, required=True)
    order = fields.Nested(Order, required=True)


OrderPage = page_of(Order, "OrderPage")


class AdminOrder(Order):
    """The back office's view of one of its shop's orders."""
    user_id = fields.Integer(metadata={"description": "the buyer"})
    payment_id = fields.Integer(allow_none=True)
    transaction_id = fields.String(allow_none=True, metadata={"description": "WeChat Pay's"})
    shipped_by = fields.Integer(allow_none=True)


AdminOrderPage = page_of(AdminOrder, "AdminOrderPage")


class MerchantInput(Schema):
    username = fields.String(required=True, validate=validate.Length(3, 64))
    password = fields.String(required=True, validate=validate.Length(8, 128))
    shop_name = Text(required=True, validate=validate.Length(1, 32))


class Merchant(Schema):
    id = fields.Integer(required=True, metadata={"description": "the merchant id products, "
                                                 "campaigns and orders carry"})
    username = fields.String(required=True)
    shop_name = fields.String(required=True)
    created_at = fields.String()


MerchantPage = page_of(Merchant, "MerchantPage")


class OrderQuery(Paging):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    type = fields.String(validate=validate.OneOf(("normal", "team")))


class AdminOrderQuery(OrderQuery):
    team_id = fields.Integer(validate=validate.Range(min=1))


class PaymentStarted(Schema):
    payment_id = fields.Integer(required=True)
    prepay_id = fields.String(required=True)


class SandboxPay(Schema):
    result = fields.String(load_default="success", validate=validate.OneOf(("success", "fail")))


class SandboxPaid(Schema):
    prepay_id = fields.String()
    trade_state = fields.String()
    transaction_id = fields.String(allow_none=True)


class ShareProduct(Schema):
    id = fields.Integer()
    title = fields.String()
    cover_image = fields.String(allow_none=True)


class ShareView(Schema):
    view = fields.String(required=True)
    team = fields.Nested(Team, required=True)
    product = fields.Nested(ShareProduct)
    campaign = fields.Dict(allow_none=True)
    share_path = fields.String()
    share_url = fields.String(metadata={"description": "the link to share (and the QR code's): "
                                                      "PINTUAN_PUBLIC_BASE_URL + share_path"})


class Notification(Schema):
    id = fields.Integer(required=True)
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    created_at = fields.String()
    read = fields.Boolean()


class NotificationPage(Schema):
    items = fields.List(fields.Nested(Notification), required=True)
    unread = fields.Integer(required=True)
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class MarkRead(Schema):
    ids = fields.List(StrictInteger(validate=validate.Range(min=1)),
                      validate=validate.Length(max=200))


class Unread(Schema):
    unread = fields.Integer(required=True)


class LedgerCheck(Schema):
    movements = fields.Integer()
    balanced = fields.Boolean(required=True)
    unbalanced_movements = fields.List(fields.Raw())
    orders_negative = fields.List(fields.Raw())
    refunds_pending = fields.Integer()  # asked for, not yet succeeded or failed
    refunds_stuck = fields.Integer()  # see GET /admin/v1/ops/refunds?state=stuck
