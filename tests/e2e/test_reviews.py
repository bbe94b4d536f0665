"""After the team: the merchant ships, the shopper confirms receipt, reviews with a
picture, the product page shows it, the merchant replies and the shopper's inbox says
so. Feedback (投诉与建议) goes the same way. The whole stack over HTTP, on PostgreSQL."""
import io
import itertools

import pytest
from PIL import Image

from tests.e2e.test_group_buy import (
    call,
    eventually,
    inbox,
    join_team,
    new_campaign,
    open_team,
    pay,
    shopper,
    staff,
    wait_order,
    wait_team_open,
)

pytestmark = pytest.mark.e2e

_colours = itertools.count(1)


@pytest.fixture(scope="module")
def merchant(stack):
    return staff("demo-merchant")


def picture():
    """A small PNG of its own colour, so each upload is a new file."""
    shade = next(_colours)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, shade % 256, 80)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(token):
    answer = call("POST", "/api/v1/images", token, expect=201,
                  files={"file": ("apple.png", picture(), "image/png")}).json()
    return answer["url"]


def team_to_ship(merchant):
    """A team of two that succeeded: both orders wait for the merchant."""
    campaign = new_campaign(merchant, team_size=2)
    leader = shopper()
    placed = open_team(leader, campaign)
    pay(leader, placed["order"]["id"])
    wait_team_open(placed["team"]["id"])
    friend = shopper()
    joined = join_team(friend, campaign, placed["team"]["id"])["order"]["id"]
    pay(friend, joined)
    for token, order_id in ((leader, placed["order"]["id"]), (friend, joined)):
        wait_order(token, order_id, "to_ship")
    return campaign, (leader, placed["order"]["id"]), (friend, joined)


def kinds(token):
    return [item["kind"] for item in inbox(token)["items"]]


def test_ship_confirm_review_reply(stack, merchant):
    campaign, (leader, order_id), (friend, friend_order) = team_to_ship(merchant)
    product_id = campaign["product_id"]
    call("PATCH", "/api/v1/me", leader, expect=200, json={"nickname": "小明"})
    bought = call("GET", f"/api/v1/orders/{order_id}", leader, expect=200).json()

    # The merchant renames the product: the order keeps what was bought.
    call("PUT", f"/admin/v1/products/{product_id}", merchant, expect=200,
         json={"title": "阳光玫瑰葡萄 新包装"})
    kept = call("GET", f"/api/v1/orders/{order_id}", leader, expect=200).json()
    assert (kept["title"], kept["spec"], kept["unit_price"]) == (
        bought["title"], bought["spec"], bought["unit_price"])
    assert kept["title"] != "阳光玫瑰葡萄 新包装"

    # Not shipped yet: nothing to confirm, nothing to review.
    assert call("POST", f"/api/v1/orders/{order_id}/confirm-receipt", leader).status_code == 409
    shipment = {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}
    shipped = call("POST", f"/admin/v1/orders/{order_id}/ship", merchant, expect=200,
                   json=shipment).json()
    assert (shipped["status"], shipped["carrier"], shipped["tracking_no"]) == (
        "shipped", "顺丰速运", "SF1234567890")
    again = call("POST", f"/admin/v1/orders/{order_id}/ship", merchant, expect=200, json=shipment)
    assert again.json()["shipped_at"] == shipped["shipped_at"]  # a second click: no change
    assert call("POST", f"/admin/v1/orders/{order_id}/ship", merchant,
                json={**shipment, "tracking_no": "x"}).status_code == 400
    assert call("POST", f"/admin/v1/orders/{order_id}/ship", leader,
                json=shipment).status_code == 403  # a shopper cannot ship
    assert eventually(lambda: "order_shipped" in kinds(leader))
    [told] = [i for i in inbox(leader)["items"] if i["kind"] == "order_shipped"]
    assert told["body"] == "订单已发货 顺丰速运 SF1234567890"

    assert call("POST", f"/api/v1/orders/{order_id}/confirm-receipt", friend).status_code == 404
    completed = call("POST", f"/api/v1/orders/{order_id}/confirm-receipt", leader,
                     expect=200).json()
    assert completed["status"] == "completed" and completed["completed_at"]

    # The review, with a picture uploaded first.
    url = upload(leader)
    body = {"order_id": order_id, "stars": 5, "text": "颗颗饱满，很甜", "image_urls": [url]}
    assert call("POST", "/api/v1/reviews", leader,
                json={**body, "stars": 6}).status_code == 400
    assert call("POST", "/api/v1/reviews", friend, json=body).status_code == 404
    review = call("POST", "/api/v1/reviews", leader, json=body, expect=201).json()
    assert review["order_id"] == order_id and review["image_urls"] == [url]
    assert review["author"]["display_name"] == "小明"
    again = call("POST", "/api/v1/reviews", leader, json=body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reviewed"
    assert call("GET", url, expect=200).headers["Content-Type"] == "image/png"

    listed = call("GET", f"/api/v1/products/{product_id}/reviews", expect=200,
                  params={"filter": "with_images"}).json()
    assert [item["id"] for item in listed["items"]] == [review["id"]]
    assert listed["counts"] == {"all": 1, "with_images": 1, "good": 1, "medium": 0, "bad": 0}
    assert "user_id" not in listed["items"][0] and "order_id" not in listed["items"][0]
    summary = call("GET", f"/api/v1/products/{product_id}/reviews/summary", expect=200).json()
    assert (summary["average"], summary["count"], summary["with_images_share"],
            summary["good_share"]) == (5.0, 1, 1.0, 1.0)
    assert summary["first"][0]["text"] == "颗颗饱满，很甜"

    # The merchant replies; the shopper is told.
    waiting = call("GET", "/admin/v1/reviews", merchant, expect=200,
                   params={"product_id": product_id, "replied": "false"}).json()
    assert [item["id"] for item in waiting["items"]] == [review["id"]]
    replied = call("POST", f"/admin/v1/reviews/{review['id']}/reply", merchant, expect=200,
                   json={"reply": "感谢支持，欢迎再来"}).json()
    assert replied["reply"]["text"] == "感谢支持，欢迎再来"
    shown = call("GET", f"/api/v1/reviews/{review['id']}", expect=200).json()
    assert shown["reply"]["text"] == "感谢支持，欢迎再来"
    assert eventually(lambda: "review_replied" in kinds(leader))
    [reply_notice] = [i for i in inbox(leader)["items"] if i["kind"] == "review_replied"]
    assert (reply_notice["body"], reply_notice["link"]) == (
        "商家回复了你的评价", f"/api/v1/reviews/{review['id']}")

    # The friend's order completes too, and its review is anonymous.
    call("POST", f"/admin/v1/orders/{friend_order}/ship", merchant, expect=200,
         json={"carrier": "中通快递", "tracking_no": "7531009912"})
    call("POST", f"/api/v1/orders/{friend_order}/confirm-receipt", friend, expect=200)
    anonymous = call("POST", "/api/v1/reviews", friend, expect=201, json={
        "order_id": friend_order, "stars": 3, "anonymous": True})
    assert anonymous.json()["author"]["display_name"] == "匿名用户"
    counts = call("GET", f"/api/v1/products/{product_id}/reviews", expect=200).json()["counts"]
    assert counts == {"all": 2, "with_images": 1, "good": 1, "medium": 1, "bad": 0}


def test_feedback_is_answered_in_the_back_office(stack, merchant):
    token = shopper()
    assert call("POST", "/api/v1/feedback", token,
                json={"kind": "complaint", "content": "慢"}).status_code == 400
    sent = call("POST", "/api/v1/feedback", token, expect=201, json={
        "kind": "suggestion", "content": "希望多上一些当季水果", "image_urls": [upload(token)],
        "contact": "13800138000"}).json()
    assert sent["status"] == "open"
    assert call("GET", f"/api/v1/feedback/{sent['id']}", shopper()).status_code == 404

    # About the platform, not a shop: ops answers it; no merchant sees it.
    ops = staff("demo-ops")
    open_items = call("GET", "/admin/v1/feedback", ops, expect=200,
                      params={"status": "open", "kind": "suggestion"}).json()["items"]
    assert sent["id"] in [item["id"] for item in open_items]
    assert sent["id"] not in [item["id"] for item in call(
        "GET", "/admin/v1/feedback", merchant, expect=200).json()["items"]]
    assert call("POST", f"/admin/v1/feedback/{sent['id']}/reply", merchant,
                json={"reply": "不是我们店的"}).status_code == 404
    call("POST", f"/admin/v1/feedback/{sent['id']}/reply", ops, expect=200,
         json={"reply": "已安排上新", "status": "resolved"})
    again = call("POST", f"/admin/v1/feedback/{sent['id']}/reply", ops,
                 json={"reply": "再说一句"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "feedback_resolved"

    mine = call("GET", "/api/v1/feedback", token, expect=200).json()
    assert [(i["id"], i["status"], i["reply"]) for i in mine["items"]] == [
        (sent["id"], "resolved", "已安排上新")]
    assert eventually(lambda: "feedback_answered" in kinds(token))


def test_a_complaint_about_an_order_goes_to_its_shop(stack, merchant):
    campaign = new_campaign(merchant, team_size=2)
    token = shopper()
    order = open_team(token, campaign)["order"]
    assert call("POST", "/api/v1/feedback", shopper(), json={  # not their order
        "kind": "complaint", "content": "还没发货，等了好几天", "order_id": order["id"]}
        ).status_code == 404
    sent = call("POST", "/api/v1/feedback", token, expect=201, json={
        "kind": "complaint", "content": "还没发货，等了好几天", "order_id": order["id"]}).json()
    listed = call("GET", "/admin/v1/feedback", merchant, expect=200).json()["items"]
    [item] = [item for item in listed if item["id"] == sent["id"]]
    assert item["order_id"] == order["id"] and item["merchant_id"] == order["merchant_id"]
    call("POST", f"/admin/v1/feedback/{sent['id']}/reply", merchant, expect=200,
         json={"reply": "今天发出，抱歉", "status": "processing"})
