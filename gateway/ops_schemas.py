"""Wire schemas of the ops routes for money (refunds); see gateway/schemas.py."""
from marshmallow import Schema, fields, validate

from gateway.schemas import Fen, Paging, page_of

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
