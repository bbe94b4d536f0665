"""Wire formats of the notify service's RPC input and of the events it reads (marshmallow).

RPC input is strict: unknown fields are refused; it loads into a record (`Args`). Event
data keeps only the fields notify reads, so a producer may add fields without breaking
it; a payload that lacks one, or carries a wrong type, fails the handler and ends in the
dead-letter queue.
"""
from marshmallow import fields, validate

# load: the services' one loader, schemas.load
from plumbing.validation import Args, EventData, Id, PageArgs, StrictInteger, load  # noqa: F401
from services.notify import domain

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


# --- events ---------------------------------------------------------------------------

class TeamOpened(EventData):
    team_id = Id(required=True)
    leader_id = Id(required=True)
    deadline = fields.AwareDateTime(required=True)
    # It goes into a URL path: URL-safe characters only.
    share_token = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_-]{1,128}$", error="Must be 1-128 URL-safe characters."))
    team_size = StrictInteger(required=True, validate=validate.Range(min=2, max=1000))


class SeatPaid(EventData):
    team_id = Id(required=True)
    user_id = Id(required=True)
    leader_id = Id(required=True)
    member_count = StrictInteger(required=True, validate=validate.Range(min=1, max=1000))
    team_size = StrictInteger(required=True, validate=validate.Range(min=2, max=1000))


class TeamOutcome(EventData):
    team_id = Id(required=True)
    user_ids = fields.List(Id(), required=True)


class RefundSucceeded(EventData):
    order_id = Id(required=True)
    user_id = Id(required=True)
    amount = StrictInteger(required=True, validate=validate.Range(min=1))



class OrderShipped(EventData):
    order_id = Id(required=True)
    user_id = Id(required=True)
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=32))
    tracking_no = fields.String(required=True, validate=validate.Length(min=1, max=40))


class StockLow(EventData):
    merchant_id = Id(required=True)
    product_id = Id(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    spec = fields.String(load_default="", validate=validate.Length(max=100))
    stock = StrictInteger(required=True, validate=validate.Range(min=0))


class ReviewReplied(EventData):
    review_id = Id(required=True)
    user_id = Id(required=True)


class FeedbackAnswered(EventData):
    feedback_id = Id(required=True)
    user_id = Id(required=True)
    status = fields.String(required=True, validate=validate.OneOf(tuple(domain.FEEDBACK_LABELS)))
