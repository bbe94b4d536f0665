"""Wire formats of the payments service's RPC input (marshmallow).

Every RPC argument goes through `load` first: a service never trusts its caller.
"""
from marshmallow import Schema, fields, validate

from plumbing import money
from plumbing.validation import (
    StrictInteger,
    load,  # noqa: F401  (the services' one loader)
)
from services.payments import domain, sandbox

MAX_FEN = money.MAX_ORDER_FEN  # what one order may come to
MAX_ID = 2**31 - 1
MAX_NOTIFICATION_BYTES = 64 * 1024  # WeChat's notifications are a few kilobytes
KEY = validate.Regexp(r"^[\x21-\x7e]{1,64}\Z", error="Must be 1-64 printable characters without spaces.")


class Trimmed(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def Id(**kwargs):  # noqa: N802 - reads as a field type
    return StrictInteger(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Fen(**kwargs):  # noqa: N802
    return StrictInteger(validate=validate.Range(min=1, max=MAX_FEN,
                                                 error="Must be between 1 and {max} fen."),
                         **kwargs)


class OrderArgs(Schema):
    order_id = Id(required=True)


class CreatePaymentArgs(OrderArgs):
    user_id = Id(required=True)
    amount = Fen(required=True)
    # WeChat shows it on the payment page and takes at most 127 characters.
    description = Trimmed(required=True, validate=validate.Length(min=1, max=127))
    idempotency_key = fields.String(allow_none=True, load_default=None, validate=KEY)
    payer_openid = fields.String(allow_none=True, load_default=None,
                                 validate=validate.Length(min=1, max=128))


class SandboxPayArgs(Schema):
    prepay_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    result = fields.String(required=True, validate=validate.OneOf(sandbox.PAY_RESULTS))


class NotificationArgs(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(domain.NOTICE_KINDS))
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    body = fields.String(required=True, validate=validate.Length(max=MAX_NOTIFICATION_BYTES))


class RefundArgs(OrderArgs):
    amount = Fen(required=True)
    reason = Trimmed(required=True, validate=validate.Length(min=1, max=80))  # WeChat's limit
    refund_key = fields.String(required=True, validate=KEY)


class RefundRef(Schema):
    refund_id = Id(required=True)


class RefundListArgs(Schema):
    state = fields.String(allow_none=True, load_default=None,
                          validate=validate.OneOf(domain.LISTED_REFUND_STATES))
    page = StrictInteger(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = StrictInteger(load_default=20, validate=validate.Range(min=1, max=50))
