"""Queries of reviews and feedback: every read and write of their tables, no rules.

The product copies are read for one thing only, the merchant of a product (who may
reply to its reviews, whose back office lists them).
"""
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from plumbing.errors import NotFound
from services.reviews import domain
from services.reviews.models import Feedback, ProductCopy, Review, ReviewableItem

NEWEST_FIRST = (Review.created_at.desc(), Review.id.desc())


def _page(session, query, order_by, page, page_size):
    """-> (rows of this page, total)."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(*order_by).limit(page_size)
                           .offset((page - 1) * page_size)).all()
    return rows, total


# --- completed orders ----------------------------------------------------------------

def reviewable(session, order_id, lock=False):
    """The completed order, or None. Locked, it makes a concurrent review of the same
    order wait, then find this one's."""
    query = sa.select(ReviewableItem).where(ReviewableItem.order_id == order_id)
    return session.scalars(query.with_for_update() if lock else query).first()


def add_reviewable(session, fields):
    """Keeps a completed order once; a second announcement of it (the event, and a look
    at orders on a review that came first) changes nothing."""
    if session.get(ReviewableItem, fields["order_id"]) is None:
        try:
            with session.begin_nested():
                session.add(ReviewableItem(**fields))
        except IntegrityError:  # kept a moment ago by the other path
            pass


# --- reviews ---------------------------------------------------------------------------

def review_not_found(review_id):
    return NotFound("review_not_found", f"There is no review {review_id}.")


def review(session, review_id, lock=False):
    query = sa.select(Review).where(Review.id == review_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.scalars(query).first()
    if found is None:
        raise review_not_found(review_id)
    return found


def order_reviewed(session, order_id):
    return session.scalar(sa.select(sa.exists().where(Review.order_id == order_id)))


def insert_once(session, row):
    """Writes the row; False if one with its unique key got there first (a review of the
    same order, a race the item lock did not cover; a copy of the same product)."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


# --- product copies --------------------------------------------------------------------

def product_copy(session, product_id, lock=False):
    """Our copy of the product, or None. Locked, two snapshots handled at once cannot
    leave the older one in place."""
    query = sa.select(ProductCopy).where(ProductCopy.id == product_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def product_merchant(session, product_id):
    """The merchant of a product (any status), or None when we know of no such product."""
    return session.scalar(sa.select(ProductCopy.merchant_id)
                          .where(ProductCopy.id == product_id))


def _filtered(query, review_filter):
    if review_filter == domain.WITH_IMAGES:
        return query.where(Review.has_images.is_(True))
    if review_filter in domain.STAR_BANDS:
        low, high = domain.STAR_BANDS[review_filter]
        return query.where(Review.stars.between(low, high))
    return query


def product_reviews(session, product_id, review_filter, page, page_size):
    query = _filtered(sa.select(Review).where(Review.product_id == product_id), review_filter)
    return _page(session, query, NEWEST_FIRST, page, page_size)


def newest(session, product_id, limit):
    return session.scalars(sa.select(Review).where(Review.product_id == product_id)
                           .order_by(*NEWEST_FIRST).limit(limit)).all()


def star_counts(session, product_id):
    """-> ({stars: how many reviews}, how many have pictures), in one pass."""
    rows = session.execute(
        sa.select(Review.stars, sa.func.count(),
                  sa.func.sum(sa.case((Review.has_images.is_(True), 1), else_=0)))
        .where(Review.product_id == product_id).group_by(Review.stars)).all()
    return {stars: count for stars, count, _ in rows}, sum(int(n or 0) for _, _, n in rows)


def user_reviews(session, user_id, page, page_size):
    query = sa.select(Review).where(Review.user_id == user_id)
    return _page(session, query, NEWEST_FIRST, page, page_size)


def merchant_reviews(session, merchant_id, product_id, review_filter, replied, page, page_size):
    """Reviews of the merchant's products (one of them when `product_id` is given);
    `replied` True / False keeps those with / without a reply."""
    query = _filtered(sa.select(Review).join(ProductCopy, ProductCopy.id == Review.product_id)
                      .where(ProductCopy.merchant_id == merchant_id), review_filter)
    if product_id is not None:
        query = query.where(Review.product_id == product_id)
    if replied is not None:
        query = query.where(Review.reply.is_not(None) if replied else Review.reply.is_(None))
    return _page(session, query, NEWEST_FIRST, page, page_size)


# --- feedback -----------------------------------------------------------------------------

FEEDBACK_NEWEST_FIRST = (Feedback.created_at.desc(), Feedback.id.desc())


def feedback_not_found(feedback_id):
    return NotFound("feedback_not_found", f"There is no feedback {feedback_id}.")


def feedback(session, feedback_id, user_id=None, merchant_id=None, lock=False):
    """One feedback; with `user_id`, only that shopper's, with `merchant_id` only that
    shop's: another's is as missing as one that never existed."""
    query = sa.select(Feedback).where(Feedback.id == feedback_id)
    for column, value in ((Feedback.user_id, user_id), (Feedback.merchant_id, merchant_id)):
        if value is not None:
            query = query.where(column == value)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.scalars(query).first()
    if found is None:
        raise feedback_not_found(feedback_id)
    return found


def add_feedback(session, row):
    session.add(row)
    session.flush()
    return row


def feedback_page(session, page, page_size, user_id=None, merchant_id=None, status=None,
                  kind=None):
    query = sa.select(Feedback)
    for column, value in ((Feedback.user_id, user_id), (Feedback.merchant_id, merchant_id),
                          (Feedback.status, status), (Feedback.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    return _page(session, query, FEEDBACK_NEWEST_FIRST, page, page_size)
