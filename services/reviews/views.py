"""What the reviews service answers and announces: rows turned into dicts.

A public review never carries a user id or an order id; the author's own view adds
the order, the merchant's back office adds the order and whether it has replied.
"""
from contract import events
from plumbing.clock import isoformat
from plumbing.paging import page  # noqa: F401  (views.page: a listing's page)
from services.reviews import domain


def review(row):
    """As every shopper sees it on the product page."""
    return {
        "id": row.id, "product_id": row.product_id, "sku_id": row.sku_id, "spec": row.spec,
        "stars": row.stars, "text": row.text, "image_urls": list(row.image_urls),
        "has_images": row.has_images,
        "author": domain.public_author(row.author_nickname, row.author_avatar_url,
                                        row.anonymous),
        "created_at": isoformat(row.created_at),
        "follow_up": None if row.followed_up_at is None else {
            "text": row.follow_up_text, "image_urls": list(row.follow_up_image_urls or []),
            "created_at": isoformat(row.followed_up_at)},
        "reply": None if row.reply is None else {
            "text": row.reply, "replied_at": isoformat(row.replied_at),
            "edited_at": isoformat(row.reply_edited_at)},
    }


def my_review(row):
    """The author's own view: which order it reviews, and whether it is anonymous."""
    return {**review(row), "order_id": row.order_id, "anonymous": row.anonymous}


def admin_review(row):
    return {**review(row), "order_id": row.order_id, "replied": row.reply is not None}


def feedback(row):
    return {
        "id": row.id, "kind": row.kind, "content": row.content,
        "image_urls": list(row.image_urls), "order_id": row.order_id,
        "product_id": row.product_id, "contact": row.contact, "status": row.status,
        "status_label": domain.FEEDBACK_LABELS[row.status], "reply": row.reply,
        "replied_at": isoformat(row.replied_at), "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }


def admin_feedback(row):
    return {**feedback(row), "user_id": row.user_id, "merchant_id": row.merchant_id,
            "replied_by": row.replied_by}


# --- event payloads ------------------------------------------------------------------------

def review_replied(row):
    return events.ReviewReplied(review_id=row.id, user_id=row.user_id, product_id=row.product_id)


def feedback_answered(row):
    return events.FeedbackAnswered(feedback_id=row.id, user_id=row.user_id, status=row.status)
