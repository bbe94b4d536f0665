"""Wire formats of the payments service's RPC input (marshmallow).

Every RPC argument goes through `load` first: a service never trusts its caller. It
loads into a record (`Args`): `args.order_id`, not `args["order_id"]`.
"""
from marshmallow import fields, validate

from plumbing.validation import (
    Args,
    Fen,
    Id,
    PageArgs,
    load,  # noqa: F401  (the services' one loader)
)
from services.payments import domain, sandbox

MAX_NOTIFICATION_BYTES = 64 * 1024  # WeChat's notifications are a few kilobytes
KEY = validate.Regexp(r"^[\x21-\x7e]{1,64}\Z", error="Must be 1-64 printable characters without spaces.")


class Trimmed(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class OrderArgs(Args):
    order_id = Id(required=True)


class CreatePaymentArgs(OrderArgs):
    user_id = Id(required=True)
    amount = Fen(required=True)
    # WeChat shows it on the payment page and takes at most 127 characters.
    description = Trimmed(required=True, validate=validate.Length(min=1, max=127))
    idempotency_key = fields.String(allow_none=True, load_default=None, validate=KEY)
    payer_openid = fields.String(allow_none=True, load_default=None,
                                 validate=validate.Length(min=1, max=128))


class SandboxPayArgs(Args):
    prepay_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    result = fields.String(required=True, validate=validate.OneOf(sandbox.PAY_RESULTS))


class NotificationArgs(Args):
    kind = fields.String(required=True, validate=validate.OneOf(domain.NOTICE_KINDS))
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    body = fields.String(required=True, validate=validate.Length(max=MAX_NOTIFICATION_BYTES))


class RefundArgs(OrderArgs):
    amount = Fen(required=True)
    reason = Trimmed(required=True, validate=validate.Length(min=1, max=80))  # WeChat's limit
    refund_key = fields.String(required=True, validate=KEY)


class RefundRef(Args):
    refund_id = Id(required=True)


class RefundListArgs(Args, PageArgs):
    state = fields.String(allow_none=True, load_default=None,
                          validate=validate.OneOf(domain.LISTED_REFUND_STATES))
