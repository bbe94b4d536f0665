"""Wire schemas of orders, their payment and their fulfilment (shipping, receipt)."""
from marshmallow import Schema, fields, validate

from gateway.schemas.accounts import PostalAddress
from gateway.schemas.common import Enum, Fen, Integer, Paging, String, Time, page_of
from plumbing.validation import Text

ORDER_STATUSES = ("pending_payment", "paid", "awaiting_team", "to_ship", "shipped", "completed",
                  "cancelled", "refunding", "refunded")


ORDER_TYPES = ("normal", "team")


class TeamOrderRef(Schema):
    """Another order of the same team (查看同团订单): its id and status only."""
    id = Integer(302, required=True)
    status = Enum(ORDER_STATUSES, "awaiting_team", required=True)


class OrderAddress(PostalAddress):
    """Where the order ships: the address as it was when the order was placed."""


class Order(Schema):
    id = Integer(301, required=True)
    type = Enum(ORDER_TYPES, "team", required=True)
    status = Enum(ORDER_STATUSES, "pending_payment", required=True)
    team_id = Integer(77, allow_none=True, required=True)
    campaign_id = Integer(5, allow_none=True, required=True)
    product_id = Integer(12, required=True)
    merchant_id = Integer(2, "the shop", allow_none=True, required=True)
    sku_id = Integer(101, required=True)
    quantity = Integer(1, required=True)
    unit_price = Fen(3990, required=True)
    amount = Fen(3990, "fen, unit_price x quantity: what the shopper pays", required=True)
    title = String("赣南脐橙 10斤装", "the product's title when ordered", required=True)
    spec = String("5斤装", "the SKU's spec when ordered", required=True)
    address = fields.Nested(OrderAddress, allow_none=True, required=True, metadata={
        "description": "null: the shopper had no address when ordering"})
    pay_deadline = Time("unpaid after this, it is cancelled", allow_none=True, required=True)
    paid_at = Time(allow_none=True, required=True)
    carrier = String("顺丰速运", "set when shipped", allow_none=True, required=True)
    tracking_no = String("SF1234567890", allow_none=True, required=True)
    shipped_at = Time(allow_none=True, required=True)
    completed_at = Time("when the shopper confirmed receipt, or it was confirmed "
                        "automatically", allow_none=True, required=True)
    created_at = Time(required=True)
    team_order_ids = fields.List(fields.Nested(TeamOrderRef), required=True, metadata={
        "description": "the other orders of its team"})


OrderPage = page_of(Order, "OrderPage")


class AdminOrder(Order):
    """The back office's view of one of its shop's orders."""
    user_id = Integer(42, "the buyer", required=True)
    payment_id = Integer(88, allow_none=True, required=True)
    transaction_id = String("4200001234202601010123456789", "WeChat Pay's", allow_none=True,
                            required=True)
    shipped_by = Integer(2, "the staff user who shipped it", allow_none=True, required=True)


AdminOrderPage = page_of(AdminOrder, "AdminOrderPage")


class OrderQuery(Paging):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    type = fields.String(validate=validate.OneOf(ORDER_TYPES))


class AdminOrderQuery(OrderQuery):
    team_id = fields.Integer(validate=validate.Range(min=1))


class PaymentStarted(Schema):
    payment_id = Integer(88, required=True)
    prepay_id = String("wx20300101080000abcdef", "what wx.requestPayment needs (in the "
                       "sandbox: POST /sandbox/wechatpay/{prepay_id}/pay)", required=True)


class ShipInput(Schema):
    carrier = Text(required=True, validate=validate.Length(1, 32),
                            metadata={"description": "e.g. 顺丰速运"})
    tracking_no = fields.String(required=True, validate=validate.Regexp(
        r"^\s*[A-Za-z0-9-]{4,40}\s*$", error="Must be 4-40 letters, digits or dashes."))
