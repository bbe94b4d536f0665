"""Wire schemas of group buying (拼团): campaigns, teams, seats and the shared team page."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Boolean,
    Enum,
    Fen,
    Integer,
    Integers,
    Paging,
    String,
    Time,
    UtcDateTime,
    page_of,
)
from gateway.schemas.orders import Order
from plumbing.validation import StrictInteger

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
    sku_id = Integer(101, required=True)
    group_price = Fen(3990, "fen, the price in a team", required=True)


class ShopperCampaign(Schema):
    """A campaign as the product page shows it."""
    id = Integer(5, required=True)
    status = Enum(CAMPAIGN_STATUSES, "active", required=True)
    starts_at = Time(required=True)
    ends_at = Time(required=True)
    team_size = Integer(3, "members a team needs", required=True)
    validity_seconds = Integer(86400, "how long an open team has to fill", required=True)
    per_user_limit = Integer(2, "units one shopper may buy in this campaign", required=True)
    skus = fields.List(fields.Nested(CampaignSku), required=True)


class Campaign(ShopperCampaign):
    """A campaign as its merchant sees it."""
    product_id = Integer(12, required=True)
    title = String("赣南脐橙 10斤装", "the product's title (null while teams has not heard "
                   "of the product yet)", allow_none=True, required=True)
    invalidated_at = Time("when the merchant ended it early", allow_none=True, required=True)


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
    is_leader = Boolean(True, required=True)
    joined_at = Time("when they paid", allow_none=True, required=True)


class Team(Schema):
    id = Integer(77, required=True)
    status = Enum(TEAM_STATUSES, "open", "pending: the leader has not paid; open: paid, "
                  "filling until expires_at", required=True)
    campaign_id = Integer(5, required=True)
    product_id = Integer(12, required=True)
    team_size = Integer(3, required=True)
    member_count = Integer(1, "paid members", required=True)
    seats_left = Integer(2, "0 once full, closed or past the deadline", required=True)
    opened_at = Time("the leader's payment; null while pending", allow_none=True,
                     required=True)
    expires_at = Time("the deadline; null while pending", allow_none=True, required=True)
    share_token = String("t8Hq2LxV", "GET /api/v1/teams/share/{token}", required=True)
    members = fields.List(fields.Nested(TeamMember), required=True)


class AdminTeamMember(TeamMember):
    user_id = Integer(42, required=True)


class AdminTeam(Team):
    members = fields.List(fields.Nested(AdminTeamMember), required=True)
    order_ids = Integers([301, 302], "the orders in the team", required=True)
    leader_id = Integer(42, required=True)


AdminTeamPage = page_of(AdminTeam, "AdminTeamPage")


class AdminTeamQuery(Paging):
    campaign_id = fields.Integer(validate=validate.Range(min=1))
    status = fields.String(validate=validate.OneOf(TEAM_STATUSES))


class TeamRef(Schema):
    id = Integer(77, required=True)
    status = Enum(TEAM_STATUSES, "pending", required=True)


class TeamOrderPlaced(Schema):
    team = fields.Nested(TeamRef, required=True)
    order = fields.Nested(Order, required=True)


class JoinableTeam(Schema):
    """A team on the product page: how full it is, not who is in it."""
    id = Integer(77, required=True)
    member_count = Integer(1, required=True)
    seats_left = Integer(2, required=True)
    expires_at = Time(allow_none=True, required=True)


SHARE_VIEWS = ("join", "full", "ended", "pending")


class ShareProduct(Schema):
    id = Integer(12, required=True)
    title = String("赣南脐橙 10斤装", "null while teams has not heard of the product",
                   allow_none=True, required=True)
    cover_image = String("/media/" + "3f" * 32 + ".jpg", allow_none=True, required=True)


class ShareCampaignSku(CampaignSku):
    spec = String("5斤装", "null while teams has not heard of the product", allow_none=True,
                  required=True)
    price = Fen(5990, "fen, the price alone (单独购买)", allow_none=True, required=True)


class ShareCampaign(Schema):
    id = Integer(5, required=True)
    status = Enum(CAMPAIGN_STATUSES, "active", required=True)
    team_size = Integer(3, required=True)
    skus = fields.List(fields.Nested(ShareCampaignSku), required=True)


class ShareView(Schema):
    view = Enum(SHARE_VIEWS, "join", "which page to show: join while seats are left, full "
                "once succeeded, ended when failed or past the deadline, pending before the "
                "leader paid", required=True)
    team = fields.Nested(Team, required=True)
    product = fields.Nested(ShareProduct, required=True)
    campaign = fields.Nested(ShareCampaign, required=True)
    share_path = String("/api/v1/teams/share/t8Hq2LxV", required=True)
    share_url = String("https://shop.example/api/v1/teams/share/t8Hq2LxV",
                       "the link to share (and the QR code's): PINTUAN_PUBLIC_BASE_URL + "
                       "share_path", required=True)
