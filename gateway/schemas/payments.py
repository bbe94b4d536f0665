"""Wire schemas of the WeChat Pay sandbox (dev and test only)."""
from marshmallow import Schema, fields, validate


class SandboxPay(Schema):
    result = fields.String(load_default="success", validate=validate.OneOf(("success", "fail")))


class SandboxPaid(Schema):
    prepay_id = fields.String()
    trade_state = fields.String()
    transaction_id = fields.String(allow_none=True)
