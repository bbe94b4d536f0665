"""Wire formats of the teams service's RPC input (marshmallow).

Every RPC argument goes through `load` first: a service never trusts its caller.
Schemas check shape, types and single-field ranges; rules between fields or against
stored state (time window, group price below the SKU price) live in domain.py.
"""
from marshmallow import Schema, fields, validate

from plumbing.validation import (
    MAX_QUANTITY,
    Args,
    Changes,
    Fen,
    Id,
    PageArgs,
    Quantity,
    UtcDateTime,
    Whole,
    ids,
    load,  # noqa: F401  (the services' one loader)
)
from services.teams import domain

MAX_TEAM_SIZE = 100
MAX_VALIDITY_SECONDS = 30 * 24 * 3600  # a team waits at most a month to fill up


# --- campaigns -----------------------------------------------------------------

class CampaignSku(Schema):
    sku_id = Id(required=True)
    group_price = Fen(error=None, required=True)


def _campaign_fields(required):
    return {
        "product_id": Id(required=required),
        "starts_at": UtcDateTime(required=required),
        "ends_at": UtcDateTime(required=required),
        "team_size": Whole(2, MAX_TEAM_SIZE, required=required),
        "validity_seconds": Whole(1, MAX_VALIDITY_SECONDS, required=required),
        "per_user_limit": Whole(1, MAX_QUANTITY, required=required),
        "skus": fields.List(fields.Nested(CampaignSku), required=required,
                            validate=validate.Length(min=1, max=domain.MAX_CAMPAIGN_SKUS)),
    }


CampaignIn = Schema.from_dict(_campaign_fields(required=True), name="CampaignIn")


class CampaignChange(Changes, Schema.from_dict(_campaign_fields(required=False))):
    """The fields to change; the others keep their value."""


# --- arguments -------------------------------------------------------------------

MerchantArgs = ids("merchant_id", base=Args)
CampaignArgs = ids("campaign_id", base=Args)
MerchantCampaignArgs = ids("merchant_id", "campaign_id", base=Args)


class CampaignListArgs(MerchantArgs, PageArgs):
    status = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf(domain.CAMPAIGN_STATUSES))


class TeamListArgs(MerchantArgs, PageArgs):
    campaign_id = Id(allow_none=True, load_default=None)
    status = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf(domain.TEAM_STATUSES))


class SeatArgs(Args):
    order_id = Id(required=True)
    user_id = Id(required=True)
    sku_id = Id(required=True)
    quantity = Quantity(required=True)


OpenArgs = ids("campaign_id", base=SeatArgs)
JoinArgs = ids("team_id", base=SeatArgs)
OrderArgs = ids("order_id", base=Args)
TeamArgs = ids("team_id", base=Args)
ProductArgs = ids("product_id", base=Args)


class TokenArgs(Args):
    token = fields.String(required=True, validate=validate.Length(min=1, max=64))


class QrArgs(TokenArgs):
    base_url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                          validate=validate.Length(max=200))
