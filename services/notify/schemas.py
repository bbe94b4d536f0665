"""Wire formats of the notify service's RPC input (marshmallow); strict: unknown fields
are refused. The events it reads are declared in contract.events."""
from marshmallow import Schema, fields, validate

from plumbing.validation import (
    StrictInteger,
    load,  # noqa: F401  (the services' one loader)
)
from services.notify import domain

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers; larger ones could never exist
MAX_MARK = 500


def Id(**kwargs):  # noqa: N802 - reads as a field type
    return StrictInteger(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


# --- RPC ------------------------------------------------------------------------------

class UserArgs(Schema):
    user_id = Id(required=True)


class ListArgs(UserArgs):
    page = StrictInteger(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = StrictInteger(load_default=20,
                              validate=validate.Range(min=1, max=domain.MAX_PAGE_SIZE))


class MarkReadArgs(UserArgs):
    # None marks every message read; a list marks those of them that are the user's.
    ids = fields.List(Id(), allow_none=True, load_default=None,
                      validate=validate.Length(max=MAX_MARK))
