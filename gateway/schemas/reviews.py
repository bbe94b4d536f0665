"""Wire schemas of reviews (评价, 追评, 商家回复) and feedback (投诉与建议)."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import Flag, Paging, page_of
from gateway.schemas.media import UploadRef
from plumbing.validation import StrictBoolean, StrictInteger, Text

REVIEW_FILTERS = ("all", "with_images", "good", "medium", "bad")
FEEDBACK_KINDS = ("complaint", "suggestion")
FEEDBACK_STATUSES = ("open", "processing", "resolved")
MAX_IMAGES = 9


def Images():  # noqa: N802 - reads as a field type
    return fields.List(UploadRef(), validate=validate.Length(max=MAX_IMAGES), metadata={
        "description": f"at most {MAX_IMAGES}: the /media/ paths that POST /api/v1/images "
                       "answered"})


# --- reviews: input ------------------------------------------------------------------------

class ReviewInput(Schema):
    order_id = StrictInteger(required=True, validate=validate.Range(min=1),
                             metadata={"description": "a completed order of mine"})
    stars = StrictInteger(required=True, validate=validate.Range(min=1, max=5))
    text = Text(multiline=True, validate=validate.Length(max=500))
    image_urls = Images()
    anonymous = StrictBoolean(metadata={
        "description": "true: shown as 匿名用户 with a masked name and no avatar"})


class FollowUpInput(Schema):
    text = Text(multiline=True, required=True, validate=validate.Length(1, 500))
    image_urls = Images()


class ReplyInput(Schema):
    reply = Text(multiline=True, required=True, validate=validate.Length(1, 500))


class ReviewQuery(Paging):
    filter = fields.String(load_default="all", validate=validate.OneOf(REVIEW_FILTERS),
                           metadata={"description": "good: 4-5 stars, medium: 3, bad: 1-2"})
    page_size = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class AdminReviewQuery(Paging):
    product_id = fields.Integer(validate=validate.Range(min=1))
    filter = fields.String(load_default="all", validate=validate.OneOf(REVIEW_FILTERS))
    replied = Flag("true: only reviews I replied to; false: only those waiting for a reply")


# --- reviews: answers ----------------------------------------------------------------------

class ReviewAuthor(Schema):
    display_name = fields.String(required=True, metadata={"description": "匿名用户 when anonymous"})
    nickname = fields.String(metadata={"description": "masked (小**) when anonymous"})
    avatar_url = fields.String(allow_none=True)
    anonymous = fields.Boolean()


class FollowUp(Schema):
    text = fields.String(required=True)
    image_urls = fields.List(fields.String())
    created_at = fields.String()


class ReviewReply(Schema):
    text = fields.String(required=True)
    replied_at = fields.String()
    edited_at = fields.String(allow_none=True)


class Review(Schema):
    id = fields.Integer(required=True)
    product_id = fields.Integer()
    sku_id = fields.Integer()
    spec = fields.String()
    stars = fields.Integer(required=True)
    text = fields.String()
    image_urls = fields.List(fields.String())
    has_images = fields.Boolean()
    author = fields.Nested(ReviewAuthor, required=True)
    created_at = fields.String()
    follow_up = fields.Nested(FollowUp, allow_none=True)
    reply = fields.Nested(ReviewReply, allow_none=True)


class MyReview(Review):
    order_id = fields.Integer()
    anonymous = fields.Boolean()


class AdminReview(Review):
    order_id = fields.Integer()
    replied = fields.Boolean()


class FilterCounts(Schema):
    all = fields.Integer()
    with_images = fields.Integer()
    good = fields.Integer()
    medium = fields.Integer()
    bad = fields.Integer()


class ReviewPage(Schema):
    items = fields.List(fields.Nested(Review), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer()
    page_size = fields.Integer()
    filter = fields.String()
    counts = fields.Nested(FilterCounts, metadata={"description": "how many under each filter"})


MyReviewPage = page_of(MyReview, "MyReviewPage")
AdminReviewPage = page_of(AdminReview, "AdminReviewPage")


class ReviewSummary(Schema):
    """The product page's block (the product detail carries it as `reviews`)."""
    average = fields.Float(allow_none=True, metadata={"description": "one decimal; null: none"})
    count = fields.Integer(required=True)
    with_images_count = fields.Integer()
    with_images_share = fields.Float(metadata={"description": "0-1, two decimals"})
    good_share = fields.Float(metadata={"description": "0-1, two decimals: 好评率"})
    first = fields.List(fields.Nested(Review), metadata={"description": "the newest three"})


# --- feedback (投诉与建议) ------------------------------------------------------------------------

class FeedbackInput(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(FEEDBACK_KINDS))
    content = Text(multiline=True, required=True, validate=validate.Length(5, 1000))
    image_urls = Images()
    order_id = StrictInteger(allow_none=True, validate=validate.Range(min=1))
    product_id = StrictInteger(allow_none=True, validate=validate.Range(min=1))
    contact = Text(allow_none=True, validate=validate.Length(1, 50),
                            metadata={"description": "a phone number or WeChat id to call back"})


class FeedbackReplyInput(Schema):
    reply = Text(multiline=True, required=True, validate=validate.Length(1, 1000))
    status = fields.String(validate=validate.OneOf(("processing", "resolved")), metadata={
        "description": "where the answer moves it (never back); default: at least processing"})


class Feedback(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    content = fields.String()
    image_urls = fields.List(fields.String())
    order_id = fields.Integer(allow_none=True)
    product_id = fields.Integer(allow_none=True)
    contact = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"description": "open, processing, resolved"})
    status_label = fields.String(metadata={"description": "待处理, 处理中, 已解决"})
    reply = fields.String(allow_none=True)
    replied_at = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class AdminFeedback(Feedback):
    user_id = fields.Integer()
    merchant_id = fields.Integer(allow_none=True, metadata={
        "description": "the shop it is about; null: the platform (answered by ops)"})
    replied_by = fields.Integer(allow_none=True)


FeedbackPage = page_of(Feedback, "FeedbackPage")
AdminFeedbackPage = page_of(AdminFeedback, "AdminFeedbackPage")


class AdminFeedbackQuery(Paging):
    status = fields.String(validate=validate.OneOf(FEEDBACK_STATUSES))
    kind = fields.String(validate=validate.OneOf(FEEDBACK_KINDS))
