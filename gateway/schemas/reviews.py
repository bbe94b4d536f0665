"""Wire schemas of reviews (评价, 追评, 商家回复) and feedback (投诉与建议)."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Boolean,
    Enum,
    Flag,
    Float,
    Integer,
    PageSize,
    Paging,
    String,
    Strings,
    Time,
    page_of,
)
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
    page_size = PageSize(default=10)


class AdminReviewQuery(Paging):
    product_id = fields.Integer(validate=validate.Range(min=1))
    filter = fields.String(load_default="all", validate=validate.OneOf(REVIEW_FILTERS))
    replied = Flag("true: only reviews I replied to; false: only those waiting for a reply")


# --- reviews: answers ----------------------------------------------------------------------

UPLOAD = "/media/" + "3f" * 32 + ".jpg"


class ReviewAuthor(Schema):
    display_name = String("小明", "匿名用户 when anonymous", required=True)
    nickname = String("小明", "masked (小**) when anonymous", required=True)
    avatar_url = String("https://img.example/avatar.png", "null when anonymous",
                        allow_none=True, required=True)
    anonymous = Boolean(False, required=True)


class FollowUp(Schema):
    text = String("用了一周，依然很好", required=True)
    image_urls = Strings([UPLOAD], required=True)
    created_at = Time(required=True)


class ReviewReply(Schema):
    text = String("感谢支持！", required=True)
    replied_at = Time(required=True)
    edited_at = Time(allow_none=True, required=True)


class Review(Schema):
    id = Integer(21, required=True)
    product_id = Integer(12, required=True)
    sku_id = Integer(101, required=True)
    spec = String("5斤装", required=True)
    stars = Integer(5, "1-5", required=True)
    text = String("很甜，包装很好", required=True)
    image_urls = Strings([UPLOAD], required=True)
    has_images = Boolean(True, required=True)
    author = fields.Nested(ReviewAuthor, required=True)
    created_at = Time(required=True)
    follow_up = fields.Nested(FollowUp, allow_none=True, required=True,
                              metadata={"description": "追评; null: none yet"})
    reply = fields.Nested(ReviewReply, allow_none=True, required=True,
                          metadata={"description": "商家回复; null: none yet"})


class MyReview(Review):
    order_id = Integer(301, required=True)
    anonymous = Boolean(False, required=True)


class AdminReview(Review):
    order_id = Integer(301, required=True)
    replied = Boolean(True, required=True)


class FilterCounts(Schema):
    all = Integer(12, required=True)
    with_images = Integer(4, required=True)
    good = Integer(10, "4-5 stars", required=True)
    medium = Integer(1, "3 stars", required=True)
    bad = Integer(1, "1-2 stars", required=True)


class ReviewPage(Schema):
    items = fields.List(fields.Nested(Review), required=True)
    total = Integer(12, required=True)
    page = Integer(1, required=True)
    page_size = Integer(10, required=True)
    filter = Enum(REVIEW_FILTERS, "all", "the filter (tab) of this page", required=True)
    counts = fields.Nested(FilterCounts, required=True,
                           metadata={"description": "how many under each filter"})


MyReviewPage = page_of(MyReview, "MyReviewPage")
AdminReviewPage = page_of(AdminReview, "AdminReviewPage")


class ReviewSummary(Schema):
    """The product page's block (the product detail carries it as `reviews`)."""
    average = Float(4.8, "stars, one decimal; null: no reviews", allow_none=True,
                    required=True)
    count = Integer(12, required=True)
    with_images_count = Integer(4, required=True)
    with_images_share = Float(0.33, "0-1, two decimals", required=True)
    good_share = Float(0.92, "0-1, two decimals: 好评率", required=True)
    first = fields.List(fields.Nested(Review), required=True,
                        metadata={"description": "the newest three"})


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
    id = Integer(6, required=True)
    kind = Enum(FEEDBACK_KINDS, "complaint", required=True)
    content = String("发货太慢了，希望改进", required=True)
    image_urls = Strings([UPLOAD], required=True)
    order_id = Integer(301, "the order it is about", allow_none=True, required=True)
    product_id = Integer(12, "the product it is about", allow_none=True, required=True)
    contact = String("13800138000", allow_none=True, required=True)
    status = Enum(FEEDBACK_STATUSES, "open", required=True)
    status_label = String("待处理", "待处理, 处理中, 已解决", required=True)
    reply = String("已联系快递加急", allow_none=True, required=True)
    replied_at = Time(allow_none=True, required=True)
    created_at = Time(required=True)
    updated_at = Time(required=True)


class AdminFeedback(Feedback):
    user_id = Integer(42, required=True)
    merchant_id = Integer(2, "the shop it is about; null: the platform (answered by ops)",
                          allow_none=True, required=True)
    replied_by = Integer(2, allow_none=True, required=True)


FeedbackPage = page_of(Feedback, "FeedbackPage")
AdminFeedbackPage = page_of(AdminFeedback, "AdminFeedbackPage")


class AdminFeedbackQuery(Paging):
    status = fields.String(validate=validate.OneOf(FEEDBACK_STATUSES))
    kind = fields.String(validate=validate.OneOf(FEEDBACK_KINDS))
