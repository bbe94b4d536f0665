"""Wire schemas of the inbox."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import Boolean, Integer, String, Time
from plumbing.validation import StrictInteger


class Notification(Schema):
    id = Integer(9, required=True)
    kind = String("team_succeeded", "what it is about: team_opened, team_joined, "
                  "team_succeeded, team_failed, refund_completed, order_shipped, stock_low, "
                  "review_replied, feedback_answered, ...", required=True)
    title = String("拼团成功", required=True)
    body = String("拼团成功，商家将尽快发货", required=True)
    link = String("/api/v1/orders/301", "what it is about, to open", allow_none=True,
                  required=True)
    created_at = Time(required=True)
    read = Boolean(False, required=True)


class NotificationPage(Schema):
    items = fields.List(fields.Nested(Notification), required=True)
    unread = Integer(3, "unread messages in all", required=True)
    total = Integer(12, required=True)
    page = Integer(1, required=True)
    page_size = Integer(20, required=True)


class MarkRead(Schema):
    ids = fields.List(StrictInteger(validate=validate.Range(min=1)),
                      validate=validate.Length(max=200))


class Unread(Schema):
    unread = Integer(0, "unread messages left", required=True)
