"""Wire schemas of group buying (拼团): campaigns, teams, seats and the shared team page."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import Fen, Paging, UtcDateTime, page_of
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


class TeamOrderPlaced(Schema):
    team = fields.Nested(TeamRef, required=True)
    order = fields.Nested(Order, required=True)


class JoinableTeam(Schema):
    """A team on the product page: how full it is, not who is in it."""
    id = fields.Integer(required=True)
    member_count = fields.Integer()
    seats_left = fields.Integer()
    expires_at = fields.String(allow_none=True)


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
