"""Reviews and feedback in the real reviews container, beside the real catalog (products,
uploaded pictures), on the real RabbitMQ and PostgreSQL: completed orders arrive as
orders' `order_completed` envelopes, products as catalog's `product_changed`."""
import base64
import hashlib
from io import BytesIO

import pytest
import sqlalchemy as sa
from PIL import Image

from contract import events
from contract.examples import example
from plumbing import settings
from plumbing.entrypoints import rpc as rpc_entrypoint
from plumbing.errors import BadRequest, Conflict, Forbidden, NotFound
from plumbing.testing import event_envelope, outbox_events, publish_envelope, wait_until

MERCHANT, OTHER_MERCHANT = 1, 2
BUYER, FRIEND, STRANGER = 11, 12, 13
AUTHOR = {"nickname": "小明", "avatar_url": "https://img.example/xiaoming.jpg"}


def _png(colour):
    buffer = BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


def media_path(data):
    """The path catalog answers an upload of these PNG bytes with."""
    return f"/media/{hashlib.sha256(data).hexdigest()}.png"


PICTURE_BYTES = _png("orange")
PICTURE = media_path(PICTURE_BYTES)  # uploaded to `catalog`
NEVER_UPLOADED = media_path(_png("purple"))


# Orders as the orders service keeps them (a test may add some): {order_id: (buyer, view)}
ORDERS = {}


def known_orders():
    ORDERS.clear()
    ORDERS.update({42: (BUYER, {"merchant_id": MERCHANT, "completed_at": None}),
                   43: (FRIEND, {"merchant_id": OTHER_MERCHANT, "completed_at": None})})


class FakeOrders:
    name = "orders"

    @rpc_entrypoint
    def get_order(self, user_id, order_id):
        buyer, view = ORDERS.get(order_id, (None, None))
        if buyer != user_id:  # another shopper's order is as missing as none
            raise NotFound("order_not_found", f"There is no order {order_id}.")
        return {"id": order_id, "product_id": None, **view}


@pytest.fixture
def reviews(start_service, container_factory, service_config, rpc, tmp_path, monkeypatch):
    known_orders()
    container_factory(FakeOrders, service_config("orders")).start()
    monkeypatch.setenv("PINTUAN_MEDIA_DIR", str(tmp_path / "media"))
    start_service("catalog")
    container = start_service("reviews")
    uploaded = rpc.catalog.upload_image(BUYER, base64.b64encode(PICTURE_BYTES).decode())
    assert uploaded["url"] == PICTURE
    return container


@pytest.fixture
def db(engine_of):
    return engine_of("reviews")


def count(db, table):
    with db.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def handled(db, event_id):
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM inbox WHERE event_id = :id"),
                            {"id": event_id}).scalar_one() > 0


def copied(db, product_id):
    """The version of reviews' copy of the product, None before it has one."""
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT version FROM product_copies WHERE id = :id"),
                            {"id": product_id}).scalar()


def new_product(rpc, merchant_id=MERCHANT, title="烟台红富士苹果 5斤装"):
    """Made in catalog; returned once reviews has its copy (from `product_changed`)."""
    made = rpc.catalog.create_product(merchant_id, {
        "title": title, "skus": [{"spec": "5斤 / 单果70-75mm", "price": 2990, "stock": 100}]})
    engine = sa.create_engine(settings.database_url("reviews"))
    try:
        assert wait_until(lambda: copied(engine, made["id"]) is not None)
    finally:
        engine.dispose()
    return made


_orders = iter(range(100, 10_000))


def completed(amqp_uri, db, product, user_id=BUYER, order_id=None, envelope=None):
    """Orders announces a completed order; returns its id once reviews has kept it."""
    order_id = order_id or next(_orders)
    envelope = envelope or event_envelope(example(events.OrderCompleted, **{
        "order_id": order_id, "user_id": user_id, "product_id": product["id"],
        "sku_id": product["skus"][0]["id"], "spec": "5斤 / 单果70-75mm",
        "title": product["title"], "quantity": 1, "completed_at": "2026-03-01T08:00:00Z"}))
    publish_envelope(amqp_uri, "orders", envelope)
    assert wait_until(lambda: handled(db, envelope["event_id"]))
    return order_id


def review(rpc, order_id, user_id=BUYER, stars=5, **kwargs):
    return rpc.reviews.create_review(user_id, order_id, stars, author=AUTHOR, **kwargs)


def user_ids_in(value):
    """Every key named like a user's id anywhere in an answer."""
    if isinstance(value, dict):
        return [k for k in value if k in ("user_id", "order_id")] + [
            found for v in value.values() for found in user_ids_in(v)]
    if isinstance(value, list):
        return [found for v in value for found in user_ids_in(v)]
    return []


# --- who may review, once ----------------------------------------------------------------

def test_the_buyer_reviews_a_completed_order(reviews, rpc, amqp_uri, db):
    apple = new_product(rpc)
    order_id = completed(amqp_uri, db, apple)
    mine = review(rpc, order_id, stars=4, text="  很甜，包装好  ", image_urls=[PICTURE])

    assert (mine["order_id"], mine["product_id"], mine["sku_id"]) == (
        order_id, apple["id"], apple["skus"][0]["id"])
    assert (mine["stars"], mine["text"], mine["image_urls"], mine["has_images"]) == (
        4, "很甜，包装好", [PICTURE], True)
    assert mine["spec"] == "5斤 / 单果70-75mm" and mine["created_at"].endswith("Z")
    assert mine["author"] == {"display_name": "小明", "nickname": "小明",
                              "avatar_url": AUTHOR["avatar_url"], "anonymous": False}
    assert mine["follow_up"] is None and mine["reply"] is None
    shown = rpc.reviews.get_review(mine["id"])
    assert shown == {k: v for k, v in mine.items() if k not in ("order_id", "anonymous")}
    assert user_ids_in(shown) == []


def test_an_order_not_completed_cannot_be_reviewed_and_nothing_is_written(reviews, rpc,
                                                                         amqp_uri, db):
    with pytest.raises(NotFound) as raised:
        review(rpc, 4242)
    assert raised.value.code == "order_not_reviewable"
    assert count(db, "reviews") == 0


def test_only_the_buyer_may_review_and_nothing_is_written(reviews, rpc, amqp_uri, db):
    order_id = completed(amqp_uri, db, new_product(rpc))
    with pytest.raises(NotFound) as raised:  # another's order is as missing as none
        review(rpc, order_id, user_id=STRANGER)
    assert raised.value.code == "order_not_reviewable"
    assert count(db, "reviews") == 0
    review(rpc, order_id)  # the buyer still may
    assert count(db, "reviews") == 1


def test_an_order_is_reviewed_once(reviews, rpc, amqp_uri, db):
    order_id = completed(amqp_uri, db, new_product(rpc))
    first = review(rpc, order_id, stars=5, text="好")
    with pytest.raises(Conflict) as raised:
        review(rpc, order_id, stars=1, text="改成差评")
    assert raised.value.code == "already_reviewed"
    [kept] = rpc.reviews.list_my_reviews(BUYER)["items"]
    assert (kept["id"], kept["stars"], kept["text"]) == (first["id"], 5, "好")


def test_racing_reviews_of_one_order_make_one_review(reviews, rpc, amqp_uri, db):
    order_id = completed(amqp_uri, db, new_product(rpc))
    replies = [rpc.reviews.create_review.call_async(BUYER, order_id, stars, author=AUTHOR)
               for stars in (1, 2, 3, 4, 5, 5)]
    outcomes = []
    for reply in replies:
        try:
            outcomes.append(reply.result()["stars"])
        except Conflict as refused:
            outcomes.append(refused.code)
    assert outcomes.count("already_reviewed") == 5
    assert count(db, "reviews") == 1


BAD_REVIEWS = [
    ({"stars": 0}, "stars"), ({"stars": 6}, "stars"), ({"stars": "5"}, "stars"),
    ({"text": "很" * 501}, "text"), ({"image_urls": [PICTURE] * 10}, "image_urls"),
    ({"image_urls": ["ftp://x.example/a.jpg"]}, "image_urls.0"),
    ({"image_urls": ["https://img.example/a.jpg"]}, "image_urls.0"),  # not an upload
    ({"image_urls": [PICTURE, NEVER_UPLOADED]}, "image_urls.1"),
    ({"text": "好评\u202e反转"}, "text"), ({"text": "好评\x07"}, "text"),
    ({"anonymous": "yes"}, "anonymous"), ({"anonymous": 1}, "anonymous"),
    ({"order_id": "1"}, "order_id"),
]


def test_bad_review_input_gets_a_400_and_writes_nothing(reviews, rpc, amqp_uri, db):
    order_id = completed(amqp_uri, db, new_product(rpc))
    for change, field in BAD_REVIEWS:
        args = {"user_id": BUYER, "order_id": order_id, "stars": 5, "author": AUTHOR, **change}
        with pytest.raises(BadRequest) as raised:
            rpc.reviews.create_review(**args)
        assert raised.value.code == "validation_failed"
        assert field in raised.value.details, change
    assert count(db, "reviews") == 0
    assert review(rpc, order_id)["stars"] == 5  # a good one still goes in


def test_a_completed_order_announced_twice_is_kept_once(reviews, rpc, amqp_uri, db):
    apple = new_product(rpc)
    envelope = event_envelope(example(events.OrderCompleted, **{
        "order_id": 77, "user_id": BUYER, "product_id": apple["id"],
        "sku_id": apple["skus"][0]["id"], "spec": "5斤", "title": apple["title"],
        "quantity": 2, "completed_at": "2026-03-01T08:00:00Z"}))
    completed(amqp_uri, db, apple, envelope=envelope)
    publish_envelope(amqp_uri, "orders", envelope)  # redelivered
    completed(amqp_uri, db, apple, envelope={**envelope, "event_id": "another-event-id-77"})
    assert count(db, "reviewable_items") == 1


# --- follow-up (追评) and the merchant's reply ---------------------------------------------------

def test_the_author_follows_up_once(reviews, rpc, amqp_uri, db):
    order_id = completed(amqp_uri, db, new_product(rpc))
    written = review(rpc, order_id, text="刚到，看着不错")
    assert written["has_images"] is False
    with pytest.raises(Forbidden) as raised:
        rpc.reviews.follow_up_review(STRANGER, written["id"], "我也追评")
    assert raised.value.code == "not_review_author"
    with pytest.raises(BadRequest):
        rpc.reviews.follow_up_review(BUYER, written["id"], "   ")
    with pytest.raises(BadRequest) as raised:
        rpc.reviews.follow_up_review(BUYER, written["id"], "追评", image_urls=[NEVER_UPLOADED])
    assert list(raised.value.details) == ["image_urls.0"]

    followed = rpc.reviews.follow_up_review(BUYER, written["id"], "吃了一周，很甜",
                                            image_urls=[PICTURE])
    assert followed["follow_up"]["text"] == "吃了一周，很甜"
    assert followed["follow_up"]["image_urls"] == [PICTURE]
    assert followed["has_images"] is True  # now under the 有图 tab
    with pytest.raises(Conflict) as raised:
        rpc.reviews.follow_up_review(BUYER, written["id"], "再追一次")
    assert raised.value.code == "already_followed_up"
    assert rpc.reviews.get_review(written["id"])["follow_up"]["text"] == "吃了一周，很甜"
    with pytest.raises(NotFound):
        rpc.reviews.follow_up_review(BUYER, 999999, "没有这条评价")


def test_a_review_right_after_receipt_does_not_wait_for_the_event(reviews, rpc):
    apple = new_product(rpc)
    ORDERS[44] = (BUYER, {"merchant_id": MERCHANT, "product_id": apple["id"],
                          "sku_id": apple["skus"][0]["id"], "spec": "5斤 / 单果70-75mm",
                          "title": apple["title"], "quantity": 1, "status": "completed",
                          "completed_at": "2026-03-01T08:00:00Z"})
    ORDERS[45] = (BUYER, {**ORDERS[44][1], "status": "shipped", "completed_at": None})
    written = review(rpc, 44, stars=4)  # orders' order_completed has not come yet
    assert (written["order_id"], written["product_id"], written["stars"]) == (44, apple["id"], 4)
    for not_yet in (45, 43):  # not received yet; another shopper's
        with pytest.raises(NotFound) as raised:
            review(rpc, not_yet)
        assert raised.value.code == "order_not_reviewable"


def test_only_the_products_merchant_replies_and_the_reviewer_is_told_once(reviews, rpc,
                                                                         amqp_uri, db):
    apple = new_product(rpc)
    written = review(rpc, completed(amqp_uri, db, apple), stars=2, text="有两个坏的")
    with pytest.raises(NotFound) as raised:  # another shop's review is as missing as none
        rpc.reviews.reply_review(OTHER_MERCHANT, written["id"], "不是我的商品")
    assert raised.value.code == "review_not_found"
    assert rpc.reviews.get_review(written["id"])["reply"] is None

    replied = rpc.reviews.reply_review(MERCHANT, written["id"], "抱歉，已为您补发")
    assert replied["reply"]["text"] == "抱歉，已为您补发" and replied["replied"] is True
    assert replied["reply"]["edited_at"] is None
    edited = rpc.reviews.reply_review(MERCHANT, written["id"], "抱歉，已为您补发两个")
    assert edited["reply"]["replied_at"] == replied["reply"]["replied_at"]
    assert edited["reply"]["edited_at"] is not None
    rpc.reviews.reply_review(MERCHANT, written["id"], "抱歉，已为您补发两个")  # the same: no-op

    assert rpc.reviews.get_review(written["id"])["reply"]["text"] == "抱歉，已为您补发两个"
    assert outbox_events(db, "review_replied") == [{
        "review_id": written["id"], "user_id": BUYER, "product_id": apple["id"]}]


# --- what shoppers see ---------------------------------------------------------------------------

def test_an_anonymous_review_hides_its_author_everywhere(reviews, rpc, amqp_uri, db):
    apple = new_product(rpc)
    written = review(rpc, completed(amqp_uri, db, apple), anonymous=True, text="匿名评价")
    hidden = {"display_name": "匿名用户", "nickname": "小**", "avatar_url": None,
              "anonymous": True}
    assert written["author"] == hidden and written["anonymous"] is True
    public = [rpc.reviews.get_review(written["id"]),
              rpc.reviews.list_product_reviews(apple["id"])["items"][0],
              rpc.reviews.review_summary(apple["id"])["first"][0]]
    for shown in public:
        assert shown["author"] == hidden
        assert "小明" not in str(shown) and "xiaoming" not in str(shown)
        assert user_ids_in(shown) == []
    admin = rpc.reviews.admin_list_reviews(MERCHANT)["items"][0]
    assert admin["author"] == hidden and "user_id" not in admin


def test_listing_filters_and_their_counts(reviews, rpc, amqp_uri, db):
    apple, pear = new_product(rpc), new_product(rpc, title="砀山酥梨")
    written = {}
    for stars, images in ((5, [PICTURE]), (4, []), (3, [PICTURE, PICTURE]), (2, []), (1, []),
                          (5, [])):
        written.setdefault(stars, []).append(review(
            rpc, completed(amqp_uri, db, apple), stars=stars, image_urls=images)["id"])
    review(rpc, completed(amqp_uri, db, pear), stars=1)  # another product's

    def ids(review_filter, **kwargs):
        return [item["id"] for item in rpc.reviews.list_product_reviews(
            apple["id"], review_filter, **kwargs)["items"]]

    every = ids("all")
    assert every == sorted(every, reverse=True)  # newest first
    assert set(ids("good")) == set(written[5] + written[4])
    assert ids("medium") == written[3]
    assert set(ids("bad")) == set(written[2] + written[1])
    assert set(ids("with_images")) == {written[5][0], written[3][0]}
    listing = rpc.reviews.list_product_reviews(apple["id"], "good", page=2, page_size=2)
    assert (listing["total"], listing["page"], listing["page_size"], listing["filter"]) == (
        3, 2, 2, "good")
    assert [item["id"] for item in listing["items"]] == ids("good")[2:]
    assert listing["counts"] == {"all": 6, "with_images": 2, "good": 3, "medium": 1, "bad": 2}

    with pytest.raises(NotFound) as raised:
        rpc.reviews.list_product_reviews(999999)
    assert raised.value.code == "product_not_found"
    with pytest.raises(BadRequest):
        rpc.reviews.list_product_reviews(apple["id"], "great")


def test_the_summary_for_the_product_page(reviews, rpc, amqp_uri, db):
    apple = new_product(rpc)
    assert rpc.reviews.review_summary(apple["id"]) == {
        "average": None, "count": 0, "with_images_count": 0, "with_images_share": 0.0,
        "good_share": 0.0, "first": []}
    ids = [review(rpc, completed(amqp_uri, db, apple), stars=stars,
                  image_urls=[PICTURE] if stars == 5 else [])["id"]
           for stars in (5, 5, 4, 2)]
    summary = rpc.reviews.review_summary(apple["id"])
    assert {k: v for k, v in summary.items() if k != "first"} == {
        "average": 4.0, "count": 4, "with_images_count": 2, "with_images_share": 0.5,
        "good_share": 0.75}
    assert [item["id"] for item in summary["first"]] == ids[::-1][:3]
    assert summary["first"][0] == rpc.reviews.get_review(ids[-1])


def test_my_reviews_are_mine_only(reviews, rpc, amqp_uri, db):
    apple = new_product(rpc)
    mine = review(rpc, completed(amqp_uri, db, apple))
    review(rpc, completed(amqp_uri, db, apple, user_id=FRIEND), user_id=FRIEND)
    listed = rpc.reviews.list_my_reviews(BUYER)
    assert listed["total"] == 1 and listed["items"] == [mine]


# --- the merchant's back office ---------------------------------------------------------------------

def test_the_merchant_lists_reviews_of_their_products_by_reply(reviews, rpc, amqp_uri, db):
    apple, pear = new_product(rpc), new_product(rpc, title="砀山酥梨")
    theirs = new_product(rpc, merchant_id=OTHER_MERCHANT, title="别家的橙子")
    on_apple = review(rpc, completed(amqp_uri, db, apple), stars=1)
    on_pear = review(rpc, completed(amqp_uri, db, pear), stars=5)
    review(rpc, completed(amqp_uri, db, theirs), stars=3)
    rpc.reviews.reply_review(MERCHANT, on_pear["id"], "谢谢喜欢")

    def ids(**kwargs):
        return [item["id"] for item in rpc.reviews.admin_list_reviews(MERCHANT, **kwargs)["items"]]

    assert ids() == [on_pear["id"], on_apple["id"]]  # never another merchant's
    assert ids(product_id=apple["id"]) == [on_apple["id"]]
    assert ids(replied=False) == [on_apple["id"]]
    assert ids(replied=True) == [on_pear["id"]]
    assert ids(filter="bad") == [on_apple["id"]]
    assert ids(product_id=theirs["id"]) == []
    first = rpc.reviews.admin_list_reviews(MERCHANT)["items"][0]
    assert first["order_id"] == on_pear["order_id"] and first["replied"] is True


# --- feedback (投诉与建议) ------------------------------------------------------------------------------

def feedback(**overrides):
    return {"kind": "complaint", "content": "发货太慢了，等了五天", **overrides}


def test_a_shopper_sends_feedback_and_sees_only_their_own(reviews, rpc, amqp_uri, db):
    apple = new_product(rpc)
    sent = rpc.reviews.submit_feedback(BUYER, feedback(
        image_urls=[PICTURE], order_id=42, product_id=apple["id"], contact="13800138000"))
    assert (sent["kind"], sent["status"], sent["status_label"]) == ("complaint", "open", "待处理")
    assert (sent["order_id"], sent["product_id"], sent["contact"]) == (42, apple["id"],
                                                                        "13800138000")
    assert sent["reply"] is None and "user_id" not in sent
    other = rpc.reviews.submit_feedback(FRIEND, feedback(kind="suggestion",
                                                         content="希望多一些水果品类"))

    assert rpc.reviews.get_my_feedback(BUYER, sent["id"]) == sent
    with pytest.raises(NotFound) as raised:
        rpc.reviews.get_my_feedback(BUYER, other["id"])
    assert raised.value.code == "feedback_not_found"
    mine = rpc.reviews.list_my_feedback(BUYER)
    assert mine["total"] == 1 and mine["items"] == [sent]


def test_bad_feedback_gets_a_400_or_404_and_writes_nothing(reviews, rpc):
    for data in (feedback(content="太慢"), feedback(kind="praise"),
                 feedback(image_urls=[PICTURE] * 10), {"content": "没有类型的反馈内容"},
                 feedback(image_urls=[NEVER_UPLOADED]), feedback(content="发货太慢了\u2067"),
                 feedback(contact="138\x00")):
        with pytest.raises(BadRequest):
            rpc.reviews.submit_feedback(BUYER, data)
    with pytest.raises(NotFound) as raised:
        rpc.reviews.submit_feedback(BUYER, feedback(product_id=999999))
    assert raised.value.code == "product_not_found"
    for someone_elses in (43, 999):
        with pytest.raises(NotFound) as raised:
            rpc.reviews.submit_feedback(BUYER, feedback(order_id=someone_elses))
        assert raised.value.code == "order_not_found"
    assert rpc.reviews.admin_list_feedback()["total"] == 0


def test_feedback_goes_to_the_shop_it_is_about_and_ops_sees_all(reviews, rpc):
    about_order = rpc.reviews.submit_feedback(BUYER, feedback(order_id=42))
    theirs = new_product(rpc, merchant_id=OTHER_MERCHANT, title="库尔勒香梨")
    about_product = rpc.reviews.submit_feedback(BUYER, feedback(product_id=theirs["id"]))
    about_platform = rpc.reviews.submit_feedback(FRIEND, feedback(kind="suggestion",
                                                                  content="希望多一些水果品类"))

    def ids(**scope):
        return [item["id"] for item in rpc.reviews.admin_list_feedback(**scope)["items"]]
    assert ids(merchant_id=MERCHANT) == [about_order["id"]]
    assert ids(merchant_id=OTHER_MERCHANT) == [about_product["id"]]
    assert ids() == [about_platform["id"], about_product["id"], about_order["id"]]
    with pytest.raises(NotFound):  # another shop's feedback is as missing as none
        rpc.reviews.reply_feedback(MERCHANT, about_product["id"], "不是我的", merchant_id=MERCHANT)
    answered = rpc.reviews.reply_feedback(99, about_platform["id"], "已记录，谢谢")  # ops
    assert (answered["replied_by"], answered["merchant_id"]) == (99, None)


def test_the_back_office_answers_feedback_until_it_is_resolved(reviews, rpc, db):
    sent = rpc.reviews.submit_feedback(BUYER, feedback(order_id=42))
    suggestion = rpc.reviews.submit_feedback(FRIEND, feedback(kind="suggestion",
                                                              content="希望多一些水果品类"))
    listed = rpc.reviews.admin_list_feedback(status="open", kind="complaint")
    assert [item["id"] for item in listed["items"]] == [sent["id"]]
    assert listed["items"][0]["user_id"] == BUYER

    answered = rpc.reviews.reply_feedback(MERCHANT, sent["id"], "已催促仓库，今天发出",
                                          merchant_id=MERCHANT)
    assert (answered["status"], answered["reply"], answered["replied_by"]) == (
        "processing", "已催促仓库，今天发出", MERCHANT)
    resolved = rpc.reviews.reply_feedback(MERCHANT, sent["id"], "已发货", status="resolved",
                                          merchant_id=MERCHANT)
    assert resolved["status"] == "resolved"
    with pytest.raises(Conflict) as raised:
        rpc.reviews.reply_feedback(MERCHANT, sent["id"], "再补充一句", merchant_id=MERCHANT)
    assert raised.value.code == "feedback_resolved"

    seen = rpc.reviews.get_my_feedback(BUYER, sent["id"])
    assert (seen["status"], seen["status_label"], seen["reply"]) == ("resolved", "已解决", "已发货")
    assert [i["id"] for i in rpc.reviews.admin_list_feedback(status="open")["items"]] == [
        suggestion["id"]]
    assert outbox_events(db, "feedback_answered") == [
        {"feedback_id": sent["id"], "user_id": BUYER, "status": "processing"},
        {"feedback_id": sent["id"], "user_id": BUYER, "status": "resolved"}]
    with pytest.raises(NotFound):
        rpc.reviews.reply_feedback(MERCHANT, 999999, "没有这条")


# --- the copy of catalog's products ------------------------------------------------------------

def test_a_product_copy_keeps_the_newest_version_once(reviews, rpc, amqp_uri, db):
    apple = new_product(rpc)
    renamed = rpc.catalog.update_product(MERCHANT, apple["id"], {"title": "烟台苹果"})
    assert wait_until(lambda: copied(db, apple["id"]) == renamed["version"])
    late = event_envelope(events.ProductChanged.from_data({**apple, "title": "旧的标题"}))  # older
    publish_envelope(amqp_uri, "catalog", late)
    assert wait_until(lambda: handled(db, late["event_id"]))
    with db.connect() as conn:
        kept = conn.execute(sa.text("SELECT version, merchant_id, title FROM product_copies"))
        assert [tuple(row) for row in kept] == [(renamed["version"], MERCHANT, "烟台苹果")]


def test_a_product_the_copy_has_not_heard_of_is_asked_of_catalog(reviews, rpc, amqp_uri, db):
    apple, pear, plum = (new_product(rpc), new_product(rpc, title="砀山酥梨"),
                         new_product(rpc, title="三华李"))
    order_id = completed(amqp_uri, db, plum)
    with db.begin() as conn:  # as if catalog's event had not come yet
        conn.execute(sa.text("DELETE FROM product_copies"))
    written = review(rpc, order_id)  # its shop sees it, though the copy had not heard of it
    assert [item["id"] for item in rpc.reviews.admin_list_reviews(MERCHANT)["items"]] == [
        written["id"]]
    assert rpc.reviews.list_product_reviews(apple["id"])["total"] == 0
    sent = rpc.reviews.submit_feedback(BUYER, feedback(product_id=pear["id"]))
    assert [item["merchant_id"] for item in rpc.reviews.admin_list_feedback()["items"]] == [
        MERCHANT]
    assert sent["product_id"] == pear["id"]
    assert copied(db, apple["id"]) == apple["version"]
    assert copied(db, pear["id"]) == pear["version"]
    assert copied(db, plum["id"]) == plum["version"]
