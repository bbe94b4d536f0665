"""Review and feedback rules, without a broker or a database: who may write what,
the limits of each input, what an anonymous review shows, the product page's
summary, and the feedback state machine."""
from itertools import product

import pytest

from plumbing.errors import BadRequest, Conflict, Forbidden, NotFound
from services.reviews import domain as reviews
from services.reviews import schemas
from services.reviews.domain import OPEN, PROCESSING, RESOLVED

BUYER, STRANGER, MERCHANT, OTHER_MERCHANT = 11, 12, 1, 2


def upload(n=0, extension="jpg"):
    """The /media/ path an upload answers: the content's SHA-256 and its type."""
    return f"/media/{n:064x}.{extension}"


PICTURE = upload()


# --- who may review, once --------------------------------------------------------------

def test_the_buyer_of_a_completed_order_may_review_it():
    reviews.check_reviewable(BUYER, BUYER)


def test_an_order_not_completed_or_unknown_is_not_reviewable():
    with pytest.raises(NotFound) as raised:
        reviews.check_reviewable(None, BUYER)
    assert raised.value.code == "order_not_reviewable"
    assert raised.value.status == 404


def test_nobody_but_the_buyer_may_review_an_order():
    with pytest.raises(NotFound) as raised:  # another's order is as missing as none
        reviews.check_reviewable(BUYER, STRANGER)
    assert raised.value.code == "order_not_reviewable"


def test_an_order_is_reviewed_once():
    reviews.check_not_reviewed(False)
    with pytest.raises(Conflict) as raised:
        reviews.check_not_reviewed(True)
    assert raised.value.code == "already_reviewed"
    assert "追评" in raised.value.message  # it says what to do instead


# --- follow-up and reply ------------------------------------------------------------------

def test_the_author_follows_up_once():
    reviews.check_follow_up(BUYER, BUYER, followed_up=False)
    with pytest.raises(Conflict) as raised:
        reviews.check_follow_up(BUYER, BUYER, followed_up=True)
    assert raised.value.code == "already_followed_up"


@pytest.mark.parametrize("followed_up", [False, True])
def test_nobody_else_follows_up_a_review(followed_up):
    with pytest.raises(Forbidden) as raised:
        reviews.check_follow_up(BUYER, STRANGER, followed_up)
    assert raised.value.code == "not_review_author"


def test_only_the_products_merchant_replies():
    reviews.check_reply(MERCHANT, MERCHANT, 5)
    for product_merchant in (OTHER_MERCHANT, None):  # None: the product is gone
        with pytest.raises(NotFound) as raised:  # another shop's review is as missing as none
            reviews.check_reply(product_merchant, MERCHANT, 5)
        assert raised.value.code == "review_not_found"


def test_the_first_reply_is_news_an_edit_is_not_and_the_same_text_is_nothing():
    assert reviews.reply_change(None, "感谢支持") == "new"
    assert reviews.reply_change("感谢支持", "感谢支持，欢迎再来") == "edited"
    assert reviews.reply_change("感谢支持", "感谢支持") is None


# --- stars, tabs and pictures -----------------------------------------------------------

@pytest.mark.parametrize("stars, band", [(1, "bad"), (2, "bad"), (3, "medium"), (4, "good"),
                                         (5, "good")])
def test_each_star_count_falls_in_one_band(stars, band):
    assert reviews.star_band(stars) == band


@pytest.mark.parametrize("review_filter, stars, has_images", list(product(
    reviews.FILTERS, range(1, 6), (False, True))))
def test_every_filter_shows_exactly_its_reviews(review_filter, stars, has_images):
    expected = {"all": True, "with_images": has_images, "good": stars >= 4,
                "medium": stars == 3, "bad": stars <= 2}[review_filter]
    assert reviews.matches(review_filter, stars, has_images) is expected


def test_a_review_has_pictures_when_it_or_its_follow_up_shows_any():
    assert not reviews.has_images([])
    assert not reviews.has_images([], [])
    assert not reviews.has_images([], None)
    assert reviews.has_images([PICTURE])
    assert reviews.has_images([], [PICTURE])


def test_filter_counts_cover_every_tab():
    counts = reviews.filter_counts({5: 3, 4: 1, 3: 2, 1: 1}, with_images_count=2)
    assert counts == {"all": 7, "with_images": 2, "good": 4, "medium": 2, "bad": 1}
    assert list(counts) == list(reviews.FILTERS)  # the tabs' order
    assert reviews.filter_counts({}, 0) == {name: 0 for name in reviews.FILTERS}


# --- anonymous authors ------------------------------------------------------------------------

@pytest.mark.parametrize("nickname, masked", [
    ("小明", "小**"), ("Alice", "A**"), ("王", "王**"), ("  李雷 ", "李**"),
    ("", "匿名用户"), (None, "匿名用户"), ("   ", "匿名用户"),
])
def test_a_name_is_masked_to_its_first_character(nickname, masked):
    assert reviews.masked_name(nickname) == masked


def test_an_anonymous_author_shows_no_name_and_no_avatar():
    author = reviews.public_author("小明", "https://img.example/me.jpg", anonymous=True)
    assert author == {"display_name": "匿名用户", "nickname": "小**", "avatar_url": None,
                      "anonymous": True}
    assert "小明" not in str(author) and "img.example" not in str(author)


def test_a_named_author_shows_the_name_and_avatar_they_had():
    assert reviews.public_author("小明", "https://img.example/me.jpg", anonymous=False) == {
        "display_name": "小明", "nickname": "小明", "avatar_url": "https://img.example/me.jpg",
        "anonymous": False}
    assert reviews.public_author(None, None, anonymous=False)["display_name"] == "匿名用户"


# --- the product page's summary -------------------------------------------------------------

@pytest.mark.parametrize("stars_sum, count, shown", [
    (0, 0, None), (5, 1, 5.0), (9, 2, 4.5), (14, 3, 4.7), (13, 3, 4.3), (17, 4, 4.3),
    (33, 8, 4.1), (11, 3, 3.7), (10, 4, 2.5), (7, 3, 2.3), (1, 1, 1.0),
])
def test_the_average_has_one_decimal_with_halves_rounded_up(stars_sum, count, shown):
    assert reviews.average(stars_sum, count) == shown


def test_halves_round_up_not_to_even():
    assert reviews.average(17, 4) == 4.3  # 4.25
    assert reviews.average(49, 20) == 2.5  # 2.45
    assert reviews.share(1, 8) == 0.13  # 0.125
    assert reviews.share(2, 3) == 0.67 and reviews.share(1, 3) == 0.33


def test_a_share_without_reviews_is_zero():
    assert reviews.share(0, 0) == 0.0


def test_the_summary_block():
    counts = reviews.filter_counts({5: 2, 4: 1, 1: 1}, with_images_count=1)
    first = [{"id": 9}, {"id": 8}, {"id": 7}]
    assert reviews.summary(counts, 5 + 5 + 4 + 1, first) == {
        "average": 3.8, "count": 4, "with_images_count": 1, "with_images_share": 0.25,
        "good_share": 0.75, "first": first}
    assert reviews.summary(reviews.filter_counts({}, 0), 0, []) == {
        "average": None, "count": 0, "with_images_count": 0, "with_images_share": 0.0,
        "good_share": 0.0, "first": []}


# --- the feedback state machine -----------------------------------------------------------------

# (status, requested) -> the status after answering; every pair not listed is refused.
ANSWERS = {
    (OPEN, None): PROCESSING, (OPEN, PROCESSING): PROCESSING, (OPEN, RESOLVED): RESOLVED,
    (OPEN, OPEN): OPEN,
    (PROCESSING, None): PROCESSING, (PROCESSING, PROCESSING): PROCESSING,
    (PROCESSING, RESOLVED): RESOLVED,
}


@pytest.mark.parametrize("status, requested", list(product(
    reviews.FEEDBACK_STATUSES, (None, *reviews.FEEDBACK_STATUSES))))
def test_answering_feedback_moves_it_forward_only(status, requested):
    if (status, requested) in ANSWERS:
        assert reviews.answer_feedback(status, requested) == ANSWERS[(status, requested)]
        return
    with pytest.raises(Conflict) as raised:
        reviews.answer_feedback(status, requested)
    expected = "feedback_resolved" if status == RESOLVED else "invalid_feedback_transition"
    assert raised.value.code == expected


def test_resolved_feedback_is_final():
    for requested in (None, *reviews.FEEDBACK_STATUSES):
        with pytest.raises(Conflict):
            reviews.answer_feedback(RESOLVED, requested)


# --- input limits -----------------------------------------------------------------------------

def review_args(**overrides):
    return {"user_id": BUYER, "order_id": 5, "stars": 5, **overrides}


def test_a_review_needs_only_its_stars():
    assert schemas.load(schemas.CreateReviewArgs, review_args()).as_kwargs() == {
        "user_id": BUYER, "order_id": 5, "stars": 5, "text": "", "image_urls": [],
        "anonymous": False, "author": {"nickname": None, "avatar_url": None}}


def test_a_full_review_is_kept_as_sent_with_its_text_trimmed():
    images = [upload(1), upload(2, "png")] + [upload(n, "webp") for n in range(7)]
    loaded = schemas.load(schemas.CreateReviewArgs, review_args(
        stars=1, text="  " + "很" * 500 + " ", image_urls=images, anonymous=True,
        author={"nickname": "小明", "avatar_url": "https://img.example/me.jpg"}))
    assert loaded.text == "很" * 500 and loaded.image_urls == images
    assert loaded.anonymous is True and loaded.author["nickname"] == "小明"


def test_review_text_may_run_over_several_lines():
    loaded = schemas.load(schemas.CreateReviewArgs, review_args(text="很甜\n\t下次再买\r\n"))
    assert loaded.text == "很甜\n\t下次再买"


@pytest.mark.parametrize("field, value", [
    ("stars", 0), ("stars", 6), ("stars", 4.5), ("stars", "5"), ("stars", True), ("stars", None),
    ("text", "很" * 501), ("text", 5), ("text", "好评\u202e"), ("text", "好\x00评"),
    ("text", "好\x1b[31m评"),
    ("image_urls", [upload(n) for n in range(10)]),
    ("image_urls", PICTURE),
    ("anonymous", "yes"), ("anonymous", 1),
    ("order_id", 0), ("order_id", "5"), ("user_id", None),
])
def test_bad_review_input_is_refused_by_field(field, value):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.CreateReviewArgs, review_args(**{field: value}))
    assert raised.value.code == "validation_failed"
    assert list(raised.value.details) == [field]


@pytest.mark.parametrize("url", [
    "ftp://img.example/a.jpg", "javascript:alert(1)", "/media/../etc/passwd", "/media/",
    "/media/a.jpg", upload().replace(".jpg", ".exe"), "/media/" + "0" * 63 + ".jpg",
    "/static/" + "0" * 64 + ".jpg", upload()[1:], "", "https://",
    "https://img.example/" + "a" * 500, 42,
    # a shopper's picture is one uploaded here, never a link to elsewhere
    "https://img.example/a.jpg", "http://img.example/a",
])
def test_an_image_is_an_uploaded_file(url):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.CreateReviewArgs, review_args(image_urls=[url]))
    assert list(raised.value.details) == ["image_urls.0"]


@pytest.mark.parametrize("url", [upload(6), upload(7, "png"), upload(8, "webp"),
                                 upload(9, "gif")])
def test_accepted_image_forms(url):
    assert schemas.load(schemas.CreateReviewArgs,
                        review_args(image_urls=[url])).image_urls == [url]


@pytest.mark.parametrize("text, images, field", [
    ("", [], "text"), ("   ", [], "text"), (None, [], "text"), ("好" * 501, [], "text"),
    ("用了一周，很好", [PICTURE] * 10, "image_urls"),
])
def test_a_follow_up_needs_text_and_at_most_nine_images(text, images, field):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.FollowUpArgs, {"user_id": BUYER, "review_id": 1, "text": text,
                                            "image_urls": images})
    assert list(raised.value.details) == [field]


def test_a_reply_needs_text():
    for reply in ("", "  ", "回" * 501, "谢谢\u202e"):
        with pytest.raises(BadRequest):
            schemas.load(schemas.ReplyArgs, {"merchant_id": MERCHANT, "review_id": 1,
                                             "reply": reply})


def feedback_in(**overrides):
    return {"kind": "complaint", "content": "发货太慢了，等了五天", **overrides}


def test_feedback_needs_a_kind_and_five_to_a_thousand_characters():
    loaded = schemas.load(schemas.FeedbackIn, feedback_in(content="  建议多上新  "))
    assert loaded == {"kind": "complaint", "content": "建议多上新", "image_urls": [],
                      "order_id": None, "product_id": None, "contact": None}
    assert schemas.load(schemas.FeedbackIn, feedback_in(content="好" * 1000))["content"]


@pytest.mark.parametrize("field, value", [
    ("kind", "praise"), ("kind", None), ("content", "太慢了"), ("content", "好" * 1001),
    ("content", "    太慢了    "), ("image_urls", [PICTURE] * 10), ("order_id", 0),
    ("content", "发货太慢了\u2066"), ("content", "发货\x07太慢了"),

    ("product_id", "3"), ("contact", ""), ("contact", "1" * 51),
])
def test_bad_feedback_is_refused_by_field(field, value):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.FeedbackIn, feedback_in(**{field: value}))
    assert list(raised.value.details) == [field]


def test_feedback_pictures_are_uploads():
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.FeedbackIn, feedback_in(image_urls=["https://img.example/a.jpg"]))
    assert list(raised.value.details) == ["image_urls.0"]


def test_an_answer_moves_feedback_on_but_never_reopens_it():
    args = {"staff_id": MERCHANT, "merchant_id": MERCHANT, "feedback_id": 1, "reply": "已催促仓库发货"}
    assert schemas.load(schemas.ReplyFeedbackArgs, args).status is None
    assert schemas.load(schemas.ReplyFeedbackArgs, {**args, "status": "resolved"}).status == \
        "resolved"
    for status in ("open", "closed"):
        with pytest.raises(BadRequest):
            schemas.load(schemas.ReplyFeedbackArgs, {**args, "status": status})


@pytest.mark.parametrize("schema, data, field", [
    (schemas.ProductReviewsArgs, {"product_id": 1, "filter": "great"}, "filter"),
    (schemas.ProductReviewsArgs, {"product_id": 1, "page_size": 51}, "page_size"),
    (schemas.ProductReviewsArgs, {"product_id": 1, "page": 0}, "page"),
    (schemas.AdminReviewsArgs, {"merchant_id": 1, "replied": "no"}, "replied"),
    (schemas.AdminFeedbackArgs, {"status": "closed"}, "status"),
    (schemas.AdminFeedbackArgs, {"kind": "praise"}, "kind"),
])
def test_listing_arguments_are_checked(schema, data, field):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schema, data)
    assert list(raised.value.details) == [field]
