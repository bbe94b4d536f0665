"""Review and feedback rules (评价, 追评, 商家回复, 投诉与建议). Pure functions, no I/O.

Who may review: the buyer of a completed order, once per order (the service learns of
completed orders from `orders.order_completed`). The author may add one follow-up
(追评); the merchant of the reviewed product may reply once and edit the reply.
Anonymous reviews show a masked name and no avatar; no public view ever carries a
user id.

Feedback from shoppers moves open -> processing -> resolved, never back; resolved is
final. Answering it may move it on.
"""
from decimal import ROUND_HALF_UP, Decimal

from plumbing.errors import Conflict, Forbidden, NotFound

MIN_STARS, MAX_STARS = 1, 5
MAX_TEXT = 500  # review text, follow-up text, merchant reply
MAX_IMAGES = 9
MAX_AVATAR_URL = 500
MAX_NICKNAME = 64
MAX_PAGE_SIZE = 50
FIRST_REVIEWS = 3  # the newest ones shown on the product page

# Listing filters (the mini-program's tabs) and the stars each one covers.
ALL, WITH_IMAGES, GOOD, MEDIUM, BAD = "all", "with_images", "good", "medium", "bad"
FILTERS = (ALL, WITH_IMAGES, GOOD, MEDIUM, BAD)
STAR_BANDS = {GOOD: (4, 5), MEDIUM: (3, 3), BAD: (1, 2)}

ANONYMOUS_NAME = "匿名用户"
MASK = "**"

# --- feedback (投诉与建议) ---
COMPLAINT, SUGGESTION = "complaint", "suggestion"
FEEDBACK_KINDS = (COMPLAINT, SUGGESTION)
OPEN, PROCESSING, RESOLVED = "open", "processing", "resolved"
FEEDBACK_STATUSES = (OPEN, PROCESSING, RESOLVED)  # in the only order they are passed
FEEDBACK_LABELS = {OPEN: "待处理", PROCESSING: "处理中", RESOLVED: "已解决"}
MIN_FEEDBACK, MAX_FEEDBACK = 5, 1000
MAX_CONTACT = 50
MAX_FEEDBACK_REPLY = 1000


# --- who may write what ------------------------------------------------------------

def check_reviewable(buyer_id, user_id):
    """`buyer_id` is the buyer of the completed order, None when reviews knows of no
    completed order by that id (not completed yet, or no such order). Another shopper's
    order is as missing as one that never existed."""
    if buyer_id is None or buyer_id != user_id:
        raise NotFound("order_not_reviewable",
                       "Only a completed order of yours can be reviewed; this one is not (yet).")


def check_not_reviewed(already_reviewed):
    if already_reviewed:
        raise Conflict("already_reviewed", "This order has been reviewed already; "
                                           "add a follow-up (追评) to the review instead.")


def check_follow_up(author_id, user_id, followed_up):
    if author_id != user_id:
        raise Forbidden("not_review_author", "Only the author of a review may follow it up.")
    if followed_up:
        raise Conflict("already_followed_up", "A review takes one follow-up (追评), and "
                                              "this one has it.")


def check_reply(product_merchant_id, merchant_id, review_id):
    """Another shop's review is as missing to a merchant as one that never existed."""
    if product_merchant_id != merchant_id:
        raise NotFound("review_not_found", f"There is no review {review_id}.")


def reply_change(current_reply, new_reply):
    """"new" (the review's first reply: the reviewer is told), "edited", or None (the
    same text again: nothing to do)."""
    if current_reply is None:
        return "new"
    return None if current_reply == new_reply else "edited"


def newer_copy(current_version, incoming_version):
    """A product snapshot replaces our copy only if it is newer: a redelivered or late
    one of an older version changes nothing."""
    return current_version is None or incoming_version > current_version


# --- what a review shows -------------------------------------------------------------

def star_band(stars):
    """good (4-5), medium (3) or bad (1-2): 好评, 中评, 差评."""
    return next(band for band, (low, high) in STAR_BANDS.items() if low <= stars <= high)


def matches(review_filter, stars, has_images):
    """Whether a review with these stars and pictures is under a filter's tab."""
    if review_filter == ALL:
        return True
    if review_filter == WITH_IMAGES:
        return has_images
    return star_band(stars) == review_filter


def has_images(image_urls, follow_up_image_urls=()):
    """A review is "with pictures" (有图) when it or its follow-up shows any."""
    return bool(image_urls) or bool(follow_up_image_urls)


def masked_name(nickname):
    """小明 -> 小**: the first character and a mask; an empty name is 匿名用户."""
    nickname = (nickname or "").strip()
    return nickname[0] + MASK if nickname else ANONYMOUS_NAME


def public_author(nickname, avatar_url, anonymous):
    """The author as everyone sees them. An anonymous review shows 匿名用户 with a masked
    name and no avatar; a review without a stored name shows 匿名用户 too."""
    if anonymous:
        return {"display_name": ANONYMOUS_NAME, "nickname": masked_name(nickname),
                "avatar_url": None, "anonymous": True}
    shown = (nickname or "").strip() or ANONYMOUS_NAME
    return {"display_name": shown, "nickname": shown, "avatar_url": avatar_url,
            "anonymous": False}


# --- the product page's summary ---------------------------------------------------------

def average(stars_sum, count):
    """Average stars to one decimal, halves rounded up (4.25 -> 4.3); None without reviews."""
    if not count:
        return None
    return float((Decimal(stars_sum) / Decimal(count)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def share(part, count):
    """part / count to two decimals (0.67), halves up; 0.0 without reviews."""
    if not count:
        return 0.0
    return float((Decimal(part) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def summary(counts, stars_sum, first):
    """The product page's block: `counts` as `filter_counts` gives them."""
    return {"average": average(stars_sum, counts[ALL]), "count": counts[ALL],
            "with_images_count": counts[WITH_IMAGES],
            "with_images_share": share(counts[WITH_IMAGES], counts[ALL]),
            "good_share": share(counts[GOOD], counts[ALL]), "first": list(first)}


def filter_counts(stars_counts, with_images_count):
    """{filter: how many reviews it shows} from {stars: count} and the count with pictures."""
    counts = {ALL: sum(stars_counts.values()), WITH_IMAGES: with_images_count}
    for band, (low, high) in STAR_BANDS.items():
        counts[band] = sum(n for stars, n in stars_counts.items() if low <= stars <= high)
    return {name: counts[name] for name in FILTERS}


# --- feedback ---------------------------------------------------------------------------

def answer_feedback(status, requested=None):
    """The status feedback has after the merchant answers it: the one asked for, or at
    least `processing` when none is asked for. It never moves back, and resolved is
    final."""
    if status == RESOLVED:
        raise Conflict("feedback_resolved", "This feedback is resolved; it takes no more answers.")
    rank = FEEDBACK_STATUSES.index
    target = requested or (PROCESSING if status == OPEN else status)
    if rank(target) < rank(status):
        raise Conflict("invalid_feedback_transition",
                       f"Feedback that is {status} cannot go back to {target}.",
                       details={"from": status, "to": target})
    return target
