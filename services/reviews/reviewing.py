"""Writing reviews: the buyer's review and follow-up (评价, 追评) and the merchant's reply
(商家回复). `owners` is a copies.Owners for the call."""
from plumbing import clock
from services.reviews import domain, store, views
from services.reviews.models import Review


def create(db, owners, args):
    """The buyer of a completed order reviews it, once -> the author's view of it."""
    owners.check_uploads(args.image_urls)
    session = db.session
    item = store.reviewable(session, args.order_id, lock=True)
    if item is None:  # orders may have completed it a moment ago: ask orders
        session.rollback()  # never hold our database while we ask another service
        owners.keep_if_completed(args.user_id, args.order_id)
        item = store.reviewable(session, args.order_id, lock=True)
    domain.check_reviewable(item.user_id if item else None, args.user_id)
    if store.product_merchant(session, item.product_id) is None:
        # a product unchanged since before our copies: its shop must see the review
        owners.product_merchant(item.product_id)
        item = store.reviewable(session, args.order_id, lock=True)
    domain.check_not_reviewed(store.order_reviewed(session, item.order_id))
    row = Review(order_id=item.order_id, user_id=item.user_id, product_id=item.product_id,
                 sku_id=item.sku_id, spec=item.spec, stars=args.stars, text=args.text,
                 image_urls=args.image_urls, has_images=domain.has_images(args.image_urls),
                 anonymous=args.anonymous, author_nickname=args.author["nickname"],
                 author_avatar_url=args.author["avatar_url"], created_at=clock.now())
    # The item lock makes a racing review wait; the unique order_id is the last word.
    domain.check_not_reviewed(already_reviewed=not store.insert_once(session, row))
    return row


def follow_up(db, owners, args):
    """The author's one follow-up (追评)."""
    owners.check_uploads(args.image_urls)
    row = store.review(db.session, args.review_id, lock=True)
    domain.check_follow_up(row.user_id, args.user_id, row.followed_up_at is not None)
    row.follow_up_text, row.follow_up_image_urls = args.text, args.image_urls
    row.followed_up_at = clock.now()
    row.has_images = domain.has_images(row.image_urls, row.follow_up_image_urls)
    return row


def reply(db, owners, args):
    """The product's merchant replies, or edits the reply. Only the first reply tells the
    reviewer (`review_replied`)."""
    product_merchant = owners.product_merchant(store.review(db.session, args.review_id).product_id)
    row = store.review(db.session, args.review_id, lock=True)
    domain.check_reply(product_merchant, args.merchant_id, row.id)
    change = domain.reply_change(row.reply, args.reply)
    if change is not None:
        now = clock.now()
        row.reply, row.replied_by = args.reply, args.merchant_id
        if change == "new":
            row.replied_at = now
            db.emit(views.review_replied(row))
        else:
            row.reply_edited_at = now
    return row
