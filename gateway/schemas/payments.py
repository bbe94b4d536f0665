"""Wire schemas of the WeChat Pay sandbox (dev and test only)."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import String


class SandboxPay(Schema):
    result = fields.String(load_default="success", validate=validate.OneOf(("success", "fail")))


class SandboxPaid(Schema):
    prepay_id = String("wx20300101080000abcdef", required=True)
    trade_state = String("SUCCESS", "WeChat Pay's trade_state: SUCCESS once paid, NOTPAY "
                         "before, CLOSED once closed", required=True)
    transaction_id = String("4200001234202601010123456789", "WeChat Pay's, once paid",
                            allow_none=True, required=True)
