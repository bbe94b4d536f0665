"""Gateway routes for reviews (评价, 追评, 商家回复) and feedback (投诉与建议). The reviews
service holds both; a new review carries its author's nickname and avatar as accounts
has them now."""
from gateway.routing import route, shop_scope
from gateway.schemas import common as s
from gateway.schemas import reviews as rs
from plumbing.rpc import RemoteService

REVIEWS, FEEDBACK, ADMIN = "reviews", "feedback", "merchant"


class ReviewRoutes:
    accounts = RemoteService("accounts")
    reviews = RemoteService("reviews")

    # --- shoppers: reviews ------------------------------------------------------------

    @route("POST", "/api/v1/reviews", "Review a completed order of mine, once", REVIEWS,
           role="customer", body=rs.ReviewInput(), response=rs.MyReview(), status=201)
    def create_review(self, request, user, body):
        profile = self.accounts.get_user(user["user_id"])
        return self.reviews.create_review(
            user["user_id"], body["order_id"], body["stars"], text=body.get("text", ""),
            image_urls=body.get("image_urls", []), anonymous=body.get("anonymous", False),
            author={"nickname": profile.get("nickname"), "avatar_url": profile.get("avatar_url")})

    @route("POST", "/api/v1/reviews/<int:review_id>/follow-up",
           "Add the one follow-up (追评) to my review", REVIEWS, role="customer",
           body=rs.FollowUpInput(), response=rs.MyReview())
    def follow_up_review(self, request, user, body, review_id):
        return self.reviews.follow_up_review(user["user_id"], review_id, body["text"],
                                             image_urls=body.get("image_urls", []))

    @route("GET", "/api/v1/reviews/mine", "My reviews, newest first", REVIEWS, role="customer",
           query=s.Paging(), response=rs.MyReviewPage())
    def my_reviews(self, request, user, query):
        return self.reviews.list_my_reviews(user["user_id"], **query)

    # --- everyone: a product's reviews --------------------------------------------------

    @route("GET", "/api/v1/reviews/<int:review_id>", "One review", REVIEWS,
           response=rs.Review())
    def get_review(self, request, review_id):
        return self.reviews.get_review(review_id)

    @route("GET", "/api/v1/products/<int:product_id>/reviews",
           "A product's reviews under one filter (tab), newest first, with every tab's count",
           REVIEWS, query=rs.ReviewQuery(), response=rs.ReviewPage())
    def product_reviews(self, request, product_id, query):
        return self.reviews.list_product_reviews(product_id, **query)

    @route("GET", "/api/v1/products/<int:product_id>/reviews/summary",
           "A product's review summary: average stars, count, share with pictures, 好评率",
           REVIEWS, response=rs.ReviewSummary())
    def review_summary(self, request, product_id):
        return self.reviews.review_summary(product_id)

    # --- shoppers: feedback ---------------------------------------------------------------

    @route("POST", "/api/v1/feedback", "Send a complaint or a suggestion (投诉与建议)", FEEDBACK,
           role="customer", body=rs.FeedbackInput(), response=rs.Feedback(), status=201)
    def submit_feedback(self, request, user, body):
        return self.reviews.submit_feedback(user["user_id"], body)

    @route("GET", "/api/v1/feedback", "My feedback and its answers, newest first", FEEDBACK,
           role="customer", query=s.Paging(), response=rs.FeedbackPage())
    def my_feedback(self, request, user, query):
        return self.reviews.list_my_feedback(user["user_id"], **query)

    @route("GET", "/api/v1/feedback/<int:feedback_id>", "One of my feedback", FEEDBACK,
           role="customer", response=rs.Feedback())
    def get_my_feedback(self, request, user, feedback_id):
        return self.reviews.get_my_feedback(user["user_id"], feedback_id)

    # --- merchant back office ---------------------------------------------------------------

    @route("GET", "/admin/v1/reviews", "Reviews of my products, by product, filter and reply",
           ADMIN, role="merchant", query=rs.AdminReviewQuery(), response=rs.AdminReviewPage())
    def admin_reviews(self, request, user, query):
        return self.reviews.admin_list_reviews(user["user_id"], **query)

    @route("POST", "/admin/v1/reviews/<int:review_id>/reply",
           "Reply to a review of my product (商家回复), or edit my reply", ADMIN,
           role="merchant", body=rs.ReplyInput(), response=rs.AdminReview())
    def reply_review(self, request, user, body, review_id):
        return self.reviews.reply_review(user["user_id"], review_id, body["reply"])

    @route("GET", "/admin/v1/feedback",
           "Shoppers' complaints and suggestions about my shop (ops: every shop's and the "
           "platform's)", ADMIN, role=("merchant", "ops"), query=rs.AdminFeedbackQuery(),
           response=rs.AdminFeedbackPage())
    def admin_feedback(self, request, user, query):
        return self.reviews.admin_list_feedback(shop_scope(user), **query)

    @route("POST", "/admin/v1/feedback/<int:feedback_id>/reply",
           "Answer feedback; the answer may move it to processing or resolved", ADMIN,
           role=("merchant", "ops"), body=rs.FeedbackReplyInput(), response=rs.AdminFeedback())
    def reply_feedback(self, request, user, body, feedback_id):
        return self.reviews.reply_feedback(user["user_id"], feedback_id, body["reply"],
                                           status=body.get("status"),
                                           merchant_id=shop_scope(user))
