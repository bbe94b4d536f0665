"""Feedback (投诉与建议): a shopper's complaint or suggestion, and the back office's answer.
`owners` is a copies.Owners for the call."""
from plumbing import clock
from services.reviews import domain, store, views
from services.reviews.models import Feedback


def submit(db, owners, args):
    """About one of the shopper's orders, a product, or the platform; it goes to the shop
    it is about (ops sees every one)."""
    data = args.data
    # Asked before this worker touches its database (one writer per SQLite database).
    order = None if data["order_id"] is None else \
        owners.order(args.user_id, data["order_id"])  # another's: NotFound
    owners.check_uploads(data["image_urls"])
    merchant_id = order["merchant_id"] if order else None
    if data["product_id"] is not None:
        product_merchant = owners.product_merchant(data["product_id"])  # 404 when none
        merchant_id = merchant_id or product_merchant
    now = clock.now()
    return store.add_feedback(db.session, Feedback(
        user_id=args.user_id, merchant_id=merchant_id, status=domain.OPEN,
        created_at=now, updated_at=now, **data))


def answer(db, args):
    """A merchant answers its shop's feedback, ops any; the answer may move it on (open ->
    processing -> resolved). The shopper is told of every answer."""
    row = store.feedback(db.session, args.feedback_id, merchant_id=args.merchant_id, lock=True)
    row.status = domain.answer_feedback(row.status, args.status)
    now = clock.now()
    row.reply, row.replied_by, row.replied_at, row.updated_at = (
        args.reply, args.staff_id, now, now)
    db.emit(views.feedback_answered(row))
    return row
