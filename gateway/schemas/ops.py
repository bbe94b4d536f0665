"""Wire schemas of the platform's operations: merchants and their shops, every service's
health, the money ledger and refunds that are stuck."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import Fen, Paging, page_of
from plumbing.validation import Text

REFUND_STATES = ("stuck", "pending", "failed", "succeeded")


class RefundQuery(Paging):
    state = fields.String(validate=validate.OneOf(REFUND_STATES))


class OpsRefund(Schema):
    id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    payment_id = fields.Integer()
    amount = Fen(required=True)
    reason = fields.String()
    status = fields.String(required=True)
    stuck = fields.Boolean(required=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    out_refund_no = fields.String()
    refund_key = fields.String()
    created_at = fields.String()
    requested_at = fields.String()
    next_attempt_at = fields.String(allow_none=True)
    succeeded_at = fields.String(allow_none=True)


RefundPage = page_of(OpsRefund, "RefundPage")


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


class LedgerCheck(Schema):
    movements = fields.Integer()
    balanced = fields.Boolean(required=True)
    unbalanced_movements = fields.List(fields.Raw())
    orders_negative = fields.List(fields.Raw())
    refunds_pending = fields.Integer()  # asked for, not yet succeeded or failed
    refunds_stuck = fields.Integer()  # see GET /admin/v1/ops/refunds?state=stuck
