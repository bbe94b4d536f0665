"""Wire formats of the orders service's RPC input (marshmallow).

Every RPC argument goes through `load` first (a service never trusts its caller) and
comes out as a record, so a team id is followed by name: `args.team_id`.
"""
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from plumbing import validation
from plumbing.validation import (
    Args,
    Id,
    OptionalId,
    Quantity,
    Text,
    load,  # noqa: F401  (the services' one loader)
)
from services.orders import domain


class UserArgs(Args):
    user_id = Id(required=True)


class UserOrderArgs(UserArgs):
    order_id = Id(required=True)


class PlaceTeamOrderArgs(UserArgs):
    campaign_id = OptionalId()  # opening a team names the campaign...
    team_id = OptionalId()  # ...joining one names the team
    sku_id = Id(required=True)
    quantity = Quantity(required=True)
    address_id = OptionalId()
    idempotency_key = fields.String(allow_none=True, load_default=None,
                                    validate=validate.Length(min=1, max=64))

    @validates_schema
    def names_a_campaign_or_a_team(self, data, **kwargs):
        if data.get("campaign_id") is None and data.get("team_id") is None:
            raise ValidationError({"campaign_id": ["Name a campaign to open a team, "
                                                   "or a team_id to join one."]})


class ShipArgs(Args):
    merchant_id = Id(required=True)
    order_id = Id(required=True)
    # 顺丰速运, 中通快递 ...: the carrier's name as the merchant writes it
    carrier = Text(required=True, validate=validate.Length(min=1, max=32))
    # Carriers' waybill numbers are letters, digits and at most a dash
    tracking_no = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9-]{4,40}$", error="Must be 4-40 letters, digits or dashes."))

    @pre_load
    def trimmed(self, data, **kwargs):
        """A pasted number often brings spaces along: they are not part of it."""
        return {key: value.strip() if isinstance(value, str) else value
                for key, value in data.items()}


class PageArgs(validation.PageArgs):
    status = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf(domain.SHOWN_STATUSES))
    type = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(domain.TYPES))


class ListArgs(UserArgs, PageArgs):
    pass


class AdminListArgs(Args, PageArgs):
    merchant_id = Id(required=True)
    team_id = OptionalId()


class MerchantOrderArgs(Args):
    merchant_id = Id(required=True)
    order_id = Id(required=True)
