"""Wire schemas of orders, their payment and their fulfilment (shipping, receipt)."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import Fen, Paging, page_of
from plumbing.validation import Text

ORDER_STATUSES = ("pending_payment", "paid", "awaiting_team", "to_ship", "shipped", "completed",
                  "cancelled", "refunding", "refunded")


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


OrderPage = page_of(Order, "OrderPage")


class AdminOrder(Order):
    """The back office's view of one of its shop's orders."""
    user_id = fields.Integer(metadata={"description": "the buyer"})
    payment_id = fields.Integer(allow_none=True)
    transaction_id = fields.String(allow_none=True, metadata={"description": "WeChat Pay's"})
    shipped_by = fields.Integer(allow_none=True)


AdminOrderPage = page_of(AdminOrder, "AdminOrderPage")


class OrderQuery(Paging):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    type = fields.String(validate=validate.OneOf(("normal", "team")))


class AdminOrderQuery(OrderQuery):
    team_id = fields.Integer(validate=validate.Range(min=1))


class PaymentStarted(Schema):
    payment_id = fields.Integer(required=True)
    prepay_id = fields.String(required=True)


class ShipInput(Schema):
    carrier = Text(required=True, validate=validate.Length(1, 32),
                            metadata={"description": "e.g. 顺丰速运"})
    tracking_no = fields.String(required=True, validate=validate.Regexp(
        r"^\s*[A-Za-z0-9-]{4,40}\s*$", error="Must be 4-40 letters, digits or dashes."))
