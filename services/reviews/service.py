"""The reviews service (评价, 追评, 商家回复, 投诉与建议): entrypoints only. Input rules are
in schemas.py, business rules in domain.py, queries in store.py, the copies of others'
data and the looks at their owners in copies.py, writing reviews in reviewing.py,
feedback in feedback.py, answers and event payloads in views.py.

It learns which orders may be reviewed from `orders.order_completed`, and whose each
product is from `catalog.product_changed`; when a shopper or merchant acts on one its
copy has not heard of yet, it asks the owner. Pictures are uploaded to catalog, which
says whether a path names one. The gateway passes the author's nickname and avatar
(from accounts) with a new review.
"""
from contract import events
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from services.reviews import copies, domain, feedback, reviewing, schemas, store, views


class ReviewsService(ServiceBase):
    name = "reviews"
    db = Database()
    # Never called with a transaction of ours open (SQLite: one writer per database).
    catalog = RemoteService("catalog")  # whether pictures were uploaded; a product just made
    orders = RemoteService("orders")  # an order just completed; the order a complaint names

    # --- copies: products and completed orders --------------------------------------------

    @event_handler(events.ProductChanged)
    def on_product_changed(self, event):
        copies.keep_product(self.db.session, event.data)

    @event_handler(events.OrderCompleted)
    def on_order_completed(self, event):
        copies.keep_completed_order(self.db.session, event.data)

    # --- shoppers: reviews -----------------------------------------------------------------

    @rpc
    def create_review(self, user_id, order_id, stars, text="", image_urls=(), anonymous=False,
                      author=None):
        """The buyer of a completed order reviews it, once -> the author's view of it.
        `author` is {nickname, avatar_url} as accounts has them now."""
        args = schemas.load(schemas.CreateReviewArgs, {
            "user_id": user_id, "order_id": order_id, "stars": stars, "text": text,
            "image_urls": list(image_urls or []), "anonymous": anonymous,
            **({} if author is None else {"author": author})})
        return views.my_review(reviewing.create(self.db, self._owners(), args))

    @rpc
    def follow_up_review(self, user_id, review_id, text, image_urls=()):
        """The author's one follow-up (追评) -> the author's view of the review."""
        args = schemas.load(schemas.FollowUpArgs, {"user_id": user_id, "review_id": review_id,
                                                   "text": text,
                                                   "image_urls": list(image_urls or [])})
        return views.my_review(reviewing.follow_up(self.db, self._owners(), args))

    @rpc
    def list_my_reviews(self, user_id, page=1, page_size=10):
        args = schemas.load(schemas.MyReviewsArgs, {"user_id": user_id, "page": page,
                                                    "page_size": page_size})
        rows, total = store.user_reviews(self.db.session, **args.as_kwargs())
        return views.page([views.my_review(row) for row in rows], total, args.page,
                          args.page_size)

    # --- everyone: a product's reviews ----------------------------------------------------

    @rpc
    def get_review(self, review_id):
        args = schemas.load(schemas.ReviewArgs, {"review_id": review_id})
        return views.review(store.review(self.db.session, args.review_id))

    @rpc
    def list_product_reviews(self, product_id, filter="all", page=1, page_size=10):
        """A product's reviews under one tab, newest first, with every tab's count."""
        args = schemas.load(schemas.ProductReviewsArgs, {
            "product_id": product_id, "filter": filter, "page": page, "page_size": page_size})
        self._owners().product_merchant(args.product_id)
        session = self.db.session
        rows, total = store.product_reviews(session, args.product_id, args.filter,
                                            args.page, args.page_size)
        counts = domain.filter_counts(*store.star_counts(session, args.product_id))
        return views.page([views.review(row) for row in rows], total, args.page,
                          args.page_size, filter=args.filter, counts=counts)

    @rpc
    def review_summary(self, product_id):
        """The product page's block: {average, count, with_images_count, with_images_share,
        good_share, first (the newest three)}. A product without reviews has count 0."""
        product_id = schemas.load(schemas.ProductArgs, {"product_id": product_id}).product_id
        session = self.db.session
        stars, with_images = store.star_counts(session, product_id)
        first = [views.review(row) for row in store.newest(session, product_id,
                                                          domain.FIRST_REVIEWS)]
        return domain.summary(domain.filter_counts(stars, with_images),
                               sum(star * count for star, count in stars.items()), first)

    # --- merchant: reviews -----------------------------------------------------------------

    @rpc
    def admin_list_reviews(self, merchant_id, product_id=None, filter="all",
                           replied=None, page=1, page_size=20):
        args = schemas.load(schemas.AdminReviewsArgs, {
            "merchant_id": merchant_id, "product_id": product_id, "filter": filter,
            "replied": replied, "page": page, "page_size": page_size})
        rows, total = store.merchant_reviews(self.db.session, args.merchant_id,
                                             args.product_id, args.filter,
                                             args.replied, args.page, args.page_size)
        return views.page([views.admin_review(row) for row in rows], total, args.page,
                          args.page_size)

    @rpc
    def reply_review(self, merchant_id, review_id, reply):
        """The product's merchant replies (商家回复), or edits the reply. Only the first
        reply tells the reviewer (`review_replied`)."""
        args = schemas.load(schemas.ReplyArgs, {"merchant_id": merchant_id,
                                                "review_id": review_id, "reply": reply})
        return views.admin_review(reviewing.reply(self.db, self._owners(), args))

    # --- feedback (投诉与建议) -----------------------------------------------------------------

    @rpc
    def submit_feedback(self, user_id, data):
        """A complaint or suggestion, about one of the shopper's orders, a product, or the
        platform; it goes to the shop it is about (ops sees every one)."""
        args = schemas.load(schemas.SubmitFeedbackArgs, {"user_id": user_id, "data": data})
        return views.feedback(feedback.submit(self.db, self._owners(), args))

    @rpc
    def list_my_feedback(self, user_id, page=1, page_size=20):
        args = schemas.load(schemas.MyFeedbackListArgs, {"user_id": user_id, "page": page,
                                                         "page_size": page_size})
        rows, total = store.feedback_page(self.db.session, **args.as_kwargs())
        return views.page([views.feedback(row) for row in rows], total, args.page,
                          args.page_size)

    @rpc
    def get_my_feedback(self, user_id, feedback_id):
        args = schemas.load(schemas.MyFeedbackArgs, {"user_id": user_id,
                                                     "feedback_id": feedback_id})
        return views.feedback(store.feedback(self.db.session, args.feedback_id,
                                             user_id=args.user_id))

    @rpc
    def admin_list_feedback(self, merchant_id=None, status=None, kind=None, page=1,
                            page_size=20):
        """A shop's feedback (merchant_id), or every shop's and the platform's (None, ops)."""
        args = schemas.load(schemas.AdminFeedbackArgs, {
            "merchant_id": merchant_id, "status": status, "kind": kind, "page": page,
            "page_size": page_size})
        rows, total = store.feedback_page(self.db.session, **args.as_kwargs())
        return views.page([views.admin_feedback(row) for row in rows], total, args.page,
                          args.page_size)

    @rpc
    def reply_feedback(self, staff_id, feedback_id, reply, status=None, merchant_id=None):
        """The back office answers (a merchant its shop's feedback, ops any); the answer
        may move the feedback on (open -> processing -> resolved). The shopper is told of
        every answer."""
        args = schemas.load(schemas.ReplyFeedbackArgs, {
            "staff_id": staff_id, "merchant_id": merchant_id, "feedback_id": feedback_id,
            "reply": reply, "status": status})
        return views.admin_feedback(feedback.answer(self.db, args))

    # --- helpers (not entrypoints) ------------------------------------------------------

    def _owners(self):
        return copies.Owners(self.db, self.catalog, self.orders)
