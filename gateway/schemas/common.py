"""What every area's wire schemas share: the error body, a page of a listing, paging
arguments, money and time fields. Gateway schemas validate requests, shape responses
and are the OpenAPI document (apispec reads them); services validate again: a service
never trusts its caller."""
from marshmallow import Schema, fields, validate

from plumbing.clock import isoformat
from plumbing.validation import QueryFlag
from plumbing.validation import UtcDateTime as _UtcDateTime

URL = validate.URL(schemes={"http", "https"})
Fen = fields.Integer  # money is whole fen (分)


class UtcDateTime(_UtcDateTime):
    """ISO 8601 with an offset in, the same instant as a UTC ISO string out (for RPC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return isoformat(super()._deserialize(value, attr, data, **kwargs))


def Flag(description):  # noqa: N802 - reads as a field type
    """A query-string boolean: `true` or `false` only."""
    return QueryFlag(metadata={"description": description})


def page_of(item_schema, name):
    """A page of a listing: `{items, total, page, page_size}`."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema), required=True),
                             "total": fields.Integer(required=True),
                             "page": fields.Integer(), "page_size": fields.Integer()}, name=name)


class Paging(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


class Error(Schema):
    error = fields.Nested(ErrorBody, required=True)
