"""Wire formats of the notify service's RPC input (marshmallow); strict: unknown fields
are refused, and it loads into a record (`Args`). The events it reads are declared in
contract.events."""
from marshmallow import fields, validate

# load: the services' one loader, schemas.load
from plumbing.validation import Args, Id, PageArgs, StrictInteger, load  # noqa: F401

MAX_MARK = 500


# --- RPC ------------------------------------------------------------------------------

class UserArgs(Args):
    user_id = Id(required=True)


class ListArgs(UserArgs, PageArgs):
    pass


class MarkReadArgs(UserArgs):
    # None marks every message read; a list marks those of them that are the user's.
    ids = fields.List(Id(), allow_none=True, load_default=None,
                      validate=validate.Length(max=MAX_MARK))
