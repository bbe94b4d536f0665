"""What every area's wire schemas share: the error body, a page of a listing, paging
arguments, money and time fields, and the typed fields answers are made of. Gateway
schemas validate requests, shape responses and are the OpenAPI document (apispec reads
them); services validate again: a service never trusts its caller.

Every field of an answer says its type, whether it may be null (`allow_none`), whether
it is always there (`required`) and an example: a client generated from /openapi.json
then gets typed attributes, not dicts (gateway/tests/test_openapi_types.py checks it).
"""
from marshmallow import Schema, fields, validate

from plumbing.clock import isoformat
from plumbing.validation import DEFAULT_PAGE_SIZE, PAGE_RANGE, PAGE_SIZE_RANGE, QueryFlag
from plumbing.validation import UtcDateTime as _UtcDateTime

URL = validate.URL(schemes={"http", "https"})
EXAMPLE_TIME = "2030-01-01T08:00:00Z"


def described(example, description=None):
    """A field's metadata: its example and, when it needs one, a description."""
    return {"example": example, **({"description": description} if description else {})}


def Integer(example, description=None, **kwargs):  # noqa: N802 - reads as a field type
    return fields.Integer(metadata=described(example, description), **kwargs)


def String(example, description=None, **kwargs):  # noqa: N802
    return fields.String(metadata=described(example, description), **kwargs)


def Boolean(example, description=None, **kwargs):  # noqa: N802
    return fields.Boolean(metadata=described(example, description), **kwargs)


def Float(example, description=None, **kwargs):  # noqa: N802
    return fields.Float(metadata=described(example, description), **kwargs)


def Fen(example=3990, description="fen (分)", **kwargs):  # noqa: N802
    """Money: a whole number of fen."""
    return fields.Integer(metadata=described(example, description), **kwargs)


def Time(description=None, example=EXAMPLE_TIME, **kwargs):  # noqa: N802
    """A moment as the services send it: ISO 8601 in UTC (`...Z`)."""
    return fields.String(metadata={**described(example, description), "format": "date-time"},
                         **kwargs)


def Strings(example, description=None, **kwargs):  # noqa: N802
    return fields.List(fields.String(), metadata=described(example, description), **kwargs)


def Integers(example, description=None, **kwargs):  # noqa: N802
    return fields.List(fields.Integer(), metadata=described(example, description), **kwargs)


def Enum(values, example=None, description=None, **kwargs):  # noqa: N802
    """A string that is one of `values` (an enum in the document)."""
    return fields.String(validate=validate.OneOf(values),
                         metadata=described(example or values[0], description), **kwargs)


class UtcDateTime(_UtcDateTime):
    """ISO 8601 with an offset in, the same instant as a UTC ISO string out (for RPC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return isoformat(super()._deserialize(value, attr, data, **kwargs))


def Flag(description):  # noqa: N802 - reads as a field type
    """A query-string boolean: `true` or `false` only."""
    return QueryFlag(metadata={"description": description})


def page_of(item_schema, name):
    """A page of a listing: `{items, total, page, page_size}`."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema), required=True),
        "total": Integer(57, "how many there are in all (search counts to 5,000)",
                         required=True),
        "page": Integer(1, required=True), "page_size": Integer(20, required=True)}, name=name)


def PageSize(default=DEFAULT_PAGE_SIZE):  # noqa: N802
    """The kit's page size bounds; not strict, as a query string holds only text."""
    return fields.Integer(load_default=default, validate=PAGE_SIZE_RANGE)


class Paging(Schema):
    page = fields.Integer(load_default=1, validate=PAGE_RANGE)
    page_size = PageSize()


class ErrorBody(Schema):
    code = String("validation_failed", "what went wrong, for programs", required=True)
    message = String("Some fields are missing or wrong.", "for people", required=True)
    details = fields.Dict(keys=fields.String(), metadata=described(
        {"skus.0.price": ["Not a valid integer."]},
        "a free-form map by design: its keys and values depend on the code (for "
        "validation_failed, the field path and its messages; for rate_limited, retry_after)"))


class Error(Schema):
    error = fields.Nested(ErrorBody, required=True)
