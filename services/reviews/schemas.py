"""Wire formats of the review and feedback RPCs (marshmallow); the events it keeps copies
from (`orders.order_completed`, `catalog.product_changed`) are declared in contract.events.

Every RPC argument goes through `load` first. Single-field limits (stars, lengths,
image counts and forms) are checked here, from the numbers in domain.py; rules that
need the stored state (who may review, once) are domain.py's. That a picture was
uploaded is catalog's to say (it keeps the images).
"""
import re

from marshmallow import Schema, ValidationError, fields, validate

from plumbing import validation
from plumbing.validation import (
    Args,
    Id,
    PageSize,
    StrictBoolean,
    StrictInteger,
    ids,
    load,  # noqa: F401  (the services' one loader)
)
from services.reviews import domain

# The path catalog answers an upload with (`/media/<sha256>.<ext>`).
UPLOAD_PATH = re.compile(r"^/media/[0-9a-f]{64}\.(?:jpg|png|webp|gif)$")


def upload_ref(value):
    """A picture a shopper attaches is one uploaded to catalog: its /media/<name> path."""
    if UPLOAD_PATH.fullmatch(value) is None:
        raise ValidationError("Must be the /media/ path of an uploaded image.")


def UploadRef(**kwargs):  # noqa: N802
    return validation.Text(validate=upload_ref, **kwargs)


def Images(**kwargs):  # noqa: N802 - reads as a field type
    """Up to nine pictures, each uploaded here (its /media/ path; that it exists is
    checked against the images table)."""
    return fields.List(UploadRef(), load_default=list,
                       validate=validate.Length(max=domain.MAX_IMAGES,
                                                error="At most {max} images."), **kwargs)


def Text(minimum=0, maximum=domain.MAX_TEXT, **kwargs):  # noqa: N802
    """What a shopper or merchant writes: line breaks allowed, control and bidi-override
    characters not."""
    return validation.Text(multiline=True, validate=validate.Length(min=minimum, max=maximum),
                           **kwargs)


class PageArgs(Args, validation.PageArgs):
    page_size = PageSize(default=10)  # a product page shows a few reviews at a time


class FilterArgs(PageArgs):
    filter = fields.String(load_default=domain.ALL, validate=validate.OneOf(domain.FILTERS))


# --- reviews -----------------------------------------------------------------------

class Author(Schema):
    """The author as accounts has them now; kept with the review as written."""
    nickname = fields.String(allow_none=True, load_default=None,
                             validate=validate.Length(max=domain.MAX_NICKNAME))
    avatar_url = fields.String(allow_none=True, load_default=None,
                               validate=validate.Length(max=domain.MAX_AVATAR_URL))


class CreateReviewArgs(Args):
    user_id = Id(required=True)
    order_id = Id(required=True)
    stars = StrictInteger(required=True, validate=validate.Range(
        min=domain.MIN_STARS, max=domain.MAX_STARS, error="Stars are {min} to {max}."))
    text = Text(load_default="")
    image_urls = Images()
    anonymous = StrictBoolean(load_default=False)
    author = fields.Nested(Author, load_default=lambda: {"nickname": None, "avatar_url": None})


class FollowUpArgs(Args):
    user_id = Id(required=True)
    review_id = Id(required=True)
    text = Text(minimum=1, required=True)
    image_urls = Images()


class ReplyArgs(Args):
    merchant_id = Id(required=True)
    review_id = Id(required=True)
    reply = Text(minimum=1, required=True)


ReviewArgs = ids("review_id", base=Args)
ProductReviewsArgs = ids("product_id", base=FilterArgs)
MyReviewsArgs = ids("user_id", base=PageArgs)


class AdminReviewsArgs(FilterArgs):
    merchant_id = Id(required=True)
    product_id = Id(allow_none=True, load_default=None)
    replied = StrictBoolean(allow_none=True, load_default=None)
    page_size = PageSize()


ProductArgs = ids("product_id", base=Args)


# --- feedback ----------------------------------------------------------------------

class FeedbackIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(domain.FEEDBACK_KINDS))
    content = Text(minimum=domain.MIN_FEEDBACK, maximum=domain.MAX_FEEDBACK, required=True)
    image_urls = Images()
    order_id = Id(allow_none=True, load_default=None)
    product_id = Id(allow_none=True, load_default=None)
    contact = validation.Text(allow_none=True, load_default=None,
                      validate=validate.Length(min=1, max=domain.MAX_CONTACT))


class SubmitFeedbackArgs(Args):
    user_id = Id(required=True)
    data = fields.Nested(FeedbackIn, required=True)


class MyFeedbackArgs(Args):
    user_id = Id(required=True)
    feedback_id = Id(required=True)


class MyFeedbackListArgs(Args, validation.PageArgs):
    user_id = Id(required=True)


class AdminFeedbackArgs(Args, validation.PageArgs):
    merchant_id = Id(allow_none=True, load_default=None)  # None: ops, every shop's
    status = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf(domain.FEEDBACK_STATUSES))
    kind = fields.String(allow_none=True, load_default=None,
                         validate=validate.OneOf(domain.FEEDBACK_KINDS))


class ReplyFeedbackArgs(Args):
    staff_id = Id(required=True)  # who answers
    merchant_id = Id(allow_none=True, load_default=None)  # their shop; None: ops
    feedback_id = Id(required=True)
    reply = Text(minimum=1, maximum=domain.MAX_FEEDBACK_REPLY, required=True)
    # An answer moves feedback on (or keeps it where it is); it never reopens it.
    status = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf((domain.PROCESSING, domain.RESOLVED)))
