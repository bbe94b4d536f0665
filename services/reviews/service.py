"""The reviews service (评价, 追评, 商家回复, 投诉与建议): entrypoints only. Input rules are
in schemas.py, business rules in domain.py, queries in store.py, the copies of others'
data in copies.py, answers and event payloads in views.py.

It learns which orders may be reviewed from `orders.order_completed`, and whose each
product is from `catalog.product_changed`; when a shopper or merchant acts on one its
copy has not heard of yet, it asks the owner. Pictures are uploaded to catalog, which
says whether a path names one. The gateway passes the author's nickname and avatar
(from accounts) with a new review.
"""
from contract import events
from plumbing import clock
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc
from plumbing.errors import NotFound
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from services.reviews import copies, domain, schemas, store, views
from services.reviews.models import Feedback, Review


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
        self._check_uploads(args.image_urls)
        session = self.db.session
        item = store.reviewable(session, args.order_id, lock=True)
        if item is None:  # orders may have completed it a moment ago: ask orders
            session.rollback()  # never hold our database while we ask another service
            self._keep_if_completed(args.user_id, args.order_id)
            item = store.reviewable(session, args.order_id, lock=True)
        domain.check_reviewable(item.user_id if item else None, args.user_id)
        if store.product_merchant(session, item.product_id) is None:
            # a product unchanged since before our copies: its shop must see the review
            self._product_merchant(item.product_id)
            item = store.reviewable(session, args.order_id, lock=True)
        domain.check_not_reviewed(store.order_reviewed(session, item.order_id))
        row = Review(order_id=item.order_id, user_id=item.user_id, product_id=item.product_id,
                     sku_id=item.sku_id, spec=item.spec, stars=args.stars, text=args.text,
                     image_urls=args.image_urls,
                     has_images=domain.has_images(args.image_urls),
                     anonymous=args.anonymous, author_nickname=args.author["nickname"],
                     author_avatar_url=args.author["avatar_url"], created_at=clock.now())
        # The item lock makes a racing review wait; the unique order_id is the last word.
        domain.check_not_reviewed(already_reviewed=not store.insert_once(session, row))
        return views.my_review(row)

    @rpc
    def follow_up_review(self, user_id, review_id, text, image_urls=()):
        """The author's one follow-up (追评) -> the author's view of the review."""
        args = schemas.load(schemas.FollowUpArgs, {"user_id": user_id, "review_id": review_id,
                                                   "text": text,
                                                   "image_urls": list(image_urls or [])})
        self._check_uploads(args.image_urls)
        row = store.review(self.db.session, args.review_id, lock=True)
        domain.check_follow_up(row.user_id, args.user_id, row.followed_up_at is not None)
        row.follow_up_text, row.follow_up_image_urls = args.text, args.image_urls
        row.followed_up_at = clock.now()
        row.has_images = domain.has_images(row.image_urls, row.follow_up_image_urls)
        return views.my_review(row)

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
        self._product_merchant(args.product_id)
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
        product_merchant = self._product_merchant(
            store.review(self.db.session, args.review_id).product_id)
        row = store.review(self.db.session, args.review_id, lock=True)
        domain.check_reply(product_merchant, args.merchant_id, row.id)
        change = domain.reply_change(row.reply, args.reply)
        if change is not None:
            now = clock.now()
            row.reply, row.replied_by = args.reply, args.merchant_id
            if change == "new":
                row.replied_at = now
                self.db.emit(views.review_replied(row))
            else:
                row.reply_edited_at = now
        return views.admin_review(row)

    # --- feedback (投诉与建议) -----------------------------------------------------------------

    @rpc
    def submit_feedback(self, user_id, data):
        """A complaint or suggestion, about one of the shopper's orders, a product, or the
        platform; it goes to the shop it is about (ops sees every one)."""
        args = schemas.load(schemas.SubmitFeedbackArgs, {"user_id": user_id, "data": data})
        data = args.data
        # Asked before this worker touches its database (one writer per SQLite database).
        order = None if data["order_id"] is None else \
            self.orders.get_order(args.user_id, data["order_id"])  # another's: NotFound
        self._check_uploads(data["image_urls"])
        merchant_id = order["merchant_id"] if order else None
        if data["product_id"] is not None:
            product_merchant = self._product_merchant(data["product_id"])  # 404 when none
            merchant_id = merchant_id or product_merchant
        now = clock.now()
        row = store.add_feedback(self.db.session, Feedback(
            user_id=args.user_id, merchant_id=merchant_id, status=domain.OPEN,
            created_at=now, updated_at=now, **data))
        return views.feedback(row)

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
        row = store.feedback(self.db.session, args.feedback_id,
                             merchant_id=args.merchant_id, lock=True)
        row.status = domain.answer_feedback(row.status, args.status)
        now = clock.now()
        row.reply, row.replied_by, row.replied_at, row.updated_at = (
            args.reply, args.staff_id, now, now)
        self.db.emit(views.feedback_answered(row))
        return views.admin_feedback(row)

    # --- helpers (not entrypoints) ------------------------------------------------------

    def _check_uploads(self, image_urls):
        """Every picture must be one uploaded to catalog (400 per `image_urls.<index>`
        otherwise). Asked before this worker touches its database."""
        if image_urls:
            self.catalog.check_uploads(list(image_urls))

    def _keep_if_completed(self, user_id, order_id):
        """The shopper's order as orders has it now, kept if it is completed: a review
        right after 确认收货 must not depend on `order_completed` having arrived."""
        try:
            order = self.orders.get_order(user_id, order_id)
        except NotFound:  # not this shopper's: as unreviewable as one never completed
            return
        if order["completed_at"] is not None:
            # read by the event's declaration: the one rule for a completed order
            copies.keep_completed_order(self.db.session, events.OrderCompleted.from_data({
                **order, "order_id": order["id"], "user_id": user_id}))

    def _product_merchant(self, product_id):
        """The product's merchant, from our copy; a product the copy has not heard of
        (made a moment ago) is asked of catalog and kept. 404 when there is none."""
        merchant_id = store.product_merchant(self.db.session, product_id)
        if merchant_id is not None:
            return merchant_id
        self.db.session.rollback()  # never hold our database while we ask another service
        snapshot = self.catalog.find_product_snapshot(product_id)
        if snapshot is None:
            raise NotFound("product_not_found", f"There is no product {product_id}.")
        copies.keep_product(self.db.session, events.ProductChanged.from_data(snapshot))
        return snapshot["merchant_id"]
