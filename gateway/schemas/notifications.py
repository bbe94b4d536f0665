"""Wire schemas of the inbox."""
from marshmallow import Schema, fields, validate

from plumbing.validation import StrictInteger


class Notification(Schema):
    id = fields.Integer(required=True)
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    created_at = fields.String()
    read = fields.Boolean()


class NotificationPage(Schema):
    items = fields.List(fields.Nested(Notification), required=True)
    unread = fields.Integer(required=True)
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class MarkRead(Schema):
    ids = fields.List(StrictInteger(validate=validate.Range(min=1)),
                      validate=validate.Length(max=200))


class Unread(Schema):
    unread = fields.Integer(required=True)
