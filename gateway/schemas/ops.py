"""Wire schemas of the platform's operations: merchants and their shops, every service's
health, the money ledger and refunds that are stuck."""
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
    described,
    page_of,
)
from plumbing.validation import Text

REFUND_STATES = ("stuck", "pending", "failed", "succeeded")


class RefundQuery(Paging):
    state = fields.String(validate=validate.OneOf(REFUND_STATES))


REFUND_STATUSES = ("requested", "processing", "succeeded", "failed")


class OpsRefund(Schema):
    id = Integer(14, required=True)
    order_id = Integer(301, required=True)
    payment_id = Integer(88, required=True)
    amount = Fen(3990, required=True)
    reason = String("team_failed", "why the order is refunded", required=True)
    status = Enum(REFUND_STATUSES, "requested", required=True)
    stuck = Boolean(False, "refused for good, or not done after PINTUAN_REFUND_STUCK_ATTEMPTS "
                    "tries or PINTUAN_REFUND_STUCK_SECONDS", required=True)
    attempts = Integer(1, "tries so far", required=True)
    last_error = String("NOT_ENOUGH: 余额不足", "what WeChat Pay answered last, when it refused",
                        allow_none=True, required=True)
    out_refund_no = String("R14-301", "the refund's number at WeChat Pay", required=True)
    refund_key = String("order-301-team_failed", "one refund per key", required=True)
    created_at = Time(required=True)
    requested_at = Time("when it was last asked for (made, or retried by ops)", required=True)
    next_attempt_at = Time("when it is tried again, while requested", allow_none=True,
                           required=True)
    succeeded_at = Time(allow_none=True, required=True)


RefundPage = page_of(OpsRefund, "RefundPage")


class MerchantInput(Schema):
    username = fields.String(required=True, validate=validate.Length(3, 64))
    password = fields.String(required=True, validate=validate.Length(8, 128))
    shop_name = Text(required=True, validate=validate.Length(1, 32))


class Merchant(Schema):
    id = Integer(2, "the merchant id products, campaigns and orders carry", required=True)
    username = String("orchard-shop", required=True)
    shop_name = String("阳光果园", required=True)
    created_at = Time(required=True)


MerchantPage = page_of(Merchant, "MerchantPage")


HEALTH = ("ok", "degraded")


class ServiceHealth(Schema):
    service = String("orders", required=True)
    status = String("ok", "ok, unavailable (its database or broker is down) or unreachable "
                    "(its /health did not answer)", required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata=described({"database": "ok", "broker": "ok"}, (
                             "a map by design: what it checked (database, broker; http when "
                             "/health did not answer) and how each went (ok, or what failed)")))
    database = String("postgresql://127.0.0.1:5432/pintuan_orders",
                      "the database it uses, without credentials (absent when unreachable)",
                      allow_none=True)
    broker = String("127.0.0.1:5672", "RabbitMQ host:port", allow_none=True)
    vhost = String("/", "its RabbitMQ vhost", allow_none=True)


class OpsHealth(Schema):
    status = Enum(HEALTH, "ok", "ok when every service is", required=True)
    services = fields.List(fields.Nested(ServiceHealth), required=True)


class LedgerCheck(Schema):
    movements = Integer(240, "ledger movements (payments and refunds)", required=True)
    balanced = Boolean(True, "every movement's postings sum to zero", required=True)
    unbalanced_movements = Integers([], "ids of movements that do not", required=True)
    orders_negative = Integers([], "ids of orders refunded beyond what they paid",
                               required=True)
    refunds_pending = Integer(0, "asked for, not yet succeeded or failed", required=True)
    refunds_stuck = Integer(0, "see GET /admin/v1/ops/refunds?state=stuck", required=True)
